//! The solve loop: set-up from lines, pubgrub, the pre-release restart, the solution.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, PackageName, VersionOrUrl};
use pubgrub::{PubGrubError, VersionSet};

use super::error::{Conflict, ResolveError};
use super::metadata_source::MetadataSource;
use super::priority::{Learnt, MAX_RESTARTS};
use super::provider::{
    Cache, Package, Provider, ProviderError, Setup, names_prerelease, root_version,
};
use super::{Line, Options, Range, Resolution, Resolved, Via};

/// Solve `roots` together, as one environment (`pip install -r FILE`): one version per
/// project for all of them. `constraints` restrict versions and never add a project.
pub fn resolve(
    source: &dyn MetadataSource,
    markers: &MarkerEnvironment,
    roots: &[Line],
    constraints: &[Line],
    options: Options,
) -> Result<Resolution, ResolveError> {
    let setup = setup(source, markers, roots, constraints, options)?;
    solve(&setup, &Cache::default())
}

/// The outcome of one line in per-line mode.
#[derive(Debug)]
pub struct LineResolution {
    pub line: Line,
    pub result: Result<Resolution, ResolveError>,
}

/// Per-line mode: each root alone, for backfill lists that name several versions of one
/// project. A conflict fails only its line.
#[derive(Debug, Default)]
pub struct PerLine {
    pub lines: Vec<LineResolution>,
}

impl PerLine {
    /// Every (project, version) some line's closure needs, with the union of their `via`.
    pub fn union(&self) -> BTreeMap<(PackageName, Version), BTreeSet<Via>> {
        let mut all: BTreeMap<(PackageName, Version), BTreeSet<Via>> = BTreeMap::new();
        for line in &self.lines {
            if let Ok(resolution) = &line.result {
                for r in resolution.packages.values() {
                    all.entry((r.name.clone(), r.version.clone()))
                        .or_default()
                        .extend(r.via.iter().cloned());
                }
            }
        }
        all
    }
}

/// Solve each root on its own (with all constraints). Metadata is asked once for all lines.
pub fn resolve_per_line(
    source: &dyn MetadataSource,
    markers: &MarkerEnvironment,
    roots: &[Line],
    constraints: &[Line],
    options: Options,
) -> PerLine {
    let cache = Cache::default();
    let lines = roots
        .iter()
        .map(|line| {
            let result = setup(
                source,
                markers,
                std::slice::from_ref(line),
                constraints,
                options,
            )
            .and_then(|setup| solve(&setup, &cache));
            LineResolution {
                line: line.clone(),
                result,
            }
        })
        .collect();
    PerLine { lines }
}

fn setup<'a>(
    source: &'a dyn MetadataSource,
    markers: &'a MarkerEnvironment,
    roots: &[Line],
    constraints: &[Line],
    options: Options,
) -> Result<Setup<'a>, ResolveError> {
    let mut setup = Setup {
        source,
        markers,
        roots: Vec::new(),
        constraints: HashMap::new(),
        pins: HashMap::new(),
        hashes: HashMap::new(),
        pre_named: BTreeSet::new(),
        constraint_origins: HashMap::new(),
        pre_everywhere: options.pre,
    };
    let lines = roots
        .iter()
        .map(|line| (line, true))
        .chain(constraints.iter().map(|line| (line, false)));
    for (line, is_root) in lines {
        let specifiers = match &line.requirement.version_or_url {
            Some(VersionOrUrl::Url(_)) => {
                return Err(ResolveError::Url {
                    origin: line.origin.clone(),
                    requirement: line.requirement.to_string(),
                });
            }
            Some(VersionOrUrl::VersionSpecifier(s)) => s.clone(),
            None => Default::default(),
        };
        if !is_root && !line.requirement.extras.is_empty() {
            return Err(ResolveError::ConstraintExtras {
                origin: line.origin.clone(),
                requirement: line.requirement.to_string(),
            });
        }
        let pin = crate::version::pinned_version(&specifiers);
        if !line.hashes.is_empty() && pin.is_none() {
            return Err(ResolveError::HashWithoutPin {
                origin: line.origin.clone(),
                requirement: line.requirement.to_string(),
            });
        }
        // A constraint (or a root) whose markers do not hold here says nothing here.
        if !line.requirement.evaluate_markers(markers, &[]) {
            continue;
        }
        let name = &line.requirement.name;
        if names_prerelease(&specifiers) {
            setup.pre_named.insert(name.clone());
        }
        if let (false, Some(pin)) = (line.hashes.is_empty(), &pin) {
            // A hash names files of one version: exactly that version, no local variant.
            setup
                .hashes
                .entry(name.clone())
                .or_default()
                .extend(line.hashes.iter().cloned());
            let origin = format!("the --hash pin of {}", line.origin);
            constrain(&mut setup, name, &Range::exact(pin.clone()), origin);
        }
        if let Some(pin) = pin {
            setup
                .pins
                .entry(line.requirement.name.clone())
                .or_default()
                .insert(pin);
        }
        if is_root {
            setup
                .roots
                .push((line.requirement.clone(), line.origin.clone()));
        } else {
            let origin = line.origin.to_string();
            constrain(
                &mut setup,
                name,
                &Range::from_specifiers(&specifiers),
                origin,
            );
        }
    }
    Ok(setup)
}

/// Narrow what every edge to `name` allows (a `-c` line, a `--hash` pin).
fn constrain(setup: &mut Setup<'_>, name: &PackageName, range: &Range, origin: String) {
    setup
        .constraint_origins
        .entry(name.clone())
        .or_default()
        .push(origin);
    let entry = setup
        .constraints
        .entry(name.clone())
        .or_insert_with(Range::full);
    *entry = entry.intersection(range);
}

fn solve(setup: &Setup<'_>, cache: &Cache) -> Result<Resolution, ResolveError> {
    // The order learnt from conflicts (see `priority.rs`): each change restarts the solve,
    // with the source's answers kept in `cache`.
    let mut learnt = Learnt::default();
    let mut restarts = 0;
    loop {
        let provider = Provider::new(setup, cache, &learnt, restarts < MAX_RESTARTS);
        let outcome = pubgrub::resolve(&provider, Package::Root, root_version());
        if let Err(PubGrubError::ErrorInShouldCancel(ProviderError::Restart)) = outcome {
            learnt = provider.tracker.restart().unwrap_or_default();
            restarts += 1;
            continue;
        }
        return match outcome {
            Ok(selected) => solution(&provider, selected.into_iter().collect()).map(|mut r| {
                r.order = learnt.order(restarts);
                r
            }),
            // Not `collapse_no_versions`: merged into an edge, "no version of X fits S"
            // reads as if X had versions; the longer report says what is missing.
            Err(PubGrubError::NoSolution(tree)) => {
                Err(ResolveError::Conflict(Box::new(conflict(&provider, tree))))
            }
            Err(PubGrubError::ErrorChoosingVersion { source, .. })
            | Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
            | Err(PubGrubError::ErrorInShouldCancel(source)) => Err(ResolveError::Source(source)),
        };
    }
}

/// The conflict of `tree`, with why each project it finds no version of has none: the
/// source could not list it, or every version in the wanted set is yanked.
fn conflict(provider: &Provider<'_>, tree: super::report::Tree) -> Conflict {
    let unlisted = provider.cache.unlisted.borrow().clone();
    let mut notes = unlisted.clone();
    for (package, set) in super::report::no_versions(&tree) {
        let Some(name) = package.name() else {
            continue;
        };
        if notes.contains_key(name) {
            continue;
        }
        let Ok(candidates) = provider.candidates(name) else {
            continue;
        };
        let inside: Vec<_> = candidates
            .iter()
            .filter(|c| set.contains(&c.version))
            .collect();
        if !inside.is_empty() && inside.iter().all(|c| c.yanked) {
            notes.insert(
                name.clone(),
                "every version of it there is yanked; PEP 592 lets only an exact pin take one"
                    .to_string(),
            );
        }
    }
    let unlisted = unlisted.into_keys().collect();
    Conflict::new(tree, constraint_notes(provider.setup), &notes, &unlisted)
}

/// What each constrained project is narrowed to, for the conflict report (pubgrub sees the
/// constraint only inside the edges it narrows).
fn constraint_notes(setup: &Setup<'_>) -> BTreeMap<PackageName, (Range, Vec<String>)> {
    setup
        .constraints
        .iter()
        .map(|(name, range)| {
            let origins = setup
                .constraint_origins
                .get(name)
                .cloned()
                .unwrap_or_default();
            (name.clone(), (range.clone(), origins))
        })
        .collect()
}

/// The chosen versions, with `via` edges recomputed from the chosen packages' metadata.
fn solution(
    provider: &Provider<'_>,
    selected: BTreeMap<Package, Version>,
) -> Result<Resolution, ResolveError> {
    let mut packages: BTreeMap<PackageName, Resolved> = BTreeMap::new();
    for (package, version) in &selected {
        if let Package::Project(name) = package {
            let hashes = provider_hashes(provider, name);
            packages.insert(
                name.clone(),
                Resolved {
                    name: name.clone(),
                    version: version.clone(),
                    extras: BTreeSet::new(),
                    via: BTreeSet::new(),
                    hashes,
                },
            );
        }
    }
    for (package, version) in &selected {
        if let Package::Extra(name, extra) = package {
            if let Some(r) = packages.get_mut(name) {
                r.extras.insert(extra.clone());
            }
            // Its edges are the modelling (the project, what the extra adds), not reasons.
            continue;
        }
        let edges = match provider.edges(package, version) {
            Ok(Ok(edges)) => edges,
            // A chosen version had usable edges during the solve; the cache answers again.
            Ok(Err(_)) => continue,
            Err(source) => return Err(ResolveError::Source(source)),
        };
        for target in edges.keys() {
            let Some(target_name) = target.name() else {
                continue;
            };
            // An extra's edge to its own project is the modelling, not a reason.
            if package.name() == Some(target_name) {
                continue;
            }
            let Some(r) = packages.get_mut(target_name) else {
                continue;
            };
            match package {
                Package::Root => {
                    for (req, origin) in &provider.setup.roots {
                        if &req.name == target_name {
                            r.via.insert(Via::Root(origin.clone()));
                        }
                    }
                }
                Package::Project(name) => {
                    r.via.insert(Via::Package {
                        name: name.clone(),
                        version: version.clone(),
                        extra: None,
                    });
                }
                Package::Extra(..) => {}
                Package::ExtraDeps(name, extra) => {
                    r.via.insert(Via::Package {
                        name: name.clone(),
                        version: version.clone(),
                        extra: Some(extra.clone()),
                    });
                }
            }
        }
    }
    Ok(Resolution {
        packages,
        order: Default::default(),
    })
}

fn provider_hashes(
    provider: &Provider<'_>,
    name: &PackageName,
) -> Vec<crate::requirements::HashDigest> {
    provider.setup.hashes.get(name).cloned().unwrap_or_default()
}
