//! Resolving build requirements to wheels, without running any package code.
//!
//! The same pubgrub solver as `--deps` (`crate::resolve`), for one interpreter: PEP 517/518
//! `[build-system].requires` and what `get_requires_for_build_wheel` returns are the roots
//! (markers evaluated for the build's interpreter with no extras, as pip does), wheels only
//! are candidates (tags and listed Requires-Python fitting; a build requirement is
//! installed, never built), `--build-constraints` pins are constraints (they narrow and
//! never add a project; their hashes are checked on the fetched wheel), and a wheel whose
//! listing gives no Requires-Python is judged by its METADATA. The solver's rules apply
//! as they do for `--deps`: newest first with complete backtracking, pre-releases only when
//! a specifier names one, yanked versions only for an exact pin. See `docs/resolver.md`.
//!
//! `wheel_adapter.rs` answers the solver from a [`WheelSource`]; `solve.rs` turns its answer (or
//! its failure) into wheels (or a [`BuildRequiresError`] a build log reader can act on).

mod error;
mod find_links;
mod solve;
mod wheel_adapter;

use std::path::PathBuf;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement, VersionOrUrl};

use crate::distribution::WheelFilename;
use crate::index::IndexFile;
use crate::interpreter::Interpreter;

pub use error::BuildRequiresError;
use error::NoWheel;
pub use find_links::FindLinksDir;

/// Why a [`WheelSource`] could not list or fetch.
#[derive(Debug, thiserror::Error)]
pub enum WheelSourceError {
    /// The upstream index could not be read.
    #[error(transparent)]
    Index(Box<crate::index::IndexError>),
    /// The file could not be downloaded into the store (or failed its checks there).
    #[error(transparent)]
    Store(Box<crate::store::StoreError>),
    /// A `--find-links` directory's entry that is not a local file.
    #[error("{url} is not a local file")]
    NotLocal { url: crate::index::SafeUrl },
    #[error("{}: sha256 {actual} does not match the listed {expected}", path.display())]
    HashMismatch {
        path: PathBuf,
        actual: String,
        expected: String,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// The caller's task stopped answering (the build was cancelled).
    #[error("the build-requirement resolve was cancelled")]
    Cancelled,
    /// A test source that is down (unit tests only).
    #[cfg(test)]
    #[error("{0}")]
    Test(&'static str),
}

impl From<crate::index::IndexError> for WheelSourceError {
    fn from(error: crate::index::IndexError) -> Self {
        WheelSourceError::Index(Box::new(error))
    }
}

impl From<crate::store::StoreError> for WheelSourceError {
    fn from(error: crate::store::StoreError) -> Self {
        WheelSourceError::Store(Box::new(error))
    }
}

/// Where build requirements come from (the upstream index, `--find-links` dirs).
pub trait WheelSource: Send + Sync {
    /// Every file published for `project`.
    fn list<'a>(
        &'a self,
        project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, WheelSourceError>>;
    /// A local copy of `file`, verified against its published hash.
    fn fetch<'a>(&'a self, file: &'a IndexFile)
    -> BoxFuture<'a, Result<PathBuf, WheelSourceError>>;
}

/// A `--build-constraints` pin: the only version allowed, and its allowed hashes (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConstraint {
    pub name: PackageName,
    pub version: Version,
    /// Lowercase hex sha256 digests; empty means any.
    pub sha256: Vec<String>,
}

/// One wheel of the resolved set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedWheel {
    pub name: PackageName,
    pub version: Version,
    pub filename: WheelFilename,
    pub path: PathBuf,
    pub sha256: String,
}

/// Resolve `roots` (the build requirements of `origin`, e.g. `ww-legacy 1.0`) for `interpreter`.
pub async fn resolve(
    source: &dyn WheelSource,
    interpreter: &Interpreter,
    constraints: &[BuildConstraint],
    roots: &[Requirement],
    origin: &str,
) -> Result<Vec<ResolvedWheel>, BuildRequiresError> {
    let roots: Vec<Requirement> = applicable(roots, interpreter).collect();
    if let Some(url) = roots
        .iter()
        .find(|r| matches!(r.version_or_url, Some(VersionOrUrl::Url(_))))
    {
        return Err(BuildRequiresError::Url {
            requirement: url.to_string(),
            origin: origin.to_string(),
        });
    }
    if roots.is_empty() {
        return Ok(Vec::new());
    }
    // The solver runs on a blocking thread and asks this task for listings and wheels
    // (see `wheel_adapter.rs` for why not `block_on`); answers run concurrently, so the listings
    // `prefetch` asks for arrive in parallel.
    let (asks, mut questions) = tokio::sync::mpsc::unbounded_channel();
    let solving = tokio::task::spawn_blocking({
        let interpreter = interpreter.clone();
        let constraints = constraints.to_vec();
        let origin = origin.to_string();
        move || solve::solve(asks, &interpreter, &constraints, &roots, &origin)
    });
    let mut answering = FuturesUnordered::new();
    loop {
        tokio::select! {
            question = questions.recv() => match question {
                Some(question) => answering.push(question.answer(source)),
                // The solver's side hung up: it is done, and nobody waits for an answer.
                None => break,
            },
            Some(()) = answering.next(), if !answering.is_empty() => {}
        }
    }
    drop(answering);
    match solving.await {
        Ok(outcome) => outcome,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels a blocking task.
        Err(e) => Err(BuildRequiresError::Setup {
            origin: origin.to_string(),
            message: format!("the solver did not finish: {e}"),
        }),
    }
}

/// pip evaluates the markers of build requirements (`[build-system].requires` and what
/// `get_requires_for_build_wheel` returns) for the build's interpreter with no extras, and
/// drops the ones that are false: `tomli ; python_version < "3.11"` is no requirement on 3.11.
fn applicable<'a>(
    roots: &'a [Requirement],
    interpreter: &'a Interpreter,
) -> impl Iterator<Item = Requirement> + 'a {
    roots
        .iter()
        .filter(|r| r.evaluate_markers(&interpreter.markers, &[]))
        // The marker stays on: errors then name the requirement as written.
        .cloned()
}
