//! Dependency closure with pubgrub (the solver at uv's core), for one environment.
//!
//! The solver sees requirements the way `pip install -r FILE` does: PEP 508 requirements
//! with markers evaluated for one interpreter (`extra == X` inside a project's extras), `-c`
//! constraints that restrict without adding, `--hash` lines pinned to one version, and the
//! newest consistent version of every project, backtracking on conflicts. Metadata comes
//! through [`MetadataSource`], never from HTTP directly. See `docs/resolver.md`.
//!
//! `--deps` on `plan` and `fill` (the `deps` module) turns its solutions into pinned lines.

mod error;
pub mod listing;
mod metadata_source;
mod priority;
mod provider;
mod range;
mod report;
mod solve;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use pep440_rs::Version;
use pep508_rs::{ExtraName, PackageName, Requirement};

use crate::requirements::HashDigest;

pub use error::{Conflict, ResolveError};
pub use metadata_source::{Candidate, Fault, MetadataSource, SourceError};
pub(crate) use provider::names_prerelease;
pub use provider::{Package, ProviderError};
pub use range::Range;
pub use solve::{LineResolution, PerLine, resolve, resolve_per_line};

/// Where a root or constraint was written, e.g. `requirements.txt:3`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineOrigin(pub String);

impl fmt::Display for LineOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One requirement line (a root) or constraint line, with its `--hash` options.
#[derive(Debug, Clone)]
pub struct Line {
    pub requirement: Requirement,
    pub origin: LineOrigin,
    /// `--hash` values: the line must pin one version (`==V` or `===V`), as pip's
    /// hash-checking mode demands. The solver only passes them on (see [`Resolved::hashes`]);
    /// checking files against them is the fetcher's job.
    pub hashes: Vec<HashDigest>,
}

impl Line {
    pub fn new(requirement: Requirement, origin: impl Into<String>) -> Self {
        Self {
            requirement,
            origin: LineOrigin(origin.into()),
            hashes: Vec::new(),
        }
    }
}

/// Solver policy shared by every project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// `--pre`: pre-releases are candidates everywhere. Without it, a project's
    /// pre-releases are candidates only once some specifier on it names a pre-release
    /// (pip's `SpecifierSet.prereleases`), and there is no fallback to pre-releases when no
    /// final release fits.
    pub pre: bool,
}

/// Why a package is in the solution: pip-compile's `# via`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    /// A root requirement line.
    Root(LineOrigin),
    /// A chosen package's `Requires-Dist` (through one of its extras, if `extra` is set).
    Package {
        name: PackageName,
        version: Version,
        extra: Option<ExtraName>,
    },
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root(origin) => write!(f, "{origin}"),
            Self::Package {
                name,
                version,
                extra: None,
            } => write!(f, "{name} {version}"),
            Self::Package {
                name,
                version,
                extra: Some(extra),
            } => write!(f, "{name}[{extra}] {version}"),
        }
    }
}

/// One project of a solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: PackageName,
    pub version: Version,
    /// The extras some requirement asked for.
    pub extras: BTreeSet<ExtraName>,
    pub via: BTreeSet<Via>,
    /// The `--hash` values of the root and constraint lines that pin this project: the
    /// hook for checking the file that gets fetched. Empty when no line has hashes.
    pub hashes: Vec<HashDigest>,
}

/// A solution: one version per project, the closure of the roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    pub packages: BTreeMap<PackageName, Resolved>,
    /// The order the solve learnt from its conflicts (see `priority.rs`).
    pub order: LearntOrder,
}

/// What the solve learnt about the order of its decisions: the packages it decided late
/// (culprits) and early (often rejected), and how often it restarted to apply that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LearntOrder {
    pub late: BTreeSet<PackageName>,
    pub early: BTreeSet<PackageName>,
    pub restarts: usize,
}

impl Resolution {
    pub fn version(&self, name: &PackageName) -> Option<&Version> {
        self.packages.get(name).map(|r| &r.version)
    }

    /// `name version` lines, sorted: what a lock file would pin.
    pub fn pins(&self) -> Vec<String> {
        self.packages
            .values()
            .map(|r| format!("{} {}", r.name, r.version))
            .collect()
    }
}
