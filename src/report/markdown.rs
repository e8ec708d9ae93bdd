//! `--report-markdown FILE` (and `report markdown`): a short summary for a CI job's page,
//! GitHub Actions' `$GITHUB_STEP_SUMMARY` or a GitLab merge-request note. The verdict, the
//! failures with their decisive lines, the changes since `--previous`, and the environment
//! matrix, without links (the page it lands on has nothing to link to). Rendered from the
//! same model as the HTML report.
//!
//! Outside text (names, log lines) is escaped for CommonMark: each character that could
//! start markup (emphasis, links, raw HTML, tables, GitHub's `$` maths) gets a backslash,
//! which CommonMark defines as the literal character; log lines and the target go into code
//! spans, where nothing is markup and nothing is linked.

use std::fmt::Write;

use super::view::changes::{Item, changes};
use super::view::matrix::matrix;
use super::view::{Kind, ReportView, duration_text};

/// Escapes text for CommonMark (and GitHub's tables): markup characters backslashed, line
/// breaks and control characters as spaces.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>|~&!#$".contains(c) {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn render(report: &ReportView, previous: Option<&ReportView>) -> String {
    let mut md = String::new();
    let command = match report.kind {
        Kind::Fill => "fill",
        Kind::Plan => "plan",
    };
    let failing = report.failures().count();
    let (ok, head) = match &report.run {
        Some(run) if report.kind == Kind::Plan && run.exit_code == 0 => {
            (true, "exit 0: the plan could be made".to_string())
        }
        Some(run) => (
            run.exit_code == 0,
            format!(
                "exit {}: {}",
                run.exit_code,
                crate::exit::meaning(run.exit_code)
            ),
        ),
        None if failing > 0 => (false, "some jobs failed".to_string()),
        None => (true, "no job failed".to_string()),
    };
    let mark = if ok { "✅" } else { "❌" };
    let _ = writeln!(md, "## {mark} wheelwright {command}: {head}\n");
    let counts: Vec<String> = report
        .counts()
        .into_iter()
        .map(|(word, n)| format!("{n} {word}"))
        .collect();
    let _ = write!(md, "{} jobs", report.jobs.len());
    if !counts.is_empty() {
        let _ = write!(md, " ({})", counts.join(", "));
    }
    if let Some(wall) = report.wall_seconds() {
        let _ = write!(md, " in {}", duration_text(wall));
    }
    let _ = writeln!(md, " on {}\n", code(&report.target));
    if let Some(stopped) = &report.stopped {
        let _ = writeln!(md, "**The run stopped:** {}\n", escape(stopped));
    }

    if failing > 0 {
        let _ = writeln!(md, "### Failures ({failing})\n");
        for job in report.failures() {
            let _ = write!(
                md,
                "- **{}** ({}): {}",
                escape(&job.label()),
                escape(&job.interpreter),
                code(job.why())
            );
            if let Some(missing) = job.build.as_ref().and_then(|b| b.missing.as_ref()) {
                let _ = write!(md, " — {}", escape(&missing.summary));
            }
            md.push('\n');
        }
        md.push('\n');
    }

    if let Some(previous) = previous {
        let changes = changes(report, previous);
        let _ = writeln!(md, "### Changes since the previous report\n");
        if changes.is_empty() {
            md.push_str("Nothing changed.\n");
        }
        for (title, items) in [
            ("Newly failing", &changes.newly_failing),
            ("Fixed", &changes.fixed),
            ("Newly uploaded", &changes.uploaded),
        ] {
            if !items.is_empty() {
                let _ = writeln!(md, "- {title}: {}", items_text(items));
            }
        }
        if !changes.versions.is_empty() {
            let versions: Vec<String> = changes
                .versions
                .iter()
                .map(|c| {
                    format!(
                        "{} {} → {}",
                        escape(&c.project),
                        escape(&c.before.join(", ")),
                        escape(&c.after.join(", "))
                    )
                })
                .collect();
            let _ = writeln!(md, "- Versions changed: {}", versions.join("; "));
        }
        md.push('\n');
    }

    let matrix = matrix(report);
    if !matrix.rows.is_empty() {
        md.push_str("### Environments\n\n");
        let [fetched, built] = report.acquired_words();
        let _ = writeln!(
            md,
            "| environment | present | {fetched} | {built} | unavailable | failed | missing here |"
        );
        md.push_str("|---|--:|--:|--:|--:|--:|---|\n");
        for row in &matrix.rows {
            let missing: Vec<String> = row.missing.iter().map(|m| escape(m)).collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                escape(&row.environment),
                row.present,
                row.fetched,
                row.built,
                row.unavailable,
                row.failed,
                missing.join(", ")
            );
        }
    }
    md
}

/// A code span: a fence of more backticks than the text holds in a row, spaces around it
/// (CommonMark strips one each side), line breaks as spaces. Not for table cells (a `|`
/// would end the cell).
pub(crate) fn code(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>();
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    format!("{fence} {flat} {fence}")
}

fn items_text(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| {
            format!(
                "{} ({})",
                escape(&i.label),
                escape(&i.environments.join(", "))
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
