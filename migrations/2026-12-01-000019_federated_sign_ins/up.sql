-- Federated sign-in (contract §11).

ALTER TABLE identity_providers
    ADD COLUMN jit_provisioning  boolean NOT NULL DEFAULT true,
    -- custom_attributes key → upstream claim name, copied on each sign-in.
    ADD COLUMN attribute_mapping jsonb   NOT NULL DEFAULT '{}';

-- An upstream identity (IdP, its sub or NameID) linked to a ScaiKey user; one per user and IdP.
CREATE TABLE federated_identities (
    idp_id        uuid        NOT NULL REFERENCES identity_providers (id),
    subject       text        NOT NULL,
    user_id       uuid        NOT NULL REFERENCES users (id),
    -- The e-mail the upstream asserted last, for admins reading the link.
    email         text,
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz NOT NULL,
    PRIMARY KEY (idp_id, subject),
    UNIQUE (user_id, idp_id)
);

-- A sign-in sent upstream and not yet back: found by the keyed hash of its `state`, taken once,
-- bound to the browser that started it (keyed hash of a cookie), carrying the PKCE verifier,
-- the nonce and the sealed authorization request to resume. The client IP and start time bound
-- how many sign-ins one address may start a minute.
CREATE TABLE federation_states (
    state_hmac    bytea PRIMARY KEY,
    idp_id        uuid        NOT NULL,
    binding_hmac  bytea       NOT NULL,
    nonce         text        NOT NULL,
    code_verifier text        NOT NULL,
    interaction   text        NOT NULL,
    ip            text,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX federation_states_expiry ON federation_states (expires_at);
CREATE INDEX federation_states_ip_recent ON federation_states (ip, created_at);
