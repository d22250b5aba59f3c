-- Signed content packs published with `ecommunity pack publish`. The archive itself is
-- packs/<version>.json.gz in the data folder. Versions only ever increase.
CREATE TABLE pack_release (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,  -- publication order: the last is the latest
    version      TEXT NOT NULL UNIQUE,               -- dotted numeric
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    signature    TEXT NOT NULL,                      -- base64 ed25519 over the archive's bytes
    key_id       TEXT NOT NULL,                      -- hex of the public key
    published_at INTEGER NOT NULL
) STRICT;
