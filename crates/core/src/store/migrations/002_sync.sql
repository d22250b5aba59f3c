-- ---------------------------------------------------------------------------
-- Sync: the outbox and what this device knows of the server. See src/sync/mod.rs.
-- Never holds the device token (that lives only in the OS keyring).
-- ---------------------------------------------------------------------------

-- The server's version (and value, when known) of each synced field this device has seen.
CREATE TABLE sync_field (
    kind              TEXT NOT NULL,
    entity_id         TEXT NOT NULL,
    field             TEXT NOT NULL,
    server_version    INTEGER NOT NULL CHECK (server_version >= 0),
    server_value_json TEXT,           -- NULL: version known, value not (yet) seen
    PRIMARY KEY (kind, entity_id, field)
) STRICT;

-- Local changes waiting for the server's answer. A row leaves only in the transaction that
-- stores that answer.
CREATE TABLE outbox (
    op_id        TEXT PRIMARY KEY NOT NULL,    -- UUIDv7, the server's idempotency key
    seq          INTEGER NOT NULL UNIQUE,      -- order of the changes on this device
    kind         TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    field        TEXT NOT NULL,
    base_version INTEGER CHECK (base_version >= 0), -- NULL: "after the earlier op on this field"
    value_json   TEXT NOT NULL,
    sent         INTEGER NOT NULL DEFAULT 0 CHECK (sent IN (0, 1)), -- ever sent: never coalesced into
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_by_field ON outbox (kind, entity_id, field, seq);

-- Two edits of one field: both values kept until a person chooses.
CREATE TABLE sync_conflict (
    kind              TEXT NOT NULL,
    entity_id         TEXT NOT NULL,
    field             TEXT NOT NULL,
    local_value_json  TEXT NOT NULL,
    server_value_json TEXT NOT NULL,
    server_version    INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (kind, entity_id, field)
) STRICT;

-- Changes the server refused for good, with its reason, kept for the person to see.
CREATE TABLE sync_rejected (
    op_id      TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    field      TEXT NOT NULL,
    value_json TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Pull cursor, server address, account name, last sync time and error.
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
