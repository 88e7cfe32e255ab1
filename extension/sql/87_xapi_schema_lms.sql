-- The statements lms emits for its own events (docs/xapi.md, "From progress to the LRS"). This
-- file is also the upgrade step extension/upgrade/1.0--1.1/44_xapi_lms.sql (a link to it).
--
-- The id of an emitted statement, and the registration of an enrollment, are derived from the
-- event and a secret of this database (extension/xapi_emit.c): the same event emitted twice is
-- one statement, and a client, which cannot know the secret, cannot take an id lms will use.
-- The secret is the oldest row: pg_dump carries it, and a restore runs CREATE EXTENSION (which
-- makes a new row) before it copies the original in, so the restored database keeps deriving
-- the same ids and registrations.
CREATE TABLE lms.xapi_emitter (
  made_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  secret bytea NOT NULL CHECK (length(secret) = 32)
);
-- 244 random bits (two version-4 UUIDs), hashed to 32 bytes
INSERT INTO lms.xapi_emitter (secret)
VALUES (pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                          || pg_catalog.uuid_send(pg_catalog.gen_random_uuid())));
