-- ---------------------------------------------------------------------------
-- The e-community forum, directory and events: a cache of the server's community feed
-- (written by sync, see src/forum/sync.rs) plus what this device composes offline.
-- ---------------------------------------------------------------------------

-- forum_category/info: CategoryInfo as JSON (titles in three languages, kind, order).
CREATE TABLE forum_category (
    id        TEXT PRIMARY KEY NOT NULL,
    info_json TEXT NOT NULL
) STRICT;

-- One row per thread (id: its first post's id), made by the first post or reply seen. It
-- outlives its posts when retention prunes them, so a late reply still has its title.
CREATE TABLE forum_thread (
    id          TEXT PRIMARY KEY NOT NULL,
    category    TEXT,
    title       TEXT,
    author      TEXT,
    author_name TEXT,
    country     TEXT,
    locked      INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    -- the highest forum_post.arrival the reader has seen in this thread
    read_upto   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX forum_thread_by_category ON forum_thread (category);

-- A post: `content` (thread, category, title, body) and `meta` (author, date) arrive as two
-- fields, in either order, so every column of either may be NULL for a while.
CREATE TABLE forum_post (
    n           INTEGER PRIMARY KEY,            -- local row id, also the search index's rowid
    id          TEXT NOT NULL UNIQUE,
    thread_id   TEXT,
    category    TEXT,
    title       TEXT,
    body        TEXT,                            -- Markdown as written
    body_html   TEXT,                            -- rendered and sanitized when written
    author      TEXT,
    author_name TEXT,
    country     TEXT,
    created_at  TEXT,                            -- the server's stamp; NULL until meta arrives
    hidden      INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    arrival     INTEGER,                         -- order in which content first arrived here
    -- order in which the server's stamp (meta) first arrived: the feed's order, which is the
    -- order the server took the posts in (created_at has only whole seconds)
    meta_order  INTEGER,
    local_at    TEXT NOT NULL                    -- when this device first had the row
) STRICT;
CREATE INDEX forum_post_by_thread ON forum_post (thread_id, meta_order);
CREATE INDEX forum_post_by_arrival ON forum_post (arrival);
CREATE INDEX forum_post_by_meta_order ON forum_post (meta_order);
CREATE INDEX forum_post_by_category ON forum_post (category, thread_id);

-- Posts removed by retention: later changes to them are ignored instead of bringing back a
-- fragment of a post.
CREATE TABLE forum_pruned (
    id TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;

-- Offline search over cached posts, with the content search's folding rules.
CREATE VIRTUAL TABLE forum_search USING fts5(
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The composer's autosaved text, by `new:<category>`, `reply:<thread>` or `edit:<post>`.
CREATE TABLE forum_draft (
    key        TEXT PRIMARY KEY NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- The directory: profile/account (ProfileAccount) and profile/shared (SharedContact) as JSON.
CREATE TABLE profile (
    username     TEXT PRIMARY KEY NOT NULL,
    account_json TEXT,
    shared_json  TEXT
) STRICT;

-- Training events (event/info: EventInfo as JSON) and this account's registrations.
CREATE TABLE event (
    id        TEXT PRIMARY KEY NOT NULL,
    info_json TEXT NOT NULL
) STRICT;

CREATE TABLE event_registration (
    event_id   TEXT PRIMARY KEY NOT NULL,
    registered INTEGER NOT NULL CHECK (registered IN (0, 1))
) STRICT;
