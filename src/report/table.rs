//! The human-readable table: one row per job, then a one-line summary.

use super::outcome::{JobResult, Outcome};
use crate::plan::{Action, Plan};

/// Columns: project, version, interpreter, action, reason. Widths fit the content; the
/// reason column is last so long reasons don't push the others around.
pub(crate) fn render_table(plan: &Plan) -> String {
    let headers = ["PROJECT", "VERSION", "PYTHON", "ACTION", "REASON"];
    let rows: Vec<[String; 5]> = plan
        .jobs
        .iter()
        .map(|job| {
            let mut reason = match job.file() {
                Some(file) if job.action() != Action::Present => {
                    format!("{} ({})", job.reason, file.filename)
                }
                Some(file) => format!("{}: {}", job.reason, file.filename),
                None => job.reason.clone(),
            };
            // Which `[package.NAME]` settings the build uses (or kept it from building).
            if let Some(summary) = job.settings.summary() {
                reason.push_str(&format!("; {summary}"));
            }
            reason.push_str(&via_note(&job.via));
            [
                job.project.to_string(),
                job.version()
                    .map_or_else(|| "-".into(), ToString::to_string),
                job.interpreter.label.clone(),
                job.action().to_string(),
                reason,
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: [&str; 5]| {
        for (i, cell) in cells.iter().enumerate() {
            if i == 4 {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push('\n');
    };
    push_row(headers);
    for row in &rows {
        push_row([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    for line in &plan.unsupported {
        out.push_str(&format!(
            "unsupported: {}: `{}`: {}\n",
            line.origin, line.requirement, line.reason
        ));
    }
    out
}

/// `; via requests 2.31.0, ...` after the reason of a `--deps` job (pip-compile's `# via`).
fn via_note(via: &[String]) -> String {
    if via.is_empty() {
        String::new()
    } else {
        format!("; via {}", via.join(", "))
    }
}

/// `12 jobs: 3 present, 2 fetch, 4 build, 1 skipped, 1 excluded, 1 unavailable`.
pub(crate) fn summary_line(plan: &Plan) -> String {
    let parts: Vec<String> = plan
        .counts()
        .iter()
        .map(|(action, n)| format!("{n} {action}"))
        .collect();
    let mut line = format!("{} jobs: {}", plan.jobs.len(), parts.join(", "));
    if !plan.unsupported.is_empty() {
        line.push_str(&format!("; {} unsupported lines", plan.unsupported.len()));
    }
    line
}

/// The fill summary: counts per outcome, then one line per failed job with its reason.
pub(crate) fn fill_summary(results: &[JobResult]) -> String {
    let parts: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| (o, results.iter().filter(|r| r.outcome == *o).count()))
        .filter(|(o, n)| *n > 0 || !matches!(o, Outcome::NotRun | Outcome::Fetched))
        .map(|(o, n)| format!("{n} {o}"))
        .collect();
    let mut out = format!("{} jobs: {}", results.len(), parts.join(", "));
    // A build whose upload failed (or was not wanted) still ran: say so, or the summary
    // would read "0 built" after an hour of compiling.
    let ran = results.iter().filter(|r| r.built).count();
    let delivered = results
        .iter()
        .filter(|r| r.built && r.outcome == Outcome::Built)
        .count();
    if ran > delivered {
        out.push_str(&format!(
            "; {ran} {} ran, {} not uploaded",
            if ran == 1 { "build" } else { "builds" },
            ran - delivered
        ));
    }
    out.push('\n');
    for r in results.iter().filter(|r| !r.outcome.is_ok()) {
        out.push_str(&format!(
            "  {} {} ({}) [{}]: {}\n",
            r.outcome,
            r.job.label(),
            r.job.interpreter.label,
            r.job.origin,
            r.detail
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Decision, Job};

    /// A job that planned no file: unavailable, for `version` or for no version at all.
    fn job(project: &str, version: Option<&str>, requirement: &str) -> Job {
        Job {
            project: project.parse().unwrap(),
            requirement: requirement.into(),
            origin: "r.txt:1".into(),
            interpreter: crate::interpreter::test_labelled("cp311"),
            decision: Decision::Unavailable(version.map(|v| v.parse().unwrap())),
            reason: String::new(),
            via: Vec::new(),
            settings: Default::default(),
            entry: 0,
        }
    }

    #[test]
    fn a_range_that_never_resolved_prints_as_written() {
        let results = [JobResult::new(
            job("six", None, "six>=1"),
            Outcome::Failed,
            "upstream has no version matching >=1",
        )];
        let summary = fill_summary(&results);
        assert!(summary.contains("failed six>=1 (cp311)"), "{summary}");
        assert!(!summary.contains("=="), "{summary}");
    }

    #[test]
    fn builds_whose_upload_failed_are_counted() {
        let mut refused = JobResult::new(
            job("ww-charlie", Some("1.0"), "ww-charlie==1.0"),
            Outcome::Failed,
            "refused",
        );
        refused.built = true;
        let mut uploaded = JobResult::new(
            job("ww-golf", Some("1.0"), "ww-golf==1.0"),
            Outcome::Built,
            "uploaded",
        );
        uploaded.built = true;
        let summary = fill_summary(&[refused, uploaded]);
        let first = summary.lines().next().unwrap();
        assert!(first.contains("1 built"), "{first}");
        assert!(first.ends_with("; 2 builds ran, 1 not uploaded"), "{first}");
        assert!(
            summary.contains("failed ww-charlie==1.0 (cp311)"),
            "{summary}"
        );
        // Nothing to add when every build was uploaded.
        let mut only = JobResult::new(job("a", Some("1"), "a==1"), Outcome::Built, "");
        only.built = true;
        assert!(!fill_summary(&[only]).contains("ran"));
    }
}
