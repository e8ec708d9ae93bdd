//! The renderer from in-memory reports: section order, escaping of outside text, and no
//! construct Jenkins' default Content-Security-Policy would refuse.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::render;
use crate::report::markdown;
use crate::report::view::ReportView;

fn job(project: &str, version: &str, interpreter: &str, outcome: &str, action: &str) -> Value {
    json!({"project": project, "version": version, "requirement": format!("{project}=={version}"),
           "origin": "reqs.txt:1", "interpreter": interpreter, "action": action, "reason": "",
           "file": null, "outcome": outcome, "detail": format!("{outcome} detail"),
           "sha256": null, "attempts": 0, "retries": [], "duration": 1.5})
}

fn failed_build(project: &str, log_tail: &str) -> Value {
    let mut failed = job(project, "1.0", "cp311", "failed", "build");
    failed["decisive"] = json!(format!("fatal error: {project}.h: No such file"));
    failed["log_tail"] = json!(log_tail);
    failed["build"] = json!({
        "sandbox": "bwrap", "sdist": null, "environment": [], "settings": {},
        "interpreter": {"label": "cp311", "path": "/usr/bin/python3.11", "version": "3.11.9"},
        "source_date_epoch": 1_700_000_000, "duration": 2.0,
        "missing": {"kind": "header", "name": "x.h", "debian": "libx-dev",
                    "summary": "missing header x.h (Debian package libx-dev)"},
        "log": "/cache/logs/x.log",
        "schedule": {"slot": 1, "queued": 1000.5, "started": 1001.0, "finished": 1003.0},
    });
    failed
}

fn built(project: &str) -> Value {
    let mut built = job(project, "2.0", "cp311", "built", "build");
    built["built"] = json!(true);
    built["build"] = json!({
        "sandbox": "bwrap", "environment": [{"filename": "setuptools-80.0-py3-none-any.whl",
                                             "sha256": "b".repeat(64)}],
        "sdist": {"filename": format!("{project}-2.0.tar.gz"), "sha256": "a".repeat(64),
                  "url": "https://mirror.example/f/x.tar.gz"},
        "settings": {}, "interpreter": {"label": "cp311", "path": "/p", "version": "3.11.9"},
        "source_date_epoch": 1, "duration": 4.0,
        "wheel": {"filename": format!("{project}-2.0-py3-none-any.whl"), "sha256": "c".repeat(64)},
        "schedule": {"slot": 0, "queued": 1000.0, "started": 1000.0, "finished": 1004.0},
    });
    built
}

fn report(jobs: Vec<Value>) -> ReportView {
    let value = json!({"schema": 1, "target": "http://devpi.example/u/i", "jobs": jobs,
                       "unsupported": [], "summary": {}, "stopped": null,
                       "run": {"started": 999.0, "finished": 1010.0, "exit_code": 1,
                               "build_slots": 2}});
    ReportView::from_value("test.json", value).unwrap()
}

fn position(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in the page"))
}

#[test]
fn sections_come_in_the_order_the_questions_do() {
    let now = report(vec![
        failed_build("ww-bad", "line 1\nline 2"),
        built("ww-good"),
        job("ww-here", "1.0", "cp312", "present", "present"),
    ]);
    let page = render(&now, Some(&report(vec![built("ww-bad")])));
    let order = [
        "class=\"verdict bad\"",
        "id=\"failures\"",
        "id=\"timeline\"",
        "id=\"matrix\"",
        "id=\"changes\"",
        "id=\"jobs\"",
        "id=\"provenance\"",
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(&page, n)).collect();
    assert!(positions.is_sorted(), "{positions:?}");
    assert!(
        page.contains("<strong>exit 1: some jobs failed</strong>"),
        "{page}"
    );
    // The failure: the decisive line, the missing package, the folded tail, the log path.
    assert!(page.contains("fatal error: ww-bad.h: No such file"));
    assert!(page.contains("<code>libx-dev</code>"));
    assert!(page.contains("<details class=\"log\"><summary>The build log&#39;s last lines</summary><pre>line 1\nline 2</pre>"));
    assert!(page.contains("/cache/logs/x.log"));
    // One bar per build, the wait drawn where there was one; the matrix per environment.
    assert_eq!(page.matches("<rect class=\"run").count(), 2);
    assert_eq!(page.matches("<rect class=\"wait\"").count(), 1);
    assert!(page.contains("Longest build: <strong>ww-good 2.0 (cp311)</strong>"));
    assert!(page.contains("<th scope=\"row\">cp312</th>"));
    // ww-bad 1.0 failed now and was not in the previous report: newly failing.
    assert!(page.contains("Newly failing (1)"));
    assert!(page.contains("<strong>ww-bad</strong>: 2.0 → 1.0"));
    assert!(page.contains("<code>ww-good-2.0-py3-none-any.whl</code>"));
    assert!(page.contains("<link rel=\"stylesheet\" href=\"report.css\">"));
}

#[test]
fn a_plan_report_and_an_old_report_without_run_render_too() {
    let value = json!({"schema": 1, "target": "t", "unsupported": [], "summary": {},
                       "jobs": [{"project": "ww-a", "version": null, "requirement": "ww-a>9",
                                 "origin": "r:1", "interpreter": "cp311",
                                 "action": "unavailable", "reason": "no such version",
                                 "file": null}]});
    let plan = ReportView::from_value("plan.json", value).unwrap();
    let page = render(&plan, None);
    assert!(page.contains("<strong>some jobs failed</strong>"), "{page}");
    assert!(page.contains("No build ran."));
    assert!(page.contains("no such version"));
    assert!(page.contains("No previous report was given"));
}

/// What Jenkins' default policy (`default-src 'none'; style-src 'self'`, sandboxed) refuses:
/// no script, no inline style, no `data:` URL, no other stylesheet or resource.
fn assert_policy_safe(page: &str) {
    let lower = page.to_ascii_lowercase();
    for forbidden in [
        "<script",
        "<style",
        " style=",
        "data:",
        "javascript:",
        " on",
        "<img",
        "<iframe",
        "url(",
    ] {
        // ` on` would be an event handler attribute (`onclick=`); text never holds ` on`
        // inside a tag because text cannot open one (see the escaping test).
        if forbidden == " on" {
            assert!(
                !tags(&lower).any(|t| t.contains(" on")),
                "an event handler in {page}"
            );
            continue;
        }
        assert!(!lower.contains(forbidden), "{forbidden} in {page}");
    }
    let links = lower.matches("<link ").count();
    assert_eq!(links, 1, "one stylesheet only");
}

/// The tags of a page (from `<` to `>`).
fn tags(page: &str) -> impl Iterator<Item = &str> {
    page.split('<')
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
}

/// A report whose outside text is `project`, `log` and `target` everywhere it can go.
fn hostile(project: &str, log: &str, target: &str) -> ReportView {
    let mut failed = failed_build(project, log);
    failed["project"] = json!(project);
    failed["version"] = json!(log);
    // `<` keeps it apart from the other job's `cp311`: one more environment adds tags.
    failed["interpreter"] = json!(format!("{target}<"));
    failed["build"]["log"] = json!(log);
    failed["build"]["missing"]["debian"] = json!(project);
    let mut good = built(target);
    good["detail"] = json!(log);
    let mut view = report(vec![failed, good]);
    view.target = target.to_string();
    view
}

proptest! {
    /// Whatever an sdist calls itself and whatever its build prints stays text: the page has
    /// exactly the tags it has with harmless text.
    #[test]
    fn outside_text_never_becomes_markup(
        project in "\\PC{0,40}",
        log in "(\\PC|\n){0,200}",
        target in "\\PC{0,40}",
    ) {
        let view = hostile(&project, &log, &target);
        let page = render(&view, Some(&view.clone()));
        assert_policy_safe(&page);
        let plain = hostile("p", "l", "t");
        let plain_page = render(&plain, Some(&plain.clone()));
        let names = |p: &str| -> Vec<String> {
            tags(p).map(|t| t.split([' ', '/']).next().unwrap_or("").to_string()).collect()
        };
        prop_assert_eq!(names(&page), names(&plain_page));

        let md = markdown::render(&view, Some(&view.clone()));
        for line in md.lines() {
            // No raw HTML and no link syntax survives unescaped.
            prop_assert!(!contains_unescaped(line, '<'), "{}", line);
            prop_assert!(!contains_unescaped(line, '['), "{}", line);
        }
    }
}

/// Whether `c` appears without a backslash before it, outside code spans.
fn contains_unescaped(line: &str, c: char) -> bool {
    let mut escaped = false;
    let mut in_code = 0usize;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch == '`' && !escaped {
            let run = chars[i..].iter().take_while(|x| **x == '`').count();
            in_code = if in_code == run {
                0
            } else if in_code == 0 {
                run
            } else {
                in_code
            };
            i += run;
            continue;
        }
        if ch == c && !escaped && in_code == 0 {
            return true;
        }
        escaped = ch == '\\' && !escaped && in_code == 0;
        i += 1;
    }
    false
}

#[test]
fn markdown_holds_the_verdict_failures_and_matrix() {
    let now = report(vec![failed_build("ww_bad*", "tail"), built("ww-good")]);
    let md = markdown::render(&now, None);
    assert!(
        md.starts_with("## ❌ wheelwright fill: exit 1: some jobs failed\n"),
        "{md}"
    );
    assert!(md.contains("- **ww\\_bad\\* 1.0** (cp311): ` fatal error: ww_bad*.h: No such file ` — missing header x.h (Debian package libx-dev)"), "{md}");
    assert!(
        md.contains("| cp311 | 0 | 0 | 1 | 0 | 1 | ww\\_bad\\* 1.0 |"),
        "{md}"
    );
    assert!(!md.contains("]("), "link-free: {md}");
    assert_eq!(markdown::code("a``b"), "``` a``b ```");
}

#[test]
fn fixed_means_done_now_not_merely_planned() {
    use crate::report::view::changes::changes;
    let before = report(vec![failed_build("ww-x", "tail")]);
    let mut planned = job("ww-x", "1.0", "cp311", "built", "build");
    planned.as_object_mut().unwrap().remove("outcome");
    let plan = ReportView::from_value(
        "plan.json",
        json!({"schema": 1, "target": "t", "jobs": [planned], "unsupported": []}),
    )
    .unwrap();
    assert!(changes(&plan, &before).fixed.is_empty());
    let now = report(vec![job("ww-x", "1.0", "cp311", "built", "build")]);
    let fixed = changes(&now, &before).fixed;
    assert_eq!(fixed.len(), 1);
    assert_eq!(fixed[0].label, "ww-x 1.0");
    assert_eq!(fixed[0].environments, ["cp311"]);
}
