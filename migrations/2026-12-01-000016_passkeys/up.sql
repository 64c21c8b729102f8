-- Passkeys (WebAuthn) as a second factor (contract §10). A credential holds a public key and a
-- signature counter, no secret, so it is stored as the relying-party library's JSON.
CREATE TABLE mfa_passkeys (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           text        NOT NULL,
    credential_id  bytea       NOT NULL UNIQUE,
    credential     text        NOT NULL,
    created_at     timestamptz NOT NULL,
    last_used_at   timestamptz
);
CREATE INDEX mfa_passkeys_user ON mfa_passkeys (user_id);

-- A ceremony's challenge between the options sent to the browser and its answer; taken
-- (deleted) when answered, so each challenge counts once.
CREATE TABLE passkey_challenges (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text        NOT NULL,
    state       text        NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX passkey_challenges_user ON passkey_challenges (user_id);
