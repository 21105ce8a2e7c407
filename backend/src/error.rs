//! The crate's one error type: every port and service returns it, so callers can match on
//! what went wrong (bad input, not found, query failure) rather than parse strings.

use std::path::PathBuf;

/// Result alias used across the backend.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A schedule expression that EventBridge would refuse; the message shows the fix.
    #[error("invalid schedule `{expression}`: {reason}")]
    Schedule { expression: String, reason: String },

    /// SQL that does not parse or plan (unknown table/column, type error).
    #[error("query error: {0}")]
    Sql(String),

    /// A query that was started but failed while running.
    #[error("query {id} failed: {reason}")]
    QueryFailed { id: String, reason: String },

    #[error("query {0} was cancelled")]
    QueryCancelled(String),

    #[error("{kind} `{id}` not found")]
    NotFound { kind: &'static str, id: String },

    /// Input that cannot be used as given (a value, a flag, a file); names the place.
    #[error("{place}: {reason}")]
    Invalid { place: String, reason: String },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A failure inside a storage or engine layer that the caller cannot fix by changing input.
    #[error("{context}: {message}")]
    Backend { context: &'static str, message: String },
}

impl Error {
    pub fn invalid(place: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid { place: place.into(), reason: reason.into() }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub fn backend(context: &'static str, message: impl ToString) -> Self {
        Error::Backend { context, message: message.to_string() }
    }
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        // Planning errors (unknown column, bad syntax) are the user's to fix: said in words,
        // with the closest real name and the place.
        Error::Sql(crate::sql_problem::explain(&e.strip_backtrace()).message)
    }
}

impl From<datafusion::arrow::error::ArrowError> for Error {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        Error::backend("arrow", e)
    }
}
