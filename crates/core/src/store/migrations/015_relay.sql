-- ---------------------------------------------------------------------------
-- The workshop relay (issue 12, see src/sync/relay.rs).
-- ---------------------------------------------------------------------------

-- 1: the last relay round said the relay holds this operation and the server has not
-- answered it yet ("at the relay"). The operation stays in the outbox until the server's
-- acknowledgement comes back (through the relay or directly), which removes it.
ALTER TABLE outbox ADD COLUMN at_relay INTEGER NOT NULL DEFAULT 0 CHECK (at_relay IN (0, 1));
