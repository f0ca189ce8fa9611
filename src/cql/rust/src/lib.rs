//! StreamFlow's CQL access for C++: the `scylla` driver behind a narrow `cxx` bridge.
//!
//! C++ sees only `bridge.rs`: connect, execute (DDL), query (all pages, every value as optional
//! text), prepare, and a concurrent batch of prepared writes from text parameters. Every call
//! blocks the calling C++ thread on one process-wide tokio runtime (`runtime.rs`); errors come
//! back as `Err` (a `rust::Error` in C++) whose message starts with a kind tag (`errors.rs`).

mod bridge;
mod errors;
mod runtime;
mod values;
