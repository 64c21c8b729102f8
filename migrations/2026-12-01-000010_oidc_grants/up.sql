-- The OpenID Connect provider's state (contract §8-9).

-- A browser's SSO cookie proves its session with a secret kept only as a keyed hash; how the
-- person authenticated rides along into ID tokens (`amr`).
ALTER TABLE sessions
    ADD COLUMN cookie_hmac bytea,
    ADD COLUMN amr text[] NOT NULL DEFAULT '{pwd}';

-- Authorization codes, stored as a keyed hash, single use, 60 s. A reused code revokes the
-- refresh-token family its first use created.
CREATE TABLE authorization_codes (
    code_hmac       bytea PRIMARY KEY,
    application_id  uuid        NOT NULL REFERENCES applications (id),
    client_id       text        NOT NULL,
    user_id         uuid        NOT NULL REFERENCES users (id),
    session_id      uuid        NOT NULL REFERENCES sessions (id),
    redirect_uri    text        NOT NULL,
    scopes          text[]      NOT NULL,
    resource        text,
    nonce           text,
    code_challenge  text,
    auth_time       timestamptz NOT NULL,
    amr             text[]      NOT NULL,
    issued_at       timestamptz NOT NULL,
    used_at         timestamptz,
    family_id       uuid
);
CREATE INDEX authorization_codes_issued ON authorization_codes (issued_at);

-- Refresh tokens, stored as a keyed hash. Each use rotates: the new token joins the family of
-- the old. Without offline_access a token is bound to its SSO session.
CREATE TABLE refresh_tokens (
    id              uuid PRIMARY KEY,
    token_hmac      bytea       NOT NULL UNIQUE,
    family_id       uuid        NOT NULL,
    application_id  uuid        NOT NULL REFERENCES applications (id),
    client_id       text        NOT NULL,
    user_id         uuid        NOT NULL REFERENCES users (id),
    session_id      uuid        REFERENCES sessions (id),
    scopes          text[]      NOT NULL,
    resource        text,
    auth_time       timestamptz NOT NULL,
    amr             text[]      NOT NULL,
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    rotated_at      timestamptz,
    grace_used      boolean     NOT NULL DEFAULT false,
    revoked_at      timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_live ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_session_live ON refresh_tokens (session_id) WHERE revoked_at IS NULL;

-- Consents of people to third-party applications, remembered until revoked in /account.
CREATE TABLE consents (
    user_id         uuid        NOT NULL REFERENCES users (id),
    application_id  uuid        NOT NULL REFERENCES applications (id),
    scopes          text[]      NOT NULL,
    granted_at      timestamptz NOT NULL,
    PRIMARY KEY (user_id, application_id)
);
