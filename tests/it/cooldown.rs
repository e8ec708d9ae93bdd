//! `--exclude-newer`: against an index that gives PEP 700 upload times (a PEP 691 JSON page),
//! a range resolves to the newest version older than the cut-off, a pin of a younger one is
//! unavailable saying when it was uploaded, and an index that gives no upload times is
//! refused (fail closed), said once.

use std::path::Path;

use serde_json::Value;
use wheelwright::timestamp::Timestamp;

use crate::support::{Body, CannedServer, Reply, fixture_dist, plan, sha256_of};

const DAY: i64 = 86_400;

/// `days` days ago, as PEP 700 writes it.
fn days_ago(days: i64) -> String {
    let now = Timestamp::now().unix_micros() / 1_000_000;
    Timestamp::from_unix(now - days * DAY).to_string()
}

/// ww-alpha 1.0 (uploaded 400 days ago) and 2.0 (2 days ago) on a JSON page with upload
/// times; ww-bravo 1.0.0 on an HTML page, which cannot carry them (PEP 833).
fn server() -> CannedServer {
    let server = CannedServer::start();
    let mut files = Vec::new();
    for (name, age) in [
        ("ww_alpha-1.0-py3-none-any.whl", 400),
        ("ww_alpha-2.0-py3-none-any.whl", 2),
    ] {
        let path = fixture_dist(name);
        server.route(
            &format!("/files/{name}"),
            Reply::file(Body::Exact(std::fs::read(&path).unwrap())),
        );
        files.push(serde_json::json!({
            "filename": name,
            "url": format!("/files/{name}"),
            "hashes": {"sha256": sha256_of(&path)},
            "size": std::fs::metadata(&path).unwrap().len(),
            "upload-time": days_ago(age),
        }));
    }
    let page = serde_json::json!({
        "meta": {"api-version": "1.1"},
        "name": "ww-alpha",
        "versions": ["1.0", "2.0"],
        "files": files,
    });
    server.route("/simple/ww-alpha/", Reply::simple_json(page.to_string()));
    let bravo = "ww_bravo-1.0.0-py3-none-any.whl";
    server.route(
        "/simple/ww-bravo/",
        Reply::html(format!(
            "<html><body><a href=\"/files/{bravo}#sha256={}\">{bravo}</a></body></html>",
            sha256_of(&fixture_dist(bravo))
        )),
    );
    server.route("/simple/", Reply::html("<html><body></body></html>"));
    server
}

fn job<'a>(report: &'a Value, requirement: &str) -> &'a Value {
    report["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs: {report}"))
        .iter()
        .find(|j| j["requirement"] == requirement)
        .unwrap_or_else(|| panic!("no job for {requirement}: {report}"))
}

fn planned(home: &Path, requirements: &str, extra: &[&str], index: &str) -> (String, Value) {
    let wheelhouse = home.join("wheelhouse");
    let mut args = vec!["--index-url", index, "--python", "python3"];
    args.extend_from_slice(extra);
    args.extend(["--target", wheelhouse.to_str().unwrap()]);
    let run = plan(home, requirements, &args, &[]);
    run.assert_code(0);
    (run.stderr().to_string(), run.report.clone())
}

#[test]
fn a_cooldown_keeps_young_releases_and_undated_indexes_out() {
    let server = server();
    let index = format!("{}/simple/", server.url());
    let home = tempfile::tempdir().unwrap();
    let requirements = "ww-alpha>=1.0\nww-alpha==2.0\nww-bravo==1.0\n";

    // Without a cooldown the range takes 2.0 and the HTML index serves ww-bravo.
    let (_, report) = planned(home.path(), requirements, &[], &index);
    assert_eq!(job(&report, "ww-alpha>=1.0")["version"], "2.0", "{report}");
    assert_eq!(job(&report, "ww-bravo==1.0")["action"], "fetch", "{report}");

    let (stderr, report) = planned(
        home.path(),
        requirements,
        &["--exclude-newer", "7 days"],
        &index,
    );
    assert!(
        stderr.contains("cooldown: upstream files uploaded after ")
            && stderr.contains("(--exclude-newer 7 days)"),
        "the plan shows the cut-off: {stderr}"
    );
    let range = job(&report, "ww-alpha>=1.0");
    assert_eq!(
        (range["action"].as_str(), range["version"].as_str()),
        (Some("fetch"), Some("1.0")),
        "{report}"
    );
    let pinned = job(&report, "ww-alpha==2.0");
    let reason = pinned["reason"].as_str().unwrap();
    assert_eq!(pinned["action"], "unavailable", "{report}");
    assert!(
        reason.contains("ww_alpha-2.0-py3-none-any.whl")
            && reason.contains("2 days ago; cooldown 7 days"),
        "{reason}"
    );
    let undated = job(&report, "ww-bravo==1.0");
    assert_eq!(undated["action"], "unavailable", "{report}");
    assert!(
        undated["reason"]
            .as_str()
            .unwrap()
            .contains("gives no upload time (PEP 700)"),
        "{undated}"
    );
    assert_eq!(
        stderr.matches("gives no upload times (PEP 700)").count(),
        1,
        "said once per index: {stderr}"
    );

    // A date works as well: before 2.0 was uploaded.
    let cutoff = days_ago(5);
    let (_, report) = planned(
        home.path(),
        "ww-alpha>=1.0\n",
        &["--exclude-newer", &cutoff],
        &index,
    );
    assert_eq!(job(&report, "ww-alpha>=1.0")["version"], "1.0", "{report}");
}

#[test]
fn a_bad_exclude_newer_is_refused_before_anything_is_read() {
    let home = tempfile::tempdir().unwrap();
    let reqs = home.path().join("requirements.txt");
    std::fs::write(&reqs, "ww-alpha\n").unwrap();
    let out = crate::support::wheelwright_with_home(home.path())
        .args(["plan", "--exclude-newer", "a fortnight"])
        .arg(&reqs)
        .arg("--target")
        .arg(home.path().join("wheelhouse"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`a fortnight` is neither a date"),
        "{stderr}"
    );
}

/// The user's way out, both explicit: `[package.NAME] exclude-newer = false` lets a reviewed
/// version through the cooldown, and `--allow-undated` uses an index that gives no upload
/// times. The JSON report records the cut-off and both.
#[test]
fn an_exempt_project_and_allow_undated_are_let_through_and_recorded() {
    let server = server();
    let index = format!("{}/simple/", server.url());
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("wheelwright.toml");
    std::fs::write(
        &config,
        "[[package.ww-alpha]]\nversions = \"==2.0\"\nexclude-newer = false\n",
    )
    .unwrap();
    let requirements = "ww-alpha==2.0\nww-alpha>=1.0\nww-bravo==1.0\n";
    let (_, report) = planned(
        home.path(),
        requirements,
        &[
            "--exclude-newer",
            "7 days",
            "--allow-undated",
            "--config",
            config.to_str().unwrap(),
        ],
        &index,
    );
    // 2.0 is exempt, so both the pin and the range take it; bravo's undated page is used.
    assert_eq!(job(&report, "ww-alpha==2.0")["action"], "fetch", "{report}");
    assert_eq!(job(&report, "ww-alpha>=1.0")["version"], "2.0", "{report}");
    assert_eq!(job(&report, "ww-bravo==1.0")["action"], "fetch", "{report}");
    let cooldown = &report["cooldown"];
    assert_eq!(cooldown["exclude_newer"], "7 days", "{report}");
    assert_eq!(cooldown["allow_undated"], true, "{report}");
    assert_eq!(cooldown["exempt"], serde_json::json!(["ww-alpha==2.0"]));
    let cutoff: Timestamp = cooldown["cutoff"].as_str().unwrap().parse().unwrap();
    let now = Timestamp::now().unix_micros() / 1_000_000;
    let age = now - cutoff.unix_micros() / 1_000_000;
    assert!((7 * DAY - 600..=7 * DAY + 600).contains(&age), "{cooldown}");

    // `exclude-newer = true` means nothing in a package table: bad input, said where.
    std::fs::write(&config, "[package.ww-alpha]\nexclude-newer = true\n").unwrap();
    let run = plan(
        home.path(),
        requirements,
        &["--index-url", &index, "--config", config.to_str().unwrap()],
        &[],
    );
    run.assert_code(2);
    assert!(
        run.stderr().contains("wheelwright.toml:1")
            && run.stderr().contains("only `exclude-newer = false`"),
        "{}",
        run.stderr()
    );
}
