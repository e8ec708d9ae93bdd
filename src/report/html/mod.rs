//! The HTML report (`--report-html DIR`, `report html`): `DIR/index.html` and
//! `DIR/report.css`, nothing else and nothing fetched. The page renders fully under the
//! Content-Security-Policy that Jenkins' HTML Publisher plugin sends by default,
//! `sandbox; default-src 'none'; img-src 'self'; style-src 'self';`: no script, no `style`
//! attribute or element (the one stylesheet is a file beside the page), no `data:` URI;
//! charts are inline SVG with presentation attributes, and what is folded is a native
//! `<details>`.
//!
//! Sections, in the order the morning-after questions come: the verdict, the failures, the
//! build timeline, the environment matrix, the changes since `--previous`, every job by
//! action, and each built wheel's provenance.

mod changes;
pub(crate) mod escape;
mod failures;
mod matrix;
mod tables;
pub(crate) mod timeline;

use std::path::Path;

use escape::Html;

use super::view::{Kind, ReportView, duration_text, utc_text};

/// The stylesheet beside the page (`style-src 'self'`).
pub(crate) const STYLESHEET: &str = include_str!("report.css");
pub(crate) const STYLESHEET_NAME: &str = "report.css";

#[derive(Debug, thiserror::Error)]
#[error("cannot write the HTML report into {dir}: {error}")]
pub(crate) struct WriteError {
    pub dir: String,
    pub error: std::io::Error,
}

/// Writes `index.html` and the stylesheet into `dir` (created when missing), each
/// atomically.
pub(crate) fn write(
    dir: &Path,
    report: &ReportView,
    previous: Option<&ReportView>,
) -> Result<(), WriteError> {
    let fail = |error| WriteError {
        dir: dir.display().to_string(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    super::write_published(&dir.join(STYLESHEET_NAME), STYLESHEET.as_bytes()).map_err(fail)?;
    super::write_published(&dir.join("index.html"), render(report, previous).as_bytes())
        .map_err(fail)
}

/// The page.
pub(crate) fn render(report: &ReportView, previous: Option<&ReportView>) -> String {
    let mut html = Html::default();
    let command = match report.kind {
        Kind::Fill => "fill",
        Kind::Plan => "plan",
    };
    let title = format!("wheelwright {command}: {}", report.target);
    html.markup("<!DOCTYPE html>\n");
    html.open("html", &[("lang", "en")]).open("head", &[]);
    html.empty("meta", &[("charset", "utf-8")]);
    html.empty(
        "meta",
        &[
            ("name", "viewport"),
            ("content", "width=device-width, initial-scale=1"),
        ],
    );
    html.element("title", &[], &title);
    html.empty("link", &[("rel", "stylesheet"), ("href", STYLESHEET_NAME)]);
    html.close("head").open("body", &[]).open("main", &[]);
    html.open("header", &[]);
    html.element("h1", &[], &format!("wheelwright {command}"));
    html.open("p", &[("class", "target")]).text("target ");
    html.element("code", &[], &report.target);
    if let Some(run) = &report.run {
        html.text(&format!(" · started {}", utc_text(run.started)));
    }
    html.close("p");
    verdict(&mut html, report);
    html.close("header");

    failures::render(&mut html, report);
    html.open("section", &[("id", "timeline")]);
    html.element("h2", &[], "Build timeline");
    match timeline::timeline(report) {
        Some(chart) => {
            timeline_summary(&mut html, &chart, report.wall_seconds());
            timeline::render(&mut html, &chart);
            html.open("p", &[("class", "legend")]);
            html.element("span", &[("class", "key key-run")], "")
                .text(" ran ");
            html.element("span", &[("class", "key key-failed")], "")
                .text(" failed ");
            html.element("span", &[("class", "key key-wait")], "")
                .text(" waited for a slot; the outlined bar is the longest build.");
            html.close("p");
        }
        None => {
            html.element("p", &[("class", "none")], "No build ran.");
        }
    }
    html.close("section");
    matrix::render(&mut html, report);
    changes::render(&mut html, report, previous);
    tables::jobs(&mut html, report);
    tables::provenance(&mut html, report);
    html.close("main").close("body").close("html");
    html.markup("\n");
    html.finish()
}

/// The exit code and what it means, the counts, the wall time.
fn verdict(html: &mut Html, report: &ReportView) {
    let failing = report.failures().count();
    let (code, meaning) = match (&report.run, report.kind) {
        (Some(run), Kind::Plan) if run.exit_code == 0 => (Some(0), "the plan could be made"),
        (Some(run), _) => (Some(run.exit_code), crate::exit::meaning(run.exit_code)),
        (None, _) if failing > 0 => (None, "some jobs failed"),
        (None, _) => (None, "no job failed"),
    };
    let ok = code.map_or(failing == 0, |c| c == 0);
    let class = if ok { "verdict ok" } else { "verdict bad" };
    html.open("p", &[("class", class)]);
    let head = match code {
        Some(code) => format!("exit {code}: {meaning}"),
        None => meaning.to_string(),
    };
    html.element("strong", &[], &head);
    let counts: Vec<String> = report
        .counts()
        .into_iter()
        .map(|(word, n)| format!("{n} {word}"))
        .collect();
    html.text(&format!(" — {} jobs", report.jobs.len()));
    if !counts.is_empty() {
        html.text(&format!(" ({})", counts.join(", ")));
    }
    if let Some(wall) = report.wall_seconds() {
        html.text(&format!(" in {}", duration_text(wall)));
    }
    html.close("p");
    if let Some(stopped) = &report.stopped {
        html.element(
            "p",
            &[("class", "stopped")],
            &format!("The run stopped: {stopped}"),
        );
    }
    for warning in &report.warnings {
        html.element("p", &[("class", "warning")], &format!("Warning: {warning}"));
    }
}

fn timeline_summary(html: &mut Html, chart: &timeline::Timeline, wall: Option<f64>) {
    let wall = wall.unwrap_or(chart.span);
    let total_run: f64 = chart.bars.iter().map(timeline::Bar::ran).sum();
    let total_wait: f64 = chart
        .bars
        .iter()
        .map(|b| (b.started - b.queued).max(0.0))
        .sum();
    let share = |part: f64| {
        if wall > 0.0 {
            (part / wall * 100.0).round().min(100.0)
        } else {
            0.0
        }
    };
    html.open("p", &[("class", "summary")]);
    html.text(&format!(
        "{} builds in {} slots. Builds ran during {}% of the wall time ({} of {}); the slots \
         were busy {}% of it. Waiting for a slot: {} in total.",
        chart.bars.len(),
        chart.slots,
        share(chart.busy()),
        duration_text(chart.busy()),
        duration_text(wall),
        share(total_run / chart.slots as f64),
        duration_text(total_wait),
    ));
    if let Some(longest) = chart.longest() {
        html.text(" Longest build: ");
        html.element("strong", &[], &longest.label);
        html.text(&format!(", {}.", duration_text(longest.ran())));
    }
    html.close("p");
}

#[cfg(test)]
mod tests;
