-- ---------------------------------------------------------------------------
-- Retention that can be undone, and by the server's clock (see src/forum/retention.rs).
-- ---------------------------------------------------------------------------

-- A pruned post is kept compressed (its content, stamp and moderation state, deflated JSON)
-- until the reader opens its thread again, which brings it back. Posts pruned before this
-- version were not kept: below, the pull starts over to fetch them again.
ALTER TABLE forum_pruned ADD COLUMN thread_id TEXT;
ALTER TABLE forum_pruned ADD COLUMN data BLOB;
CREATE INDEX forum_pruned_by_thread ON forum_pruned (thread_id);

-- Threads the reader brought back: the return counts as activity for retention (server time).
CREATE TABLE forum_restored (
    thread_id   TEXT PRIMARY KEY NOT NULL,
    restored_at TEXT NOT NULL
) STRICT;

-- Posts received since retention last ran: never pruned by that run.
CREATE TABLE forum_fresh (
    id TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;

-- Posts pruned without a copy (possibly all of them, by a laptop clock years ahead): their
-- versions are forgotten and the pull starts again from the beginning, which brings them
-- back; retention then applies again, by the server's time.
UPDATE sync_state SET value = '0'
    WHERE key = 'pull_cursor' AND EXISTS (SELECT 1 FROM forum_pruned);
DELETE FROM sync_field WHERE kind = 'forum_post' AND entity_id IN (SELECT id FROM forum_pruned);
DELETE FROM forum_pruned;
