-- "Was this useful? What was missing?" on Manual modules and checklists: one row per item the
-- person answered for. Synced as the record kind `feedback` (account scope), entity
-- `<item_kind>/<item_id>`. `useful` is NULL until answered (or once withdrawn).
CREATE TABLE feedback (
    item_kind   TEXT NOT NULL CHECK (item_kind IN ('manual', 'checklist')),
    item_id     TEXT NOT NULL,
    useful      INTEGER CHECK (useful IS NULL OR useful IN (0, 1)),
    missing     TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (item_kind, item_id)
) STRICT;
