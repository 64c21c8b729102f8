DROP TABLE agent_call_windows;
ALTER TABLE agents DROP COLUMN secret_digest, DROP COLUMN client_id;
