-- Sync files (issue 12): each device's public file key, registered online once, so a file it
-- signs offline can be checked; and the server's own key, which signs the reply files.
ALTER TABLE device ADD COLUMN file_key BLOB;
CREATE UNIQUE INDEX device_file_key ON device (file_key) WHERE file_key IS NOT NULL;
CREATE TABLE server_file_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed BLOB NOT NULL CHECK (length(seed) = 32),
    created_at INTEGER NOT NULL
);
