DROP INDEX sessions_newest;
DROP INDEX sessions_revoked;
DROP INDEX users_live_newest;
DROP TABLE group_nesting;
DROP TABLE group_members;
DROP TABLE groups;
