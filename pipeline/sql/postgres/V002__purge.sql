-- Housekeeping (`streamflow housekeeping`) purges staging rows that Cassandra already holds.
-- A purge must not reach Cassandra as a delete, so the purging transaction first stamps the
-- rows' purged_at and then deletes them: with REPLICA IDENTITY FULL both change events carry
-- the stamp, and the Spark job skips stamped events. A real delete has no stamp and is applied.
ALTER TABLE staging.users ADD COLUMN purged_at timestamptz;

-- The users purged from staging, so that reconcile still accounts for them in Cassandra.
CREATE TABLE staging.purged_users (
  user_id   uuid PRIMARY KEY,
  purged_at timestamptz NOT NULL DEFAULT now()
);
