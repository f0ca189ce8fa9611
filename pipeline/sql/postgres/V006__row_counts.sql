-- How many rows staging.users holds, kept as it changes. `streamflow serve`'s health monitor
-- and `streamflow bench` read it every second; count(*) over a million staged users there took
-- PostgreSQL about a third of a core. Statement-level triggers add what each statement
-- inserted or deleted to a slot of its session (16 slots: two writers wait for each other's
-- commit only when their sessions share one); a reader sums the slots (staging.users_count()).
-- Not captured: the connector's publication covers staging.users only.
CREATE TABLE staging.row_counts (
  table_name text   NOT NULL,
  slot       int    NOT NULL,
  n          bigint NOT NULL,
  PRIMARY KEY (table_name, slot)
);

CREATE FUNCTION staging.add_to_row_count(tbl text, delta bigint) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO staging.row_counts AS c (table_name, slot, n)
  SELECT tbl, pg_backend_pid() % 16, delta WHERE delta <> 0
  ON CONFLICT (table_name, slot) DO UPDATE SET n = c.n + EXCLUDED.n
$$;

CREATE FUNCTION staging.count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM staging.add_to_row_count(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
                                   (SELECT count(*) FROM inserted_rows));
  RETURN NULL;
END $$;

CREATE FUNCTION staging.count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM staging.add_to_row_count(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
                                   -(SELECT count(*) FROM deleted_rows));
  RETURN NULL;
END $$;

CREATE FUNCTION staging.count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM staging.row_counts WHERE table_name = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  RETURN NULL;
END $$;

-- No writer may slip in between the first count and the triggers: hold writes off until commit
-- (this waits for writes under way, and new ones wait for it).
LOCK TABLE staging.users IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER users_count_inserted AFTER INSERT ON staging.users
  REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION staging.count_inserted();
CREATE TRIGGER users_count_deleted AFTER DELETE ON staging.users
  REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION staging.count_deleted();
CREATE TRIGGER users_count_truncated AFTER TRUNCATE ON staging.users
  FOR EACH STATEMENT EXECUTE FUNCTION staging.count_truncated();

INSERT INTO staging.row_counts (table_name, slot, n) SELECT 'staging.users', 0, count(*) FROM staging.users;

CREATE FUNCTION staging.users_count() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(n), 0)::bigint FROM staging.row_counts WHERE table_name = 'staging.users'
$$;
