-- MCP agents authenticate with their own credentials (contract §12): a client ID, given at the
-- first secret rotation, and the secret's keyed hash (as application secrets are stored).
ALTER TABLE agents ADD COLUMN client_id text UNIQUE,
                   ADD COLUMN secret_digest bytea;

-- Tool calls per agent per minute, shared by every process on the database.
CREATE TABLE agent_call_windows (
    agent_id      uuid        NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    window_start  timestamptz NOT NULL,
    calls         integer     NOT NULL,
    PRIMARY KEY (agent_id, window_start)
);
