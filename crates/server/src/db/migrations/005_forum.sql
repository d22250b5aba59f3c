-- The forum, the NFP directory and training events. Their records live in `field` and
-- `change` under the scope `community` (read by every approved account); these tables hold
-- what the server checks pushes against.

-- Some changes are written by the server itself, not by an account (forum categories, events,
-- directory cards, moderation from the admin CLI): `change.account_id` becomes optional.
-- SQLite cannot drop a NOT NULL, so the table is rebuilt, keeping every seq and the
-- AUTOINCREMENT high-water mark so cursors stay valid.
CREATE TABLE change_new (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER REFERENCES account (id),  -- NULL: written by the server
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    value       TEXT NOT NULL,             -- JSON
    version     INTEGER NOT NULL,
    op_id       TEXT NOT NULL,
    scope       TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO change_new (seq, account_id, kind, entity_id, field, value, version, op_id, scope)
    SELECT seq, account_id, kind, entity_id, field, value, version, op_id, scope FROM change;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'change_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'change_new');
UPDATE sqlite_sequence
    SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'change'), 0))
    WHERE name = 'change_new';
DROP TABLE change;
ALTER TABLE change_new RENAME TO change;
CREATE INDEX change_by_scope ON change (scope, seq);

-- Forum categories; `info` is the CategoryInfo JSON published in the feed.
CREATE TABLE forum_category (
    slug        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('region', 'instrument', 'general', 'qa')),
    position    INTEGER NOT NULL,
    info        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- Every post the server accepted: who wrote it (only they edit it), where it belongs (it
-- never moves). A thread is its first post: thread_id = id.
CREATE TABLE forum_post (
    id          TEXT PRIMARY KEY,          -- the client's UUID
    thread_id   TEXT NOT NULL,
    category    TEXT NOT NULL REFERENCES forum_category (slug),
    account_id  INTEGER NOT NULL REFERENCES account (id),
    created_at  INTEGER NOT NULL           -- unix seconds
) STRICT;
CREATE INDEX forum_post_by_thread ON forum_post (thread_id, created_at);
CREATE INDEX forum_post_by_account ON forum_post (account_id);

-- Training events; `info` is the EventInfo JSON published in the feed. Registrations are the
-- accounts' own `event_registration` records in `field`.
CREATE TABLE event (
    slug                   TEXT PRIMARY KEY,
    info                   TEXT NOT NULL,
    registration_closes_on TEXT NOT NULL,  -- YYYY-MM-DD, last day to register
    capacity               INTEGER CHECK (capacity IS NULL OR capacity > 0),
    created_at             INTEGER NOT NULL
) STRICT;
