//! Resolution: requirements × interpreters × target state → jobs with actions.
//!
//! The planner does no I/O of its own beyond what it asks of [`Listings`]: one listing per
//! project on the target (and the pure index), and one per project upstream only when a job
//! is not already present or a range has to be resolved. Projects are planned concurrently,
//! bounded by `concurrency`. Selection lives in `select`, the fetch/build/unavailable
//! decisions and failure reasons in `decide`, Requires-Python reading in `requires_python`
//! and `older`.

mod decide;
mod job;
mod listings;
mod local_hashes;
mod older;
mod requires_python;
pub(crate) mod select;
mod shard;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use futures::stream::{self, StreamExt, TryStreamExt};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, VersionOrUrl};

use decide::{decide_acquisition, excluded_by, no_match_reason, refuse_unusable};
pub(crate) use job::{Action, Chosen, Decision, Job, JobFile, Plan, UnsupportedLine};
pub(crate) use listings::{IndexListings, Listings};
use local_hashes::fill_local_hashes;
use requires_python::RequiresPythonReader;
pub(crate) use select::VersionPolicy;
use select::{dists, present_wheel, resolve_range};
pub(crate) use shard::Shard;

use crate::index::{IndexError, IndexFile, SafeUrl};
use crate::interpreter::Interpreter;
use crate::requirements::{AllowedFormats, ParsedRequirements, RequirementEntry};

/// Whether inherited files count as present (devpi bases), or only the target's own.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PresentIn {
    Own,
    Inherited,
}

pub(crate) struct Policy {
    pub versions: VersionPolicy,
    pub pre: bool,
    pub present_in: PresentIn,
}

/// A planned job and its place in the report: (requirement line, position among the
/// line's jobs), which is the plan's order.
#[derive(Debug, Clone)]
pub(crate) struct JobSlot {
    pub key: (usize, usize),
    pub job: Job,
}

pub(crate) fn unsupported_lines(requirements: &ParsedRequirements) -> Vec<UnsupportedLine> {
    requirements
        .unsupported
        .iter()
        .map(|u| UnsupportedLine {
            origin: u.origin.to_string(),
            requirement: crate::index::redact_text(&u.text),
            reason: u.kind.reason().to_string(),
        })
        .collect()
}

/// Plans requirements against what [`Listings`] report (the real indexes, or memory in the
/// unit tests).
pub(crate) struct Planner<'a, L> {
    pub listings: L,
    pub interpreters: &'a [Arc<Interpreter>],
    pub policy: &'a Policy,
    pub concurrency: usize,
    pub shard: Option<Shard>,
    /// `[package.NAME]` settings: shown on build jobs; `build = false` keeps a job from
    /// building.
    pub packages: &'a crate::package_settings::PackageSettings,
    /// Written lines whose jobs other lines stand for (`--deps` plans its pinned lines
    /// instead), so those are not planned at all: an unpinned root would otherwise cost an
    /// upstream listing whose answer is dropped.
    pub(crate) covered: Option<&'a dyn WrittenLines>,
}

/// Which written lines are planned through other lines. The planner asks, and does not
/// know how the lines were expanded (that is `--deps`' business).
pub(crate) trait WrittenLines: Sync {
    /// Whether the job of written line `entry` for interpreter `label`, whose marker holds
    /// there, is planned through other lines instead.
    fn covered(&self, entry: usize, label: &str) -> bool;
}

impl<L: Listings> Planner<'_, L> {
    pub(crate) async fn plan(
        &self,
        requirements: &ParsedRequirements,
        exclusions: &[RequirementEntry],
    ) -> Result<Plan, IndexError> {
        // Group requirement lines by project, keeping the first appearance order.
        let batches: Vec<Vec<JobSlot>> =
            self.batches(requirements, exclusions).try_collect().await?;
        let mut slots: Vec<JobSlot> = batches.into_iter().flatten().collect();
        slots.sort_by_key(|slot| slot.key);
        Ok(Plan {
            target: self.listings.target_description(),
            jobs: slots.into_iter().map(|slot| slot.job).collect(),
            unsupported: unsupported_lines(requirements),
        })
    }

    /// The plan as a stream of per-project batches, in whatever order the indexes answer, so
    /// that `fill` can start acquiring the first project's wheels while later projects are
    /// still being asked about. With a shard, only this shard's projects are planned.
    pub(crate) fn batches<'p>(
        &'p self,
        requirements: &'p ParsedRequirements,
        exclusions: &'p [RequirementEntry],
    ) -> impl futures::Stream<Item = Result<Vec<JobSlot>, IndexError>> + 'p {
        let mut order: Vec<PackageName> = Vec::new();
        let mut by_project: HashMap<PackageName, Vec<(usize, &RequirementEntry)>> = HashMap::new();
        for (index, entry) in requirements.requirements.iter().enumerate() {
            let name = entry.requirement.name.clone();
            if self.shard.is_some_and(|shard| !shard.contains(&name)) {
                continue;
            }
            by_project
                .entry(name.clone())
                .or_insert_with(|| {
                    order.push(name.clone());
                    Vec::new()
                })
                .push((index, entry));
        }
        let mut constraints: HashMap<PackageName, Vec<&VersionSpecifiers>> = HashMap::new();
        for entry in &requirements.constraints {
            if let Some(VersionOrUrl::VersionSpecifier(specs)) = &entry.requirement.version_or_url {
                constraints
                    .entry(entry.requirement.name.clone())
                    .or_default()
                    .push(specs);
            }
        }
        let groups: Vec<_> = order
            .into_iter()
            .map(|name| {
                let entries = by_project.remove(&name).unwrap_or_default();
                let constraints = constraints.remove(&name).unwrap_or_default();
                let formats = requirements.options.allowed_formats(&name);
                (name, entries, constraints, formats)
            })
            .collect();
        stream::iter(groups)
            .map(move |(name, entries, constraints, formats)| async move {
                let planned = self
                    .plan_project(&name, &entries, &constraints, exclusions, formats)
                    .await?;
                let mut slots: Vec<JobSlot> = planned
                    .into_iter()
                    .enumerate()
                    .map(|(position, (index, job))| JobSlot {
                        key: (index, position),
                        job,
                    })
                    .collect();
                fill_local_hashes(&mut slots).await;
                Ok(slots)
            })
            .buffer_unordered(self.concurrency.max(1))
    }

    async fn plan_project(
        &self,
        name: &PackageName,
        entries: &[(usize, &RequirementEntry)],
        constraints: &[&VersionSpecifiers],
        exclusions: &[RequirementEntry],
        formats: AllowedFormats,
    ) -> Result<Vec<(usize, Job)>, IndexError> {
        let own_only = self.policy.present_in == PresentIn::Own;
        let mut jobs = Vec::new();
        // Lines whose marker holds for at least one interpreter need the target listing.
        let live: Vec<(usize, &RequirementEntry, Vec<&Arc<Interpreter>>)> = entries
            .iter()
            .map(|(index, entry)| {
                let interps = self
                    .interpreters
                    .iter()
                    .filter(|i| entry.requirement.evaluate_markers(&i.markers, &[]))
                    .collect();
                (*index, *entry, interps)
            })
            .collect();
        for (index, entry, interps) in &live {
            for interp in self.interpreters {
                if !interps.iter().any(|i| Arc::ptr_eq(i, interp)) {
                    // The marker as written (pep508_rs would print its normalised form).
                    let marker = entry
                        .text
                        .split_once(';')
                        .map(|(_, m)| m.trim().to_string())
                        .or_else(|| entry.requirement.marker.try_to_string())
                        .unwrap_or_default();
                    let mut job = new_job(*index, entry, interp, Decision::Skipped(pinned(entry)));
                    job.reason = format!("marker `{marker}` is false for {}", interp.label);
                    jobs.push((*index, job));
                }
            }
        }
        let live: Vec<(usize, &RequirementEntry, Vec<&Arc<Interpreter>>)> = live
            .into_iter()
            .map(|(index, entry, interps)| {
                let planned = interps
                    .into_iter()
                    .filter(|i| !self.covered.is_some_and(|c| c.covered(index, &i.label)))
                    .collect();
                (index, entry, planned)
            })
            .collect();
        if live.iter().all(|(_, _, interps)| interps.is_empty()) {
            return Ok(jobs);
        }

        // A page that cannot be read fails this project's jobs; only a failure that makes
        // every answer doubtful (`IndexError::stops_run`) stops the plan.
        let mut target_files = match self.listings.target_files(name, own_only).await {
            Ok(files) => files,
            Err(error) => return unreadable(jobs, &live, IndexRole::Target, error),
        };
        let mut pure_files = match self.listings.pure_files(name, own_only).await {
            Ok(files) => files,
            Err(error) => return unreadable(jobs, &live, IndexRole::Pure, error),
        };
        // Files whose listing has no Requires-Python get it from their content before they
        // count as present (pinned versions now; range versions once upstream is known).
        let reader = RequiresPythonReader::new(&self.listings);
        let live_interps: Vec<&Arc<Interpreter>> = self
            .interpreters
            .iter()
            .filter(|i| {
                live.iter()
                    .any(|(_, _, interps)| interps.iter().any(|x| Arc::ptr_eq(x, i)))
            })
            .collect();
        let pins: Vec<Version> = live
            .iter()
            .filter(|(_, _, interps)| !interps.is_empty())
            .filter_map(|(_, entry, _)| pinned(entry))
            .collect();
        reader
            .fill(&mut target_files, name, &pins, &live_interps, false)
            .await;
        reader
            .fill(&mut pure_files, name, &pins, &live_interps, false)
            .await;

        // Upstream is needed for ranges, and for pins not yet present everywhere.
        let needs_upstream = {
            let target_dists = dists(&target_files, name);
            let pure_dists = dists(&pure_files, name);
            live.iter().any(|(_, entry, interps)| match pinned(entry) {
                None => !interps.is_empty(),
                Some(version) => interps.iter().any(|i| {
                    present_wheel(&target_dists, &version, i).is_none()
                        && present_wheel(&pure_dists, &version, i).is_none()
                }),
            })
        };
        // Entries refused at the index boundary stay beside the files (see `refuse_unusable`).
        let has_upstream = self.listings.has_upstream();
        let (mut upstream_files, rejected) = if needs_upstream && has_upstream {
            let listing = match self.listings.upstream_listing(name).await {
                Ok(listing) => listing,
                Err(error) => return unreadable(jobs, &live, IndexRole::Upstream, error),
            };
            (listing.files, listing.rejected)
        } else {
            (Vec::new(), Vec::new())
        };
        self.read_requires_python(
            &reader,
            older::ProjectFiles {
                target: &mut target_files,
                pure: &mut pure_files,
                upstream: &mut upstream_files,
            },
            name,
            &live,
            constraints,
            &live_interps,
        )
        .await;
        // Ranges: an interpreter the newest match does not serve gets an older version.
        let mut older: HashMap<(usize, String), Version> = HashMap::new();
        for (index, entry, interps) in &live {
            if interps.is_empty() || pinned(entry).is_some() {
                continue;
            }
            let listings = older::ProjectFiles {
                target: &mut target_files,
                pure: &mut pure_files,
                upstream: &mut upstream_files,
            };
            let picks = self
                .older_for_python(
                    &reader,
                    listings,
                    name,
                    &specifiers(entry),
                    constraints,
                    interps,
                    formats,
                )
                .await;
            older.extend(picks.into_iter().map(|(label, v)| ((*index, label), v)));
        }
        let target_dists = dists(&target_files, name);
        let pure_dists = dists(&pure_files, name);
        let upstream_dists = dists(&upstream_files, name);
        let target_stage = self.listings.target_stage();

        for (index, entry, interps) in &live {
            if interps.is_empty() {
                continue;
            }
            let specifiers = specifiers(entry);
            let exact = pinned(entry);
            let versions: Vec<Version> = match &exact {
                Some(v) => vec![v.clone()],
                None => resolve_range(
                    &upstream_dists,
                    &specifiers,
                    constraints,
                    self.policy.pre,
                    &self.policy.versions,
                ),
            };
            // Enterprise indexes never receive pre-releases nobody asked for; say which newer
            // pre-release a range passed over, so the report shows what was held back.
            let held_back = match (&exact, versions.first()) {
                (None, Some(newest)) if !self.policy.pre => {
                    select::newest_prerelease_above(&upstream_dists, &specifiers, newest)
                }
                _ => None,
            };
            if versions.is_empty() {
                for interp in interps {
                    let mut job = new_job(*index, entry, interp, Decision::Unavailable(None));
                    job.reason = if !has_upstream {
                        "no upstream index is configured to resolve the range".into()
                    } else {
                        no_match_reason(&upstream_dists, &specifiers, constraints)
                    };
                    refuse_unusable(&mut job, name, &rejected);
                    jobs.push((*index, job));
                }
                continue;
            }
            for newest in &versions {
                for interp in interps {
                    let picked = older.get(&(*index, interp.label.clone()));
                    let version = picked.unwrap_or(newest);
                    let (decision, reason) =
                        if let Some(exclusion) = excluded_by(exclusions, name, version) {
                            let reason =
                                format!("excluded by {} (`{}`)", exclusion.origin, exclusion.text);
                            (Decision::Excluded(version.clone()), reason)
                        } else if let Some(d) = present_wheel(&target_dists, version, interp) {
                            let reason = match (&d.file.stage, &target_stage) {
                                (Some(stage), Some(own)) if stage != own => {
                                    format!("on the target, inherited from {stage}")
                                }
                                _ => "on the target".into(),
                            };
                            (Decision::Present(chosen(version, d.file)), reason)
                        } else if let Some(d) = present_wheel(&pure_dists, version, interp) {
                            let reason = "on the pure index".into();
                            (Decision::Present(chosen(version, d.file)), reason)
                        } else {
                            decide_acquisition(
                                has_upstream,
                                &upstream_dists,
                                version,
                                interp,
                                exact.is_some(),
                                formats,
                            )
                        };
                    let mut job = new_job(*index, entry, interp, decision);
                    job.reason = reason;
                    if job.action() == Action::Build {
                        self.apply_package_settings(&mut job, name, version);
                    }
                    refuse_unusable(&mut job, name, &rejected);
                    if picked.is_some() {
                        job.reason.push_str(&format!(
                            "; the newest match {newest} is not for Python {}",
                            interp.markers.python_full_version().version
                        ));
                    }
                    if let Some(held) = &held_back {
                        job.reason
                            .push_str(&format!("; pre-release {held} held back (--pre takes it)"));
                    }
                    jobs.push((*index, job));
                }
            }
        }
        Ok(jobs)
    }

    /// A build job gets its `[package.NAME]` settings; with `build = false` it becomes
    /// unavailable (a compatible wheel would have been chosen before building).
    fn apply_package_settings(&self, job: &mut Job, name: &PackageName, version: &Version) {
        job.settings = self.packages.for_build(name, version);
        if let Some(no_build) = &job.settings.no_build {
            job.reason = format!(
                "only an sdist fits, and `build = false` ({}): {}",
                no_build.origin, no_build.reason
            );
            job.decision = Decision::Unavailable(Some(version.clone()));
        }
    }
}

/// Which index a project's page was asked of.
#[derive(Debug, Clone, Copy)]
enum IndexRole {
    Target,
    Pure,
    Upstream,
}

impl std::fmt::Display for IndexRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IndexRole::Target => "the target",
            IndexRole::Pure => "the pure index",
            IndexRole::Upstream => "upstream",
        })
    }
}

/// A project whose page could not be read: its live jobs fail with the URL and the reason,
/// beside the jobs already decided (markers); an error that stops the run is passed on.
fn unreadable(
    mut jobs: Vec<(usize, Job)>,
    live: &[(usize, &RequirementEntry, Vec<&Arc<Interpreter>>)],
    role: IndexRole,
    error: IndexError,
) -> Result<Vec<(usize, Job)>, IndexError> {
    if error.stops_run() {
        return Err(error);
    }
    for (index, entry, interps) in live {
        for interp in interps {
            let mut job = new_job(*index, entry, interp, Decision::Unavailable(pinned(entry)));
            job.reason = format!("{role} could not be asked about this project: {error}");
            jobs.push((*index, job));
        }
    }
    Ok(jobs)
}

fn specifiers(entry: &RequirementEntry) -> VersionSpecifiers {
    match &entry.requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specs)) => specs.clone(),
        _ => VersionSpecifiers::empty(),
    }
}

fn pinned(entry: &RequirementEntry) -> Option<Version> {
    crate::version::pinned_version(&specifiers(entry))
}

fn new_job(
    index: usize,
    entry: &RequirementEntry,
    interp: &Arc<Interpreter>,
    decision: Decision,
) -> Job {
    Job {
        entry: index,
        project: entry.requirement.name.clone(),
        requirement: crate::index::redact_text(&entry.text),
        origin: entry.origin.to_string(),
        interpreter: Arc::clone(interp),
        decision,
        reason: String::new(),
        via: Vec::new(),
        settings: Default::default(),
    }
}

fn chosen(version: &Version, file: &IndexFile) -> Chosen {
    Chosen {
        version: version.clone(),
        file: JobFile {
            filename: file.filename.clone(),
            url: SafeUrl::new(&file.url),
            sha256: file.sha256.clone(),
            size: file.size,
        },
    }
}
