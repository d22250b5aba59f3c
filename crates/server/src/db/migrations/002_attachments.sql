-- Attachments uploaded with tus 1.0, content-addressed by SHA-256. One row per account and
-- file: an unfinished upload is resumed, a finished one is not sent again. The bytes live in
-- the data folder: files/partial/<id> while uploading, files/<sha256> once verified.
CREATE TABLE upload (
    id           TEXT PRIMARY KEY,         -- 32 hex digits, random: the {id} of /v1/files/{id}
    account_id   INTEGER NOT NULL REFERENCES account (id),
    sha256       TEXT NOT NULL,            -- announced in Upload-Metadata, checked on completion
    length       INTEGER NOT NULL CHECK (length >= 0),
    received     INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= length), -- the offset
    filename     TEXT,
    metadata     TEXT NOT NULL,            -- Upload-Metadata as received, echoed by HEAD
    complete     INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    created_at   INTEGER NOT NULL,
    completed_at INTEGER
) STRICT;
CREATE UNIQUE INDEX upload_by_account_sha ON upload (account_id, sha256);
