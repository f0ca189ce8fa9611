-- The request clock of each API host that ingest paces (settings ingest.requests_per_s and
-- ingest.local_requests_per_s): every ingest process of the stack (Airflow's runs one after
-- another, a backfill by hand) takes its next slot here, so the limit holds for all of them
-- together. Not captured: the connector's publication covers staging.users only.
CREATE TABLE staging.api_request_clock (
  host            text PRIMARY KEY,       -- scheme://host[:port], no path or query
  next_request_at timestamptz NOT NULL    -- the earliest time the next request may go
);
