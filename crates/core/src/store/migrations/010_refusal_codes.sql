-- Refusals carry the server's stable code and parameters, so the app words them in the
-- person's language; a dismissed refusal stays as a log entry (dismissed_at) instead of
-- being deleted. Refusals kept before this version have no code: `malformed` reads as
-- "the server could not accept this change", which is true of them all.
ALTER TABLE sync_rejected ADD COLUMN code TEXT NOT NULL DEFAULT 'malformed';
ALTER TABLE sync_rejected ADD COLUMN params_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE sync_rejected ADD COLUMN dismissed_at TEXT;
