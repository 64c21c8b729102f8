DROP TABLE agents;
DROP TABLE identity_providers;
