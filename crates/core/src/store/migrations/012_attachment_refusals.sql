-- An attachment the server will not take (over its size limit, a type it refuses, no room
-- left in the account's quota) keeps the server's answer as an ErrorReport in JSON, so the
-- file's question says why it has not travelled; other uploads go on meanwhile. Cleared when
-- an upload of it is tried again and goes through.
ALTER TABLE attachment ADD COLUMN refused_json TEXT;
