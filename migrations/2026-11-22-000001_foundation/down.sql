DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE tenants;
DROP TABLE partners;
