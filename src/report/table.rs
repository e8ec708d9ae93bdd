//! The human-readable table: one row per job, then a one-line summary.

use super::outcome::{JobResult, Outcome};
use crate::plan::{Action, Plan};

/// Columns: project, version, interpreter, action, reason. Widths fit the content; the
/// reason column is last so long reasons don't push the others around.
pub fn render_table(plan: &Plan) -> String {
    let headers = ["PROJECT", "VERSION", "PYTHON", "ACTION", "REASON"];
    let rows: Vec<[String; 5]> = plan
        .jobs
        .iter()
        .map(|job| {
            [
                job.project.clone(),
                job.version.clone().unwrap_or_else(|| "-".into()),
                job.interpreter.clone(),
                job.action.to_string(),
                match &job.file {
                    Some(file) if job.action != Action::Present => {
                        format!("{} ({})", job.reason, file.filename)
                    }
                    Some(file) => format!("{}: {}", job.reason, file.filename),
                    None => job.reason.clone(),
                },
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

/// `12 jobs: 3 present, 2 fetch, 4 build, 1 skipped, 1 excluded, 1 unavailable`.
pub fn summary_line(plan: &Plan) -> String {
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
pub fn fill_summary(results: &[JobResult]) -> String {
    let parts: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| (o, results.iter().filter(|r| r.outcome == *o).count()))
        .filter(|(o, n)| *n > 0 || !matches!(o, Outcome::NotRun | Outcome::Fetched))
        .map(|(o, n)| format!("{n} {o}"))
        .collect();
    let mut out = format!("{} jobs: {}\n", results.len(), parts.join(", "));
    for r in results.iter().filter(|r| !r.outcome.is_ok()) {
        out.push_str(&format!(
            "  {} {}=={} ({}) [{}]: {}\n",
            r.outcome,
            r.job.project,
            r.job.version.as_deref().unwrap_or("-"),
            r.job.interpreter,
            r.job.origin,
            r.detail
        ));
    }
    out
}
