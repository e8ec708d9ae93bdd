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
mod matrix;
pub(crate) mod timeline;

use std::path::Path;

use escape::Html;

use super::view::{JobView, Kind, ReportView, duration_text, utc_text};
use crate::plan::Action;

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

    failures(&mut html, report);
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
    jobs(&mut html, report);
    provenance(&mut html, report);
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

/// Failed jobs of one `project version` that failed for the same reason, together.
struct FailureGroup<'a> {
    jobs: Vec<&'a JobView>,
}

fn failure_groups(report: &ReportView) -> Vec<FailureGroup<'_>> {
    let mut groups: Vec<FailureGroup> = Vec::new();
    for job in report.failures() {
        let same = |g: &&mut FailureGroup| {
            let first = g.jobs[0];
            first.label() == job.label() && first.why() == job.why()
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(group) => group.jobs.push(job),
            None => groups.push(FailureGroup { jobs: vec![job] }),
        }
    }
    groups
}

fn failures(html: &mut Html, report: &ReportView) {
    let groups = failure_groups(report);
    html.open("section", &[("id", "failures")]);
    html.element(
        "h2",
        &[],
        &format!("Failures ({})", report.failures().count()),
    );
    if groups.is_empty() {
        html.element("p", &[("class", "none")], "No job failed.");
    }
    for group in groups {
        let first = group.jobs[0];
        let environments: Vec<String> = group
            .jobs
            .iter()
            .map(|j| {
                let python = j
                    .build
                    .as_ref()
                    .and_then(|b| b.interpreter.as_ref())
                    .map(|i| format!(" (Python {})", i.version))
                    .unwrap_or_default();
                format!("{}{python}", j.interpreter)
            })
            .collect();
        html.open("article", &[("class", "failure")]);
        html.open("h3", &[]);
        html.element("span", &[("class", "project")], &first.project);
        html.text(" ");
        html.element(
            "span",
            &[("class", "version")],
            first.version.as_deref().unwrap_or("(no version)"),
        );
        html.element("span", &[("class", "env")], &environments.join(", "));
        html.close("h3");
        if !first.origin.is_empty() {
            html.element(
                "p",
                &[("class", "origin")],
                &format!("requested by {} ({})", first.origin, first.requirement),
            );
        }
        html.element("p", &[("class", "decisive")], first.why());
        if let Some(missing) = first.build.as_ref().and_then(|b| b.missing.as_ref()) {
            html.open("p", &[("class", "missing")]);
            html.element("strong", &[], "Missing: ")
                .text(&missing.summary);
            if let Some(package) = &missing.debian {
                html.text(" — install ");
                html.element("code", &[], package);
                html.text(" in the build image.");
            }
            html.close("p");
        }
        if let Some(detail) = first.detail.as_deref().filter(|d| *d != first.why()) {
            html.element("p", &[("class", "detail")], detail);
        }
        if let Some(tail) = &first.log_tail {
            html.open("details", &[("class", "log")]);
            html.element("summary", &[], "The build log's last lines");
            html.element("pre", &[], tail);
            html.close("details");
        }
        for job in &group.jobs {
            if let Some(log) = job.build.as_ref().and_then(|b| b.log.as_ref()) {
                html.open("p", &[("class", "logpath")]).text("Full log: ");
                html.element("code", &[], log).close("p");
            }
        }
        html.close("article");
    }
    html.close("section");
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

/// Every job, one table per action (the plan's decision), folded where long and dull.
fn jobs(html: &mut Html, report: &ReportView) {
    html.open("section", &[("id", "jobs")]);
    html.element("h2", &[], "All jobs");
    for action in Action::ALL {
        let jobs: Vec<&JobView> = report.jobs.iter().filter(|j| j.action == action).collect();
        if jobs.is_empty() {
            continue;
        }
        let open = matches!(action, Action::Build | Action::Unavailable) && jobs.len() <= 200;
        let mut attrs: Vec<(&'static str, &str)> = vec![("class", "jobs")];
        if open {
            attrs.push(("open", ""));
        }
        html.open("details", &attrs);
        html.element("summary", &[], &format!("{action} ({})", jobs.len()));
        html.open("table", &[]).open("thead", &[]).open("tr", &[]);
        for head in [
            "project",
            "version",
            "environment",
            "result",
            "detail",
            "time",
        ] {
            html.element("th", &[], head);
        }
        html.close("tr").close("thead").open("tbody", &[]);
        for job in jobs {
            let class = if job.is_failing() { "bad" } else { "" };
            html.open("tr", &[("class", class)]);
            html.element("td", &[], &job.project);
            html.element("td", &[], job.version.as_deref().unwrap_or(""));
            html.element("td", &[], &job.interpreter);
            html.element("td", &[], job.word());
            html.element(
                "td",
                &[("class", "detail")],
                job.detail.as_deref().unwrap_or(&job.reason),
            );
            let time = job.duration.map(duration_text).unwrap_or_default();
            html.element("td", &[("class", "num")], &time);
            html.close("tr");
        }
        html.close("tbody").close("table").close("details");
    }
    if !report.unsupported.is_empty() {
        html.open("details", &[("class", "jobs")]);
        html.element(
            "summary",
            &[],
            &format!("unsupported lines ({})", report.unsupported.len()),
        );
        html.open("ul", &[]);
        for line in &report.unsupported {
            html.element(
                "li",
                &[],
                &format!("{}: {} ({})", line.origin, line.requirement, line.reason),
            );
        }
        html.close("ul").close("details");
    }
    html.close("section");
}

/// Each wheel built here: what it was built from and how (the JSON report's `build`).
fn provenance(html: &mut Html, report: &ReportView) {
    let mut seen: Vec<&str> = Vec::new();
    html.open("section", &[("id", "provenance")]);
    html.element("h2", &[], "Provenance of the built wheels");
    for job in &report.jobs {
        let Some(build) = &job.build else { continue };
        let Some(wheel) = &build.wheel else { continue };
        if seen.contains(&wheel.filename.as_str()) {
            continue;
        }
        seen.push(&wheel.filename);
        html.open("details", &[("class", "provenance")]);
        html.open("summary", &[]);
        html.element("code", &[], &wheel.filename).close("summary");
        html.open("dl", &[]);
        let mut row = |term: &str, value: &str| {
            html.element("dt", &[], term).element("dd", &[], value);
        };
        row("wheel sha256", wheel.sha256.as_deref().unwrap_or(""));
        if let Some(sdist) = &build.sdist {
            row("sdist", &sdist.filename);
            row("sdist sha256", sdist.sha256.as_deref().unwrap_or(""));
            row("sdist from", sdist.url.as_deref().unwrap_or(""));
        }
        if let Some(i) = &build.interpreter {
            row(
                "interpreter",
                &format!("{} (Python {}, {})", i.label, i.version, i.path),
            );
        }
        row("sandbox", &build.sandbox);
        if let Some(epoch) = build.source_date_epoch {
            row("SOURCE_DATE_EPOCH", &epoch.to_string());
        }
        row("build time", &duration_text(build.duration));
        if let Some(log) = &build.log {
            row("build log", log);
        }
        let environment: Vec<&str> = build
            .environment
            .iter()
            .map(|w| w.filename.as_str())
            .collect();
        row(
            "build environment",
            &if environment.is_empty() {
                "(nothing installed)".to_string()
            } else {
                environment.join(", ")
            },
        );
        html.close("dl").close("details");
    }
    if seen.is_empty() {
        html.element("p", &[("class", "none")], "No wheel was built.");
    }
    html.close("section");
}

#[cfg(test)]
mod tests;
