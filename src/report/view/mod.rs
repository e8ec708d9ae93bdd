//! The typed reading of a JSON report (schema 1) that the HTML and Markdown reports render:
//! `fill --report-html` reads the report it is about to write, `report html` the saved (and
//! merged) ones, so both pages come from one path. Reading is lenient about what it does not
//! render (fields only ever get added to schema 1, and older reports lack `run`,
//! `decisive`, `build.schedule`), strict about the fields every report has.

pub(crate) mod changes;
pub(crate) mod matrix;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::Outcome;
use crate::plan::Action;

#[derive(Debug, thiserror::Error)]
#[error("{file}: not a wheelwright JSON report (schema 1): {error}")]
pub(crate) struct ViewError {
    pub file: String,
    pub error: serde_json::Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plan,
    Fill,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ReportView {
    pub target: String,
    pub jobs: Vec<JobView>,
    #[serde(default)]
    pub unsupported: Vec<UnsupportedView>,
    /// Why a fill stopped launching work (`null` when it finished).
    #[serde(default)]
    pub stopped: Option<String>,
    #[serde(default)]
    pub run: Option<RunView>,
    /// `plan`: what the target's policies say about the uploads.
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(skip, default = "plan_kind")]
    pub kind: Kind,
}

fn plan_kind() -> Kind {
    Kind::Plan
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RunView {
    /// Unix seconds.
    pub started: f64,
    pub finished: f64,
    pub exit_code: u8,
    #[serde(default)]
    pub build_slots: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct UnsupportedView {
    pub origin: String,
    pub requirement: String,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JobView {
    pub project: String,
    pub version: Option<String>,
    #[serde(default)]
    pub requirement: String,
    #[serde(default)]
    pub origin: String,
    pub interpreter: String,
    pub action: Action,
    #[serde(default)]
    pub reason: String,
    /// `fill` only, as are the fields below.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub decisive: Option<String>,
    #[serde(default)]
    pub log_tail: Option<String>,
    /// Seconds.
    #[serde(default)]
    pub duration: Option<f64>,
    #[serde(default)]
    pub build: Option<BuildView>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BuildView {
    #[serde(default)]
    pub sandbox: String,
    #[serde(default)]
    pub sdist: Option<FileView>,
    #[serde(default)]
    pub environment: Vec<FileView>,
    #[serde(default)]
    pub interpreter: Option<InterpreterView>,
    #[serde(default)]
    pub source_date_epoch: Option<u64>,
    #[serde(default)]
    pub duration: f64,
    #[serde(default)]
    pub wheel: Option<FileView>,
    #[serde(default)]
    pub missing: Option<MissingView>,
    #[serde(default)]
    pub log: Option<String>,
    #[serde(default)]
    pub schedule: Option<ScheduleView>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FileView {
    pub filename: String,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InterpreterView {
    pub label: String,
    pub path: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct MissingView {
    #[serde(default)]
    pub debian: Option<String>,
    pub summary: String,
}

/// `build.schedule`: Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub(crate) struct ScheduleView {
    pub slot: usize,
    pub queued: f64,
    pub started: f64,
    pub finished: f64,
}

impl ReportView {
    /// `file` names the report in errors.
    pub(crate) fn from_value(file: &str, value: Value) -> Result<ReportView, ViewError> {
        // `fill` always writes `stopped` (null when the run finished); `plan` never does.
        let fill = value.get("stopped").is_some()
            || value["jobs"]
                .as_array()
                .is_some_and(|jobs| jobs.iter().any(|j| j.get("outcome").is_some()));
        let mut view: ReportView = serde_json::from_value(value).map_err(|error| ViewError {
            file: file.to_string(),
            error,
        })?;
        view.kind = if fill { Kind::Fill } else { Kind::Plan };
        Ok(view)
    }

    pub(crate) fn failures(&self) -> impl Iterator<Item = &JobView> {
        self.jobs.iter().filter(|j| j.is_failing())
    }

    /// Jobs per interpreter label, in the order the labels first appear.
    pub(crate) fn environments(&self) -> Vec<&str> {
        let mut labels: Vec<&str> = Vec::new();
        for job in &self.jobs {
            if !labels.contains(&job.interpreter.as_str()) {
                labels.push(&job.interpreter);
            }
        }
        labels
    }

    /// The matrix's words for fetched and built: a plan has only decided them.
    pub(crate) fn acquired_words(&self) -> [&'static str; 2] {
        match self.kind {
            Kind::Fill => ["fetched", "built"],
            Kind::Plan => ["to fetch", "to build"],
        }
    }

    /// Wall time in seconds, when the report says.
    pub(crate) fn wall_seconds(&self) -> Option<f64> {
        self.run.as_ref().map(|r| (r.finished - r.started).max(0.0))
    }

    /// Jobs counted by the word that describes them (`outcome` for a fill, `action` for a
    /// plan), in the reports' order, leaving out zeros.
    pub(crate) fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts: BTreeMap<(u8, &'static str), usize> = BTreeMap::new();
        for job in &self.jobs {
            let key = match (self.kind, job.outcome) {
                (Kind::Fill, Some(outcome)) => (0, outcome.as_str()),
                _ => (1, job.action.as_str()),
            };
            *counts.entry(key).or_default() += 1;
        }
        let order = |word: &str| {
            Outcome::ALL
                .iter()
                .position(|o| o.as_str() == word)
                .or_else(|| Action::ALL.iter().position(|a| a.as_str() == word))
                .unwrap_or(usize::MAX)
        };
        let mut out: Vec<(&'static str, usize)> =
            counts.into_iter().map(|((_, w), n)| (w, n)).collect();
        out.sort_by_key(|(w, _)| order(w));
        out
    }
}

/// Where a job ended up, as the matrix counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Standing {
    Present,
    Fetched,
    Built,
    /// Nothing fits upstream (plan's `unavailable`).
    Unavailable,
    /// Failed or not run.
    Failed,
    /// Skipped (marker) or excluded: not wanted here.
    NotWanted,
}

impl JobView {
    /// `name version` (or the requirement, when no version was chosen).
    pub(crate) fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.project),
            None => self.requirement.clone(),
        }
    }

    /// Failed or not run (a fill); unavailable (a plan, whose jobs have no outcome).
    pub(crate) fn is_failing(&self) -> bool {
        match self.outcome {
            Some(outcome) => !outcome.is_ok(),
            None => self.action == Action::Unavailable,
        }
    }

    /// Ended well (a fill), or nothing left to do (a plan's `present`, `skipped`, `excluded`).
    pub(crate) fn is_done(&self) -> bool {
        match self.outcome {
            Some(outcome) => outcome.is_ok(),
            None => matches!(
                self.action,
                Action::Present | Action::Skipped | Action::Excluded
            ),
        }
    }

    pub(crate) fn standing(&self) -> Standing {
        match (self.outcome, self.action) {
            (_, Action::Skipped | Action::Excluded) => Standing::NotWanted,
            (_, Action::Unavailable) => Standing::Unavailable,
            (Some(Outcome::Failed | Outcome::NotRun), _) => Standing::Failed,
            (Some(Outcome::Present), _) | (None, Action::Present) => Standing::Present,
            (_, Action::Build) => Standing::Built,
            _ => Standing::Fetched,
        }
    }

    /// The line that says why it failed: the decisive log line, else the detail (or the
    /// plan's reason).
    pub(crate) fn why(&self) -> &str {
        self.decisive
            .as_deref()
            .or(self.detail.as_deref())
            .unwrap_or(&self.reason)
    }

    /// The one word the job table shows.
    pub(crate) fn word(&self) -> &'static str {
        match self.outcome {
            Some(outcome) => outcome.as_str(),
            None => self.action.as_str(),
        }
    }
}

/// `0.4 s`, `12 s`, `3m 05s`, `2h 03m`: a duration as the reports print it.
pub(crate) fn duration_text(seconds: f64) -> String {
    let seconds = seconds.max(0.0);
    if seconds < 10.0 {
        let text = format!("{:.1}", seconds);
        return format!("{} s", text.trim_end_matches(".0"));
    }
    let whole = seconds.round() as u64;
    match whole {
        0..60 => format!("{whole} s"),
        60..3600 => format!("{}m {:02}s", whole / 60, whole % 60),
        _ => format!("{}h {:02}m", whole / 3600, whole % 3600 / 60),
    }
}

/// `2026-12-07 23:49 UTC` from Unix seconds.
pub(crate) fn utc_text(unix: f64) -> String {
    let time = crate::timestamp::Timestamp::from_unix(unix.max(0.0) as i64);
    let (year, month, day, hour, minute, _) = time.utc_fields();
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_read_as_people_write_them() {
        assert_eq!(duration_text(0.04), "0 s");
        assert_eq!(duration_text(2.0), "2 s");
        assert_eq!(duration_text(3.25), "3.2 s");
        assert_eq!(duration_text(42.4), "42 s");
        assert_eq!(duration_text(185.0), "3m 05s");
        assert_eq!(duration_text(7390.0), "2h 03m");
        assert_eq!(utc_text(0.0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_text(1_700_000_000.0), "2023-11-14 22:13 UTC");
        assert_eq!(utc_text(951_782_400.0), "2000-02-29 00:00 UTC");
    }
}
