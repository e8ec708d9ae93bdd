//! pubgrub's `DependencyProvider` over a [`MetadataSource`]: packages, candidates, edges.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::Bound;
use std::rc::Rc;

use pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics, Ranges,
    VersionSet,
};

use crate::requirements::HashDigest;

use super::metadata_source::{Candidate, Fault, MetadataSource, SourceError};
use super::priority::{Learnt, Priority, Tier, Tracker, pinned};
use super::{LineOrigin, Range};

/// A node of the solve. Extras are virtual packages, as pip's resolver and uv model them,
/// in two steps so that an extra's version always follows its project's:
/// `requests[socks]` at V depends on `requests ==V` and on `ExtraDeps(requests, socks) ==V`,
/// which holds what the extra adds. The extra itself needs no metadata, so trying it at a
/// version its project's decision rules out costs nothing: pubgrub rejects it on the
/// `requests ==V` edge before the added requirements (and their metadata) are asked for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Package {
    /// The requirement lines being solved together.
    Root,
    Project(PackageName),
    Extra(PackageName, ExtraName),
    /// What the extra adds to the project's own requirements.
    ExtraDeps(PackageName, ExtraName),
}

impl Package {
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            Self::Root => None,
            Self::Project(name) | Self::Extra(name, _) | Self::ExtraDeps(name, _) => Some(name),
        }
    }
}

impl fmt::Display for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("the requirements"),
            Self::Project(name) => write!(f, "{name}"),
            Self::Extra(name, extra) => write!(f, "{name}[{extra}]"),
            Self::ExtraDeps(name, extra) => write!(f, "the requirements of {name}[{extra}]"),
        }
    }
}

/// A name for the root's priority (it is decided first anyway).
fn root_name() -> PackageName {
    PackageName::new("root".to_string()).expect("a valid name")
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
    /// Its metadata cannot be had (the source's reason, on one line).
    Metadata(String),
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UrlDependency(req) => {
                write!(f, "(it depends on the direct URL `{req}`)")
            }
            Self::Excluded(why) => write!(f, "({why})"),
            Self::Metadata(why) => write!(f, "(its metadata cannot be had: {why})"),
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
    /// The learnt order changed: the solve starts again with it (never leaves the solver).
    #[error("the solve restarts with a new order")]
    Restart,
}

/// A source error as one line of a derivation.
pub(super) fn one_line(error: &SourceError) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Answers of the source, kept across the solver's restarts (and per-line mode's lines).
#[derive(Default)]
pub(super) struct Cache {
    candidates: RefCell<HashMap<PackageName, Rc<[Candidate]>>>,
    /// Projects whose listing the source could not give, with why.
    pub(super) unlisted: RefCell<BTreeMap<PackageName, String>>,
    requires: RefCell<HashMap<(PackageName, Version), Requires>>,
}

/// A version's `Requires-Dist`, or why its metadata cannot be had
/// ([`Unavailable::Metadata`], the derivation's reason).
type Requires = Result<Rc<[Requirement]>, Unavailable>;

/// An edge with the set it allows, merged per target package.
pub(super) type Edges = BTreeMap<Package, Range>;

/// What does not change during one solve.
pub(super) struct Setup<'a> {
    pub source: &'a dyn MetadataSource,
    pub markers: &'a MarkerEnvironment,
    /// Root requirements whose markers hold here, with their lines.
    pub roots: Vec<(Requirement, LineOrigin)>,
    /// `-c` lines (and `--hash` pins) as sets per project, intersected into every edge.
    pub constraints: HashMap<PackageName, Range>,
    /// Versions that roots or constraints pin exactly: yanked ones are allowed (PEP 592).
    pub pins: HashMap<PackageName, BTreeSet<Version>>,
    /// `--hash` values per project, passed on to the solution.
    pub hashes: HashMap<PackageName, Vec<HashDigest>>,
    /// The lines behind each entry of `constraints`, for reports.
    pub constraint_origins: HashMap<PackageName, Vec<String>>,
    /// Projects a root or constraint names a pre-release for: every edge to them admits
    /// pre-releases (pip merges the user's specifiers into every requirement on the project).
    pub pre_named: BTreeSet<PackageName>,
    pub pre_everywhere: bool,
}

pub(super) struct Provider<'a> {
    pub setup: &'a Setup<'a>,
    pub cache: &'a Cache,
    /// The order learnt by earlier attempts of this solve.
    pub learnt: &'a Learnt,
    pub tracker: Tracker,
    /// Whether a new order may still restart the solve (see `priority::MAX_RESTARTS`).
    may_restart: bool,
}

impl<'a> Provider<'a> {
    pub(super) fn new(
        setup: &'a Setup<'a>,
        cache: &'a Cache,
        learnt: &'a Learnt,
        may_restart: bool,
    ) -> Self {
        Self {
            setup,
            cache,
            learnt,
            tracker: Tracker::default(),
            may_restart,
        }
    }

    /// The candidates of `name`; none when the source says the project is unusable (the
    /// reason is kept for the report).
    pub(super) fn candidates(&self, name: &PackageName) -> Result<Rc<[Candidate]>, ProviderError> {
        if let Some(found) = self.cache.candidates.borrow().get(name) {
            return Ok(Rc::clone(found));
        }
        let found: Rc<[Candidate]> = match self.setup.source.candidates(name) {
            Ok(found) => found.into(),
            Err(Fault::Unusable(why)) => {
                self.cache
                    .unlisted
                    .borrow_mut()
                    .insert(name.clone(), one_line(&why));
                Rc::from(Vec::new())
            }
            Err(Fault::Fatal(source)) => {
                return Err(ProviderError::Candidates {
                    name: name.clone(),
                    source,
                });
            }
        };
        self.cache
            .candidates
            .borrow_mut()
            .insert(name.clone(), Rc::clone(&found));
        Ok(found)
    }

    /// The `Requires-Dist` of `name` `version`, or why its metadata cannot be had.
    fn requires_dist(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Requires, ProviderError> {
        let key = (name.clone(), version.clone());
        if let Some(found) = self.cache.requires.borrow().get(&key) {
            return Ok(found.clone());
        }
        let found = match self.setup.source.requires_dist(name, version) {
            Ok(found) => Ok(Rc::from(found)),
            Err(Fault::Unusable(why)) => Err(Unavailable::Metadata(one_line(&why))),
            Err(Fault::Fatal(source)) => {
                return Err(ProviderError::Metadata {
                    name: name.clone(),
                    version: version.clone(),
                    source,
                });
            }
        };
        self.cache.requires.borrow_mut().insert(key, found.clone());
        Ok(found)
    }

    /// Tell the source which listings come next (those not answered yet).
    fn hint<'r>(&self, requirements: impl Iterator<Item = &'r Requirement>) {
        let known = self.cache.candidates.borrow();
        let mut names: Vec<PackageName> = requirements
            .map(|req| &req.name)
            .filter(|name| !known.contains_key(*name))
            .cloned()
            .collect();
        drop(known);
        names.sort();
        names.dedup();
        if !names.is_empty() {
            self.setup.source.prefetch(&names);
        }
    }

    /// Whether `candidate` of `name` may be chosen at all (before the range): a yanked
    /// version only for an exact pin (PEP 592). Pre-releases are the edges' business.
    fn admissible(&self, name: &PackageName, candidate: &Candidate) -> bool {
        !candidate.yanked
            || self
                .setup
                .pins
                .get(name)
                .is_some_and(|pins| pins.contains(&candidate.version))
    }

    /// The edges of `package` at `version`, or why that version cannot be used.
    pub(super) fn edges(
        &self,
        package: &Package,
        version: &Version,
    ) -> Result<Result<Edges, Unavailable>, ProviderError> {
        let mut edges = Edges::new();
        let (name, extra) = match package {
            Package::Root => {
                let roots: Vec<&Requirement> = self.setup.roots.iter().map(|(r, _)| r).collect();
                self.hint(roots.iter().copied());
                for req in roots {
                    if let Err(why) = self.add_edges(&mut edges, req)? {
                        return Ok(Err(why));
                    }
                }
                return Ok(Ok(edges));
            }
            Package::Extra(name, extra) => {
                // No metadata: the project at the same version, and what the extra adds.
                let exact = Range::exact(version.clone());
                edges.insert(Package::Project(name.clone()), exact.clone());
                edges.insert(Package::ExtraDeps(name.clone(), extra.clone()), exact);
                return Ok(Ok(edges));
            }
            Package::Project(name) => (name, None),
            Package::ExtraDeps(name, extra) => (name, Some(extra)),
        };
        let requires = match self.requires_dist(name, version)? {
            Ok(requires) => requires,
            Err(why) => return Ok(Err(why)),
        };
        if let Some(why) = self.setup.source.unusable(name, version) {
            return Ok(Err(Unavailable::Excluded(why)));
        }
        let markers = self.setup.markers;
        let holds: Vec<&Requirement> = requires
            .iter()
            .filter(|req| match extra {
                None => req.evaluate_markers(markers, &[]),
                // Only what the extra adds: the rest is an edge of the project itself.
                Some(extra) => {
                    req.evaluate_markers(markers, std::slice::from_ref(extra))
                        && !req.evaluate_markers(markers, &[])
                }
            })
            .collect();
        self.hint(holds.iter().copied());
        for req in holds {
            if let Err(why) = self.add_edges(&mut edges, req)? {
                return Ok(Err(why));
            }
        }
        edges.remove(package);
        Ok(Ok(edges))
    }

    /// `req` (markers already hold) as edges to its project and to each of its extras.
    fn add_edges(
        &self,
        edges: &mut Edges,
        req: &Requirement,
    ) -> Result<Result<(), Unavailable>, ProviderError> {
        let specifiers = match &req.version_or_url {
            None => VersionSpecifiers::empty(),
            Some(VersionOrUrl::VersionSpecifier(s)) => s.clone(),
            Some(VersionOrUrl::Url(_)) => {
                return Ok(Err(Unavailable::UrlDependency(req.to_string())));
            }
        };
        let mut range = Range::from_specifiers(&specifiers);
        if let Some(constraint) = self.setup.constraints.get(&req.name) {
            range = range.intersection(constraint);
        }
        if !(self.setup.pre_everywhere
            || self.setup.pre_named.contains(&req.name)
            || names_prerelease(&specifiers))
        {
            range = self.finals_only(&req.name, range)?;
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
        Ok(Ok(()))
    }

    /// pip's pre-release rule for one requirement whose specifier names no pre-release
    /// (`SpecifierSet.filter` with `prereleases=None`, as pip's `CandidateEvaluator` calls
    /// it): its pre-releases are no candidates, unless no final release satisfies it. Decided
    /// per edge, so a pre-release that one dependency's specifier lets in is not let in for
    /// another requirement met later (pip decides on the specifiers in force at each step).
    fn finals_only(&self, name: &PackageName, range: Range) -> Result<Range, ProviderError> {
        let candidates = self.candidates(name)?;
        let inside = || candidates.iter().filter(|c| range.contains(&c.version));
        let final_fits = inside().any(|c| !c.version.any_prerelease() && !c.yanked);
        let pre: Vec<&Version> = inside()
            .filter(|c| c.version.any_prerelease())
            .map(|c| &c.version)
            .collect();
        if !final_fits || pre.is_empty() {
            return Ok(range);
        }
        let excluded: Ranges<Version> = pre
            .into_iter()
            .map(|v| (Bound::Included(v.clone()), Bound::Included(v.clone())))
            .collect();
        Ok(range.without(&excluded))
    }

    fn newest(&self, name: &PackageName, range: &Range) -> Result<Option<Version>, ProviderError> {
        Ok(self
            .candidates(name)?
            .iter()
            .filter(|c| self.admissible(name, c) && range.contains(&c.version))
            .map(|c| c.version.clone())
            .max())
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
    type Priority = Priority;

    /// Root first, then no versions left, exact pins, the learnt order (see `priority.rs`),
    /// then pip's order; a project before its extras.
    fn prioritize(
        &self,
        package: &Package,
        range: &Range,
        _stats: &PackageResolutionStatistics,
    ) -> Priority {
        let Some(name) = package.name() else {
            return (
                Tier::Root,
                Reverse(0),
                Reverse(0),
                Reverse(root_name()),
                true,
            );
        };
        let base = matches!(package, Package::Project(_));
        // A listing error surfaces in `choose_version`; here it only orders.
        let left = self.candidates(name).map_or(0, |all| {
            all.iter()
                .filter(|c| self.admissible(name, c) && range.contains(&c.version))
                .count()
        });
        let tier = if left == 0 {
            Tier::Empty
        } else if pinned(range) {
            Tier::Pinned
        } else {
            self.learnt.tier(name)
        };
        let requested = self
            .setup
            .roots
            .iter()
            .position(|(req, _)| req.name == *name)
            .unwrap_or(usize::MAX);
        (
            tier,
            Reverse(self.tracker.depth(name)),
            Reverse(requested),
            Reverse(name.clone()),
            base,
        )
    }

    /// The newest admissible candidate in `range`, as pip's resolver prefers; for an extra,
    /// the version chosen for its project when the range allows it.
    fn choose_version(
        &self,
        package: &Package,
        range: &Range,
    ) -> Result<Option<Version>, ProviderError> {
        match package {
            Package::Root => Ok(Some(root_version())),
            Package::Project(name) => {
                let chosen = self.newest(name, range)?;
                if let Some(version) = &chosen {
                    self.tracker.chose(name, version);
                }
                Ok(chosen)
            }
            Package::Extra(name, _) | Package::ExtraDeps(name, _) => {
                match self.tracker.chosen(name) {
                    Some(base) if range.contains(&base) => Ok(Some(base)),
                    _ => self.newest(name, range),
                }
            }
        }
    }

    fn get_dependencies(
        &self,
        package: &Package,
        version: &Version,
    ) -> Result<Dependencies<Package, Range, Unavailable>, ProviderError> {
        Ok(match self.edges(package, version)? {
            Ok(edges) => {
                self.tracker.deepen(package.name(), &edges);
                if let Package::Project(name) | Package::ExtraDeps(name, _) = package {
                    self.tracker.edges(name, &edges, self.learnt);
                }
                Dependencies::Available(edges.into_iter().collect::<DependencyConstraints<_, _>>())
            }
            Err(why) => Dependencies::Unavailable(why),
        })
    }

    /// The only way pubgrub 0.4 lets a provider change course: stop, and `solve` starts again
    /// with the learnt order.
    fn should_cancel(&self) -> Result<(), ProviderError> {
        match self.tracker.restart() {
            Some(_) if self.may_restart => Err(ProviderError::Restart),
            _ => Ok(()),
        }
    }
}
