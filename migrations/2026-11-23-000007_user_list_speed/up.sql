-- User lists at a million users per tenant (benchmark W5).
--
-- 1. Live users per tenant, kept by statement-level triggers, so a list's `total` is one row
--    read instead of counting a million index entries. The platform's own users (no tenant)
--    count under the nil UUID. Updates that do not touch tenant_id/deleted_at change nothing.
--    `version` grows with every change of the set, so a process may keep derived facts (the
--    page bookmarks of the user list) for as long as the version it read them at is current.
CREATE TABLE user_counts (
    tenant_key uuid   PRIMARY KEY,
    live       bigint NOT NULL,
    version    bigint NOT NULL DEFAULT 0
);
INSERT INTO user_counts (tenant_key, live)
SELECT COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), count(*)
FROM users WHERE deleted_at IS NULL GROUP BY 1;

CREATE FUNCTION user_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts AS c (tenant_key, live)
    SELECT COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), count(*)
    FROM new_rows WHERE deleted_at IS NULL GROUP BY 1
    ON CONFLICT (tenant_key) DO UPDATE SET live = c.live + EXCLUDED.live, version = c.version + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION user_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts AS c (tenant_key, live)
    SELECT k, sum(d) FROM (
        SELECT COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) AS k, 1 AS d
        FROM new_rows WHERE deleted_at IS NULL
        UNION ALL
        SELECT COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), -1
        FROM old_rows WHERE deleted_at IS NULL
    ) changes GROUP BY k HAVING sum(d) <> 0
    ON CONFLICT (tenant_key) DO UPDATE SET live = c.live + EXCLUDED.live, version = c.version + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION user_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts AS c (tenant_key, live)
    SELECT COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), -count(*)
    FROM old_rows WHERE deleted_at IS NULL GROUP BY 1
    ON CONFLICT (tenant_key) DO UPDATE SET live = c.live + EXCLUDED.live, version = c.version + 1;
    RETURN NULL;
END $$;

-- PostgreSQL allows transition tables only on single-event triggers: one trigger per event.
CREATE TRIGGER user_counts_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_after_insert();
CREATE TRIGGER user_counts_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_after_update();
CREATE TRIGGER user_counts_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_after_delete();

-- 2. `search` (a case-insensitive substring of email or a name) through a trigram index instead
--    of scanning every user. The query matches the same expression.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_search_trgm ON users USING gin (
    (lower(email) || E'\n' || lower(COALESCE(first_name, '')) || E'\n' || lower(COALESCE(last_name, ''))
        || E'\n' || lower(COALESCE(display_name, ''))) gin_trgm_ops
) WHERE deleted_at IS NULL;

-- 3. Live users by ID with their tenant in the index itself: pages pick their IDs with an
--    index-only scan, and effective-users joins check liveness and tenant without reading the
--    table (measured 915 → 437 ms for 100,000 effective users among 1.1 million). Replaces the
--    narrower index of migration 2.
CREATE INDEX users_live_cover ON users (id) INCLUDE (tenant_id) WHERE deleted_at IS NULL;
DROP INDEX users_live_newest;
