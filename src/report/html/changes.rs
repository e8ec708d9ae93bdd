//! The changes section: what is new since the report given with `--previous`.

use super::escape::Html;
use crate::report::view::ReportView;
use crate::report::view::changes::{Item, changes};

pub(super) fn render(html: &mut Html, report: &ReportView, previous: Option<&ReportView>) {
    html.open("section", &[("id", "changes")]);
    html.element("h2", &[], "Changes since the previous report");
    let Some(previous) = previous else {
        html.element(
            "p",
            &[("class", "none")],
            "No previous report was given (--previous OLD.json).",
        );
        html.close("section");
        return;
    };
    let changes = changes(report, previous);
    if let Some(run) = &previous.run {
        html.element(
            "p",
            &[],
            &format!(
                "Compared with the run of {}.",
                crate::report::view::utc_text(run.started)
            ),
        );
    }
    if changes.is_empty() {
        html.element("p", &[("class", "none")], "Nothing changed.");
    }
    list(html, "Newly failing", "bad", &changes.newly_failing);
    list(html, "Fixed", "ok", &changes.fixed);
    list(html, "Newly uploaded", "", &changes.uploaded);
    if !changes.versions.is_empty() {
        html.element(
            "h3",
            &[],
            &format!("Versions that changed ({})", changes.versions.len()),
        );
        html.open("ul", &[("class", "changes")]);
        for change in &changes.versions {
            html.open("li", &[]);
            html.element("strong", &[], &change.project);
            html.text(&format!(
                ": {} → {}",
                change.before.join(", "),
                change.after.join(", ")
            ));
            html.close("li");
        }
        html.close("ul");
    }
    html.close("section");
}

fn list(html: &mut Html, title: &str, class: &'static str, items: &[Item]) {
    if items.is_empty() {
        return;
    }
    html.element("h3", &[], &format!("{title} ({})", items.len()));
    html.open("ul", &[("class", "changes")]);
    for item in items {
        html.open("li", &[("class", class)]);
        html.element("strong", &[], &item.label);
        html.text(&format!(" ({})", item.environments.join(", ")));
        html.close("li");
    }
    html.close("ul");
}
