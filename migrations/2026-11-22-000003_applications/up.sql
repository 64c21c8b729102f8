-- Applications (OAuth clients), their assignments, and registration requests.

CREATE TABLE applications (
    id                        uuid PRIMARY KEY,
    client_id                 text        NOT NULL,
    -- HMAC-SHA-256 of the client secret under a key derived from the master key; NULL for public clients.
    client_secret_hmac        bytea,
    name                      text        NOT NULL,
    description               text,
    application_type          text        NOT NULL CHECK (application_type IN ('WEB', 'SPA', 'NATIVE', 'SERVICE', 'SAML_SP')),
    scope                     text        NOT NULL CHECK (scope IN ('GLOBAL', 'PARTNER', 'TENANT')),
    partner_id                uuid        REFERENCES partners (id),
    tenant_id                 uuid        REFERENCES tenants (id),
    redirect_uris             text[]      NOT NULL DEFAULT '{}',
    post_logout_redirect_uris text[]      NOT NULL DEFAULT '{}',
    allowed_origins           text[]      NOT NULL DEFAULT '{}',
    allowed_scopes            text[]      NOT NULL DEFAULT '{}',
    grant_types               text[]      NOT NULL DEFAULT '{}',
    token_lifetime            integer     NOT NULL CHECK (token_lifetime BETWEEN 60 AND 86400),
    token_exchange_allowed    boolean     NOT NULL DEFAULT false,
    status                    text        NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    deleted_at                timestamptz,
    CHECK ((scope = 'GLOBAL' AND partner_id IS NULL AND tenant_id IS NULL)
        OR (scope = 'PARTNER' AND partner_id IS NOT NULL AND tenant_id IS NULL)
        OR (scope = 'TENANT' AND tenant_id IS NOT NULL))
);
-- A client_id is never reused, not even after deletion.
CREATE UNIQUE INDEX applications_client_id ON applications (client_id);
CREATE INDEX applications_live_newest ON applications (id DESC) WHERE deleted_at IS NULL;
CREATE INDEX applications_tenant_live ON applications (tenant_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX applications_partner_live ON applications (partner_id, id DESC) WHERE deleted_at IS NULL;
-- The token check's poller reads disabled applications.
CREATE INDEX applications_disabled ON applications (id) WHERE deleted_at IS NOT NULL OR status <> 'active';

CREATE TABLE application_assignments (
    id             uuid PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES applications (id),
    user_id        uuid        REFERENCES users (id),
    group_id       uuid        REFERENCES groups (id),
    tenant_id      uuid        NOT NULL REFERENCES tenants (id),
    created_at     timestamptz NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX assignments_user ON application_assignments (application_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX assignments_group ON application_assignments (application_id, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX assignments_app_newest ON application_assignments (application_id, id DESC);

CREATE TABLE registration_requests (
    id                        uuid PRIMARY KEY,
    scope                     text        NOT NULL CHECK (scope IN ('GLOBAL', 'PARTNER', 'TENANT')),
    partner_id                uuid        REFERENCES partners (id),
    tenant_id                 uuid        REFERENCES tenants (id),
    name                      text        NOT NULL,
    description               text,
    application_type          text        NOT NULL,
    redirect_uris             text[]      NOT NULL DEFAULT '{}',
    post_logout_redirect_uris text[]      NOT NULL DEFAULT '{}',
    allowed_origins           text[]      NOT NULL DEFAULT '{}',
    requested_scopes          text[]      NOT NULL DEFAULT '{}',
    grant_types               text[]      NOT NULL DEFAULT '{}',
    contact_email             text        NOT NULL,
    contact_name              text,
    organization_name         text,
    website_url               text,
    status                    text        NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED', 'EXPIRED')),
    created_by                text,
    reviewed_by               text,
    reviewed_at               timestamptz,
    review_notes              text,
    rejection_reason          text,
    application_id            uuid        REFERENCES applications (id),
    expires_at                timestamptz NOT NULL,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL
);
CREATE INDEX registration_requests_newest ON registration_requests (id DESC);
CREATE INDEX registration_requests_pending_due ON registration_requests (expires_at) WHERE status = 'PENDING';
