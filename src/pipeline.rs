//! The fill pipeline: plan, then acquire and upload every wheel that is missing, each the
//! moment it is ready, with bounded concurrency and single acquisition per file.
//!
//! Jobs that need the same file (a pure wheel for several interpreters, two lines naming the
//! same version) share one download and one upload. A target that stops answering stops the
//! launching of new work: what finished is reported, the rest is `not-run`, and a re-run
//! continues from what the target and the store hold.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use futures::stream::{self, StreamExt};
use pep508_rs::PackageName;
use tokio::sync::Mutex;

use crate::dist::{WheelInfo, read_wheel};
use crate::index::upload::{Attempts, UploadError, UploadOutcome, Uploader};
use crate::index::{Target, directory};
use crate::plan::{Action, Job, Plan};
use crate::report::{JobResult, Outcome};
use crate::setup::Context;
use crate::store::{Expected, Store, StoreError, StoredFile, check_requirement_hashes};

/// Why the run stopped launching work.
pub const STOP_NONE: u8 = 0;
pub const STOP_TARGET: u8 = 1;
pub const STOP_SIGINT: u8 = 2;
pub const STOP_SIGTERM: u8 = 3;

pub struct FillSettings {
    pub no_upload: bool,
    pub transfer_concurrency: usize,
    pub retries: u32,
    pub quiet: bool,
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
}

/// Jobs that share one file to acquire.
struct Unit {
    url: String,
    jobs: Vec<usize>,
}

impl Pipeline<'_> {
    pub async fn run(&self, plan: &Plan) -> FillResult {
        let target_failure: Mutex<Option<String>> = Mutex::new(None);
        let mut results: Vec<Option<JobResult>> = vec![None; plan.jobs.len()];
        let mut units: BTreeMap<String, Unit> = BTreeMap::new();
        for (i, job) in plan.jobs.iter().enumerate() {
            let immediate = match job.action {
                Action::Present => Some(JobResult::new(
                    job.clone(),
                    Outcome::Present,
                    job.reason.clone(),
                )),
                Action::Skipped => Some(JobResult::new(
                    job.clone(),
                    Outcome::Skipped,
                    job.reason.clone(),
                )),
                Action::Excluded => Some(JobResult::new(
                    job.clone(),
                    Outcome::Excluded,
                    job.reason.clone(),
                )),
                Action::Unavailable => Some(JobResult::new(
                    job.clone(),
                    Outcome::Failed,
                    job.reason.clone(),
                )),
                Action::Build => Some(JobResult::new(
                    job.clone(),
                    Outcome::Failed,
                    format!(
                        "{}; building wheels from sdists is not available in this version",
                        job.reason
                    ),
                )),
                Action::Fetch => None,
            };
            match immediate {
                Some(result) => results[i] = Some(result),
                None => {
                    let url = job.file.as_ref().map(|f| f.url.clone()).unwrap_or_default();
                    units
                        .entry(url.clone())
                        .or_insert_with(|| Unit {
                            url,
                            jobs: Vec::new(),
                        })
                        .jobs
                        .push(i);
                }
            }
        }
        let finished: Vec<Vec<(usize, JobResult)>> = stream::iter(units.into_values())
            .map(|unit| self.fetch_unit(plan, unit, &target_failure))
            .buffer_unordered(self.settings.transfer_concurrency.max(1))
            .collect()
            .await;
        for (i, result) in finished.into_iter().flatten() {
            results[i] = Some(result);
        }
        FillResult {
            results: results
                .into_iter()
                .map(|r| r.expect("every job has a result"))
                .collect(),
            target_failure: target_failure.into_inner(),
        }
    }

    async fn fetch_unit(
        &self,
        plan: &Plan,
        unit: Unit,
        target_failure: &Mutex<Option<String>>,
    ) -> Vec<(usize, JobResult)> {
        let started = Instant::now();
        let first = &plan.jobs[unit.jobs[0]];
        let all = |outcome: Outcome, detail: String| -> Vec<(usize, JobResult)> {
            unit.jobs
                .iter()
                .map(|&i| {
                    let mut r = JobResult::new(plan.jobs[i].clone(), outcome, detail.clone());
                    r.duration = started.elapsed();
                    (i, r)
                })
                .collect()
        };
        if let Some(reason) = self.stop_reason() {
            return all(Outcome::NotRun, reason);
        }
        let file = first.file.as_ref().expect("fetch jobs name a file");
        let stored = match self
            .download(first, &unit.url, &file.filename, file.sha256.clone())
            .await
        {
            Ok(stored) => stored,
            Err(e) => {
                self.log(&format!("failed   {}: {e}", file.filename));
                return all(Outcome::Failed, e.to_string());
            }
        };
        // Every job sharing the file must pass its own requirement's hashes.
        let mut verdicts: BTreeMap<usize, Result<(), String>> = BTreeMap::new();
        for &i in &unit.jobs {
            let entry = &self.ctx.requirements.requirements[plan.jobs[i].entry];
            let expected = Expected {
                index_sha256: None,
                requirement_hashes: entry.hashes.clone(),
                requirement_origin: entry.origin.to_string(),
            };
            verdicts.insert(
                i,
                check_requirement_hashes(&stored.path, &stored.filename, &expected)
                    .await
                    .map_err(|e| e.to_string()),
            );
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
                return all(
                    Outcome::Failed,
                    format!("the downloaded wheel is invalid: {e}"),
                );
            }
        };
        let any_ok = verdicts.values().any(|v| v.is_ok());
        let upload = if !any_ok {
            None
        } else if self.settings.no_upload {
            Some(Ok((
                UploadOutcome::AlreadyPresent,
                Attempts::default(),
                "kept in the store (--no-upload)".to_string(),
            )))
        } else if let Some(reason) = self.stop_reason() {
            Some(Err((reason, Attempts::default())))
        } else {
            Some(self.upload(&stored, &wheel, target_failure).await)
        };
        let mut out = Vec::new();
        for &i in &unit.jobs {
            let mut result = JobResult::new(plan.jobs[i].clone(), Outcome::Failed, String::new());
            result.duration = started.elapsed();
            match (&verdicts[&i], &upload) {
                (Err(hash_error), _) => result.detail = hash_error.clone(),
                (Ok(()), Some(Ok((outcome, attempts, detail)))) => {
                    result.outcome = match (outcome, self.settings.no_upload) {
                        (_, true) => Outcome::Fetched,
                        (UploadOutcome::Uploaded, _) => Outcome::Uploaded,
                        (UploadOutcome::AlreadyPresent, _) => Outcome::Present,
                    };
                    result.detail = detail.clone();
                    result.sha256 = Some(stored.sha256.clone());
                    result.attempts = attempts.sent;
                    result.retries = attempts.retries.clone();
                }
                (Ok(()), Some(Err((error, attempts)))) => {
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
                (Ok(()), None) => {
                    unreachable!("no upload happens only when every hash check failed")
                }
            }
            out.push((i, result));
        }
        out
    }

    /// Downloads into the store, retrying transient failures with backoff.
    async fn download(
        &self,
        job: &Job,
        url: &str,
        filename: &str,
        sha256: Option<String>,
    ) -> Result<StoredFile, StoreError> {
        let url = url::Url::parse(url).map_err(|e| StoreError::Download {
            url: url.to_string(),
            detail: e.to_string(),
            transient: false,
        })?;
        let entry = &self.ctx.requirements.requirements[job.entry];
        let expected = Expected {
            index_sha256: sha256,
            requirement_hashes: Vec::new(),
            requirement_origin: entry.origin.to_string(),
        };
        let mut attempt = 0;
        loop {
            match self
                .store
                .fetch(&self.ctx.client, &url, filename, &expected)
                .await
            {
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
                uploader
                    .upload(&project, stored, &wheel.metadata, &pyversion, &mut attempts)
                    .await
            }
        };
        match outcome {
            Ok(outcome) => {
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
                let detail = match outcome {
                    UploadOutcome::Uploaded => format!("uploaded to {}", destination.describe()),
                    UploadOutcome::AlreadyPresent => {
                        format!("already on {} with identical bytes", destination.describe())
                    }
                };
                Ok((outcome, attempts, detail))
            }
            Err(error) => {
                let message = error.to_string();
                self.log(&format!("failed   {}: {message}", stored.filename));
                if error.target_unusable() {
                    let mut failure = target_failure.lock().await;
                    failure.get_or_insert_with(|| message.clone());
                    self.stop
                        .compare_exchange(
                            STOP_NONE,
                            STOP_TARGET,
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                        )
                        .ok();
                }
                if matches!(error, UploadError::Conflict { .. }) {
                    eprintln!("CONFLICT: {message}");
                }
                Err((message, attempts))
            }
        }
    }

    fn stop_reason(&self) -> Option<String> {
        match self.stop.load(Ordering::SeqCst) {
            STOP_NONE => None,
            STOP_TARGET => Some("not attempted: the target became unusable".into()),
            _ => Some("not attempted: interrupted".into()),
        }
    }

    /// Plain, timestamped progress lines on stderr (CI-friendly).
    fn log(&self, line: &str) {
        if !self.settings.quiet {
            eprintln!("[{}] {line}", timestamp());
        }
    }
}

/// `HH:MM:SS` UTC, without pulling in a date crate.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{:02}:{:02}:{:02}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}
