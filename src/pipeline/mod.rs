//! The fill pipeline: plan, then acquire and upload every wheel that is missing, each the
//! moment it is ready, with bounded concurrency and single acquisition per file.
//!
//! Jobs that need the same file (a pure wheel for several interpreters, two lines naming the
//! same version) share one download and one upload. A target that stops answering stops the
//! launching of new work: what finished is reported, the rest is `not-run`, and a re-run
//! continues from what the target and the store hold.

mod build;
mod credentials;
mod failures;
mod sources;

pub use failures::FailureMemory;

pub use sources::UpstreamWheels;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use futures::stream::StreamExt;
use pep508_rs::PackageName;
use tokio::sync::Mutex;

use crate::dist::{WheelInfo, read_wheel};
use crate::index::upload::{Attempts, UploadError, UploadOutcome, Uploader};
use crate::index::{IndexError, SafeUrl};
use crate::index::{Target, directory};
use crate::plan::{Action, Chosen, Decision, Job, JobFile, JobSlot};
use crate::report::{JobResult, Outcome, Progress};
use crate::setup::Context;
use crate::store::{Expected, Store, StoreError, StoredFile, check_requirement_hashes};

/// Why the run stopped launching work.
pub const STOP_NONE: u8 = 0;
pub const STOP_TARGET: u8 = 1;
pub const STOP_SIGINT: u8 = 2;
pub const STOP_SIGTERM: u8 = 3;

pub struct FillSettings {
    /// `-v`: a line for every job, also those that need nothing.
    pub verbose: bool,
    pub no_upload: bool,
    pub transfer_concurrency: usize,
    pub retries: u32,
}

pub struct FillResult {
    pub results: Vec<JobResult>,
    /// Set when the target became unusable; the message says why.
    pub target_failure: Option<String>,
}

pub struct Pipeline<'a> {
    pub ctx: &'a Context,
    pub store: Store,
    pub settings: FillSettings,
    /// One of the `STOP_*` values; set by the signal handler or a failing target.
    pub stop: Arc<AtomicU8>,
    /// Cancelled together with `stop`: running builds are killed (their process groups).
    pub cancel: tokio_util::sync::CancellationToken,
    pub progress: Progress,
    /// Set up on the first build (or before anything with `--sandbox required`).
    pub builder: tokio::sync::OnceCell<Result<crate::build::Builder, String>>,
    pub make_builder: Box<dyn Fn() -> Result<crate::build::Builder, String> + Send + Sync + 'a>,
    /// `--jobs`: builds at once.
    pub build_slots: tokio::sync::Semaphore,
    pub interpreters: Vec<Arc<crate::interpreter::Interpreter>>,
    pub failures: FailureMemory,
    /// The target's devpi policies, read before the first build or upload.
    pub target_policy: tokio::sync::OnceCell<Result<Option<crate::policy::TargetPolicy>, String>>,
    pub strict_whitelist: bool,
    /// Projects whose shadowing warning was printed.
    pub warned: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Downloads and uploads at once, per host (`--transfer-concurrency`).
    pub hosts: HostSlots,
    /// devpi logins done so far, by server root.
    pub logins: Mutex<std::collections::HashMap<String, Result<(), String>>>,
    /// The target's (and pure index's) credentials, verified before the first build.
    pub credentials_checked: tokio::sync::OnceCell<Result<(), String>>,
}

/// A semaphore per host, so one slow server does not hold every transfer slot and no
/// server gets more than `per_host` transfers at once.
pub struct HostSlots {
    per_host: usize,
    hosts: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl HostSlots {
    pub fn new(per_host: usize) -> HostSlots {
        HostSlots {
            per_host: per_host.max(1),
            hosts: Default::default(),
        }
    }

    async fn permit(&self, url: &url::Url) -> tokio::sync::OwnedSemaphorePermit {
        let key = url.origin().ascii_serialization();
        let semaphore = {
            let mut hosts = self.hosts.lock().expect("host slots lock");
            Arc::clone(
                hosts
                    .entry(key)
                    .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(self.per_host))),
            )
        };
        semaphore
            .acquire_owned()
            .await
            .expect("host semaphores are never closed")
    }
}

/// Jobs that share one file to acquire: the version they were planned for and its file
/// (the wheel to fetch or the sdist to build).
struct Unit {
    chosen: Chosen,
    jobs: Vec<JobSlot>,
}

/// A job's place in the report (see [`JobSlot`]).
type Key = (usize, usize);

impl Pipeline<'_> {
    /// Consumes the plan's per-project batches as they arrive: jobs that need nothing are
    /// reported at once, the others are queued for the fetch and build stages, which start
    /// working while later projects are still being planned.
    pub async fn run<S>(&self, batches: S) -> FillResult
    where
        S: futures::Stream<Item = Result<Vec<JobSlot>, IndexError>>,
    {
        let target_failure: Mutex<Option<String>> = Mutex::new(None);
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
                        self.stop_for_target(
                            &target_failure,
                            &format!("the plan could not be finished: {error}"),
                        )
                        .await;
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
                            job.interpreter,
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
                let results = self.fetch_unit(unit, &target_failure).await;
                self.count(&results);
                results
            })
            // Units wait for their host's slots; several hosts may be busy at once.
            .buffer_unordered(self.settings.transfer_concurrency.max(1) * 4)
            .collect::<Vec<_>>();
        let builds = build_rx
            .map(|unit| async {
                let results = self.build_unit(unit, &target_failure).await;
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
            target_failure: target_failure.into_inner(),
        }
    }

    async fn fetch_unit(
        &self,
        unit: Unit,
        target_failure: &Mutex<Option<String>>,
    ) -> Vec<(Key, JobResult)> {
        let started = Instant::now();
        let first = &unit.jobs[0].job;
        if let Some(reason) = self.stop_reason() {
            return all_jobs(&unit.jobs, Outcome::NotRun, &reason, started);
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
        out.extend(
            self.deliver(&passed, &stored, None, started, target_failure)
                .await,
        );
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
            let entry = &self.ctx.requirements.requirements[slot.job.entry];
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
        target_failure: &Mutex<Option<String>>,
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
        let upload = if self.settings.no_upload {
            Ok((
                UploadOutcome::Uploaded,
                Attempts::default(),
                format!("kept in the store: {}", stored.path.display()),
            ))
        } else if let Some(reason) = self.stop_reason() {
            Err((reason, Attempts::default()))
        } else {
            self.upload(stored, &wheel, target_failure).await
        };
        jobs.iter()
            .map(|slot| {
                let mut result = JobResult::new(slot.job.clone(), Outcome::Failed, String::new());
                result.duration = started.elapsed();
                result.log_tail = build_log.map(String::from);
                result.built = build_log.is_some();
                match &upload {
                    Ok((outcome, attempts, detail)) => {
                        result.outcome =
                            match (outcome, self.settings.no_upload, build_log.is_some()) {
                                (_, true, _) => Outcome::Fetched,
                                (UploadOutcome::AlreadyPresent, false, _) => Outcome::Present,
                                (UploadOutcome::Uploaded, false, true) => Outcome::Built,
                                (UploadOutcome::Uploaded, false, false) => Outcome::Uploaded,
                            };
                        // A successful build's log is not news; keep it for failures only.
                        result.log_tail = None;
                        result.detail = detail.clone();
                        result.sha256 = Some(stored.sha256.to_string());
                        result.attempts = attempts.sent;
                        result.retries = attempts.retries.clone();
                    }
                    Err((error, attempts)) => {
                        result.outcome =
                            if self.stop_reason().is_some() && error.starts_with("not attempted") {
                                Outcome::NotRun
                            } else {
                                Outcome::Failed
                            };
                        result.detail = error.clone();
                        result.attempts = attempts.sent;
                        result.retries = attempts.retries.clone();
                    }
                }
                (slot.key, result)
            })
            .collect()
    }

    /// Downloads into the store, retrying transient failures with backoff.
    async fn download(&self, job: &Job, file: &JobFile) -> Result<StoredFile, StoreError> {
        let url = file.url.as_url();
        let entry = &self.ctx.requirements.requirements[job.entry];
        let expected = Expected {
            index_sha256: file.sha256.clone(),
            size: file.size,
            requirement_hashes: Vec::new(),
            requirement_origin: entry.origin.to_string(),
        };
        let mut attempt = 0;
        loop {
            let fetched = {
                let _permit = self.hosts.permit(url).await;
                self.store
                    .fetch(&self.ctx.client, url, &file.filename, &expected)
                    .await
            };
            match fetched {
                Err(e) if e.is_transient() && attempt < self.settings.retries => {
                    tokio::time::sleep(self.ctx.client.backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Uploads to the pure index (pure wheels, when one is given) or the target.
    async fn upload(
        &self,
        stored: &StoredFile,
        wheel: &WheelInfo,
        target_failure: &Mutex<Option<String>>,
    ) -> Result<(UploadOutcome, Attempts, String), (String, Attempts)> {
        let destination: &Target = match (&self.ctx.pure_index, wheel.filename.is_pure()) {
            (Some(pure), true) => pure,
            _ => &self.ctx.target,
        };
        let project: PackageName = wheel.filename.name.clone();
        let mut attempts = Attempts::default();
        let mut warning = None;
        if std::ptr::eq(destination, &self.ctx.target) {
            match self.target_checks(target_failure).await {
                Err(message) => return Err((message, attempts)),
                Ok(Some(policy)) => {
                    if let Some(shadowing) = policy.shadowing(&project) {
                        if self.strict_whitelist {
                            return Err((
                                format!("not uploaded (--strict-whitelist): {shadowing}"),
                                attempts,
                            ));
                        }
                        if self
                            .warned
                            .lock()
                            .expect("warned lock")
                            .insert(project.to_string())
                        {
                            self.log(&format!("warning: {shadowing}"));
                        }
                        warning = Some(shadowing);
                    }
                }
                Ok(None) => {}
            }
        }
        if let Target::Devpi(index) = destination
            && let Err(message) = self.login_once(index).await
        {
            self.stop_for_target(target_failure, &message).await;
            return Err((message, attempts));
        }
        let outcome = match destination {
            Target::Directory { path, .. } => {
                let (path, project, stored) = (path.clone(), project.clone(), stored.clone());
                tokio::task::spawn_blocking(move || directory::place(&path, &project, &stored))
                    .await
                    .expect("placing a file does not panic")
            }
            _ => {
                let uploader = Uploader {
                    client: &self.ctx.client,
                    target: destination,
                    credentials: self.ctx.credentials.as_ref(),
                    retries: self.settings.retries,
                };
                let pyversion = wheel.filename.python_tag_field();
                let upload_url = match destination {
                    Target::Devpi(index) => index.upload_url(),
                    Target::Simple { upload, .. } => upload.clone(),
                    Target::Directory { .. } => unreachable!("handled above"),
                };
                let _permit = self.hosts.permit(&upload_url).await;
                // The run may have stopped while this upload waited for its slot.
                if let Some(reason) = self.stop_reason() {
                    return Err((reason, attempts));
                }
                uploader
                    .upload(&project, stored, &wheel.metadata, &pyversion, &mut attempts)
                    .await
            }
        };
        match outcome {
            Ok(outcome) => {
                self.progress.transferred(stored.size, &stored.filename);
                let verb = match outcome {
                    UploadOutcome::Uploaded => "uploaded",
                    UploadOutcome::AlreadyPresent => "present ",
                };
                let retries = if attempts.retries.is_empty() {
                    String::new()
                } else {
                    format!(
                        " after {} retries ({})",
                        attempts.retries.len(),
                        attempts.retries.join(", ")
                    )
                };
                self.log(&format!(
                    "{verb} {} -> {}{retries}",
                    stored.filename,
                    destination.describe()
                ));
                let mut detail = match outcome {
                    UploadOutcome::Uploaded => format!("uploaded to {}", destination.describe()),
                    UploadOutcome::AlreadyPresent => {
                        format!("already on {} with identical bytes", destination.describe())
                    }
                };
                if let Some(warning) = warning {
                    detail.push_str(&format!("; warning: {warning}"));
                }
                Ok((outcome, attempts, detail))
            }
            Err(error) => {
                let message = error.to_string();
                self.log(&format!("failed   {}: {message}", stored.filename));
                if error.target_unusable() {
                    self.stop_for_target(target_failure, &message).await;
                }
                if matches!(error, UploadError::Conflict { .. }) {
                    eprintln!("CONFLICT: {message}");
                }
                Err((message, attempts))
            }
        }
    }

    /// Before the first build or upload: may this user upload to the devpi target at all?
    /// (A run that would end in 403 after an hour of compiling stops at once.) Also reads
    /// what the shadowing check needs. Other targets have no such policies.
    pub(super) async fn target_checks(
        &self,
        target_failure: &Mutex<Option<String>>,
    ) -> Result<Option<&crate::policy::TargetPolicy>, String> {
        let Target::Devpi(index) = &self.ctx.target else {
            return Ok(None);
        };
        let loaded = self
            .target_policy
            .get_or_init(|| async {
                let policy = crate::policy::TargetPolicy::load(&self.ctx.client, index)
                    .await
                    .map_err(|e| format!("cannot read the target's configuration: {e}"))?;
                let user = self.ctx.credentials.as_ref().map(|(user, _)| user.as_str());
                policy.may_upload(user)?;
                Ok(Some(policy))
            })
            .await;
        match loaded {
            Ok(policy) => Ok(policy.as_ref()),
            Err(message) => {
                if target_failure.lock().await.is_none() {
                    self.log(&format!("error: {message}"));
                }
                self.stop_for_target(target_failure, message).await;
                Err(message.clone())
            }
        }
    }

    /// devpi login before the first upload to a server (once per server; all uploads wait
    /// for it). Without credentials there is nothing to do.
    async fn login_once(&self, index: &crate::index::DevpiIndex) -> Result<(), String> {
        let Some((user, password)) = &self.ctx.credentials else {
            return Ok(());
        };
        let mut logins = self.logins.lock().await;
        let origin = index.root.to_string();
        if let Some(done) = logins.get(&origin) {
            return done.clone();
        }
        let proxy_basic = match self.ctx.client.credentials(&index.root) {
            Some(crate::index::Credentials::Basic { user, password }) => Some((user, password)),
            _ => None,
        };
        let result = index
            .login(&self.ctx.client, user, password, proxy_basic)
            .await
            .map_err(|e| e.to_string());
        logins.insert(origin, result.clone());
        result
    }

    /// The target (or the plan) became unusable: remember why (first reason wins), stop
    /// launching work and kill running builds.
    async fn stop_for_target(&self, target_failure: &Mutex<Option<String>>, message: &str) {
        target_failure
            .lock()
            .await
            .get_or_insert_with(|| message.to_string());
        self.stop
            .compare_exchange(STOP_NONE, STOP_TARGET, Ordering::SeqCst, Ordering::SeqCst)
            .ok();
        self.cancel.cancel();
    }

    fn count(&self, results: &[(Key, JobResult)]) {
        for (_, result) in results {
            self.progress.finished(1, result.outcome);
        }
    }

    fn stop_reason(&self) -> Option<String> {
        match self.stop.load(Ordering::SeqCst) {
            STOP_NONE => None,
            STOP_TARGET => Some("not attempted: the run stopped (an index became unusable)".into()),
            _ => Some("not attempted: interrupted".into()),
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
