//! Errors of the index layer. Every variant names the URL it concerns, always without
//! credentials (see [`crate::index::redact`]).

use thiserror::Error;

#[derive(Debug, Error)]
pub enum IndexError {
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("TLS with {url} failed: {detail}")]
    Tls { url: String, detail: String },
    #[error("{url} refused the credentials (HTTP {status}){hint}")]
    Unauthorized {
        url: String,
        status: u16,
        hint: String,
    },
    #[error("{url} answered HTTP {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url} is not {expected}: {detail}")]
    NotAnIndex {
        url: String,
        expected: &'static str,
        detail: String,
    },
    #[error("cannot read the answer of {url}: {detail}")]
    BadResponse { url: String, detail: String },
    #[error("cannot read directory {path}: {source}")]
    Directory {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
    /// A CA bundle, client certificate or key that cannot be used (bad configuration).
    #[error(transparent)]
    TlsSetup(#[from] super::tls::TlsSetupError),
}

impl IndexError {
    /// Transient failures worth another attempt: connection problems, timeouts and the
    /// statuses of [`crate::retry::is_transient_status`].
    pub fn is_transient(&self) -> bool {
        match self {
            IndexError::Unreachable { .. } => true,
            IndexError::Status { status, .. } => crate::retry::is_transient_status(*status),
            _ => false,
        }
    }
}
