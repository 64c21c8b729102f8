DROP TABLE mail_links;
