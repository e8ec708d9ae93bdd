//! Errors of the index layer. Every variant names the URL it concerns, always without
//! credentials (see [`crate::index::redact`]).

use thiserror::Error;

use crate::retry::TransportFailure;

#[derive(Debug, Error)]
pub enum IndexError {
    #[error("cannot reach {url}: {detail}")]
    Unreachable {
        url: String,
        detail: String,
        /// What the request ran into: a connection that cannot be made says the server is
        /// gone; a timeout or a broken answer may be this one request's bad luck.
        failure: TransportFailure,
    },
    /// Every request to this server failed for a while: it answers nothing at all.
    #[error(
        "{url} answers nothing: the last {failures} requests to it failed (the last: {detail})"
    )]
    Down {
        url: String,
        failures: usize,
        detail: String,
    },
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
    /// A listing page that is not one (see [`ListingError`]).
    #[error("cannot read the answer of {url}: {source}")]
    Listing {
        url: String,
        #[source]
        source: ListingError,
    },
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

/// Why a listing page (PEP 503 HTML, PEP 691 JSON, devpi's project JSON) cannot be read.
/// The parsers return it; the caller adds the page's URL ([`IndexError::Listing`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ListingError {
    #[error("invalid PEP 691 JSON: {0}")]
    Pep691Json(String),
    #[error("invalid JSON: {0}")]
    DevpiJson(String),
    #[error("the answer has no `result` object (is this a devpi project URL?)")]
    NoDevpiResult,
    #[error("invalid HTML: {0}")]
    Html(String),
    /// PEP 629: a major version above 1.
    #[error("unsupported repository API version {0}")]
    ApiVersion(String),
    #[error("bad URL {url:?} for {filename:?}: {detail}")]
    FileUrl {
        url: String,
        filename: String,
        detail: String,
    },
    #[error("bad href {href:?}: {detail}")]
    Href { href: String, detail: String },
}

impl IndexError {
    /// Transient failures worth another attempt: connection problems, timeouts and the
    /// statuses of [`crate::retry::is_transient_status`].
    pub fn is_transient(&self) -> bool {
        match self {
            IndexError::Unreachable { failure, .. } => failure.is_transient(),
            IndexError::Status { status, .. } => crate::retry::is_transient_status(*status),
            _ => false,
        }
    }

    /// Whether this failure makes every answer of the index doubtful, so the run stops
    /// (exit 3), rather than failing the one project whose page it was: credentials refused,
    /// TLS, a server that refuses connections or has answered nothing for a while, an index
    /// that does not exist, bad configuration. A page that timed out, a 5xx that outlasted
    /// the retries, an answer that cannot be read: those fail that project's jobs, and the
    /// other projects go on.
    pub fn stops_run(&self) -> bool {
        match self {
            IndexError::Unreachable { failure, .. } => !matches!(
                failure,
                TransportFailure::Timeout | TransportFailure::Interrupted
            ),
            IndexError::Status { .. }
            | IndexError::BadResponse { .. }
            | IndexError::Listing { .. } => false,
            IndexError::Down { .. }
            | IndexError::Tls { .. }
            | IndexError::Unauthorized { .. }
            | IndexError::NotAnIndex { .. }
            | IndexError::Directory { .. }
            | IndexError::Config(_)
            | IndexError::TlsSetup(_) => true,
        }
    }
}
