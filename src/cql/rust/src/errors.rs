//! Errors that cross the bridge. The message C++ receives starts with a kind tag in brackets,
//! `[timeout] ...`, which `cql.cc` maps onto `base::Errc`; the rest is the driver's own words.

use std::fmt;

use scylla::errors::{
    BadQuery, ConnectionPoolError, DbError, ExecutionError, NewSessionError, NextPageError,
    PagerExecutionError, PrepareError, RequestAttemptError, RequestError, SchemaAgreementError,
    UseKeyspaceError,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The statement or a value cannot be used as given (syntax, unknown table, bad uuid...).
    InvalidArgument,
    /// Cassandra did not answer in time (client timeout, read/write timeout, schema agreement).
    Timeout,
    /// Cassandra cannot be reached or refused to serve (down, overloaded, bootstrapping).
    Unavailable,
    /// Anything else: a driver state we did not expect, a panic.
    Internal,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::InvalidArgument => "invalid_argument",
            Kind::Timeout => "timeout",
            Kind::Unavailable => "unavailable",
            Kind::Internal => "internal",
        }
    }
}

/// What C++ gets as `rust::Error::what()`: "[kind] message".
#[derive(Debug)]
pub struct BridgeError {
    pub kind: Kind,
    pub message: String,
}

impl BridgeError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        BridgeError { kind, message: message.into() }
    }
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.kind.tag(), self.message)
    }
}

impl std::error::Error for BridgeError {}

pub type BridgeResult<T> = Result<T, BridgeError>;

/// Wraps a driver error with what we were doing: "<doing>: <driver message>" (just the driver's
/// message when `doing` is empty: the C++ wrapper says what the call was).
pub fn driver<E: fmt::Display + Classify>(doing: &str, err: E) -> BridgeError {
    if doing.is_empty() {
        BridgeError::new(err.kind(), err.to_string())
    } else {
        BridgeError::new(err.kind(), format!("{doing}: {err}"))
    }
}

/// Maps a driver error onto a kind. Explicit per type: `#[error(transparent)]` variants hide
/// their inner error from `source()`, so walking the chain would miss most database errors.
pub trait Classify {
    fn kind(&self) -> Kind;
}

fn db_kind(err: &DbError) -> Kind {
    match err {
        DbError::SyntaxError
        | DbError::Invalid
        | DbError::AlreadyExists { .. }
        | DbError::FunctionFailure { .. }
        | DbError::Unauthorized
        | DbError::AuthenticationError
        | DbError::ConfigError
        // Cassandra could not read the request: with this driver, a paging state it never gave out
        // ("Invalid value for the paging state"), i.e. the caller's bytes, not an outage.
        | DbError::ProtocolError => Kind::InvalidArgument,
        DbError::ReadTimeout { .. } | DbError::WriteTimeout { .. } => Kind::Timeout,
        DbError::Unavailable { .. }
        | DbError::Overloaded
        | DbError::IsBootstrapping
        | DbError::RateLimitReached { .. }
        | DbError::ReadFailure { .. }
        | DbError::WriteFailure { .. }
        | DbError::TruncateError => Kind::Unavailable,
        _ => Kind::Internal,
    }
}

impl Classify for RequestAttemptError {
    fn kind(&self) -> Kind {
        match self {
            RequestAttemptError::DbError(db, _) => db_kind(db),
            RequestAttemptError::SerializationError(_) => Kind::InvalidArgument,
            RequestAttemptError::BrokenConnectionError(_)
            | RequestAttemptError::UnableToAllocStreamId => Kind::Unavailable,
            _ => Kind::Internal,
        }
    }
}

impl Classify for ConnectionPoolError {
    fn kind(&self) -> Kind {
        Kind::Unavailable
    }
}

impl Classify for PrepareError {
    fn kind(&self) -> Kind {
        match self {
            PrepareError::ConnectionPoolError(_) => Kind::Unavailable,
            PrepareError::AllAttemptsFailed { first_attempt } => first_attempt.kind(),
            _ => Kind::Internal,
        }
    }
}

impl Classify for UseKeyspaceError {
    fn kind(&self) -> Kind {
        match self {
            UseKeyspaceError::BadKeyspaceName(_) => Kind::InvalidArgument,
            UseKeyspaceError::RequestError(e) => e.kind(),
            _ => Kind::Internal,
        }
    }
}

impl Classify for SchemaAgreementError {
    fn kind(&self) -> Kind {
        match self {
            SchemaAgreementError::Timeout(_) => Kind::Timeout,
            SchemaAgreementError::ConnectionPoolError(_) => Kind::Unavailable,
            SchemaAgreementError::PrepareError(e) => e.kind(),
            SchemaAgreementError::RequestError(e) => e.kind(),
            _ => Kind::Internal,
        }
    }
}

impl Classify for ExecutionError {
    fn kind(&self) -> Kind {
        match self {
            ExecutionError::BadQuery(BadQuery::SerializationError(_)) => Kind::InvalidArgument,
            ExecutionError::BadQuery(_) => Kind::InvalidArgument,
            ExecutionError::EmptyPlan | ExecutionError::ConnectionPoolError(_) => Kind::Unavailable,
            ExecutionError::PrepareError(e) => e.kind(),
            ExecutionError::LastAttemptError(e) => e.kind(),
            ExecutionError::RequestTimeout(_) => Kind::Timeout,
            ExecutionError::UseKeyspaceError(e) => e.kind(),
            ExecutionError::SchemaAgreementError(e) => e.kind(),
            ExecutionError::MetadataError(_) => Kind::Unavailable,
            _ => Kind::Internal,
        }
    }
}

impl Classify for RequestError {
    fn kind(&self) -> Kind {
        match self {
            RequestError::EmptyPlan | RequestError::ConnectionPoolError(_) => Kind::Unavailable,
            RequestError::RequestTimeout(_) => Kind::Timeout,
            RequestError::LastAttemptError(e) => e.kind(),
            _ => Kind::Internal,
        }
    }
}

impl Classify for NextPageError {
    fn kind(&self) -> Kind {
        match self {
            NextPageError::RequestFailure(e) => e.kind(),
            NextPageError::PartitionKeyError(_) => Kind::InvalidArgument,
            _ => Kind::Internal,
        }
    }
}

impl Classify for PagerExecutionError {
    fn kind(&self) -> Kind {
        match self {
            PagerExecutionError::PrepareError(e) => e.kind(),
            PagerExecutionError::SerializationError(_) => Kind::InvalidArgument,
            PagerExecutionError::NextPageError(e) => e.kind(),
            PagerExecutionError::UseKeyspaceError(e) => e.kind(),
            PagerExecutionError::SchemaAgreementError(e) => e.kind(),
            _ => Kind::Internal,
        }
    }
}

impl Classify for NewSessionError {
    fn kind(&self) -> Kind {
        match self {
            NewSessionError::FailedToResolveAnyHostname(_)
            | NewSessionError::EmptyKnownNodesList
            | NewSessionError::IllegalConfig(_) => Kind::InvalidArgument,
            NewSessionError::UseKeyspaceError(e) => e.kind(),
            _ => Kind::Unavailable,
        }
    }
}

impl Classify for scylla::errors::NextRowError {
    fn kind(&self) -> Kind {
        match self {
            scylla::errors::NextRowError::NextPageError(e) => e.kind(),
            _ => Kind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_cassandra_cannot_read_is_the_callers_mistake() {
        assert_eq!(db_kind(&DbError::ProtocolError), Kind::InvalidArgument);
        assert_eq!(db_kind(&DbError::Invalid), Kind::InvalidArgument);
        assert_eq!(db_kind(&DbError::Overloaded), Kind::Unavailable);
        assert_eq!(db_kind(&DbError::ServerError), Kind::Internal);
    }
}
