//! The one tokio runtime of the process, created on first use and never dropped (it lives as
//! long as the process; its worker threads are named `sf-cql`).

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The shared runtime, or why it could not be created (no threads left, ...).
pub fn get() -> Result<&'static Runtime, String> {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .enable_all()
                .thread_name("sf-cql")
                .build()
                .map_err(|e| format!("cannot start the CQL runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}
