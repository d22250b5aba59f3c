-- Key/value facts about the database itself (imported pack version and hash).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- ---------------------------------------------------------------------------
-- Content: replaced wholesale, in one transaction, by each pack import.
-- ---------------------------------------------------------------------------

-- One row per item and language actually present in the pack (no fallback rows).
CREATE TABLE content_item (
    kind      TEXT NOT NULL CHECK (kind IN ('manual', 'checklist', 'library')),
    id        TEXT NOT NULL,
    lang      TEXT NOT NULL,
    title     TEXT NOT NULL,
    summary   TEXT NOT NULL,
    body_html TEXT NOT NULL,   -- rendered and sanitized at import
    ord       INTEGER NOT NULL,
    meta_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (kind, id, lang)
) STRICT;

CREATE TABLE checklist_step (
    checklist_id TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    lang         TEXT NOT NULL,
    ord          INTEGER NOT NULL,
    text         TEXT NOT NULL,
    detail_html  TEXT NOT NULL,
    PRIMARY KEY (checklist_id, step_id, lang)
) STRICT;

-- Full-text index. One row per item per UI language, holding the text the reader would see
-- in that language (the translation, or the English fallback), so a search covers the pack.
CREATE VIRTUAL TABLE search_index USING fts5(
    title,
    body,
    kind UNINDEXED,
    id UNINDEXED,
    lang UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- ---------------------------------------------------------------------------
-- The user's own data: never touched by a content import.
-- ---------------------------------------------------------------------------

CREATE TABLE checklist_progress (
    checklist_id TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    note         TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (checklist_id, step_id)
) STRICT;

CREATE TABLE bookmark (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

CREATE TABLE recent (
    kind      TEXT NOT NULL,
    id        TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX recent_by_time ON recent (opened_at DESC);

CREATE TABLE setting (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
