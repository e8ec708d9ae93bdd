//! The failures section, first after the verdict: per failing project and version (the
//! environments that failed the same way together), the decisive log line, the missing
//! system package, where it was requested, the log's tail folded and each full log's path.

use super::escape::Html;
use crate::report::view::{JobView, ReportView};

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

pub(super) fn render(html: &mut Html, report: &ReportView) {
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
