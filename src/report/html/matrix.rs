//! The environment matrix section: counts per environment, then a grid of the projects
//! missing somewhere (one column per environment).

use super::escape::Html;
use crate::report::view::ReportView;
use crate::report::view::matrix::matrix;

pub(super) fn render(html: &mut Html, report: &ReportView) {
    let matrix = matrix(report);
    html.open("section", &[("id", "matrix")]);
    html.element("h2", &[], "Environments");
    html.open("table", &[("class", "matrix")])
        .open("thead", &[])
        .open("tr", &[]);
    let [fetched, built] = report.acquired_words();
    for head in [
        "environment",
        "present",
        fetched,
        built,
        "unavailable",
        "failed",
        "not wanted",
        "missing here",
    ] {
        html.element("th", &[], head);
    }
    html.close("tr").close("thead").open("tbody", &[]);
    for row in &matrix.rows {
        html.open("tr", &[]);
        html.element("th", &[("scope", "row")], &row.environment);
        for (n, bad) in [
            (row.present, false),
            (row.fetched, false),
            (row.built, false),
            (row.unavailable, true),
            (row.failed, true),
            (row.not_wanted, false),
        ] {
            let class = match (n, bad) {
                (0, _) => "num zero",
                (_, true) => "num bad",
                _ => "num",
            };
            html.element("td", &[("class", class)], &n.to_string());
        }
        html.element("td", &[("class", "missing")], &row.missing.join(", "));
        html.close("tr");
    }
    html.close("tbody").close("table");
    if !matrix.missing.is_empty() {
        html.element("h3", &[], "Missing where");
        html.open("table", &[("class", "grid")])
            .open("thead", &[])
            .open("tr", &[]);
        html.element("th", &[], "project");
        for row in &matrix.rows {
            html.element("th", &[], &row.environment);
        }
        html.close("tr").close("thead").open("tbody", &[]);
        for project in &matrix.missing {
            html.open("tr", &[]);
            html.element("th", &[("scope", "row")], &project.label);
            for standing in &project.standings {
                match standing {
                    Some(s) if s.is_missing() => {
                        html.element("td", &[("class", "cell bad")], s.as_str())
                    }
                    Some(s) => html.element("td", &[("class", "cell ok")], s.as_str()),
                    None => html.element("td", &[("class", "cell")], "—"),
                };
            }
            html.close("tr");
        }
        html.close("tbody").close("table");
    }
    html.close("section");
}
