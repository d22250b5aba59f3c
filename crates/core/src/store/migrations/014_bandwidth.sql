-- ---------------------------------------------------------------------------
-- The bandwidth meter and budget (issue 12, see src/sync/meter.rs).
-- ---------------------------------------------------------------------------

-- Bytes moved by sync, per day (UTC, YYYY-MM-DD) and kind of traffic. Request bodies as sent
-- (compressed), answer bodies as received.
CREATE TABLE bandwidth_use (
    day        TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('reports', 'checklists', 'forum', 'attachments', 'content', 'other')),
    bytes_up   INTEGER NOT NULL DEFAULT 0 CHECK (bytes_up >= 0),
    bytes_down INTEGER NOT NULL DEFAULT 0 CHECK (bytes_down >= 0),
    exchanges  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind)
) STRICT;

-- One row: the person's choices. Kept apart from sync_state, which "forget this device"
-- empties: a budget is about the connection, not the account.
CREATE TABLE bandwidth_settings (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    -- NULL: no monthly budget.
    monthly_budget_bytes INTEGER CHECK (monthly_budget_bytes IS NULL OR monthly_budget_bytes > 0),
    -- 1: the connection is paid by the byte (mobile data, satellite): deferrable traffic waits.
    metered              INTEGER NOT NULL DEFAULT 0 CHECK (metered IN (0, 1)),
    -- Unix seconds: until then the person allowed the deferred traffic anyway.
    allowed_until        INTEGER
) STRICT;
INSERT INTO bandwidth_settings (id) VALUES (1);
