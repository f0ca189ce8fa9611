-- The outcome of every `streamflow reconcile` (the hourly streamflow_reconcile DAG's runs and
-- runs by hand): what `streamflow serve`'s reconcile alerts read. Housekeeping keeps it as long
-- as rejected records. Not captured: the connector's publication covers staging.users only.
CREATE TABLE staging.reconcile_runs (
  run_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  ok         boolean     NOT NULL,
  missing    bigint      NOT NULL,
  unexpected bigint      NOT NULL,
  lag_s      double precision NOT NULL,
  report     jsonb       NOT NULL      -- the JSON line `streamflow reconcile` prints
);
CREATE INDEX reconcile_runs_run_at ON staging.reconcile_runs (run_at DESC);
