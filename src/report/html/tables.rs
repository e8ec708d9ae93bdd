//! The long, folded sections at the end: every job by action, and each built wheel's
//! provenance (the JSON report's `build`).

use super::escape::Html;
use crate::plan::Action;
use crate::report::view::{JobView, ReportView, duration_text};

/// Every job, one table per action (the plan's decision), folded where long and dull.
pub(super) fn jobs(html: &mut Html, report: &ReportView) {
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
pub(super) fn provenance(html: &mut Html, report: &ReportView) {
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
