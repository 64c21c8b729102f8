-- Groups with direct members and nesting; indexes for user lists and session revocation.

CREATE TABLE groups (
    id          uuid PRIMARY KEY,
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    name        text        NOT NULL,
    description text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX groups_name_live ON groups (tenant_id, lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX groups_live_newest ON groups (id DESC) WHERE deleted_at IS NULL;

CREATE TABLE group_members (
    group_id   uuid        NOT NULL REFERENCES groups (id),
    user_id    uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE group_nesting (
    parent_id  uuid        NOT NULL REFERENCES groups (id),
    child_id   uuid        NOT NULL REFERENCES groups (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (parent_id, child_id),
    CHECK (parent_id <> child_id)
);
CREATE INDEX group_nesting_child ON group_nesting (child_id);

-- Users: newest-first lists across tenants.
CREATE INDEX users_live_newest ON users (id DESC) WHERE deleted_at IS NULL;

-- The revocation poller reads sessions revoked since its last look.
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX sessions_newest ON sessions (id DESC);
