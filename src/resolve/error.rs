//! Why a closure could not be solved.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use pep508_rs::PackageName;

use super::provider::ProviderError;
use super::report::{Notes, Tree, no_versions, render};
use super::{LineOrigin, Package, Range};

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
    Url {
        origin: LineOrigin,
        requirement: String,
    },
    #[error(
        "{origin}: `{requirement}` has --hash but does not pin one version; hash-checking needs `==VERSION`, as pip's --require-hashes does"
    )]
    HashWithoutPin {
        origin: LineOrigin,
        requirement: String,
    },
    #[error(
        "{origin}: constraint `{requirement}` names extras; constraints restrict versions only, as in pip"
    )]
    ConstraintExtras {
        origin: LineOrigin,
        requirement: String,
    },
}

/// pubgrub's derivation tree of a conflict, with its rendering.
pub struct Conflict {
    tree: Tree,
    report: String,
    /// The projects the derivation says have no usable version because the source could
    /// not list them (a 404 included).
    unlisted: BTreeSet<PackageName>,
}

/// What a constrained project is narrowed to, and by which lines.
pub(super) type ConstraintNotes = BTreeMap<PackageName, (Range, Vec<String>)>;

impl Conflict {
    /// The report, followed by a note for each constrained project the derivation names
    /// (constraints act inside the edges, so the sentences show them merged).
    /// `notes` say why a project has no usable version; `unlisted` are the projects the
    /// source could not list.
    pub(super) fn new(
        tree: Tree,
        constraints: ConstraintNotes,
        notes: &Notes,
        unlisted: &BTreeSet<PackageName>,
    ) -> Self {
        let mut report = render(&tree, notes);
        let unlisted = no_versions(&tree)
            .into_iter()
            .filter_map(|(package, _)| package.name())
            .filter(|name| unlisted.contains(*name))
            .cloned()
            .collect();
        let named: BTreeSet<&PackageName> = tree
            .packages()
            .into_iter()
            .filter_map(Package::name)
            .collect();
        for (name, (range, origins)) in &constraints {
            if named.contains(name) {
                report.push_str(&format!(
                    "\nNote: {name} is constrained to {range} by {}.",
                    origins.join(", ")
                ));
            }
        }
        Self {
            tree,
            report,
            unlisted,
        }
    }

    /// The projects with no usable version because the index could not list them (it
    /// answered 404, or the listing failed): an index problem, not a conflict of the
    /// requirements, when one of them is named by a root.
    pub fn unlisted(&self) -> &BTreeSet<PackageName> {
        &self.unlisted
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
