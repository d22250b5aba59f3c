-- Hardening (issue 10): the audit log of admin actions, forced password changes, and when an
-- upload last moved (abandoned ones expire).

-- Every admin action, from the admin API and the CLI: who, what, on whom, when, from where.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,          -- unix seconds
    actor       TEXT NOT NULL,             -- username, or `cli:<system user>` for the admin CLI
    action      TEXT NOT NULL,             -- e.g. `account.approve`, stable (the console reads it)
    target      TEXT,                      -- the account, device, post, pack… acted on
    detail      TEXT NOT NULL DEFAULT '{}',-- JSON: what changed (never a password)
    source      TEXT NOT NULL              -- client address for the API, `local` for the CLI
) STRICT;
CREATE INDEX audit_by_time ON audit (at, id);

-- 1: the next sign-in must set a new password (after a Secretariat reset).
ALTER TABLE account ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));
CREATE INDEX account_by_status ON account (status, created_at);

-- Unix seconds of the last byte received (or creation): unfinished uploads untouched for long
-- are discarded with their partial file.
ALTER TABLE upload ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
UPDATE upload SET touched_at = coalesce(completed_at, created_at);

-- Posting rate per account: posts written in the last hour.
CREATE INDEX forum_post_by_account_time ON forum_post (account_id, created_at);

-- What older versions stored unchecked, cut to what this one accepts: `Upload-Metadata` (now at
-- most 2048 bytes, stored as re-encoded) and the reasons of rejected operations (now at most
-- 300 characters: they quoted what was sent).
UPDATE upload SET metadata = '' WHERE length(metadata) > 2048;
UPDATE op_result
    SET outcome = json_object('outcome', 'rejected',
                              'reason', substr(json_extract(outcome, '$.reason'), 1, 300) || '…')
    WHERE length(outcome) > 2000 AND json_extract(outcome, '$.outcome') = 'rejected';
