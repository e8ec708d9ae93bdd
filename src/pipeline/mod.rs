//! The fill pipeline: plan, then acquire and upload every wheel that is missing, each the
//! moment it is ready, with bounded concurrency and single acquisition per file.
//!
//! Jobs that need the same file (a pure wheel for several interpreters, two lines naming the
//! same version) share one download and one upload. A target that stops answering stops the
//! launching of new work: what finished is reported, the rest is `not-run`, and a re-run
//! continues from what the target and the store hold.

mod build;
mod build_requirements;
mod failures;
mod lanes;
mod schedule;
mod sources;

pub(crate) use failures::FailureMemory;
pub(crate) use schedule::BuildTimes;

pub(crate) use sources::UpstreamWheels;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::StreamExt;

use crate::builder::{Builder, SandboxError};
use crate::distribution::read_wheel;
use crate::host_slots::HostSlots;
use crate::index::HttpClient;
use crate::index::{IndexError, SafeUrl};
use crate::plan::{Action, Chosen, Decision, Job, JobFile, JobSlot};
use crate::publish::{PublishError, Session, UploadOutcome};
use crate::report::{JobResult, Outcome, Progress};
use crate::requirements::ParsedRequirements;
use crate::stop::Stop;
use crate::store::{Expected, Store, StoreError, StoredFile, check_requirement_hashes};

pub(crate) struct PipelineSettings {
    /// `-v`: a line for every job, also those that need nothing.
    pub verbose: bool,
    pub no_upload: bool,
    pub transfer_concurrency: usize,
}

pub(crate) struct FillResult {
    pub results: Vec<JobResult>,
}

/// Sets up the builder on the first build (or at start with `--sandbox required`). When no
/// sandbox layer works, the jobs that need a build fail and `fill` exits 2 (a configuration
/// error), while the jobs that need no build still run. The build options themselves were
/// checked with the settings, before any index was asked.
/// Shared: `fill` sets up one builder for the whole run (the `--deps` metadata hooks and the
/// builds use the same one).
pub(crate) type BuilderSetup = Result<Arc<Builder>, Arc<SandboxError>>;
pub(crate) type MakeBuilder<'a> = Box<dyn Fn() -> BuilderSetup + Send + Sync + 'a>;

/// What a [`Pipeline`] is made of; the command that runs it fills this in.
pub(crate) struct PipelineParts<'a> {
    /// The lines the jobs were planned from (`--deps`: the expanded ones); jobs name them
    /// by index.
    pub requirements: &'a ParsedRequirements,
    pub client: &'a HttpClient,
    /// Where downloads and built wheels are kept.
    pub store: Store,
    pub settings: PipelineSettings,
    /// Why the run stopped, if it did: set by the signal handlers, a failing target, or the
    /// plan. Running builds are killed when it is set (their process groups).
    pub stop: Arc<Stop>,
    pub progress: &'a Progress,
    pub make_builder: MakeBuilder<'a>,
    /// `--jobs`: builds at once (at least one).
    pub build_jobs: usize,
    /// `[package.NAME]` settings of `wheelwright.toml`.
    pub packages: &'a crate::package_settings::PackageSettings,
    pub failures: FailureMemory,
    /// Each project's last build time: waiting builds start longest first.
    pub build_times: BuildTimes,
    /// Downloads at once, per host (shared with the session's uploads).
    pub hosts: Arc<HostSlots>,
    /// Everything that writes to the target and the pure index.
    pub session: Session<'a>,
}

/// Schedules the plan's jobs: each file is acquired once (downloaded by [`Pipeline::download`],
/// or built by the build stage), then handed to the publish session.
pub(crate) struct Pipeline<'a> {
    requirements: &'a ParsedRequirements,
    client: &'a HttpClient,
    store: Store,
    settings: PipelineSettings,
    stop: Arc<Stop>,
    progress: &'a Progress,
    /// Set up on the first build.
    builder: tokio::sync::OnceCell<BuilderSetup>,
    make_builder: MakeBuilder<'a>,
    build_slots: tokio::sync::Semaphore,
    /// How many permits `build_slots` was made with (an exclusive build takes them all).
    build_slot_count: u32,
    /// Which slot each running build holds (the report's timeline rows).
    lanes: lanes::Lanes,
    packages: &'a crate::package_settings::PackageSettings,
    failures: FailureMemory,
    build_times: BuildTimes,
    hosts: Arc<HostSlots>,
    session: Session<'a>,
}

/// Jobs that share one file to acquire: the version they were planned for and its file
/// (the wheel to fetch or the sdist to build).
struct Unit {
    chosen: Chosen,
    jobs: Vec<JobSlot>,
}

/// A job's place in the report (see [`JobSlot`]).
type Key = (usize, usize);

impl<'a> Pipeline<'a> {
    pub(crate) fn new(parts: PipelineParts<'a>) -> Pipeline<'a> {
        // u32: what a semaphore's `acquire_many` counts in (an exclusive build takes them all).
        let build_slot_count = u32::try_from(parts.build_jobs.max(1)).unwrap_or(u32::MAX);
        Pipeline {
            requirements: parts.requirements,
            client: parts.client,
            store: parts.store,
            settings: parts.settings,
            stop: parts.stop,
            progress: parts.progress,
            builder: tokio::sync::OnceCell::new(),
            make_builder: parts.make_builder,
            build_slots: tokio::sync::Semaphore::new(build_slot_count as usize),
            build_slot_count,
            lanes: lanes::Lanes::new(build_slot_count as usize),
            packages: parts.packages,
            failures: parts.failures,
            build_times: parts.build_times,
            hosts: parts.hosts,
            session: parts.session,
        }
    }

    /// Why the builder could not be set up, when a build needed it and it could not.
    /// What the publish session writes once per run (a directory target's root page).
    pub(crate) async fn finish_publishing(&self) -> Result<(), crate::publish::UploadError> {
        self.session.finish().await
    }

    /// `--jobs`: the slots builds ran in (the rows of the report's timeline).
    pub(crate) fn build_slots(&self) -> usize {
        self.build_slot_count as usize
    }

    pub(crate) fn builder_refusal(&self) -> Option<&SandboxError> {
        self.builder
            .get()
            .and_then(|setup| setup.as_ref().err())
            .map(|e| e.as_ref())
    }

    /// The builder, set up on the first call.
    async fn builder(&self) -> Result<&Builder, &SandboxError> {
        self.builder
            .get_or_init(|| async {
                let made = (self.make_builder)();
                // `-v` names the layer once, with whether builds share a process budget.
                if let (true, Ok(builder)) = (self.settings.verbose, &made) {
                    self.log(&format!("sandbox: {}", builder.sandbox().describe()));
                }
                made
            })
            .await
            .as_ref()
            .map(|b| b.as_ref())
            .map_err(|e| e.as_ref())
    }
}

impl Pipeline<'_> {
    /// Consumes the plan's per-project batches as they arrive: jobs that need nothing are
    /// reported at once, the others are queued for the fetch and build stages, which start
    /// working while later projects are still being planned.
    pub(crate) async fn run<S>(&self, batches: S) -> FillResult
    where
        S: futures::Stream<Item = Result<Vec<JobSlot>, IndexError>>,
    {
        let (fetch_tx, fetch_rx) = futures::channel::mpsc::unbounded::<Unit>();
        let (build_tx, build_rx) = futures::channel::mpsc::unbounded::<Unit>();
        let producer = async {
            let mut immediate: Vec<(Key, JobResult)> = Vec::new();
            let mut batches = std::pin::pin!(batches);
            while let Some(batch) = batches.next().await {
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(error) => {
                        // The plan cannot be finished (the target, or an upstream index
                        // that does not answer as one): stop like a failing target would.
                        self.stop
                            .target_unusable(&format!("the plan could not be finished: {error}"));
                        break;
                    }
                };
                self.progress.planned(batch.len());
                let mut units: BTreeMap<(Action, SafeUrl), Unit> = BTreeMap::new();
                for slot in batch {
                    let job = &slot.job;
                    let outcome = match &job.decision {
                        Decision::Present(_) => Outcome::Present,
                        Decision::Skipped(_) => Outcome::Skipped,
                        Decision::Excluded(_) => Outcome::Excluded,
                        Decision::Unavailable(_) => Outcome::Failed,
                        Decision::Build(chosen) | Decision::Fetch(chosen) => {
                            let chosen = chosen.clone();
                            units
                                .entry((job.action(), chosen.file.url.clone()))
                                .or_insert_with(|| Unit {
                                    chosen,
                                    jobs: Vec::new(),
                                })
                                .jobs
                                .push(slot);
                            continue;
                        }
                    };
                    self.progress.finished(1, outcome);
                    if self.settings.verbose {
                        self.log(&format!(
                            "{outcome:<8} {} ({}): {}",
                            job.label(),
                            job.interpreter.label,
                            job.reason
                        ));
                    }
                    let reason = job.reason.clone();
                    immediate.push((slot.key, JobResult::new(slot.job, outcome, reason)));
                }
                for ((action, _), unit) in units {
                    let queue = if action == Action::Fetch {
                        &fetch_tx
                    } else {
                        &build_tx
                    };
                    queue
                        .unbounded_send(unit)
                        .expect("the stages outlive the planner");
                }
            }
            drop(fetch_tx);
            drop(build_tx);
            immediate
        };
        let fetches = fetch_rx
            .map(|unit| async {
                let results = self.fetch_unit(unit).await;
                self.count(&results);
                results
            })
            // Units wait for their host's slots; several hosts may be busy at once.
            .buffer_unordered(self.settings.transfer_concurrency.max(1) * 4)
            .collect::<Vec<_>>();
        let expected = |unit: &Unit| {
            let project = &unit.jobs.first()?.job.project;
            self.build_times.expected(project)
        };
        let builds = schedule::longest_first(build_rx, expected)
            .map(|unit| async {
                let project = unit.jobs.first().map(|slot| slot.job.project.clone());
                let started = Instant::now();
                let results = self.build_unit(unit).await;
                // Only a build that produced a wheel says how long the project takes (a
                // known failure returns at once, a failed build may stop early).
                let built = results
                    .iter()
                    .any(|(_, r)| matches!(r.outcome, Outcome::Built | Outcome::Fetched));
                if let (true, Some(project)) = (built, project) {
                    self.build_times.record(&project, started.elapsed());
                }
                self.count(&results);
                results
            })
            .buffer_unordered(self.build_slots.available_permits().max(1))
            .collect::<Vec<_>>();
        let (immediate, fetched, built) = futures::future::join3(producer, fetches, builds).await;
        let mut results: Vec<(Key, JobResult)> = immediate
            .into_iter()
            .chain(fetched.into_iter().flatten())
            .chain(built.into_iter().flatten())
            .collect();
        results.sort_by_key(|(key, _)| *key);
        self.progress.finish();
        FillResult {
            results: results.into_iter().map(|(_, r)| r).collect(),
        }
    }

    async fn fetch_unit(&self, unit: Unit) -> Vec<(Key, JobResult)> {
        let started = Instant::now();
        let first = &unit.jobs[0].job;
        if let Some(reason) = self.stop.reason() {
            return all_jobs(&unit.jobs, Outcome::NotRun, reason.not_attempted(), started);
        }
        let file = &unit.chosen.file;
        let stored = match self.download(first, file).await {
            Ok(stored) => stored,
            Err(e) => {
                self.log(&format!("failed   {}: {e}", file.filename));
                return all_jobs(&unit.jobs, Outcome::Failed, &e.to_string(), started);
            }
        };
        let (passed, mut out) = self.check_hashes(unit.jobs, &stored, started).await;
        out.extend(self.deliver(&passed, &stored, None, started).await);
        out
    }

    /// pip's hash-checking: every job must match its own requirement's `--hash`es (they are
    /// hashes of the downloaded archive). Returns the jobs that passed and results for the rest.
    async fn check_hashes(
        &self,
        jobs: Vec<JobSlot>,
        stored: &StoredFile,
        started: Instant,
    ) -> (Vec<JobSlot>, Vec<(Key, JobResult)>) {
        let mut passed = Vec::new();
        let mut failed = Vec::new();
        for slot in jobs {
            let entry = &self.requirements.requirements[slot.job.entry];
            let expected = Expected {
                index_sha256: None,
                size: None,
                requirement_hashes: entry.hashes.clone(),
                requirement_origin: entry.origin.to_string(),
            };
            match check_requirement_hashes(&stored.path, &stored.filename, &expected).await {
                Ok(()) => passed.push(slot),
                Err(e) => {
                    failed.extend(all_jobs(&[slot], Outcome::Failed, &e.to_string(), started))
                }
            }
        }
        (passed, failed)
    }

    /// Uploads a wheel that is in the store (downloaded, or built when `build_log` is given)
    /// and gives every job it serves its result.
    async fn deliver(
        &self,
        jobs: &[JobSlot],
        stored: &StoredFile,
        build_log: Option<&str>,
        started: Instant,
    ) -> Vec<(Key, JobResult)> {
        if jobs.is_empty() {
            return Vec::new();
        }
        let wheel = {
            let path = stored.path.clone();
            tokio::task::spawn_blocking(move || read_wheel(&path))
                .await
                .expect("wheel reading does not panic")
        };
        let wheel = match wheel {
            Ok(w) => w,
            Err(e) => {
                let detail = format!("the wheel {} is invalid: {e}", stored.filename);
                let mut failed = all_jobs(jobs, Outcome::Failed, &detail, started);
                for (_, result) in &mut failed {
                    result.built = build_log.is_some();
                }
                return failed;
            }
        };
        let published = if self.settings.no_upload {
            None
        } else {
            Some(self.session.publish(stored, &wheel).await)
        };
        jobs.iter()
            .map(|slot| {
                let mut result = JobResult::new(slot.job.clone(), Outcome::Failed, String::new());
                result.duration = started.elapsed();
                result.log_tail = build_log.map(String::from);
                result.built = build_log.is_some();
                let succeeded = |result: &mut JobResult, outcome, detail| {
                    result.outcome = outcome;
                    // A successful build's log is not news; keep it for failures only.
                    result.log_tail = None;
                    result.detail = detail;
                    result.sha256 = Some(stored.sha256.to_string());
                };
                match &published {
                    None => succeeded(
                        &mut result,
                        Outcome::Fetched,
                        format!("kept in the store: {}", stored.path.display()),
                    ),
                    Some(Ok(published)) => {
                        let outcome = match (published.outcome, build_log.is_some()) {
                            (UploadOutcome::AlreadyPresent, _) => Outcome::Present,
                            (UploadOutcome::Uploaded, true) => Outcome::Built,
                            (UploadOutcome::Uploaded, false) => Outcome::Uploaded,
                        };
                        succeeded(&mut result, outcome, published.detail());
                        result.attempts = published.attempts.sent;
                        result.retries = published.attempts.retries.clone();
                    }
                    Some(Err(error)) => {
                        result.outcome = match error {
                            PublishError::NotAttempted(_) => Outcome::NotRun,
                            _ => Outcome::Failed,
                        };
                        result.detail = error.to_string();
                        let attempts = error.attempts();
                        result.attempts = attempts.sent;
                        result.retries = attempts.retries;
                    }
                }
                (slot.key, result)
            })
            .collect()
    }

    /// Downloads into the store, retrying transient failures ([`crate::retry`]).
    async fn download(&self, job: &Job, file: &JobFile) -> Result<StoredFile, StoreError> {
        let url = file.url.as_url();
        let entry = &self.requirements.requirements[job.entry];
        let expected = Expected {
            index_sha256: file.sha256.clone(),
            size: file.size,
            requirement_hashes: Vec::new(),
            requirement_origin: entry.origin.to_string(),
        };
        // One retry loop: the store's request itself makes one attempt.
        crate::retry::retrying(self.client.retry_policy(), || async {
            let _permit = self.hosts.permit(url).await;
            self.store
                .fetch(self.client, url, &file.filename, &expected)
                .await
        })
        .await
    }

    fn count(&self, results: &[(Key, JobResult)]) {
        for (_, result) in results {
            self.progress.finished(1, result.outcome);
        }
    }

    fn log(&self, line: &str) {
        self.progress.line(line);
    }
}

/// The same result for every job of a unit.
fn all_jobs(
    jobs: &[JobSlot],
    outcome: Outcome,
    detail: &str,
    started: Instant,
) -> Vec<(Key, JobResult)> {
    jobs.iter()
        .map(|slot| {
            let mut result = JobResult::new(slot.job.clone(), outcome, detail);
            result.duration = started.elapsed();
            (slot.key, result)
        })
        .collect()
}

#[cfg(test)]
mod tests;
