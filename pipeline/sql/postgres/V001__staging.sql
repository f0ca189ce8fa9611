-- StreamFlow staging schema: what `streamflow ingest` writes and Debezium captures.
-- Applied by `streamflow up` (and `streamflow migrate`) as the pipeline role; never edit an
-- applied file: add V002__... instead.

CREATE SCHEMA IF NOT EXISTS staging;

-- One row per user, keyed by randomuser's login.uuid. Credentials (login.password, salt, md5,
-- sha1, sha256) have no column: ingest drops them before anything is written. The national id
-- is kept only as a keyed hash.
CREATE TABLE staging.users (
  user_id           uuid PRIMARY KEY,
  gender            text NOT NULL,
  title             text,
  first_name        text NOT NULL,
  last_name         text NOT NULL,
  street_number     bigint,
  street_name       text,
  city              text,
  state             text,
  country           text,
  postcode          text,        -- text: leading zeros and letters are real postcodes
  latitude          text,        -- decimal text as served (validated); cast downstream
  longitude         text,
  tz_offset         text,        -- '+5:45', '-3:30', '0:00'
  tz_description    text,
  email             text NOT NULL,
  username          text,
  dob               timestamptz NOT NULL,
  dob_age           integer,
  registered        timestamptz,
  registered_age    integer,
  phone             text,
  cell              text,
  id_name           text,
  id_hash           text,        -- HMAC-SHA256(id.value); the value itself is never stored
  picture_large     text,
  picture_medium    text,
  picture_thumbnail text,
  nat               text NOT NULL CHECK (nat ~ '^[A-Z]{2}$'),
  batch_id          uuid NOT NULL,                      -- the batch that last changed the row
  ingested_at       timestamptz NOT NULL DEFAULT now(), -- first landed
  updated_at        timestamptz NOT NULL DEFAULT now()  -- last changed (not touched by a no-op re-run)
);
-- Debezium then sees the old row on updates and deletes.
ALTER TABLE staging.users REPLICA IDENTITY FULL;

-- Every record that failed validation, with why and where it came from. The payload is the
-- record with credentials removed and id.value replaced by its hash.
CREATE TABLE staging.user_rejects (
  reject_id    bigserial PRIMARY KEY,
  batch_id     uuid NOT NULL,
  source       text NOT NULL,
  record_index integer NOT NULL,
  user_id      uuid,
  reason       text NOT NULL,
  payload      jsonb NOT NULL,
  rejected_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (batch_id, record_index)  -- re-running a batch adds no duplicate rejects
);
CREATE INDEX user_rejects_rejected_at ON staging.user_rejects (rejected_at);

-- One row per batch (its id is derived from source, seed, page and size, so a re-run finds
-- its own row): what happened, and failures that never landed a record.
CREATE TABLE staging.ingest_batches (
  batch_id    uuid PRIMARY KEY,
  source      text NOT NULL,
  seed        text,
  page        integer,
  requested   integer NOT NULL,
  received    integer NOT NULL DEFAULT 0,
  inserted    integer NOT NULL DEFAULT 0,
  updated     integer NOT NULL DEFAULT 0,
  unchanged   integer NOT NULL DEFAULT 0,
  rejected    integer NOT NULL DEFAULT 0,
  retries     integer NOT NULL DEFAULT 0,
  runs        integer NOT NULL DEFAULT 1,
  status      text NOT NULL CHECK (status IN ('landed', 'failed')),
  error       text,
  first_run_at timestamptz NOT NULL DEFAULT now(),
  last_run_at  timestamptz NOT NULL DEFAULT now()
);
