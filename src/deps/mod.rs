//! `--deps`: the dependency closure as pinned requirement lines (issue 13, first slice).
//!
//! A pre-pass before planning. For each target interpreter the resolver (`src/resolve/`)
//! solves the requirement lines over the upstream with [`IndexMetadataSource`]:
//! `--deps together` solves each requirements file as one environment (what
//! `pip install -r FILE` sees), `--deps per-line` solves each line on its own and fills the
//! union. Every (project, version) of a solution becomes one pinned line `name==version`
//! that the planner plans like any pin (present, fetch, build, unavailable with why); its
//! jobs carry `via` (pip-compile's `# via`). The lines as written stay in the requirements
//! too, so a line whose marker is false everywhere still shows as skipped, and a line whose
//! closure failed in per-line mode gets failed jobs; their other jobs are dropped by
//! [`Closure::adjust`] (the pinned lines stand for them).
//!
//! Every project the solver meets gets the run's per-project options, as pip applies them
//! to dependencies too ([`ProjectOptions`]: `--only-binary` / `--no-binary`, `build = false`,
//! and the settings an sdist's metadata is prepared with). `--versions all` with
//! `--deps per-line` solves each version a root's range selects as its own line
//! (`name==V`); with `--deps together` it is refused. See `docs/resolver.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, Requirement, VersionOrUrl};

use crate::exit::Failure;
use crate::index::{HttpClient, Upstream};
use crate::interpreter::Interpreter;
use crate::metadata::{
    FailurePolicy, IndexMetadataSource, MetadataFetcher, NoBuilder, ProjectOptions,
    ResolutionCounts,
};
use crate::package_settings::PackageSettings;
use crate::plan::{Action, Decision, Job, JobSlot};
use crate::requirements::{ParsedRequirements, RequirementEntry};
use crate::resolve::{self, Line, Options, Resolution, ResolveError, Via};

/// `--deps together|per-line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DepsMode {
    /// Each requirements file is one environment, as `pip install -r FILE` sees it.
    Together,
    /// Each requirement line gets its own closure; the union is filled.
    PerLine,
}

/// What the pre-pass needs from the run's context.
pub(crate) struct Inputs<'a> {
    /// The environments to solve, as indices into the written lines (see [`environments`]).
    pub environments: &'a [Vec<usize>],
    pub requirements: &'a ParsedRequirements,
    pub interpreters: &'a [Arc<Interpreter>],
    pub upstream: &'a Arc<Upstream>,
    pub client: &'a HttpClient,
    pub fetcher: MetadataFetcher,
    pub pre: bool,
    /// The `[package.NAME]` tables: `build = false` and how sdists' metadata is prepared.
    pub packages: &'a PackageSettings,
    /// `--versions all`: each version a root's range selects gets its own closure.
    pub versions_all: bool,
    /// Listings at once (`--index-concurrency`), for the ranges under `--versions all`.
    pub concurrency: usize,
}

/// The key of a failed solve among a written line's jobs: the interpreter, and the version
/// its root was pinned to under `--versions all` (`None`: the line as written).
type FailedKey = (String, Option<Version>);

/// One solve: the written lines it roots (indices), the roots as the solver gets them, and
/// under `--versions all` the version the one root is pinned to.
#[derive(Debug, Clone)]
struct Environment {
    indices: Vec<usize>,
    roots: Vec<Line>,
    version: Option<Version>,
}

/// The role of each line of the expanded requirements, by its index.
#[derive(Debug, Clone)]
enum Role {
    /// A line as written. Its skipped jobs (marker false) stay; the jobs of interpreters
    /// whose closure of this line (or of the job's version, under `--versions all`) failed
    /// fail with the reason; its other jobs are dropped.
    Written { failed: BTreeMap<FailedKey, String> },
    /// A pinned line from the solutions: jobs only for these interpreters, with their `via`.
    Pinned { via: BTreeMap<String, Vec<String>> },
}

/// The expanded requirements and what [`Closure::adjust`] does to their jobs.
#[derive(Debug, Clone)]
pub(crate) struct Closure {
    pub requirements: ParsedRequirements,
    roles: Vec<Role>,
    /// What the solves found, from which the above were made (and which a snapshot keeps).
    solved: Solved,
    /// What each interpreter's solves cost, by label (empty for a remembered solve).
    pub resolution: BTreeMap<String, ResolutionCounts>,
}

/// Every interpreter's solutions: the members, and the lines whose closure failed (per-line
/// mode) by interpreter label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Solved {
    members: BTreeMap<(PackageName, Version), Member>,
    failed: BTreeMap<usize, BTreeMap<FailedKey, String>>,
}

/// One (project, version) some interpreter's solution holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Member {
    /// Interpreter label → the `via` of the package there (root lines left out).
    via: BTreeMap<String, BTreeSet<String>>,
    /// The root lines (indices into the written requirements) that name this project.
    roots: BTreeSet<usize>,
    /// Where a dependency comes from: the first root its `via` chain leads to.
    derived_from: Option<usize>,
    hashes: Vec<crate::requirements::HashDigest>,
}

impl Closure {
    /// A job of the expanded requirements as the closure wants it (see [`Role`]), or `None`
    /// when a pinned line stands for it.
    pub(crate) fn adjust(&self, mut job: Job) -> Option<Job> {
        match self.roles.get(job.entry)? {
            Role::Written { failed } => {
                let version = job.decision.version().cloned();
                let label = job.interpreter.label.clone();
                let of_version = version
                    .clone()
                    .and_then(|v| failed.get(&(label.clone(), Some(v))));
                if let Some(reason) = of_version {
                    job.decision = Decision::Unavailable(version);
                    job.reason = reason.clone();
                } else if let Some(reason) = failed.get(&(label, None)) {
                    job.decision = Decision::Unavailable(None);
                    job.reason = reason.clone();
                } else if job.action() != Action::Skipped {
                    return None;
                }
            }
            Role::Pinned { via } => {
                job.via = via.get(&job.interpreter.label)?.clone();
            }
        }
        Some(job)
    }

    /// `summary.resolution` of the JSON report: per interpreter label, the versions visited,
    /// the metadata reads and the sdist metadata builds of its solves.
    pub(crate) fn resolution_json(&self) -> serde_json::Value {
        serde_json::json!(self.resolution)
    }

    /// `-v`: what each interpreter's solves cost, on stderr.
    pub(crate) fn print_resolution(&self) {
        if self.resolution.is_empty() {
            eprintln!("--deps: the remembered solve was taken (nothing listed or read)");
        }
        let names = |set: &BTreeSet<String>| match set.is_empty() {
            true => "-".to_string(),
            false => set.iter().cloned().collect::<Vec<_>>().join(", "),
        };
        for (label, counts) in &self.resolution {
            eprintln!(
                "--deps for {label}: {} versions visited, {} metadata reads ({} sdist metadata builds); \
                 learnt order after {} restarts: decided late {}, decided early {}",
                counts.visited,
                counts.metadata_reads,
                counts.sdist_metadata_builds,
                counts.restarts,
                names(&counts.decided_late),
                names(&counts.decided_early)
            );
        }
    }

    /// [`Self::adjust`] over one batch of the planner's stream.
    pub(crate) fn adjust_slots(&self, slots: Vec<JobSlot>) -> Vec<JobSlot> {
        slots
            .into_iter()
            .filter_map(|slot| {
                let key = slot.key;
                self.adjust(slot.job).map(|job| JobSlot { key, job })
            })
            .collect()
    }
}

/// The builder that prepares the metadata of a dependency published only as an sdist
/// (`prepare_metadata_for_build_wheel` in the sandbox, cached by the sdist's sha256), or
/// why there is none (that dependency's solve then fails with the reason).
pub(crate) type MetadataBuilder = Result<Arc<crate::builder::Builder>, NoBuilder>;

/// What `--deps` needs of a run: the written lines and where to read metadata.
pub(crate) struct RunInputs<'a> {
    pub mode: Option<DepsMode>,
    /// The requirements files of the command line: one environment each (see
    /// [`environments`]).
    pub requirement_files: &'a [PathBuf],
    pub requirements: &'a ParsedRequirements,
    pub interpreters: &'a [Arc<Interpreter>],
    pub policy: &'a crate::plan::Policy,
    /// Listings at once (`--index-concurrency`).
    pub concurrency: usize,
    pub client: &'a HttpClient,
    pub upstream: &'a Arc<Upstream>,
    pub store: &'a crate::store::Store,
    pub cache: &'a std::path::Path,
    /// The `[package.NAME]` tables: which sdists count and how their metadata is prepared.
    pub packages: &'a PackageSettings,
    /// How an earlier failed preparation is trusted.
    pub failures: FailurePolicy,
}

/// `--deps` for a run: solves the closure; its `requirements` are the expanded lines the
/// run plans. `None` without `--deps`. When the upstream can name its content and an
/// earlier run solved the same inputs over the same content, that solve is taken as it was
/// (see `deps/snapshot.rs`); `builder` is asked for only when there is a solve to do.
pub(crate) async fn for_run(
    run: RunInputs<'_>,
    builder: impl FnOnce() -> MetadataBuilder,
) -> Result<Option<Closure>, Failure> {
    let Some(mode) = run.mode else {
        return Ok(None);
    };
    let versions_all = matches!(run.policy.versions, crate::plan::VersionPolicy::All);
    refuse_versions_all_together(versions_all, mode)?;
    let environments = environments(run.requirement_files, run.requirements, mode)?;
    let upstream_state = run
        .upstream
        .state(run.client)
        .await
        .map_err(|e| Failure::unusable(anyhow::anyhow!("--deps: {e}")))?;
    let key = upstream_state.as_ref().map(|state| {
        snapshot::Key::new(&snapshot::KeyInputs {
            mode,
            environments: &environments,
            written: run.requirements,
            interpreters: run.interpreters,
            pre: run.policy.pre,
            versions_all,
            packages: run.packages,
            upstream: state,
        })
    });
    if let Some(solved) = key.as_ref().and_then(|key| snapshot::load(run.cache, key)) {
        return Ok(Some(pinned_lines(run.requirements, solved)));
    }
    let fetcher = MetadataFetcher::new(run.client.clone(), run.store.clone(), run.cache)
        .with_failure_policy(run.failures);
    let fetcher = match builder() {
        // Each sdist's metadata is prepared with the settings its build gets (the lines' `-C`
        // and `[package.NAME]`, see `ProjectOptions::prepare`), not with the builder's own.
        Ok(builder) => fetcher.with_builder(builder, crate::builder::ConfigSettings::new()),
        Err(why) => fetcher.without_builder(why),
    };
    let closure = expand(
        Inputs {
            environments: &environments,
            requirements: run.requirements,
            interpreters: run.interpreters,
            upstream: run.upstream,
            client: run.client,
            fetcher,
            pre: run.policy.pre,
            packages: run.packages,
            versions_all,
            concurrency: run.concurrency,
        },
        mode,
    )
    .await?;
    if let Some(key) = &key {
        snapshot::save(run.cache, key, &closure.solved);
    }
    Ok(Some(closure))
}

/// A written line's job that [`Closure::adjust`] would drop (the pinned lines stand for it)
/// need not be planned.
impl crate::plan::WrittenLines for Closure {
    fn covered(&self, entry: usize, label: &str) -> bool {
        matches!(self.roles.get(entry), Some(Role::Written { failed })
            if !failed.keys().any(|(failed_for, _)| failed_for == label))
    }
}

/// Solve the closure for every interpreter and expand the requirements with its pins.
/// A conflict in together mode is bad input (exit 2, nothing planned or uploaded); a
/// metadata source that fails ends the run as an unusable index (exit 3).
pub(crate) async fn expand(inputs: Inputs<'_>, mode: DepsMode) -> Result<Closure, Failure> {
    refuse_versions_all_together(inputs.versions_all, mode)?;
    let written = inputs.requirements;
    let lines: Vec<Line> = written.requirements.iter().map(line).collect();
    let constraints: Vec<Line> = written.constraints.iter().map(line).collect();
    let mut environments: Vec<Environment> = inputs
        .environments
        .iter()
        .map(|indices| Environment {
            roots: indices.iter().map(|i| lines[*i].clone()).collect(),
            indices: indices.clone(),
            version: None,
        })
        .collect();
    if inputs.versions_all {
        environments = per_version(&inputs, environments).await?;
    }
    let origin_index: HashMap<String, usize> = written
        .requirements
        .iter()
        .enumerate()
        .map(|(i, e)| (e.origin.to_string(), i))
        .rev()
        .collect();
    let options = ProjectOptions::new(written, Arc::new(inputs.packages.clone()));
    let hint = format_hint(written);

    let mut members: BTreeMap<(PackageName, Version), Member> = BTreeMap::new();
    let mut failed: BTreeMap<usize, BTreeMap<FailedKey, String>> = BTreeMap::new();
    let mut resolution = BTreeMap::new();
    let root_names: BTreeSet<&PackageName> =
        written.requirements.iter().map(|e| e.name()).collect();
    for interpreter in inputs.interpreters {
        let source = IndexMetadataSource::new(
            tokio::runtime::Handle::current(),
            Arc::clone(inputs.upstream),
            inputs.client.clone(),
            inputs.fetcher.clone(),
            Arc::clone(interpreter),
            options.clone(),
        );
        let markers = interpreter.markers.clone();
        let options = Options { pre: inputs.pre };
        let envs = environments.clone();
        let constraints = constraints.clone();
        let outcomes = tokio::task::spawn_blocking(move || {
            let outcomes: Vec<(Environment, Result<Resolution, ResolveError>)> = envs
                .into_iter()
                .map(|env| {
                    let result = match mode {
                        DepsMode::Together => {
                            resolve::resolve(&source, &markers, &env.roots, &constraints, options)
                        }
                        DepsMode::PerLine => {
                            let mut per_line = resolve::resolve_per_line(
                                &source,
                                &markers,
                                &env.roots,
                                &constraints,
                                options,
                            );
                            match per_line.lines.pop() {
                                Some(line) => line.result,
                                None => Ok(Resolution::default()),
                            }
                        }
                    };
                    (env, result)
                })
                .collect();
            source.wait_for_prefetch();
            (outcomes, source.counts())
        })
        .await
        .map_err(|e| Failure::input(anyhow::anyhow!("the resolver stopped: {e}")))?;
        let (outcomes, mut counts) = outcomes;
        for (_, result) in &outcomes {
            if let Ok(solved) = result {
                counts.restarts += solved.order.restarts as u64;
                counts
                    .decided_late
                    .extend(solved.order.late.iter().map(ToString::to_string));
                counts
                    .decided_early
                    .extend(solved.order.early.iter().map(ToString::to_string));
            }
        }
        resolution.insert(interpreter.label.clone(), counts);
        for (env, result) in outcomes {
            match result {
                Ok(resolution) => {
                    record(&mut members, &resolution, &interpreter.label, &origin_index);
                }
                Err(ResolveError::Conflict(conflict)) if mode == DepsMode::PerLine => {
                    let of = match (&env.version, env.roots.first()) {
                        (Some(v), Some(root)) => format!(" of {} {v}", root.requirement.name),
                        _ => String::new(),
                    };
                    for index in &env.indices {
                        failed.entry(*index).or_default().insert(
                            (interpreter.label.clone(), env.version.clone()),
                            format!(
                                "no dependency closure{of} for {}: {conflict}{hint}",
                                interpreter.label
                            ),
                        );
                    }
                }
                Err(e @ ResolveError::Source(_)) => {
                    return Err(Failure::unusable(anyhow::anyhow!(
                        "--deps for {}: {e}",
                        interpreter.label
                    )));
                }
                // The index could not list a project the requirements name: no conflict of
                // the requirements, an index that cannot serve them (a 404 included).
                Err(ResolveError::Conflict(conflict))
                    if conflict.unlisted().iter().any(|n| root_names.contains(n)) =>
                {
                    return Err(Failure::unusable(anyhow::anyhow!(
                        "--deps for {}: {}",
                        interpreter.label,
                        ResolveError::Conflict(conflict)
                    )));
                }
                Err(e @ ResolveError::Conflict(_)) => {
                    return Err(Failure::input(anyhow::anyhow!(
                        "--deps for {}: {e}{hint}",
                        interpreter.label
                    )));
                }
                Err(e) => {
                    return Err(Failure::input(anyhow::anyhow!(
                        "--deps for {}: {e}",
                        interpreter.label
                    )));
                }
            }
        }
    }
    let mut closure = pinned_lines(written, Solved { members, failed });
    closure.resolution = resolution;
    Ok(closure)
}

/// `--versions all` with `--deps together` is refused before anything is asked: a range
/// cannot resolve to every version inside one environment, and quietly solving for the
/// newest would fill less than asked.
fn refuse_versions_all_together(versions_all: bool, mode: DepsMode) -> Result<(), Failure> {
    if versions_all && mode == DepsMode::Together {
        return Err(Failure::input(anyhow::anyhow!(
            "--versions all with --deps together: one environment holds one version of a \
             project, so a range cannot bring all its versions into one closure; use \
             --deps per-line (each version a range selects gets its own closure)"
        )));
    }
    Ok(())
}

/// What a conflict's report adds when format options are set: the derivation says only
/// "no usable version", and pip's `--only-binary` / `--no-binary` reach dependencies too.
fn format_hint(written: &ParsedRequirements) -> String {
    let options = &written.options;
    let mut notes = Vec::new();
    if !options.only_binary.is_empty() {
        notes.push(format!(
            "--only-binary {} applies to dependencies too: their sdists are no candidates",
            options.only_binary
        ));
    }
    if !options.no_binary.is_empty() {
        notes.push(format!(
            "--no-binary {} applies to dependencies too: their wheels are no candidates",
            options.no_binary
        ));
    }
    notes.iter().map(|note| format!("\nnote: {note}")).collect()
}

/// `--versions all` in per-line mode: a line with a range becomes one environment per
/// version the planner's `--versions all` would select from upstream (its rules: yanked
/// files never count for a range, pre-releases only with `--pre` or a specifier naming one,
/// `-c` constraints narrow), each with the root pinned to that version, as if the line read
/// `name==V`. A pinned line, or a range nothing matches, is solved as written (the solver
/// then says why).
async fn per_version(
    inputs: &Inputs<'_>,
    environments: Vec<Environment>,
) -> Result<Vec<Environment>, Failure> {
    use futures::StreamExt;
    // One listing per line, `--index-concurrency` at once (a backfill list is long).
    let versions: Vec<Result<Vec<Version>, Failure>> =
        futures::stream::iter(environments.iter().map(|env| async move {
            match env.indices.as_slice() {
                &[index] => range_versions(inputs, &inputs.requirements.requirements[index]).await,
                _ => Ok(Vec::new()),
            }
        }))
        .buffered(inputs.concurrency.max(1))
        .collect()
        .await;
    let mut out = Vec::new();
    for (env, versions) in environments.into_iter().zip(versions) {
        let versions = versions?;
        if versions.is_empty() {
            out.push(env);
            continue;
        }
        for version in versions {
            let roots = env.roots.iter().map(|r| pinned_root(r, &version)).collect();
            out.push(Environment {
                indices: env.indices.clone(),
                roots,
                version: Some(version),
            });
        }
    }
    Ok(out)
}

/// The versions `--versions all` selects for a line with a range (newest first); none for
/// a pin or a line without a version (a bare name is a range too: every version).
async fn range_versions(
    inputs: &Inputs<'_>,
    entry: &RequirementEntry,
) -> Result<Vec<Version>, Failure> {
    let specifiers = match &entry.requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specs)) => specs.clone(),
        Some(VersionOrUrl::Url(_)) => return Ok(Vec::new()),
        None => VersionSpecifiers::empty(),
    };
    if crate::version::pinned_version(&specifiers).is_some() {
        return Ok(Vec::new());
    }
    let name = entry.name();
    let files = inputs
        .upstream
        .project_files(inputs.client, name)
        .await
        .map_err(|e| Failure::unusable(anyhow::anyhow!("--deps --versions all: {name}: {e}")))?
        .unwrap_or_default();
    let constraints: Vec<&VersionSpecifiers> = inputs
        .requirements
        .constraints
        .iter()
        .filter(|c| c.name() == name)
        .filter_map(|c| match &c.requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specs)) => Some(specs),
            _ => None,
        })
        .collect();
    Ok(crate::plan::select::resolve_range(
        &crate::plan::select::dists(&files, name),
        &specifiers,
        &constraints,
        inputs.pre,
        &crate::plan::VersionPolicy::All,
    ))
}

/// A root line narrowed to exactly `version` (its extras, marker, origin and hashes kept).
fn pinned_root(root: &Line, version: &Version) -> Line {
    let mut pinned = root.clone();
    if let Ok(specs) = VersionSpecifiers::from_str(&format!("=={version}")) {
        pinned.requirement.version_or_url = Some(VersionOrUrl::VersionSpecifier(specs));
    }
    pinned
}

/// The environments to solve, as indices into the written lines: one per requirements file
/// given on the command line (its `-r` includes with it), or one per line.
fn environments(
    paths: &[PathBuf],
    written: &ParsedRequirements,
    mode: DepsMode,
) -> Result<Vec<Vec<usize>>, Failure> {
    if mode == DepsMode::PerLine || paths.len() <= 1 {
        return Ok(match mode {
            DepsMode::PerLine => (0..written.requirements.len()).map(|i| vec![i]).collect(),
            DepsMode::Together => vec![(0..written.requirements.len()).collect()],
        });
    }
    let lookup = |key: &str| std::env::var(key).ok();
    let mut environments = Vec::new();
    for path in paths {
        let own = crate::requirements::parse_files(std::slice::from_ref(path), &lookup)
            .map_err(Failure::input)?;
        let origins: BTreeSet<String> = own
            .requirements
            .iter()
            .map(|e| e.origin.to_string())
            .collect();
        environments.push(
            written
                .requirements
                .iter()
                .enumerate()
                .filter(|(_, e)| origins.contains(&e.origin.to_string()))
                .map(|(i, _)| i)
                .collect(),
        );
    }
    Ok(environments)
}

fn line(entry: &RequirementEntry) -> Line {
    Line {
        requirement: entry.requirement.clone(),
        origin: resolve::LineOrigin(entry.origin.to_string()),
        hashes: entry.hashes.clone(),
    }
}

/// Adds one interpreter's solution to the members.
fn record(
    members: &mut BTreeMap<(PackageName, Version), Member>,
    resolution: &Resolution,
    label: &str,
    origin_index: &HashMap<String, usize>,
) {
    for resolved in resolution.packages.values() {
        let member = members
            .entry((resolved.name.clone(), resolved.version.clone()))
            .or_default();
        let via = member.via.entry(label.to_string()).or_default();
        for edge in &resolved.via {
            match edge {
                Via::Root(origin) => {
                    if let Some(index) = origin_index.get(&origin.0) {
                        member.roots.insert(*index);
                    }
                }
                Via::Package { .. } => {
                    via.insert(edge.to_string());
                }
            }
        }
        if member.derived_from.is_none() {
            member.derived_from = first_root(resolution, &resolved.name, origin_index);
        }
        for hash in &resolved.hashes {
            if !member.hashes.contains(hash) {
                member.hashes.push(hash.clone());
            }
        }
    }
}

/// The first root line a package's `via` chain leads to (breadth first; cycles are fine).
fn first_root(
    resolution: &Resolution,
    name: &PackageName,
    origin_index: &HashMap<String, usize>,
) -> Option<usize> {
    let mut queue = std::collections::VecDeque::from([name.clone()]);
    let mut seen = BTreeSet::new();
    while let Some(next) = queue.pop_front() {
        if !seen.insert(next.clone()) {
            continue;
        }
        let resolved = resolution.packages.get(&next)?;
        for edge in &resolved.via {
            match edge {
                Via::Root(origin) => return origin_index.get(&origin.0).copied(),
                Via::Package { name, .. } => queue.push_back(name.clone()),
            }
        }
    }
    None
}

/// The written lines, then one pinned line per member, and the role of each.
fn pinned_lines(written: &ParsedRequirements, solved: Solved) -> Closure {
    let kept = solved.clone();
    let Solved {
        members,
        mut failed,
    } = solved;
    let mut requirements = written.clone();
    let mut roles: Vec<Role> = (0..written.requirements.len())
        .map(|i| Role::Written {
            failed: failed.remove(&i).unwrap_or_default(),
        })
        .collect();
    for ((name, version), member) in members {
        let root = member.roots.first().or(member.derived_from.as_ref());
        let Some(model) = root.and_then(|i| written.requirements.get(*i)) else {
            continue;
        };
        let text = format!("{name}=={version}");
        let Ok(requirement) = Requirement::from_str(&text) else {
            continue;
        };
        let is_root = !member.roots.is_empty();
        requirements.requirements.push(RequirementEntry {
            requirement,
            text: if is_root { model.text.clone() } else { text },
            origin: model.origin.clone(),
            hashes: member.hashes,
            config_settings: if is_root {
                model.config_settings.clone()
            } else {
                Vec::new()
            },
        });
        roles.push(Role::Pinned {
            via: member
                .via
                .into_iter()
                .map(|(label, via)| (label, via.into_iter().collect()))
                .collect(),
        });
    }
    Closure {
        requirements,
        roles,
        solved: kept,
        resolution: BTreeMap::new(),
    }
}

mod snapshot;

#[cfg(test)]
mod tests;
