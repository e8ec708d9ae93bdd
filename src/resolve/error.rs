//! Why a closure could not be solved.

use std::fmt;

use super::provider::ProviderError;
use super::report::{Tree, render};
use super::{Origin, Package};

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No set of versions satisfies the requirements: the derivation, explained.
    #[error("no versions satisfy the requirements:\n{0}")]
    Conflict(Box<Conflict>),
    /// The metadata source failed (listing or metadata read): nothing was decided.
    #[error(transparent)]
    Source(ProviderError),
    #[error(
        "{origin}: `{requirement}` is a direct URL; the dependency closure follows index requirements only"
    )]
    Url { origin: Origin, requirement: String },
    #[error(
        "{origin}: `{requirement}` has --hash but does not pin one version; hash-checking needs `==VERSION`, as pip's --require-hashes does"
    )]
    HashWithoutPin { origin: Origin, requirement: String },
    #[error(
        "{origin}: constraint `{requirement}` names extras; constraints restrict versions only, as in pip"
    )]
    ConstraintExtras { origin: Origin, requirement: String },
}

/// pubgrub's derivation tree of a conflict, with its rendering.
pub struct Conflict {
    tree: Tree,
    report: String,
}

impl Conflict {
    pub(super) fn new(tree: Tree) -> Self {
        let report = render(&tree);
        Self { tree, report }
    }

    /// The human report, one "Because …" sentence per line.
    pub fn report(&self) -> &str {
        &self.report
    }

    /// Every package the derivation names (to fail the right jobs in per-line mode, or to
    /// list the projects involved).
    pub fn packages(&self) -> Vec<&Package> {
        self.tree.packages().into_iter().collect()
    }
}

impl fmt::Debug for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conflict")
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.report)
    }
}
