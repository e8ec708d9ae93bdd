//! Resolution: requirements × interpreters × target state → jobs with actions.
//!
//! The planner does no I/O of its own beyond the index listings it asks for: one request
//! per project on the target (and the pure index), and one per project and upstream source
//! only when a job is not already present or a range has to be resolved. Projects are
//! planned concurrently, bounded by `concurrency`.

mod job;
mod older;
mod requires_python;
mod select;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use futures::stream::{self, StreamExt, TryStreamExt};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, VersionOrUrl};

pub use job::{Action, Job, JobFile, Plan, UnsupportedLine};
use requires_python::RequiresPythonReader;
pub use select::VersionPolicy;
pub use select::pinned_version;
use select::{Dist, Interp, UpstreamChoice, choose_upstream, dists, present_wheel, resolve_range};

use crate::dist::Sha256;
use crate::index::{HttpClient, IndexError, IndexFile, Target, Upstream, redact};
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

pub struct Policy {
    pub versions: VersionPolicy,
    pub pre: bool,
    pub present_in: PresentIn,
}

/// A planned job and its place in the report: (requirement line, position among the
/// line's jobs), which is the plan's order.
#[derive(Debug, Clone)]
pub struct JobSlot {
    pub key: (usize, usize),
    pub job: Job,
}

/// `--shard K/N`: this run's share of the projects, by a stable hash of the normalised name
/// (FNV-1a, the same on every machine and every run), so N copies split a list without
/// talking to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn contains(&self, name: &PackageName) -> bool {
        let hash = name
            .as_ref()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        hash % u64::from(self.count) == u64::from(self.index)
    }
}

/// A `--shard` value that is not `K/N` with `0 <= K < N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("`{0}`: expected K/N, e.g. 0/3")]
    NotKOverN(String),
    #[error("`{0}`: K must be a number")]
    IndexNotANumber(String),
    #[error("`{0}`: N must be a number")]
    CountNotANumber(String),
    #[error("`{0}`: K must be between 0 and N-1 and N at least 1")]
    OutOfRange(String),
}

impl std::str::FromStr for Shard {
    type Err = ShardError;
    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| ShardError::NotKOverN(text.to_string()))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| ShardError::IndexNotANumber(text.to_string()))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| ShardError::CountNotANumber(text.to_string()))?;
        if count == 0 || index >= count {
            return Err(ShardError::OutOfRange(text.to_string()));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

pub fn unsupported_lines(requirements: &ParsedRequirements) -> Vec<UnsupportedLine> {
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

pub struct Planner<'a> {
    pub client: &'a HttpClient,
    pub target: &'a Target,
    pub pure_index: Option<&'a Target>,
    pub upstream: &'a Upstream,
    pub interpreters: &'a [Interpreter],
    pub policy: &'a Policy,
    pub concurrency: usize,
    pub shard: Option<Shard>,
    /// Remembered target listings (devpi serial unchanged); see [`crate::index::snapshot`].
    pub listings: Option<&'a crate::index::snapshot::ListingCache>,
    /// Where remote files are downloaded to read a Requires-Python their listing lacks
    /// (see [`requires_python`]); `None` accepts such files.
    pub store: Option<&'a crate::store::Store>,
}

impl Planner<'_> {
    pub async fn plan(
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
            target: self.target.describe(),
            jobs: slots.into_iter().map(|slot| slot.job).collect(),
            unsupported: unsupported_lines(requirements),
        })
    }

    /// The plan as a stream of per-project batches, in whatever order the indexes answer, so
    /// that `fill` can start acquiring the first project's wheels while later projects are
    /// still being asked about. With a shard, only this shard's projects are planned.
    pub fn batches<'p>(
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
        let live: Vec<(usize, &RequirementEntry, Vec<&Interpreter>)> = entries
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
                if !interps.iter().any(|i| std::ptr::eq(*i, interp)) {
                    // The marker as written (pep508_rs would print its normalised form).
                    let marker = entry
                        .text
                        .split_once(';')
                        .map(|(_, m)| m.trim().to_string())
                        .or_else(|| entry.requirement.marker.try_to_string())
                        .unwrap_or_default();
                    let mut job =
                        new_job(*index, entry, interp, pinned(entry).map(|v| v.to_string()));
                    job.action = Action::Skipped;
                    job.reason = format!("marker `{marker}` is false for {}", interp.label);
                    jobs.push((*index, job));
                }
            }
        }
        if live.iter().all(|(_, _, interps)| interps.is_empty()) {
            return Ok(jobs);
        }

        let mut target_files = match self.listings.and_then(|cache| cache.get(name)) {
            Some(files) => files,
            None => {
                let files = self
                    .target
                    .project_files(self.client, name, own_only)
                    .await?;
                if let Some(cache) = self.listings {
                    cache.record(name, &files);
                }
                files
            }
        }
        .unwrap_or_default();
        let mut pure_files = match self.pure_index {
            Some(pure) => pure
                .project_files(self.client, name, own_only)
                .await?
                .unwrap_or_default(),
            None => Vec::new(),
        };
        // Files whose listing has no Requires-Python get it from their content before they
        // count as present (pinned versions now; range versions once upstream is known).
        let reader = RequiresPythonReader::new(self.client, self.store);
        let live_interps: Vec<&Interpreter> = self
            .interpreters
            .iter()
            .filter(|i| {
                live.iter()
                    .any(|(_, _, interps)| interps.iter().any(|x| std::ptr::eq(*x, *i)))
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
        let (mut upstream_files, rejected) = if needs_upstream && !self.upstream.is_empty() {
            let listing = self
                .upstream
                .project_listing(self.client, name)
                .await?
                .unwrap_or_default();
            (listing.files, listing.rejected)
        } else {
            (Vec::new(), Vec::new())
        };
        self.read_requires_python(
            &reader,
            older::Listings {
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
            let listings = older::Listings {
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
                    let mut job = new_job(*index, entry, interp, None);
                    job.action = Action::Unavailable;
                    job.reason = if self.upstream.is_empty() {
                        "no upstream index is configured to resolve the range".into()
                    } else {
                        no_match_reason(&upstream_dists, &specifiers, constraints)
                    };
                    refuse_unusable(&mut job, name, None, &rejected);
                    jobs.push((*index, job));
                }
                continue;
            }
            for newest in &versions {
                for interp in interps {
                    let picked = older.get(&(*index, interp.label.clone()));
                    let version = picked.unwrap_or(newest);
                    let mut job = new_job(*index, entry, interp, Some(version.to_string()));
                    if let Some(exclusion) = excluded_by(exclusions, name, version) {
                        job.action = Action::Excluded;
                        job.reason =
                            format!("excluded by {} (`{}`)", exclusion.origin, exclusion.text);
                    } else if let Some(d) = present_wheel(&target_dists, version, interp) {
                        job.action = Action::Present;
                        job.reason = match (&d.file.stage, self.target_stage()) {
                            (Some(stage), Some(own)) if *stage != own => {
                                format!("on the target, inherited from {stage}")
                            }
                            _ => "on the target".into(),
                        };
                        job.file = Some(job_file(d.file));
                    } else if let Some(d) = present_wheel(&pure_dists, version, interp) {
                        job.action = Action::Present;
                        job.reason = "on the pure index".into();
                        job.file = Some(job_file(d.file));
                    } else {
                        self.decide_acquisition(
                            &mut job,
                            &upstream_dists,
                            version,
                            interp,
                            exact.is_some(),
                            formats,
                        );
                    }
                    refuse_unusable(&mut job, name, Some(version), &rejected);
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

    fn decide_acquisition(
        &self,
        job: &mut Job,
        upstream: &[Dist<'_>],
        version: &Version,
        interp: &Interpreter,
        exact_pin: bool,
        formats: AllowedFormats,
    ) {
        if self.upstream.is_empty() {
            job.action = Action::Unavailable;
            job.reason = "not on the target, and no upstream index is configured".into();
            return;
        }
        let interp_view = Interp {
            label: &interp.label,
            tags: &interp.tags,
            python_full_version: &interp.markers.python_full_version().version,
        };
        let choice = choose_upstream(
            upstream,
            version,
            &interp_view,
            exact_pin,
            formats.binary,
            formats.source,
        );
        match choice {
            UpstreamChoice::Wheel(d) => {
                job.action = Action::Fetch;
                job.reason = "upstream publishes a compatible wheel".into();
                job.file = Some(job_file(d.file));
            }
            UpstreamChoice::Sdist(d) => {
                job.action = Action::Build;
                let incompatible = upstream.iter().any(|x| {
                    x.version() == version && matches!(x.dist, crate::dist::DistFilename::Wheel(_))
                });
                job.reason = if incompatible {
                    format!(
                        "upstream has only wheels {} cannot use; build from the sdist",
                        interp.label
                    )
                } else {
                    "upstream has only an sdist".into()
                };
                job.file = Some(job_file(d.file));
            }
            UpstreamChoice::Nothing(reason) => {
                job.action = Action::Unavailable;
                job.reason = reason;
            }
        }
    }

    fn target_stage(&self) -> Option<String> {
        match self.target {
            Target::Devpi(index) => Some(index.stage()),
            _ => None,
        }
    }
}

fn specifiers(entry: &RequirementEntry) -> VersionSpecifiers {
    match &entry.requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specs)) => specs.clone(),
        _ => VersionSpecifiers::empty(),
    }
}

fn pinned(entry: &RequirementEntry) -> Option<Version> {
    pinned_version(&specifiers(entry))
}

fn new_job(
    index: usize,
    entry: &RequirementEntry,
    interp: &Interpreter,
    version: Option<String>,
) -> Job {
    Job {
        entry: index,
        project: entry.requirement.name.to_string(),
        version,
        requirement: crate::index::redact_text(&entry.text),
        origin: entry.origin.to_string(),
        interpreter: interp.label.clone(),
        action: Action::Unavailable,
        reason: String::new(),
        file: None,
    }
}

fn job_file(file: &IndexFile) -> JobFile {
    JobFile {
        filename: file.filename.clone(),
        url: redact(&file.url),
        sha256: file.sha256.clone(),
        size: file.size,
    }
}

/// Upstream entries that could not be used (unsafe name, malformed sha256) fail the jobs that
/// would have needed them: a job about to fetch or build the version such an entry claims
/// is refused rather than served by its neighbours (a listing tampered with for that version
/// is not trusted for it), and a job that found nothing says which entries were refused.
fn refuse_unusable(
    job: &mut Job,
    name: &PackageName,
    version: Option<&Version>,
    rejected: &[crate::index::RejectedEntry],
) {
    let claims = |r: &&crate::index::RejectedEntry| match (r.version_of(name), version) {
        (Some(claimed), Some(version)) => claimed == *version,
        _ => false,
    };
    let relevant: Vec<&crate::index::RejectedEntry> = match job.action {
        Action::Fetch | Action::Build => rejected.iter().filter(claims).collect(),
        Action::Unavailable => rejected
            .iter()
            .filter(|r| claims(r) || r.version_of(name).is_none())
            .collect(),
        _ => Vec::new(),
    };
    if relevant.is_empty() {
        return;
    }
    const SHOWN: usize = 3;
    let mut listed: Vec<String> = relevant.iter().take(SHOWN).map(|r| r.to_string()).collect();
    if relevant.len() > SHOWN {
        listed.push(format!("and {} more", relevant.len() - SHOWN));
    }
    let refused = format!("unusable upstream entries: {}", listed.join("; "));
    if job.action == Action::Unavailable {
        job.reason = format!("{}; {refused}", job.reason);
    } else {
        job.action = Action::Unavailable;
        job.reason = refused;
        job.file = None;
    }
}

fn excluded_by<'a>(
    exclusions: &'a [RequirementEntry],
    name: &PackageName,
    version: &Version,
) -> Option<&'a RequirementEntry> {
    exclusions.iter().find(|e| {
        e.requirement.name == *name
            && match &e.requirement.version_or_url {
                Some(VersionOrUrl::VersionSpecifier(specs)) => specs.contains(version),
                _ => true,
            }
    })
}

fn no_match_reason(
    upstream: &[Dist<'_>],
    specifiers: &VersionSpecifiers,
    constraints: &[&VersionSpecifiers],
) -> String {
    let mut known: Vec<&Version> = upstream.iter().map(Dist::version).collect();
    known.sort();
    known.dedup();
    if known.is_empty() {
        return "the project is not on upstream".into();
    }
    let listed: Vec<String> = known.iter().rev().take(8).map(|v| v.to_string()).collect();
    let constraint_text = if constraints.is_empty() {
        String::new()
    } else {
        let c: Vec<String> = constraints.iter().map(|c| c.to_string()).collect();
        format!(" and constraints `{}`", c.join(", "))
    };
    format!(
        "no version matching `{specifiers}`{constraint_text} on upstream (it has {}{})",
        listed.join(", "),
        if known.len() > 8 { ", ..." } else { "" }
    )
}

/// Files from local directories carry no hash in their listing; the chosen ones get theirs
/// here, so the report names exact bytes.
async fn fill_local_hashes(slots: &mut [JobSlot]) {
    let mut cache: BTreeMap<String, Option<Sha256>> = BTreeMap::new();
    for slot in slots.iter_mut() {
        let Some(file) = slot.job.file.as_mut() else {
            continue;
        };
        if file.sha256.is_some() || !file.url.starts_with("file:") {
            continue;
        }
        let url = file.url.clone();
        if !cache.contains_key(&url) {
            let hash = match url::Url::parse(&url)
                .ok()
                .and_then(|u| u.to_file_path().ok())
            {
                Some(path) => tokio::task::spawn_blocking(move || hash_path(&path))
                    .await
                    .ok()
                    .flatten(),
                None => None,
            };
            cache.insert(url.clone(), hash);
        }
        file.sha256 = cache[&url].clone();
    }
}

fn hash_path(path: &Path) -> Option<Sha256> {
    crate::dist::sha256_file(path)
        .ok()
        .and_then(|hex| Sha256::new(&hex).ok())
}
