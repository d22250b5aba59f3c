-- Accounts: anyone may request one (pending); the Secretariat approves.
CREATE TABLE account (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,           -- argon2id PHC string
    display_name  TEXT NOT NULL,
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('nfp', 'secretariat', 'admin')),
    country       TEXT,                    -- ISO 3166-1 alpha-2; NULL only for secretariat/admin
    instruments   TEXT NOT NULL,           -- JSON array of strings
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'revoked')),
    created_at    INTEGER NOT NULL,        -- unix seconds
    CHECK (role <> 'nfp' OR country IS NOT NULL)
) STRICT;

-- Signed-in devices. Only the SHA-256 of a device token is kept.
CREATE TABLE device (
    id          TEXT PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES account (id),
    name        TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX device_by_account ON device (account_id);

-- Current value and version of every synced field, scoped to one account.
CREATE TABLE field (
    account_id  INTEGER NOT NULL REFERENCES account (id),
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    value       TEXT NOT NULL,             -- JSON
    version     INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind, entity_id, field)
) STRICT, WITHOUT ROWID;

-- The change feed pulled by cursor. AUTOINCREMENT: a seq is never reused, so cursors stay valid.
CREATE TABLE change (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES account (id),
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    value       TEXT NOT NULL,             -- JSON
    version     INTEGER NOT NULL,
    op_id       TEXT NOT NULL
) STRICT;
CREATE INDEX change_by_account ON change (account_id, seq);

-- The answer given to every operation id, so a retried push gets the same answer.
CREATE TABLE op_result (
    account_id  INTEGER NOT NULL REFERENCES account (id),
    op_id       TEXT NOT NULL,
    outcome     TEXT NOT NULL,             -- JSON of stopover_protocol::Outcome
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, op_id)
) STRICT, WITHOUT ROWID;
