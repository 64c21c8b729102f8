-- Mailed single-use links (contract §10): password resets and invitations. Only a keyed hash of
-- each link's token is stored.
CREATE TABLE mail_links (
    token_hmac  bytea       PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX mail_links_user ON mail_links (user_id, purpose);
