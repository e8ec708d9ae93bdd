//! What happened to each job in a fill, as every report shows it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub(crate) use super::provenance::BuildInfo;
use crate::plan::Job;

/// The outcome words of `--report-json` (scripts match on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
    /// Was already on the target (or the pure index) before this run touched it.
    Present,
    /// Downloaded from upstream and uploaded.
    Uploaded,
    /// Built from the sdist and uploaded.
    Built,
    /// Downloaded (or built) but not uploaded (`--no-upload`).
    Fetched,
    Excluded,
    Skipped,
    Failed,
    /// Not attempted because the run stopped (target unusable, interrupted).
    NotRun,
}

impl Outcome {
    pub(crate) const ALL: [Outcome; 8] = [
        Outcome::Present,
        Outcome::Uploaded,
        Outcome::Built,
        Outcome::Fetched,
        Outcome::Excluded,
        Outcome::Skipped,
        Outcome::Failed,
        Outcome::NotRun,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Present => "present",
            Outcome::Uploaded => "uploaded",
            Outcome::Built => "built",
            Outcome::Fetched => "fetched",
            Outcome::Excluded => "excluded",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::NotRun => "not-run",
        }
    }

    /// Whether the requested wheel is where it should be (or was not wanted).
    pub(crate) fn is_ok(self) -> bool {
        !matches!(self, Outcome::Failed | Outcome::NotRun)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct JobResult {
    #[serde(flatten)]
    pub job: Job,
    pub outcome: Outcome,
    /// Why, in words (the failure reason, or where the wheel is).
    pub detail: String,
    /// sha256 of the wheel now on the target (uploaded or found).
    pub sha256: Option<String>,
    /// Uploads sent (0 when nothing had to be sent).
    pub attempts: u32,
    /// One entry per retry: why it was needed.
    pub retries: Vec<String>,
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
    /// Tail of the build log, for failed builds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<String>,
    /// The log line that explains a failed build (also in `detail`), when one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisive: Option<String>,
    /// This run built the job's wheel, whatever became of its upload.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub built: bool,
    /// How the wheel was built (its provenance, see `provenance`), for jobs whose wheel was
    /// (or was to be) built here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildInfo>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl JobResult {
    pub(crate) fn new(job: Job, outcome: Outcome, detail: impl Into<String>) -> JobResult {
        JobResult {
            job,
            outcome,
            detail: detail.into(),
            sha256: None,
            attempts: 0,
            retries: Vec::new(),
            duration: Duration::ZERO,
            log_tail: None,
            decisive: None,
            build: None,
            built: false,
        }
    }
}
