-- Second factors and login throttling (contract §10).

-- One TOTP factor per user: the secret sealed under the master key (bound to the user's ID),
-- and the last accepted step, so a code cannot be used twice.
CREATE TABLE mfa_totp (
    user_id     uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret      bytea       NOT NULL,
    last_step   bigint,
    created_at  timestamptz NOT NULL
);

-- Single-use recovery codes, stored as keyed hashes.
CREATE TABLE mfa_recovery_codes (
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hmac   bytea       NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (user_id, code_hmac)
);

-- Failed-login counters per account name (`acct:<e-mail>`) and client IP (`ip:<address>`);
-- shared by every process on the database.
CREATE TABLE login_throttle (
    key         text        PRIMARY KEY,
    failures    integer     NOT NULL,
    first_at    timestamptz NOT NULL,
    last_at     timestamptz NOT NULL
);
CREATE INDEX login_throttle_last_at ON login_throttle (last_at);

-- The user resource shows which methods are enrolled (kept with the factor rows, in the same
-- transactions) and whether a mailed link proved the address.
ALTER TABLE users ADD COLUMN mfa_methods text[] NOT NULL DEFAULT '{}',
                  ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
