DROP TABLE dynamic_clients;
