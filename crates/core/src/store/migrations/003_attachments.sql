-- ---------------------------------------------------------------------------
-- Attachments: files to upload to the e-community server (tus 1.0), by SHA-256. See
-- src/sync/attachments.rs. A row outlives a crash, so an interrupted upload resumes from the
-- server's offset after a restart instead of from zero.
-- ---------------------------------------------------------------------------
CREATE TABLE attachment (
    sha256     TEXT PRIMARY KEY NOT NULL,     -- 64 lowercase hex digits
    path       TEXT NOT NULL,                 -- where the bytes are read from: the user's file,
                                              -- or a copy under attachments/ in the data folder
    size       INTEGER NOT NULL CHECK (size >= 0),
    filename   TEXT,                          -- sent as Upload-Metadata `filename`
    upload_url TEXT,                          -- the server's upload (tus Location), once created
    uploaded   INTEGER NOT NULL DEFAULT 0 CHECK (uploaded IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT;
