//! pubgrub's `DependencyProvider` over a [`MetadataSource`]: packages, candidates, edges.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement, VersionOrUrl};
use pubgrub::VersionSet;
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics,
};

use crate::requirements::HashDigest;

use super::source::{Candidate, MetadataSource, SourceError};
use super::{Origin, Range};

/// A node of the solve. Extras are virtual packages, as pip's resolver and uv model them:
/// `requests[socks]` at V depends on `requests` ==V plus what the `socks` extra adds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Package {
    /// The requirement lines being solved together.
    Root,
    Project(PackageName),
    Extra(PackageName, ExtraName),
}

impl Package {
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            Self::Root => None,
            Self::Project(name) | Self::Extra(name, _) => Some(name),
        }
    }
}

impl fmt::Display for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("the requirements"),
            Self::Project(name) => write!(f, "{name}"),
            Self::Extra(name, extra) => write!(f, "{name}[{extra}]"),
        }
    }
}

/// The root's only version (pubgrub solves from one package at one version).
pub(super) fn root_version() -> Version {
    Version::new([0u64])
}

/// Why a version cannot be used although it exists (pubgrub's custom incompatibility).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unavailable {
    /// A `Requires-Dist` names a direct URL; an index closure cannot follow it.
    UrlDependency(String),
    /// The source learnt from the metadata that this environment cannot install it.
    Excluded(String),
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UrlDependency(req) => {
                write!(f, "(it depends on the direct URL `{req}`)")
            }
            Self::Excluded(why) => write!(f, "({why})"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("listing the versions of {name}: {source}")]
    Candidates {
        name: PackageName,
        #[source]
        source: SourceError,
    },
    #[error("reading the metadata of {name} {version}: {source}")]
    Metadata {
        name: PackageName,
        version: Version,
        #[source]
        source: SourceError,
    },
}

/// Answers of the source, kept across the solver's restarts.
#[derive(Default)]
pub(super) struct Cache {
    candidates: RefCell<HashMap<PackageName, Vec<Candidate>>>,
    requires: RefCell<HashMap<(PackageName, Version), Vec<Requirement>>>,
}

/// An edge with the set it allows, merged per target package.
pub(super) type Edges = BTreeMap<Package, Range>;

/// What does not change during one solve.
pub(super) struct Setup<'a> {
    pub source: &'a dyn MetadataSource,
    pub markers: &'a MarkerEnvironment,
    /// Root requirements whose markers hold here, with their lines.
    pub roots: Vec<(Requirement, Origin)>,
    /// `-c` lines (and `--hash` pins) as sets per project, intersected into every edge.
    pub constraints: HashMap<PackageName, Range>,
    /// Versions that roots or constraints pin exactly: yanked ones are allowed (PEP 592).
    pub pins: HashMap<PackageName, BTreeSet<Version>>,
    /// `--hash` values per project, passed on to the solution.
    pub hashes: HashMap<PackageName, Vec<HashDigest>>,
    /// The lines behind each entry of `constraints`, for reports.
    pub constraint_origins: HashMap<PackageName, Vec<String>>,
    /// Projects a root or constraint names a pre-release for.
    pub pre_named: BTreeSet<PackageName>,
    pub pre_everywhere: bool,
}

pub(super) struct Provider<'a> {
    pub setup: &'a Setup<'a>,
    pub cache: &'a Cache,
    /// Projects whose pre-releases are candidates during this solve.
    pub pre: &'a BTreeSet<PackageName>,
    /// Projects some specifier named a pre-release for, seen during this solve.
    pub named_pre: RefCell<BTreeSet<PackageName>>,
}

impl Provider<'_> {
    pub(super) fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, ProviderError> {
        if let Some(found) = self.cache.candidates.borrow().get(name) {
            return Ok(found.clone());
        }
        let found =
            self.setup
                .source
                .candidates(name)
                .map_err(|source| ProviderError::Candidates {
                    name: name.clone(),
                    source,
                })?;
        self.cache
            .candidates
            .borrow_mut()
            .insert(name.clone(), found.clone());
        Ok(found)
    }

    fn requires_dist(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, ProviderError> {
        let key = (name.clone(), version.clone());
        if let Some(found) = self.cache.requires.borrow().get(&key) {
            return Ok(found.clone());
        }
        let found = self
            .setup
            .source
            .requires_dist(name, version)
            .map_err(|source| ProviderError::Metadata {
                name: name.clone(),
                version: version.clone(),
                source,
            })?;
        self.cache.requires.borrow_mut().insert(key, found.clone());
        Ok(found)
    }

    /// Tell the source which listings come next (those not answered yet).
    fn hint(&self, edges: &Edges) {
        let known = self.cache.candidates.borrow();
        // Edges are sorted by package, so a project and its extras are adjacent.
        let mut names: Vec<PackageName> = edges
            .keys()
            .filter_map(Package::name)
            .filter(|name| !known.contains_key(*name))
            .cloned()
            .collect();
        drop(known);
        names.dedup();
        if !names.is_empty() {
            self.setup.source.prefetch(&names);
        }
    }

    /// Whether `candidate` of `name` may be chosen at all (before the range).
    fn admissible(&self, name: &PackageName, candidate: &Candidate) -> bool {
        let pre_ok = self.setup.pre_everywhere
            || self.pre.contains(name)
            || !candidate.version.any_prerelease();
        let yank_ok = !candidate.yanked
            || self
                .setup
                .pins
                .get(name)
                .is_some_and(|pins| pins.contains(&candidate.version));
        pre_ok && yank_ok
    }

    /// The edges of `package` at `version`, or why that version cannot be used.
    pub(super) fn edges(
        &self,
        package: &Package,
        version: &Version,
    ) -> Result<Result<Edges, Unavailable>, ProviderError> {
        let mut edges = Edges::new();
        match package {
            Package::Root => {
                for (req, _) in &self.setup.roots {
                    if let Err(why) = self.add_edges(&mut edges, req) {
                        return Ok(Err(why));
                    }
                }
            }
            Package::Project(name) => {
                let requires = self.requires_dist(name, version)?;
                if let Some(why) = self.setup.source.unusable(name, version) {
                    return Ok(Err(Unavailable::Excluded(why)));
                }
                for req in requires {
                    if req.evaluate_markers(self.setup.markers, &[])
                        && let Err(why) = self.add_edges(&mut edges, &req)
                    {
                        return Ok(Err(why));
                    }
                }
            }
            Package::Extra(name, extra) => {
                edges.insert(
                    Package::Project(name.clone()),
                    Range::exact(version.clone()),
                );
                let extras = std::slice::from_ref(extra);
                for req in self.requires_dist(name, version)? {
                    // Only what the extra adds: the rest is an edge of the project itself.
                    if req.evaluate_markers(self.setup.markers, extras)
                        && !req.evaluate_markers(self.setup.markers, &[])
                        && let Err(why) = self.add_edges(&mut edges, &req)
                    {
                        return Ok(Err(why));
                    }
                }
            }
        }
        edges.remove(package);
        Ok(Ok(edges))
    }

    /// `req` (markers already hold) as edges to its project and to each of its extras.
    fn add_edges(&self, edges: &mut Edges, req: &Requirement) -> Result<(), Unavailable> {
        let specifiers = match &req.version_or_url {
            None => VersionSpecifiers::empty(),
            Some(VersionOrUrl::VersionSpecifier(s)) => s.clone(),
            Some(VersionOrUrl::Url(_)) => return Err(Unavailable::UrlDependency(req.to_string())),
        };
        if names_prerelease(&specifiers) {
            self.named_pre.borrow_mut().insert(req.name.clone());
        }
        let mut range = Range::from_specifiers(&specifiers);
        if let Some(constraint) = self.setup.constraints.get(&req.name) {
            range = range.intersection(constraint);
        }
        let targets = std::iter::once(Package::Project(req.name.clone())).chain(
            req.extras
                .iter()
                .map(|extra| Package::Extra(req.name.clone(), extra.clone())),
        );
        for target in targets {
            let merged = match edges.get(&target) {
                Some(existing) => existing.intersection(&range),
                None => range.clone(),
            };
            edges.insert(target, merged);
        }
        Ok(())
    }
}

/// pip's `SpecifierSet.prereleases`: some specifier other than `!=` names a pre-release.
pub(crate) fn names_prerelease(specifiers: &VersionSpecifiers) -> bool {
    specifiers.iter().any(|s| {
        !matches!(s.operator(), Operator::NotEqual | Operator::NotEqualStar)
            && s.version().any_prerelease()
    })
}

impl DependencyProvider for Provider<'_> {
    type P = Package;
    type V = Version;
    type VS = Range;
    type M = Unavailable;
    type Err = ProviderError;
    /// Root first, then exact pins, then the packages that conflicted most, then those with
    /// the fewest candidates left (pubgrub's usual heuristics).
    type Priority = (u8, u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Package,
        range: &Range,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let Some(name) = package.name() else {
            return (u8::MAX, u32::MAX, Reverse(0));
        };
        let pinned = u8::from(range.ranges().as_singleton().is_some());
        // A listing error surfaces in `choose_version`; here it only orders.
        let left = self.candidates(name).map_or(0, |all| {
            all.iter()
                .filter(|c| self.admissible(name, c) && range.contains(&c.version))
                .count()
        });
        if left == 0 {
            return (u8::MAX - 1, u32::MAX, Reverse(0));
        }
        (pinned, stats.conflict_count(), Reverse(left))
    }

    /// The newest admissible candidate in `range`, as pip's resolver prefers.
    fn choose_version(
        &self,
        package: &Package,
        range: &Range,
    ) -> Result<Option<Version>, ProviderError> {
        let Some(name) = package.name() else {
            return Ok(Some(root_version()));
        };
        Ok(self
            .candidates(name)?
            .into_iter()
            .filter(|c| self.admissible(name, c) && range.contains(&c.version))
            .map(|c| c.version)
            .max())
    }

    fn get_dependencies(
        &self,
        package: &Package,
        version: &Version,
    ) -> Result<Dependencies<Package, Range, Unavailable>, ProviderError> {
        Ok(match self.edges(package, version)? {
            Ok(edges) => {
                self.hint(&edges);
                Dependencies::Available(edges.into_iter().collect::<DependencyConstraints<_, _>>())
            }
            Err(why) => Dependencies::Unavailable(why),
        })
    }
}
