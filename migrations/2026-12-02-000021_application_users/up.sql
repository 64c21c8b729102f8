-- The effective users of every application (contract: users assigned directly or through
-- groups nested to any depth, live, in a live tenant the application's scope admits), kept in
-- the write transactions that change them, so a page of `/applications/{id}/effective-users`
-- is an index range and its total an index-only count instead of a recursive walk over every
-- nested group and member (W6: 100,000 users).
--
-- Triggers keep it: adding members, nesting or assignments adds the pairs they grant;
-- removing them re-checks exactly the pairs they could have granted (another path may still
-- grant them); a user, tenant or application deleted drops its rows. Every trigger first takes
-- the tenant's nesting lock (the advisory lock group writes already take), so two transactions
-- changing the same tenant's groups never both miss each other's change.
CREATE TABLE application_users (
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL,
    partner_id     uuid,
    PRIMARY KEY (application_id, user_id)
);
CREATE INDEX application_users_by_tenant ON application_users (application_id, tenant_id, user_id);
CREATE INDEX application_users_by_partner ON application_users (application_id, partner_id, user_id);
CREATE INDEX application_users_user ON application_users (user_id);

-- Serialises effective-user changes per tenant (same key as the group nesting lock).
CREATE FUNCTION application_users_lock(tenants uuid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t uuid;
BEGIN
    FOR t IN SELECT DISTINCT x FROM unnest(tenants) x WHERE x IS NOT NULL ORDER BY x LOOP
        PERFORM pg_advisory_xact_lock(23713, hashtext(t::text));
    END LOOP;
END $$;

-- Adds the pairs (apps[i], users[i]) that the definition admits (the caller knows each is
-- granted by an assignment path; liveness and the application's scope are checked here).
CREATE FUNCTION application_users_add(apps uuid[], uids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO application_users (application_id, user_id, tenant_id, partner_id)
    SELECT DISTINCT c.app, c.uid, u.tenant_id, tn.partner_id
    FROM unnest(apps, uids) AS c(app, uid)
    JOIN applications ap ON ap.id = c.app AND ap.deleted_at IS NULL
    JOIN users u ON u.id = c.uid AND u.deleted_at IS NULL
    JOIN tenants tn ON tn.id = u.tenant_id AND tn.deleted_at IS NULL
    WHERE ap.scope = 'GLOBAL'
       OR (ap.scope = 'PARTNER' AND tn.partner_id = ap.partner_id)
       OR (ap.scope = 'TENANT' AND tn.id = ap.tenant_id)
    ON CONFLICT DO NOTHING
$$;

-- Re-checks the pairs (apps[i], users[i]) from the definition: removed, then added again when
-- an assignment still grants them (directly, or through any group the user is in or below).
CREATE FUNCTION application_users_recheck(apps uuid[], uids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM application_users au
    USING unnest(apps, uids) AS c(app, uid)
    WHERE au.application_id = c.app AND au.user_id = c.uid;
    PERFORM application_users_add(array_agg(e.app), array_agg(e.uid)) FROM (
        WITH RECURSIVE cand(app, uid) AS (
            SELECT DISTINCT app, uid FROM unnest(apps, uids) AS c(app, uid)
        ),
        up(app, uid, gid) AS (
            SELECT c.app, c.uid, m.group_id FROM cand c JOIN group_members m ON m.user_id = c.uid
            UNION
            SELECT up.app, up.uid, n.parent_id FROM up JOIN group_nesting n ON n.child_id = up.gid
        )
        SELECT up.app, up.uid FROM up
        JOIN application_assignments a ON a.application_id = up.app AND a.group_id = up.gid
        UNION
        SELECT c.app, c.uid FROM cand c
        JOIN application_assignments a ON a.application_id = c.app AND a.user_id = c.uid
    ) e;
END $$;

-- Groups and every group nested below them, each once, through the nesting there is and the
-- edges (gone_parents[i], gone_children[i]) a statement just removed (so that removing several
-- edges at once still re-checks every pair a removed path granted).
CREATE FUNCTION application_users_below(roots uuid[], gone_parents uuid[] DEFAULT '{}', gone_children uuid[] DEFAULT '{}')
RETURNS TABLE (root uuid, gid uuid) LANGUAGE sql STABLE AS $$
    WITH RECURSIVE edges(parent_id, child_id) AS (
        SELECT parent_id, child_id FROM group_nesting
        UNION ALL
        SELECT p, c FROM unnest(gone_parents, gone_children) AS e(p, c)
    ),
    t(root, gid) AS (
        SELECT r, r FROM unnest(roots) r
        UNION
        SELECT t.root, n.child_id FROM t JOIN edges n ON n.parent_id = t.gid
    )
    SELECT root, gid FROM t
$$;

-- Groups and every group they are nested in, each once (the same edges as above).
CREATE FUNCTION application_users_above(groups uuid[], gone_parents uuid[] DEFAULT '{}', gone_children uuid[] DEFAULT '{}')
RETURNS TABLE (start uuid, gid uuid) LANGUAGE sql STABLE AS $$
    WITH RECURSIVE edges(parent_id, child_id) AS (
        SELECT parent_id, child_id FROM group_nesting
        UNION ALL
        SELECT p, c FROM unnest(gone_parents, gone_children) AS e(p, c)
    ),
    t(start, gid) AS (
        SELECT g, g FROM unnest(groups) g
        UNION
        SELECT t.start, n.parent_id FROM t JOIN edges n ON n.child_id = t.gid
    )
    SELECT start, gid FROM t
$$;

CREATE FUNCTION application_users_members_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM application_users_lock(array_agg(DISTINCT g.tenant_id))
    FROM new_rows r JOIN groups g ON g.id = r.group_id;
    PERFORM application_users_add(array_agg(a.application_id), array_agg(r.user_id))
    FROM new_rows r
    JOIN application_users_above(ARRAY(SELECT DISTINCT group_id FROM new_rows)) up ON up.start = r.group_id
    JOIN application_assignments a ON a.group_id = up.gid;
    RETURN NULL;
END $$;

CREATE FUNCTION application_users_members_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM application_users_lock(array_agg(DISTINCT g.tenant_id))
    FROM old_rows r JOIN groups g ON g.id = r.group_id;
    PERFORM application_users_recheck(array_agg(a.application_id), array_agg(r.user_id))
    FROM old_rows r
    JOIN application_users_above(ARRAY(SELECT DISTINCT group_id FROM old_rows)) up ON up.start = r.group_id
    JOIN application_assignments a ON a.group_id = up.gid;
    RETURN NULL;
END $$;

-- Nesting child under parent grants the members of child and below to the applications
-- assigned to parent or above.
CREATE FUNCTION application_users_nesting_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM application_users_lock(array_agg(DISTINCT g.tenant_id))
    FROM new_rows r JOIN groups g ON g.id = r.parent_id;
    PERFORM application_users_add(array_agg(a.application_id), array_agg(m.user_id))
    FROM new_rows r
    JOIN application_users_above(ARRAY(SELECT DISTINCT parent_id FROM new_rows)) up ON up.start = r.parent_id
    JOIN application_assignments a ON a.group_id = up.gid
    JOIN application_users_below(ARRAY(SELECT DISTINCT child_id FROM new_rows)) down ON down.root = r.child_id
    JOIN group_members m ON m.group_id = down.gid;
    RETURN NULL;
END $$;

-- Every pair a removed edge could have granted, walking the graph as it was before the
-- statement (the edges left plus the removed ones), is re-checked against the graph now.
CREATE FUNCTION application_users_nesting_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone_p uuid[];
    gone_c uuid[];
BEGIN
    PERFORM application_users_lock(array_agg(DISTINCT g.tenant_id))
    FROM old_rows r JOIN groups g ON g.id = r.parent_id;
    SELECT array_agg(parent_id), array_agg(child_id) INTO gone_p, gone_c FROM old_rows;
    PERFORM application_users_recheck(array_agg(a.application_id), array_agg(m.user_id))
    FROM old_rows r
    JOIN application_users_above(ARRAY(SELECT DISTINCT parent_id FROM old_rows), gone_p, gone_c) up
        ON up.start = r.parent_id
    JOIN application_assignments a ON a.group_id = up.gid
    JOIN application_users_below(ARRAY(SELECT DISTINCT child_id FROM old_rows), gone_p, gone_c) down
        ON down.root = r.child_id
    JOIN group_members m ON m.group_id = down.gid;
    RETURN NULL;
END $$;

CREATE FUNCTION application_users_assignments_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM application_users_lock(array_agg(DISTINCT tenant_id)) FROM new_rows;
    PERFORM application_users_add(array_agg(r.application_id), array_agg(r.user_id))
    FROM new_rows r WHERE r.user_id IS NOT NULL;
    PERFORM application_users_add(array_agg(r.application_id), array_agg(m.user_id))
    FROM new_rows r
    JOIN application_users_below(ARRAY(SELECT DISTINCT group_id FROM new_rows WHERE group_id IS NOT NULL)) down
        ON down.root = r.group_id
    JOIN group_members m ON m.group_id = down.gid;
    RETURN NULL;
END $$;

CREATE FUNCTION application_users_assignments_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM application_users_lock(array_agg(DISTINCT tenant_id)) FROM old_rows;
    PERFORM application_users_recheck(array_agg(r.application_id), array_agg(r.user_id))
    FROM old_rows r WHERE r.user_id IS NOT NULL;
    PERFORM application_users_recheck(array_agg(r.application_id), array_agg(m.user_id))
    FROM old_rows r
    JOIN application_users_below(ARRAY(SELECT DISTINCT group_id FROM old_rows WHERE group_id IS NOT NULL)) down
        ON down.root = r.group_id
    JOIN group_members m ON m.group_id = down.gid;
    RETURN NULL;
END $$;

-- A user deleted (soft) has no access; the other columns the definition reads never change.
CREATE FUNCTION application_users_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM application_users_lock(array_agg(tenant_id)) FROM new_rows WHERE deleted_at IS NOT NULL;
    DELETE FROM application_users au USING new_rows n
    WHERE au.user_id = n.id AND n.deleted_at IS NOT NULL;
    RETURN NULL;
END $$;

CREATE FUNCTION application_users_tenants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM application_users_lock(array_agg(id)) FROM new_rows WHERE deleted_at IS NOT NULL;
    DELETE FROM application_users au USING new_rows n
    WHERE au.tenant_id = n.id AND n.deleted_at IS NOT NULL;
    RETURN NULL;
END $$;

CREATE FUNCTION application_users_applications_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM application_users au USING new_rows n
    WHERE au.application_id = n.id AND n.deleted_at IS NOT NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER application_users_members_insert AFTER INSERT ON group_members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_members_added();
CREATE TRIGGER application_users_members_delete AFTER DELETE ON group_members
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_members_removed();
CREATE TRIGGER application_users_nesting_insert AFTER INSERT ON group_nesting
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_nesting_added();
CREATE TRIGGER application_users_nesting_delete AFTER DELETE ON group_nesting
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_nesting_removed();
CREATE TRIGGER application_users_assignments_insert AFTER INSERT ON application_assignments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_assignments_added();
CREATE TRIGGER application_users_assignments_delete AFTER DELETE ON application_assignments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_assignments_removed();
CREATE TRIGGER application_users_users_update AFTER UPDATE ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_users_changed();
CREATE TRIGGER application_users_tenants_update AFTER UPDATE ON tenants
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_tenants_changed();
CREATE TRIGGER application_users_applications_update AFTER UPDATE ON applications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION application_users_applications_changed();

-- What is there today.
SELECT application_users_add(array_agg(e.app), array_agg(e.uid)) FROM (
    WITH RECURSIVE t(app, gid) AS (
        SELECT application_id, group_id FROM application_assignments WHERE group_id IS NOT NULL
        UNION
        SELECT t.app, n.child_id FROM t JOIN group_nesting n ON n.parent_id = t.gid
    )
    SELECT t.app, m.user_id AS uid FROM t JOIN group_members m ON m.group_id = t.gid
    UNION
    SELECT application_id, user_id FROM application_assignments WHERE user_id IS NOT NULL
) e;
