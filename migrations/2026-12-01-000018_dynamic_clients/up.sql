-- Dynamic client registration (RFC 7591, contract §12): a registration request made through
-- /oauth/register reserves the client ID it answered, keeps the keyed hash of its RFC 7592
-- registration access token, and the client IP (for the per-IP limit).
CREATE TABLE dynamic_clients (
    registration_id  uuid        PRIMARY KEY REFERENCES registration_requests (id) ON DELETE CASCADE,
    client_id        text        NOT NULL UNIQUE,
    token_digest     bytea       NOT NULL,
    created_ip       text,
    created_at       timestamptz NOT NULL
);
CREATE INDEX dynamic_clients_ip ON dynamic_clients (created_ip, created_at);
