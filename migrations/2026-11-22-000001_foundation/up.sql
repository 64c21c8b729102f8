-- Foundation: partners, tenants, users (for login), sessions, signing keys, audit events.
-- IDs are ULIDs stored as uuid (16 bytes, time-ordered): `ORDER BY id DESC` is newest first and
-- uses the primary key. Soft delete keeps rows with `deleted_at`; uniqueness holds among live rows.

CREATE TABLE partners (
    id                          uuid PRIMARY KEY,
    name                        text        NOT NULL,
    slug                        text        NOT NULL,
    status                      text        NOT NULL CHECK (status IN ('active', 'suspended')),
    contact_email               text,
    max_tenants                 integer     CHECK (max_tenants >= 0),
    max_users_per_tenant        integer     CHECK (max_users_per_tenant >= 0),
    max_applications_per_tenant integer     CHECK (max_applications_per_tenant >= 0),
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL,
    deleted_at                  timestamptz
);
CREATE UNIQUE INDEX partners_slug_live ON partners (slug) WHERE deleted_at IS NULL;
CREATE INDEX partners_live_newest ON partners (id DESC) WHERE deleted_at IS NULL;

CREATE TABLE tenants (
    id            uuid PRIMARY KEY,
    partner_id    uuid        REFERENCES partners (id),
    name          text        NOT NULL,
    slug          text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('active', 'suspended')),
    contact_email text,
    settings      jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
    branding      jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(branding) = 'object'),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz
);
CREATE UNIQUE INDEX tenants_slug_live ON tenants (slug) WHERE deleted_at IS NULL;
CREATE INDEX tenants_live_newest ON tenants (id DESC) WHERE deleted_at IS NULL;
CREATE INDEX tenants_partner_live_newest ON tenants (partner_id, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE users (
    id                uuid PRIMARY KEY,
    tenant_id         uuid        REFERENCES tenants (id),
    email             text        NOT NULL,
    password_hash     text,
    first_name        text,
    last_name         text,
    display_name      text,
    status            text        NOT NULL CHECK (status IN ('active', 'suspended')),
    roles             text[]      NOT NULL DEFAULT '{}',
    custom_attributes jsonb       NOT NULL DEFAULT '{}'::jsonb,
    mfa_enabled       boolean     NOT NULL DEFAULT false,
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz,
    CHECK (roles <@ ARRAY['super_admin', 'partner_admin', 'tenant_admin']::text[])
);
-- E-mail is unique per tenant (platform users share the nil tenant), case-insensitively.
CREATE UNIQUE INDEX users_email_live ON users (
    COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(email)
) WHERE deleted_at IS NULL;
CREATE INDEX users_email_lookup ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX users_tenant_live_newest ON users (tenant_id, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id),
    tenant_id    uuid        REFERENCES tenants (id),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text,
    user_agent   text,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id, id DESC);
CREATE INDEX sessions_tenant ON sessions (tenant_id, id DESC);

-- Token signing keys; the private half is AES-256-GCM encrypted under the master key.
CREATE TABLE signing_keys (
    kid             text PRIMARY KEY,
    alg             text        NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    public_jwk      jsonb       NOT NULL,
    private_key_enc bytea       NOT NULL,
    created_at      timestamptz NOT NULL,
    retired_at      timestamptz
);

CREATE TABLE audit_events (
    id            uuid PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    actor_type    text        NOT NULL CHECK (actor_type IN ('user', 'application', 'anonymous')),
    actor_id      text,
    action        text        NOT NULL,
    resource_type text        NOT NULL,
    resource_id   text,
    result        text        NOT NULL CHECK (result IN ('success', 'failure', 'denied')),
    ip            text,
    user_agent    text,
    tenant_id     uuid,
    partner_id    uuid,
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_tenant_newest ON audit_events (tenant_id, id DESC);
CREATE INDEX audit_events_partner_newest ON audit_events (partner_id, id DESC);
