-- Upstream identity providers (OIDC, SAML) and MCP agents, both per tenant.

CREATE TABLE identity_providers (
    id                uuid PRIMARY KEY,
    tenant_id         uuid        NOT NULL REFERENCES tenants (id),
    name              text        NOT NULL,
    protocol          text        NOT NULL CHECK (protocol IN ('OIDC', 'SAML')),
    enabled           boolean     NOT NULL DEFAULT true,
    issuer            text,
    client_id         text,
    -- AES-256-GCM under the master key, bound to the row ID; never returned.
    client_secret_enc bytea,
    scopes            text[]      NOT NULL DEFAULT '{}',
    entity_id         text,
    sso_url           text,
    certificate       text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz
);
CREATE INDEX identity_providers_tenant_live ON identity_providers (tenant_id, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE agents (
    id             uuid PRIMARY KEY,
    tenant_id      uuid        NOT NULL REFERENCES tenants (id),
    name           text        NOT NULL,
    description    text,
    allowed_tools  text[]      NOT NULL DEFAULT '{}',
    allowed_scopes text[]      NOT NULL DEFAULT '{}',
    rate_limit_rpm integer     CHECK (rate_limit_rpm > 0),
    status         text        NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    deleted_at     timestamptz
);
CREATE INDEX agents_tenant_live ON agents (tenant_id, id DESC) WHERE deleted_at IS NULL;
