//! The JSON report (`--report-json`), schema 1:
//! `{"schema": 1, "target": ..., "jobs": [...], "unsupported": [...], "summary": {...},
//! "run": {...}}`. Fields are only ever added to schema 1, never changed.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use serde_json::{Value, json};

use super::outcome::{JobResult, Outcome};
use super::provenance::unix_seconds;
use crate::plan::{Plan, UnsupportedLine};

/// `run` of both reports: when the run started and finished (Unix seconds, see
/// `provenance::unix_seconds`), the exit code it ended with, and for `fill` its `--jobs`
/// build slots (the rows of the HTML report's timeline).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunInfo {
    #[serde(serialize_with = "unix_seconds")]
    pub started: SystemTime,
    #[serde(serialize_with = "unix_seconds")]
    pub finished: SystemTime,
    pub exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_slots: Option<usize>,
}

pub(crate) fn plan_json(plan: &Plan, run: &RunInfo) -> Value {
    let summary: serde_json::Map<String, Value> = plan
        .counts()
        .into_iter()
        .map(|(action, n)| (action.to_string(), json!(n)))
        .collect();
    json!({
        "schema": 1,
        "target": plan.target,
        "jobs": plan.jobs,
        "unsupported": plan.unsupported,
        "summary": summary,
        "run": run,
    })
}

/// The fill report: the plan's schema plus, per job, `outcome`, `detail`, `sha256`,
/// `attempts`, `retries`, `duration` (seconds), `built` (when this run built the wheel,
/// even if its upload then failed; `summary.builds` counts those) and, for jobs whose build
/// ran here, `build`: its provenance (see `provenance::BuildInfo`).
pub(crate) fn fill_json(
    target: &str,
    results: &[JobResult],
    unsupported: &[UnsupportedLine],
    stopped: Option<&str>,
    run: &RunInfo,
) -> Value {
    let mut summary: serde_json::Map<String, Value> = Outcome::ALL
        .iter()
        .map(|o| {
            (
                o.to_string(),
                json!(results.iter().filter(|r| r.outcome == *o).count()),
            )
        })
        .collect();
    // Builds that ran, uploaded or not (jobs with `"built": true`).
    summary.insert(
        "builds".into(),
        json!(results.iter().filter(|r| r.built).count()),
    );
    json!({
        "schema": 1,
        "target": target,
        "jobs": results,
        "unsupported": unsupported,
        "summary": summary,
        "stopped": stopped,
        "run": run,
    })
}

pub(crate) fn write_json_atomically(path: &Path, value: &Value) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    write_atomically(path, &text)
}

/// Writes next to the destination and renames, so a reader never sees half a report.
pub(crate) fn write_atomically(path: &Path, content: &[u8]) -> std::io::Result<()> {
    write_atomically_as(path, content, 0o600)
}

/// [`write_atomically`] for pages meant to be published (the HTML report a web server may
/// serve as its own user): `0644` within the umask, not a temp file's `0600`.
pub(crate) fn write_published(path: &Path, content: &[u8]) -> std::io::Result<()> {
    write_atomically_as(path, content, 0o644)
}

fn write_atomically_as(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    tmp.write_all(content)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
