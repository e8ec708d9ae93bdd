//! The HTML report in a real browser: a fill with a failing C build and some successes
//! writes `--report-html`, the suite's nginx serves it with the Content-Security-Policy that
//! Jenkins' HTML Publisher sends by default, and headless Chromium (Debian's package) loads
//! it. Chromium logs every policy violation on its console; the page must cause none, and
//! a page that breaks the policy, served the same way, must cause them (so the check cannot
//! pass because nothing was logged at all).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::fill;
use crate::support::{StaticNginx, fixtures_dir, project_root, temp_prefix, wheelwright_with_home};

/// Jenkins' default `hudson.model.DirectoryBrowserSupport.CSP`.
const JENKINS_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'self';";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Headless Chromium on `url`: its stdout (the DOM with `--dump-dom`) and its console log.
fn chromium(profile: &Path, url: &str, extra: &[&str]) -> (String, String) {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run scripts/test.sh first (it installs chromium)"
    );
    let output = Command::new("timeout")
        .arg("120")
        .arg(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        output.status.success(),
        "chromium failed on {url}:\n{stderr}"
    );
    (String::from_utf8_lossy(&output.stdout).to_string(), stderr)
}

/// The console lines in which Chromium reports that the policy blocked something: a
/// violated directive ("... violates the following Content Security Policy directive ..."),
/// or a script the `sandbox` directive kept from running ("Blocked script execution ...").
fn violations(console: &str) -> Vec<&str> {
    console
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .filter(|l| {
            l.contains("Content Security Policy")
                || l.contains("Blocked script execution")
                || l.contains("Refused to")
        })
        .collect()
}

/// A directory under /tmp that nginx's workers (www-data) may traverse.
fn served_dir() -> tempfile::TempDir {
    let served = tempfile::Builder::new()
        .prefix(&temp_prefix("report-html"))
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(served.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    served
}

fn artefact(name: &str) -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
        .join("test-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn the_html_report_renders_under_jenkins_policy_in_chromium() {
    let home = tempfile::tempdir().unwrap();
    let served = served_dir();
    let html = served.path().join("report");
    let markdown = home.path().join("summary.md");
    let wheelhouse = home.path().join("wheelhouse");
    let dists = fixtures_dir().join("dist");
    let run = fill(
        home.path(),
        "ww-alpha==2.0\nww-charlie==1.0\nww-hotel==1.0\nww-no-header==1.0\n",
        &[
            "--find-links",
            dists.to_str().unwrap(),
            "--sandbox",
            "required",
            "-j",
            "2",
            "--report-html",
            html.to_str().unwrap(),
            "--report-markdown",
            markdown.to_str().unwrap(),
            wheelhouse.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let report = &run.report;
    assert_eq!(report["run"]["exit_code"], 1, "{report}");
    assert_eq!(report["run"]["build_slots"], 2, "{report}");
    // One build per sdist (each a pure wheel or the one interpreter's): charlie, hotel,
    // no-header, each with its slot and times.
    let mut schedules: Vec<&serde_json::Value> = Vec::new();
    for job in report["jobs"].as_array().unwrap() {
        if let Some(s) = job["build"].get("schedule")
            && !schedules.contains(&s)
        {
            schedules.push(s);
        }
    }
    assert_eq!(schedules.len(), 3, "{report}");
    for s in &schedules {
        let (q, st, f) = (
            s["queued"].as_f64().unwrap(),
            s["started"].as_f64().unwrap(),
            s["finished"].as_f64().unwrap(),
        );
        assert!(q <= st && st <= f, "{s}");
        assert!(s["slot"].as_u64().unwrap() < 2, "{s}");
    }
    let failed = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["project"] == "ww-no-header")
        .unwrap();
    let decisive = "fatal error: openssl/ww_no_such_header.h: No such file or directory";
    assert!(
        failed["decisive"].as_str().unwrap().contains(decisive),
        "{failed}"
    );
    let log = failed["build"]["log"].as_str().unwrap();
    assert!(Path::new(log).is_file(), "{failed}");

    // The Markdown summary: verdict, the failure with its decisive line, the matrix.
    let md = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        md.starts_with("## ❌ wheelwright fill: exit 1: some jobs failed"),
        "{md}"
    );
    assert!(md.contains(decisive) && md.contains("libssl-dev"), "{md}");
    assert!(md.contains("| environment | present |"), "{md}");

    // `report html` from the saved JSON renders the same page (one path).
    let again = home.path().join("again");
    let out = wheelwright_with_home(home.path())
        .args(["report", "html"])
        .arg(home.path().join("report.json"))
        .arg("-o")
        .arg(&again)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(again.join("index.html")).unwrap(),
        std::fs::read_to_string(html.join("index.html")).unwrap()
    );

    // A page that breaks the policy, served the same way: inline style (element and
    // attribute), a script, a data: image.
    let bad = served.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bad_page = bad.join("index.html");
    std::fs::write(
        &bad_page,
        "<!DOCTYPE html><html><head><style>p{color:red}</style></head><body>\
         <p style=\"color:red\">inline</p><script>document.title='x'</script>\
         <img src=\"data:image/png;base64,iVBORw0KGgo=\"></body></html>",
    )
    .unwrap();
    std::fs::set_permissions(&bad_page, std::fs::Permissions::from_mode(0o644)).unwrap();

    let nginx =
        StaticNginx::serve_with_headers(served.path(), &[("Content-Security-Policy", JENKINS_CSP)]);
    let profile = tempfile::tempdir().unwrap();
    let (_, console) = chromium(
        profile.path(),
        &format!("{}/bad/index.html", nginx.url),
        &["--dump-dom"],
    );
    let found = violations(&console);
    assert!(
        found.iter().any(|l| l.contains("inline style"))
            && found.iter().any(|l| l.contains("Blocked script execution"))
            && found.iter().any(|l| l.contains("data:image/png")),
        "the violating page must be reported on the console: {found:#?}\n{console}"
    );

    let url = format!("{}/report/index.html", nginx.url);
    let (dom, console) = chromium(profile.path(), &url, &["--dump-dom"]);
    assert_eq!(violations(&console), Vec::<&str>::new(), "{console}");
    assert!(dom.contains("<section id=\"failures\">"), "{dom}");
    assert!(
        dom.contains("ww-no-header") && dom.contains(decisive),
        "{dom}"
    );
    assert!(dom.contains("libssl-dev"), "{dom}");
    assert!(dom.contains("<svg"), "{dom}");
    assert_eq!(
        dom.matches("<rect class=\"run").count(),
        schedules.len(),
        "one bar per build: {dom}"
    );
    assert!(dom.contains("<section id=\"matrix\">"), "{dom}");
    // The stylesheet came from beside the page, and nothing else was asked for.
    let access = nginx.access_log_text();
    assert!(
        access.contains("GET /report/report.css HTTP/1.1\" 200"),
        "{access}"
    );

    let png = artefact("report-html.png");
    let _ = std::fs::remove_file(&png);
    let screenshot = format!("--screenshot={}", png.display());
    let (_, console) = chromium(
        profile.path(),
        &url,
        &[&screenshot, "--window-size=1280,2000"],
    );
    assert_eq!(violations(&console), Vec::<&str>::new(), "{console}");
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}\n{console}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{}",
        png.display()
    );
}
