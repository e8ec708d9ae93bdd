//! Builds through `fill`: the project's fixture sdists built in the sandbox and uploaded to a
//! real devpi-server; hostile sdists contained while the rest of the run succeeds.

use std::io::Read;
use std::net::TcpListener;

use crate::support::{
    Venv, devpi, fill, fixtures_dir, unique, upstream_wheels_dir, user_with_upstream,
};

#[test]
fn a_mixed_fill_of_fetches_and_builds_ends_with_every_wheel_on_devpi() {
    let (user, upstream) = user_with_upstream("build");
    let target = user.create_index("target", &[], false);
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let wheels = upstream_wheels_dir();
    let requirements = "\
ww-alpha==2.0
ww-charlie==1.0
ww-golf==1.0
ww-hotel==1.0
ww-legacy==1.0
ww-flit==1.0
ww-hatch==1.0
";
    let run = fill(
        home.path(),
        requirements,
        &[
            "--index-url",
            &upstream,
            "--find-links",
            wheels.to_str().unwrap(),
            &target,
            "--sandbox",
            "required",
        ],
        &creds,
    );
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let outcomes: Vec<(String, String)> =
        run.outcomes().into_iter().map(|(p, _, o)| (p, o)).collect();
    let expected = [
        ("ww-alpha", "uploaded"),
        ("ww-charlie", "built"),
        ("ww-golf", "built"),
        ("ww-hotel", "built"),
        ("ww-legacy", "built"),
        ("ww-flit", "built"),
        ("ww-hatch", "built"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(p, o)| (p.to_string(), o.to_string()))
        .collect();
    assert_eq!(outcomes, expected);
    for project in [
        "ww-charlie",
        "ww-golf",
        "ww-hotel",
        "ww-legacy",
        "ww-flit",
        "ww-hatch",
    ] {
        let files = user.files("target", project, true);
        assert_eq!(files.len(), 1, "{project}: {files:?}");
        assert!(files[0].0.ends_with(".whl"));
    }
    // The C extension wheel really works: pip installs it from devpi and it imports.
    let venv = Venv::new(home.path());
    venv.pip_install(&[
        "--index-url",
        &format!("{target}/+simple/"),
        "ww-hotel==1.0",
    ]);
    assert_eq!(
        venv.python("import ww_hotel._native as n; print(n.answer())"),
        "42"
    );
    // A second run builds nothing: everything is present.
    let again = fill(
        home.path(),
        requirements,
        &[
            "--index-url",
            &upstream,
            "--find-links",
            wheels.to_str().unwrap(),
            &target,
        ],
        &creds,
    );
    assert_eq!(again.count("present"), 7, "{:?}", again.outcomes());
    // Building everything again (into a fresh index) reuses the cached build environments:
    // no new environment is created.
    let envs = |home: &std::path::Path| {
        std::fs::read_dir(home.join(".cache/wheelwright/build-envs"))
            .map(|d| d.flatten().filter(|e| e.path().is_dir()).count())
            .unwrap_or(0)
    };
    let before = envs(home.path());
    assert!(
        before >= 3,
        "setuptools, flit_core, hatchling (and more) environments: {before}"
    );
    let fresh = user.create_index("fresh", &[], false);
    let rebuilt = fill(
        home.path(),
        requirements,
        &[
            "--index-url",
            &upstream,
            "--find-links",
            wheels.to_str().unwrap(),
            &fresh,
        ],
        &creds,
    );
    assert_eq!(rebuilt.count("built"), 6, "{}", rebuilt.stderr());
    assert_eq!(
        envs(home.path()),
        before,
        "the second round of builds created no environment"
    );
    devpi().assert_no_tracebacks();
}

fn job<'a>(report: &'a serde_json::Value, project: &str) -> &'a serde_json::Value {
    report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["project"] == project)
        .unwrap_or_else(|| panic!("no job for {project}"))
}

#[test]
fn hostile_sdists_fail_with_the_right_reason_while_the_rest_succeeds() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let escape = std::env::temp_dir().join(unique("ww-escape"));
    // The sleeper's escaping grandchild carries this run's own marker.
    let marker = unique("ww-sleep-marker");
    let requirements = format!(
        "\
ww-charlie==1.0
ww-net-probe==1.0 -C port={port}
ww-sleep-forever==1.0 -C marker={marker}
ww-fork-bomb==1.0
ww-log-flood==1.0
ww-write-outside==1.0 -C targets={escape}
ww-env-thief==1.0
ww-wrong-version==1.0
ww-two-wheels==1.0
ww-no-wheel==1.0
ww-dotdot==1.0
ww-tar-bomb==1.0
",
        escape = escape.display()
    );
    let dists = fixtures_dir().join("dist");
    let hostile = fixtures_dir().join("hostile/dist");
    let secret = "hunter2-the-run-password";
    let run = fill(
        home.path(),
        &requirements,
        &[
            "--find-links",
            dists.to_str().unwrap(),
            "--find-links",
            hostile.to_str().unwrap(),
            wheelhouse.to_str().unwrap(),
            "--build-timeout",
            "5",
            "--sandbox",
            "required",
            "--sdist-unpack-limit",
            "32",
        ],
        &[
            ("WHEELWRIGHT_USER", "ci"),
            ("WHEELWRIGHT_PASSWORD", secret),
            ("DEVPI_PASSWORD", secret),
        ],
    );
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    let report = &run.report;
    assert_eq!(job(report, "ww-charlie")["outcome"], "built");
    let failed_because = |project: &str, words: &[&str]| {
        let j = job(report, project);
        assert_eq!(j["outcome"], "failed", "{project}: {j}");
        let detail = j["detail"].as_str().unwrap();
        assert!(
            words.iter().any(|w| detail.contains(w)),
            "{project}: `{detail}` should mention one of {words:?}"
        );
    };
    failed_because(
        "ww-net-probe",
        &["Connection refused", "Network is unreachable"],
    );
    failed_because("ww-sleep-forever", &["timeout"]);
    failed_because("ww-fork-bomb", &["fork refused"]);
    failed_because("ww-log-flood", &["timeout"]);
    failed_because("ww-wrong-version", &["version"]);
    failed_because("ww-two-wheels", &["more than one wheel"]);
    failed_because("ww-no-wheel", &["no wheel"]);
    failed_because("ww-dotdot", &["`..`"]);
    failed_because("ww-tar-bomb", &["more than"]);
    // The failures carry their log tail into the report.
    assert!(job(report, "ww-sleep-forever")["log_tail"].is_string());
    // The network probe never reached the listener.
    let mut stolen = Vec::new();
    if let Ok((mut conn, _)) = listener.accept() {
        let _ = conn.read_to_end(&mut stolen);
    }
    assert!(stolen.is_empty(), "a build reached the host's network");
    // Nothing was written outside the build directory.
    assert!(
        !escape.exists(),
        "write-outside escaped to {}",
        escape.display()
    );
    // The environment thief built a wheel, but the secret never reached it.
    assert_eq!(job(report, "ww-env-thief")["outcome"], "built");
    let thief = wheelhouse.join("ww_env_thief-1.0-py3-none-any.whl");
    let bytes = std::fs::read(&thief).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut environ = String::new();
    archive
        .by_name("ww_env_thief/environ.json")
        .unwrap()
        .read_to_string(&mut environ)
        .unwrap();
    assert!(
        !environ.contains(secret),
        "the secret leaked into the build: {environ}"
    );
    assert!(!environ.contains("WHEELWRIGHT_PASSWORD") && !environ.contains("DEVPI_PASSWORD"));
    // No build process of this run survived: none with the sleeper's marker, none in a build
    // dir under this run's home (other tests' builds run at the same time).
    let leftover = std::process::Command::new("pgrep")
        .args(["-f", &format!("{marker}|{}", home.path().display())])
        .output()
        .unwrap();
    assert!(
        leftover.stdout.is_empty(),
        "left behind: {}",
        String::from_utf8_lossy(&leftover.stdout)
    );
    // And the secret is nowhere in wheelwright's own output or report.
    assert!(!run.stderr().contains(secret) && !run.stdout().contains(secret));
    assert!(!report.to_string().contains(secret));
}

#[test]
fn sigterm_kills_running_builds_writes_the_reports_and_exits_143() {
    a_signal_kills_running_builds_and_writes_the_reports(rustix::process::Signal::TERM, 143);
}

#[test]
fn sighup_stops_like_sigterm_and_exits_129() {
    a_signal_kills_running_builds_and_writes_the_reports(rustix::process::Signal::HUP, 129);
}

fn a_signal_kills_running_builds_and_writes_the_reports(
    signal: rustix::process::Signal,
    code: i32,
) {
    let name = match signal {
        rustix::process::Signal::HUP => "SIGHUP",
        _ => "SIGTERM",
    };
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    // The sandboxed hook's command line names its build directory under our cache.
    let marker = format!(
        "{}/.cache/wheelwright/builds/ww-sleep-forever",
        home.path().display()
    );
    let reqs = home.path().join("requirements.txt");
    std::fs::write(&reqs, "ww-charlie==1.0\nww-sleep-forever==1.0\n").unwrap();
    let report = home.path().join("report.json");
    let junit = home.path().join("junit.xml");
    let dists = fixtures_dir().join("dist");
    let hostile = fixtures_dir().join("hostile/dist");
    let mut child = crate::support::wheelwright_with_home(home.path())
        .arg("fill")
        .arg(&reqs)
        .arg(&wheelhouse)
        .arg("--find-links")
        .arg(&dists)
        .arg("--find-links")
        .arg(&hostile)
        .args(["--build-timeout", "600", "--jobs", "2"])
        .arg("--report-json")
        .arg(&report)
        .arg("--junit-xml")
        .arg(&junit)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) until the hostile build runs: its grandchild carries the marker.
    let running = |m: &str| {
        let out = std::process::Command::new("pgrep")
            .args(["-f", m])
            .output()
            .unwrap();
        !out.stdout.is_empty()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // ... and the good build has finished, so its outcome is not a matter of timing.
    let charlie = wheelhouse.join("ww_charlie-1.0-py3-none-any.whl");
    while !running(&marker) || !charlie.exists() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the build never started");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        signal,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["stopped"], format!("interrupted ({name})"));
    assert_eq!(job(&report, "ww-charlie")["outcome"], "built");
    let sleeper = job(&report, "ww-sleep-forever");
    assert_eq!(sleeper["outcome"], "not-run", "{sleeper}");
    assert!(sleeper["detail"].as_str().unwrap().contains("build killed"));
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("ww-sleep-forever")
    );
    // No process of the killed build survives (bounded wait for the kernel to reap).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while running(&marker) {
        assert!(
            std::time::Instant::now() < deadline,
            "the killed build left processes behind"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_relative_cache_dir_works_for_sandboxed_builds() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("r.txt"), "ww-charlie==1.0\n").unwrap();
    let output = crate::support::wheelwright_with_home(home.path())
        .current_dir(home.path())
        .args([
            "fill",
            "r.txt",
            "wheelhouse",
            "--cache-dir",
            "relative-cache",
            "--find-links",
        ])
        .arg(fixtures_dir().join("dist"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        home.path()
            .join("wheelhouse/ww_charlie-1.0-py3-none-any.whl")
            .is_file()
    );
    assert!(home.path().join("relative-cache/store").is_dir());
}
