//! The narrow bridge C++ sees (`streamflow::cql::bridge` in the generated header
//! `streamflow-cql/src/bridge.rs.h`). Wrapped for C++ callers by `src/cql/cql.h`: use that.
//!
//! Every function blocks the calling thread on the shared runtime, never panics across the
//! boundary (a panic becomes an `[internal]` error) and reports failures as `Err`, which cxx
//! throws as `rust::Error` for the C++ wrapper to catch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session as DriverSession;
use scylla::client::session_builder::SessionBuilder;
use scylla::response::{PagingState, PagingStateResponse};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::Consistency;
use scylla::value::{CqlValue, Row};
use tokio::task::JoinSet;

use crate::errors::{driver, BridgeError, BridgeResult, Kind};
use crate::runtime;
use crate::values;

#[cxx::bridge(namespace = "streamflow::cql::bridge")]
mod ffi {
    /// One value as text. `is_null` is CQL null (then `text` is empty and ignored).
    struct Cell {
        is_null: bool,
        text: String,
    }

    /// The answer of a query: column names, and the cells row after row
    /// (`columns.len()` cells per row).
    struct RowSet {
        columns: Vec<String>,
        cells: Vec<Cell>,
    }

    /// One page of a query's answer, and where the next page starts (empty: no more pages).
    struct Page {
        rows: RowSet,
        next_paging_state: Vec<u8>,
    }

    extern "Rust" {
        /// A connected session (a connection pool per node). Thread-safe.
        type Session;
        /// A statement prepared on the cluster, with the types of its bind markers.
        type Prepared;

        /// Connects to `contact_point` ("host:port", or several joined by commas). Establishing a connection may take up to
        /// `connect_timeout_ms`; each request (including the initial metadata fetch) up to
        /// `request_timeout_ms`.
        fn connect(
            contact_point: &str,
            connect_timeout_ms: u32,
            request_timeout_ms: u32,
        ) -> Result<Box<Session>>;

        /// Runs one unprepared statement and discards any rows. After a schema change the call
        /// returns once every reachable node agrees on the schema.
        fn execute(self: &Session, cql: &str) -> Result<()>;

        /// Makes `keyspace` the default for unqualified table names on every connection.
        fn use_keyspace(self: &Session, keyspace: &str) -> Result<()>;

        /// Runs a statement and returns all its rows (fetching every page), every value as text.
        /// With `params`, the statement is prepared and each text is converted to the type of
        /// its bind marker (see `values::parse`).
        fn query(self: &Session, cql: &str, params: &[Cell]) -> Result<RowSet>;

        fn prepare(self: &Session, cql: &str) -> Result<Box<Prepared>>;

        /// Runs `prepared` once with `params` and returns one page of at most `page_size` rows,
        /// starting at `paging_state` (empty: the first page). The paging state is opaque;
        /// one the cluster does not recognise is an `[invalid_argument]` error.
        fn execute_page(
            self: &Session,
            prepared: &Prepared,
            params: &[Cell],
            page_size: i32,
            paging_state: &[u8],
        ) -> Result<Page>;

        /// Executes `prepared` once per row; `cells` holds `rows` rows of `bind_columns().len()`
        /// cells each. Every text is converted first (a bad value fails the whole call before
        /// anything is written), then up to `concurrency` requests run at once. Returns the
        /// number of rows written.
        fn execute_prepared_batch(
            self: &Session,
            prepared: &Prepared,
            rows: usize,
            cells: &[Cell],
            concurrency: u32,
        ) -> Result<u64>;

        /// The names of the bind markers (the columns they are bound to), in order.
        fn bind_columns(self: &Prepared) -> Vec<String>;
    }
}

use ffi::{Cell, Page, RowSet};

pub struct Session {
    /// Always Some until drop, which takes it inside the runtime.
    inner: Option<Arc<DriverSession>>,
}

pub struct Prepared {
    inner: PreparedStatement,
}

/// Runs `f`, turning a panic into an `[internal]` error: unwinding into C++ would abort.
fn guard<T>(what: &str, f: impl FnOnce() -> BridgeResult<T>) -> BridgeResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(BridgeError::new(Kind::Internal, format!("{what}: the CQL bridge panicked: {why}")))
        }
    }
}

fn rt() -> BridgeResult<&'static tokio::runtime::Runtime> {
    runtime::get().map_err(|e| BridgeError::new(Kind::Internal, e))
}

fn millis(ms: u32) -> Duration {
    Duration::from_millis(u64::from(ms.max(1)))
}

fn connect(
    contact_point: &str,
    connect_timeout_ms: u32,
    request_timeout_ms: u32,
) -> BridgeResult<Box<Session>> {
    guard("connect", || {
        let rt = rt()?;
        let request_timeout = millis(request_timeout_ms);
        // LOCAL_QUORUM, said rather than left to the driver's default: on a ring of three with
        // replication 3, a read sees every write acknowledged before it, with one node down.
        let profile = ExecutionProfile::builder()
            .request_timeout(Some(request_timeout))
            .consistency(Consistency::LocalQuorum)
            .build();
        // E0716: build() borrows the builder for as long as its future lives, so the builder
        // must be a named local, not a temporary of the chained expression.
        // "host:port" or several, "h1:p,h2:p": the driver learns the rest of the ring from the
        // first that answers, and routes around a node that is down.
        let nodes: Vec<&str> =
            contact_point.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
        let builder = SessionBuilder::new()
            .known_nodes(nodes)
            .connection_timeout(millis(connect_timeout_ms))
            .default_execution_profile_handle(profile.into_handle())
            .auto_await_schema_agreement(true)
            .schema_agreement_timeout(request_timeout.max(Duration::from_secs(10)));
        let deadline = millis(connect_timeout_ms) + request_timeout;
        let session = rt
            .block_on(async { tokio::time::timeout(deadline, builder.build()).await })
            .map_err(|_| {
                BridgeError::new(
                    Kind::Timeout,
                    format!("no session to {contact_point} after {} ms", deadline.as_millis()),
                )
            })?
            .map_err(|e| driver("", e))?;
        Ok(Box::new(Session { inner: Some(Arc::new(session)) }))
    })
}

impl Drop for Session {
    fn drop(&mut self) {
        // The driver's connection tasks belong to the runtime: close them from inside it.
        if let (Some(session), Ok(rt)) = (self.inner.take(), runtime::get()) {
            let _inside = rt.enter();
            drop(session);
        }
    }
}

/// Converts one row of text cells to the bound types of `prepared`.
fn bind_row(prepared: &PreparedStatement, cells: &[Cell]) -> BridgeResult<Vec<Option<CqlValue>>> {
    let specs = prepared.get_variable_col_specs();
    if cells.len() != specs.len() {
        return Err(BridgeError::new(
            Kind::InvalidArgument,
            format!(
                "the statement has {} bind marker(s) but {} value(s) were given",
                specs.len(),
                cells.len()
            ),
        ));
    }
    specs
        .iter()
        .zip(cells)
        .map(|(spec, cell)| {
            if cell.is_null {
                return Ok(None);
            }
            values::parse(&cell.text, spec.typ()).map(Some).map_err(|e| {
                BridgeError::new(
                    Kind::InvalidArgument,
                    format!("column {} ({}): {e}", spec.name(), values::type_name(spec.typ())),
                )
            })
        })
        .collect()
}

fn render_cell(value: Option<CqlValue>) -> Cell {
    match value {
        None => Cell { is_null: true, text: String::new() },
        Some(v) => Cell { is_null: false, text: values::render(&v) },
    }
}

impl Session {
    fn session(&self) -> &Arc<DriverSession> {
        self.inner.as_ref().expect("a session is only emptied by drop")
    }

    fn execute(&self, cql: &str) -> BridgeResult<()> {
        guard("execute", || {
            // auto_await_schema_agreement (set in connect) makes a schema change wait for
            // agreement before query_unpaged returns.
            rt()?
                .block_on(self.session().query_unpaged(cql, ()))
                .map(|_| ())
                .map_err(|e| driver("", e))
        })
    }

    fn use_keyspace(&self, keyspace: &str) -> BridgeResult<()> {
        guard("use_keyspace", || {
            rt()?.block_on(self.session().use_keyspace(keyspace, false)).map_err(|e| driver("", e))
        })
    }

    fn query(&self, cql: &str, params: &[Cell]) -> BridgeResult<RowSet> {
        guard("query", || {
            let session = self.session();
            rt()?.block_on(async {
                let pager = if params.is_empty() {
                    session.query_iter(cql, ()).await.map_err(|e| driver("running the query", e))?
                } else {
                    let prepared =
                        session.prepare(cql).await.map_err(|e| driver("preparing the query", e))?;
                    let values = bind_row(&prepared, params)?;
                    session
                        .execute_iter(prepared, values)
                        .await
                        .map_err(|e| driver("running the query", e))?
                };
                let columns: Vec<String> =
                    pager.column_specs().iter().map(|c| c.name().to_owned()).collect();
                let mut rows = pager.rows_stream::<Row>().map_err(|e| {
                    BridgeError::new(Kind::Internal, format!("reading the rows: {e}"))
                })?;
                let mut cells = Vec::new();
                while let Some(row) = rows.next().await {
                    let row = row.map_err(|e| driver("reading the rows", e))?;
                    cells.extend(row.columns.into_iter().map(render_cell));
                }
                Ok(RowSet { columns, cells })
            })
        })
    }

    fn execute_page(
        &self,
        prepared: &Prepared,
        params: &[Cell],
        page_size: i32,
        paging_state: &[u8],
    ) -> BridgeResult<Page> {
        guard("execute_page", || {
            let values = bind_row(&prepared.inner, params)?;
            let mut statement = prepared.inner.clone();
            statement.set_page_size(page_size.max(1));
            let state = if paging_state.is_empty() {
                PagingState::start()
            } else {
                PagingState::new_from_raw_bytes(paging_state)
            };
            let (result, next) = rt()?
                .block_on(self.session().execute_single_page(&statement, values, state))
                .map_err(|e| driver("running the query", e))?;
            let rows = result.into_rows_result().map_err(|e| {
                BridgeError::new(Kind::InvalidArgument, format!("the statement returns no rows: {e}"))
            })?;
            let columns: Vec<String> =
                rows.column_specs().iter().map(|c| c.name().to_owned()).collect();
            let mut cells = Vec::with_capacity(rows.rows_num() * columns.len());
            for row in rows.rows::<Row>().map_err(|e| {
                BridgeError::new(Kind::Internal, format!("reading the rows: {e}"))
            })? {
                let row = row
                    .map_err(|e| BridgeError::new(Kind::Internal, format!("reading a row: {e}")))?;
                cells.extend(row.columns.into_iter().map(render_cell));
            }
            let next_paging_state = match next {
                PagingStateResponse::HasMorePages { state } => {
                    state.as_bytes_slice().map(|b| b.to_vec()).unwrap_or_default()
                }
                PagingStateResponse::NoMorePages => Vec::new(),
            };
            Ok(Page { rows: RowSet { columns, cells }, next_paging_state })
        })
    }

    fn prepare(&self, cql: &str) -> BridgeResult<Box<Prepared>> {
        guard("prepare", || {
            let inner = rt()?.block_on(self.session().prepare(cql)).map_err(|e| driver("", e))?;
            Ok(Box::new(Prepared { inner }))
        })
    }

    fn execute_prepared_batch(
        &self,
        prepared: &Prepared,
        rows: usize,
        cells: &[Cell],
        concurrency: u32,
    ) -> BridgeResult<u64> {
        guard("execute_prepared_batch", || {
            let width = prepared.inner.get_variable_col_specs().len();
            if rows.checked_mul(width) != Some(cells.len()) {
                return Err(BridgeError::new(
                    Kind::InvalidArgument,
                    format!(
                        "{} cell(s) do not make {rows} row(s) of {width} bound value(s)",
                        cells.len()
                    ),
                ));
            }
            let mut bound = Vec::with_capacity(rows);
            for r in 0..rows {
                let row =
                    if width == 0 { &cells[0..0] } else { &cells[r * width..(r + 1) * width] };
                bound
                    .push(bind_row(&prepared.inner, row).map_err(|e| {
                        BridgeError::new(e.kind, format!("row {r}: {}", e.message))
                    })?);
            }
            let limit = usize::try_from(concurrency.max(1)).unwrap_or(1);
            let session = Arc::clone(self.session());
            let statement = prepared.inner.clone();
            rt()?.block_on(async move {
                // A bounded number of requests in flight, spread over the runtime's workers.
                let mut in_flight = JoinSet::new();
                let mut pending = bound.into_iter().enumerate();
                let mut written: u64 = 0;
                loop {
                    while in_flight.len() < limit {
                        let Some((r, values)) = pending.next() else { break };
                        let session = Arc::clone(&session);
                        let statement = statement.clone();
                        in_flight.spawn(async move {
                            session.execute_unpaged(&statement, values).await.map_err(|e| (r, e))
                        });
                    }
                    let Some(done) = in_flight.join_next().await else { break };
                    match done {
                        Ok(Ok(_)) => written += 1,
                        Ok(Err((r, e))) => {
                            in_flight.abort_all();
                            return Err(driver(
                                &format!("writing row {r} ({written} row(s) confirmed before)"),
                                e,
                            ));
                        }
                        Err(join) => {
                            in_flight.abort_all();
                            return Err(BridgeError::new(
                                Kind::Internal,
                                format!("a write task failed: {join}"),
                            ));
                        }
                    }
                }
                Ok(written)
            })
        })
    }
}

impl Prepared {
    fn bind_columns(&self) -> Vec<String> {
        self.inner.get_variable_col_specs().iter().map(|c| c.name().to_owned()).collect()
    }
}
