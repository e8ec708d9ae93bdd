//! The enterprise layout wheelwright is made for, on a real devpi-server: `dev` inherits
//! `stable`, which inherits `thirdparty-local`, which inherits `mirror`, a devpi mirror of a
//! local pypiserver that holds a project with 2,000 releases of three files each (as many as
//! botocore has). Presence is compared with what pip sees when it installs from the stage.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{
    DevpiServer, DevpiUser, Fault, FaultProxy, Match, Pypiserver, Run, When, devpi, fill,
    fixture_dist, plan, test_venv,
};

/// Releases of the large project, each with a pure wheel, a cp311 wheel and an sdist.
const RELEASES: usize = 2000;
/// Small projects on the mirror, one release each (for the concurrency tests).
const SMALL: usize = 12;

/// Writes the mirror's files: `ww-huge` 1.0 .. 1.1999, `ww-small-NN` 1.0, and, in `own`,
/// `ww-huge` 0.1, which only the stage that hides the mirror's releases holds.
const GENERATE: &str = r#"
import os, sys, zipfile
served, own, releases, small = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def wheel(directory, name, version, tag):
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    path = os.path.join(directory, f"{dist}-{version}-{tag}.whl")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n")
        z.writestr(f"{info}/RECORD", f"{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")

for i in range(releases):
    version = f"1.{i}"
    wheel(served, "ww-huge", version, "py3-none-any")
    wheel(served, "ww-huge", version, "cp311-cp311-linux_x86_64")
    with open(os.path.join(served, f"ww_huge-{version}.tar.gz"), "wb") as f:
        f.write(f"an sdist of {version}".encode())
for i in range(small):
    wheel(served, f"ww-small-{i:02}", "1.0", "py3-none-any")
wheel(own, "ww-huge", "0.1", "py3-none-any")
"#;

/// The generated files (made once per test process) and the pypiserver that serves them.
struct MirrorSource {
    _served: tempfile::TempDir,
    own: tempfile::TempDir,
    server: Pypiserver,
}

fn mirror_source() -> &'static MirrorSource {
    static SOURCE: OnceLock<MirrorSource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let served = tempfile::tempdir().unwrap();
        let own = tempfile::tempdir().unwrap();
        let status = std::process::Command::new(test_venv().join("bin/python"))
            .arg("-c")
            .arg(GENERATE)
            .arg(served.path())
            .arg(own.path())
            .arg(RELEASES.to_string())
            .arg(SMALL.to_string())
            .status()
            .unwrap();
        assert!(status.success(), "generating the mirror's files failed");
        let server = Pypiserver::start(served.path(), None);
        MirrorSource {
            _served: served,
            own,
            server,
        }
    })
}

/// `dev` → `stable` → `thirdparty-local` (`mirror_whitelist=*`) → `mirror`, for one user;
/// `ww-alpha` 1.0 is uploaded to `thirdparty-local`.
fn layout(server: &DevpiServer, prefix: &str) -> DevpiUser {
    let source = mirror_source();
    let user = server.new_user(prefix);
    user.create_mirror("mirror", &format!("{}/simple/", source.server.url()));
    user.create_index("thirdparty-local", &["mirror"], false);
    user.patch_index(
        "thirdparty-local",
        serde_json::json!(["mirror_whitelist=*"]),
    );
    user.create_index("stable", &["thirdparty-local"], false);
    user.create_index("dev", &["stable"], false);
    user.upload(
        "thirdparty-local",
        &fixture_dist("ww_alpha-1.0-py3-none-any.whl"),
    );
    user
}

/// The test venv's interpreter (CPython 3.11): wheelwright plans for it and pip runs on it.
fn python() -> PathBuf {
    test_venv().join("bin/python")
}

/// (project, version, action, filename or "-", reason) of every job of a plan.
fn rows(run: &Run) -> Vec<(String, String, String, String, String)> {
    let field = |job: &Value, key: &str| job[key].as_str().unwrap_or("-").to_string();
    run.jobs()
        .iter()
        .map(|job| {
            (
                field(job, "project"),
                field(job, "version"),
                field(job, "action"),
                job["file"]["filename"].as_str().unwrap_or("-").to_string(),
                field(job, "reason"),
            )
        })
        .collect()
}

/// (action, filename or "-", reason) of the plan's job for `project` `version`.
fn job(run: &Run, project: &str, version: &str) -> (String, String, String) {
    let (_, _, action, file, reason) = rows(run)
        .into_iter()
        .find(|(p, v, ..)| p == project && v == version)
        .unwrap_or_else(|| panic!("no job {project} {version}: {:?}", rows(run)));
    (action, file, reason)
}

/// `plan` of `requirements` for the test venv's interpreter.
fn plan_for(home: &Path, requirements: &str, target: &str, extra: &[&str]) -> Run {
    let python = python();
    let mut args = vec!["--target", target, "--python", python.to_str().unwrap()];
    args.extend_from_slice(extra);
    plan(home, requirements, &args, &[])
}

/// The file pip downloads for `requirement` from `simple` (wheels only, no dependencies),
/// or `None` when pip finds none.
fn pip_downloads(simple: &str, requirement: &str) -> Option<String> {
    let dest = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(python())
        .args([
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-deps",
        ])
        .args([
            "--only-binary",
            ":all:",
            "--no-cache-dir",
            "--index-url",
            simple,
        ])
        .arg("--dest")
        .arg(dest.path())
        .arg(requirement)
        .output()
        .unwrap();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("No matching distribution"),
            "pip download {requirement}: {stderr}"
        );
        return None;
    }
    let files: Vec<String> = std::fs::read_dir(dest.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next()
}

#[test]
fn presence_through_a_mirror_is_what_pip_sees() {
    let user = layout(devpi(), "layout");
    let home = tempfile::tempdir().unwrap();
    let dev = user.index_url("dev");
    let pins = "ww-huge==1.1999\nww-huge==1.7\nww-alpha==1.0\nww-huge==3.0\n";
    let run = plan_for(home.path(), pins, &dev, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let mirror = format!("on the target, inherited from {}/mirror", user.name);
    let local = format!(
        "on the target, inherited from {}/thirdparty-local",
        user.name
    );
    let newest = job(&run, "ww-huge", "1.1999");
    assert_eq!(
        (newest.0.as_str(), newest.1.as_str(), newest.2.as_str()),
        (
            "present",
            "ww_huge-1.1999-cp311-cp311-linux_x86_64.whl",
            mirror.as_str()
        )
    );
    assert_eq!(job(&run, "ww-huge", "1.7").0, "present");
    let alpha = job(&run, "ww-alpha", "1.0");
    assert_eq!(
        (alpha.0.as_str(), alpha.2.as_str()),
        ("present", local.as_str())
    );
    assert_eq!(job(&run, "ww-huge", "3.0").0, "unavailable");
    // pip, installing from the stage, takes the very file the plan found there.
    let simple = format!("{dev}/+simple/");
    for (project, version) in [
        ("ww-huge", "1.1999"),
        ("ww-huge", "1.7"),
        ("ww-alpha", "1.0"),
    ] {
        let (_, file, _) = job(&run, project, version);
        assert_eq!(
            pip_downloads(&simple, &format!("{project}=={version}")).as_deref(),
            Some(file.as_str()),
            "{project} {version}"
        );
    }
    assert_eq!(pip_downloads(&simple, "ww-huge==3.0"), None);

    // Filling thirdparty-local itself, only its own files count: the mirror's are fetched
    // (from the mirror, the upstream devpi names when none is given).
    let local_url = user.index_url("thirdparty-local");
    let own = plan_for(
        home.path(),
        "ww-huge==1.1999\nww-alpha==1.0\n",
        &local_url,
        &["--present-in", "own"],
    );
    assert_eq!(own.code(), 0, "{}", own.stderr());
    assert_eq!(job(&own, "ww-alpha", "1.0").2, "on the target");
    let huge = job(&own, "ww-huge", "1.1999");
    assert_eq!(
        (huge.0.as_str(), huge.1.as_str()),
        ("fetch", "ww_huge-1.1999-cp311-cp311-linux_x86_64.whl")
    );
    devpi().assert_no_tracebacks();
}

#[test]
fn a_mirror_project_hidden_by_the_whitelist_is_not_present_as_pip_sees_it() {
    let source = mirror_source();
    let user = layout(devpi(), "hiding");
    // A stage with its own release of ww-huge: devpi hides the mirror's releases of it until
    // `mirror_whitelist` names it.
    user.create_index("hiding", &["mirror"], false);
    user.upload(
        "hiding",
        &source.own.path().join("ww_huge-0.1-py3-none-any.whl"),
    );
    let home = tempfile::tempdir().unwrap();
    let hiding = user.index_url("hiding");
    let simple = format!("{hiding}/+simple/");
    let pins = "ww-huge==1.1999\nww-huge==0.1\n";

    let hidden = plan_for(home.path(), pins, &hiding, &[]);
    assert_eq!(hidden.code(), 0, "{}", hidden.stderr());
    assert_eq!(job(&hidden, "ww-huge", "0.1").2, "on the target");
    assert_ne!(job(&hidden, "ww-huge", "1.1999").0, "present");
    assert_eq!(pip_downloads(&simple, "ww-huge==1.1999"), None);

    user.patch_index("hiding", serde_json::json!(["mirror_whitelist+=ww-huge"]));
    let shown = plan_for(home.path(), pins, &hiding, &[]);
    let (action, file, reason) = job(&shown, "ww-huge", "1.1999");
    assert_eq!(action, "present", "{}", shown.stderr());
    assert_eq!(
        reason,
        format!("on the target, inherited from {}/mirror", user.name)
    );
    assert_eq!(pip_downloads(&simple, "ww-huge==1.1999"), Some(file));
}

/// `fill` of `pins` into `user`'s `dev` through `proxy`, with the given `--timeout` and
/// `--retries`.
fn fill_dev_through(
    proxy: &FaultProxy,
    user: &DevpiUser,
    pins: &str,
    timeout: &str,
    retries: &str,
) -> Run {
    let dev = format!("{}/{}/dev", proxy.url(), user.name);
    let home = tempfile::tempdir().unwrap();
    let py = python();
    let args = [
        dev.as_str(),
        "--python",
        py.to_str().unwrap(),
        "--timeout",
        timeout,
        "--retries",
        retries,
    ];
    fill(home.path(), pins, &args, &user.env())
}

/// A pin of each small project.
fn small_pins() -> String {
    (0..SMALL)
        .map(|i| format!("ww-small-{i:02}==1.0\n"))
        .collect()
}

/// A matcher of `user`'s requests for `dev`'s simple pages.
fn dev_pages(user: &DevpiUser) -> impl Fn(&crate::support::RequestInfo) -> bool + Clone + use<> {
    let prefix = format!("/{}/dev/+simple/", user.name);
    move |r| r.path.starts_with(&prefix)
}

#[test]
fn a_no_op_fill_reads_one_simple_page_per_project_then_only_the_serial() {
    // Its own server: the serial counts every write, and the shared server's moves with the
    // tests beside this one.
    let server = DevpiServer::private();
    let user = layout(&server, "layoutnoop");
    let proxy = FaultProxy::start(&server.url());
    let dev = format!("{}/{}/dev", proxy.url(), user.name);
    let home = tempfile::tempdir().unwrap();
    let pins = "ww-huge==1.1999\nww-huge==1.0\nww-alpha==1.0\nww-small-03==1.0\n";
    let py = python();
    let args = [dev.as_str(), "--python", py.to_str().unwrap()];
    let api = ("GET".to_string(), format!("/{}/dev/+api", user.name));
    // The first run reads each project's page; its mirror's answers are written into devpi's
    // database, so the serial moves and the second run reads them again (from the mirror's
    // cache now), after which nothing moves it. Besides `+api` and the pages, a run reads
    // only the configurations of the chain (the upstream is the mirror among the bases),
    // never a project's JSON.
    for run in ["first", "second"] {
        let mark = proxy.log().len();
        let result = fill(home.path(), pins, &args, &user.env());
        assert_eq!(result.code(), 0, "{run}: {}", result.stderr());
        assert_eq!(result.count("present"), 4, "{run}: {:?}", result.outcomes());
        assert_eq!(result.count("uploaded"), 0);
        let seen = proxy.requests_since(mark);
        let mut pages: Vec<&str> = seen
            .iter()
            .filter_map(|(_, path)| path.strip_prefix(&format!("/{}/dev/+simple/", user.name)))
            .collect();
        pages.sort();
        assert_eq!(pages, ["ww-alpha/", "ww-huge/", "ww-small-03/"], "{run}");
        let others: Vec<&(String, String)> = seen
            .iter()
            .filter(|(_, path)| !path.contains("/+simple/") && !path.ends_with("?no_projects"))
            .collect();
        assert_eq!(others, [&api], "{run}");
    }
    let mark = proxy.log().len();
    let third = fill(home.path(), pins, &args, &user.env());
    assert_eq!(third.code(), 0, "{}", third.stderr());
    assert_eq!(third.count("present"), 4);
    assert_eq!(proxy.requests_since(mark), [api]);
    server.assert_no_tracebacks();
}

#[test]
fn one_project_whose_page_times_out_fails_only_its_own_jobs() {
    let user = layout(devpi(), "layoutslow");
    // The mirror's first contact with a project takes a moment: answered once before, the
    // pages come from devpi's cache well within the short timeout below (even on a machine
    // busy with the rest of the suite).
    for project in ["ww-small-02", "ww-alpha"] {
        let page = format!("{}/+simple/{project}/", user.index_url("dev"));
        let status = crate::support::http_client()
            .get(&page)
            .send()
            .unwrap()
            .status();
        assert!(status.is_success(), "{page}: {status}");
    }
    let proxy = FaultProxy::start(&devpi().url());
    let slow_page = format!("/{}/dev/+simple/ww-small-01/", user.name);
    proxy.on(
        Match::request("GET", &slow_page),
        When::Always,
        Fault::Delay {
            hold: std::time::Duration::from_secs(10),
            forward: false,
        },
    );
    let pins = "ww-small-02==1.0\nww-small-01==1.0\nww-alpha==1.0\n";
    let run = fill_dev_through(&proxy, &user, pins, "3", "1");
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert_eq!(run.count("present"), 2, "{:?}", run.outcomes());
    let failed: Vec<&Value> = run.report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|job| job["project"] == "ww-small-01")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0]["reason"],
        format!(
            "the target could not be asked about this project: cannot reach {}{slow_page}: timed out: operation timed out",
            proxy.url()
        )
    );
    // Asked once and retried once, under the one retry policy.
    let asked = proxy
        .requests_since(0)
        .iter()
        .filter(|(_, path)| *path == slow_page)
        .count();
    assert_eq!(asked, 2);
}

#[test]
fn a_server_that_answers_no_page_stops_the_run() {
    let user = layout(devpi(), "layoutdown");
    let proxy = FaultProxy::start(&devpi().url());
    proxy.on(
        Match::new(dev_pages(&user)),
        When::Always,
        Fault::Delay {
            hold: std::time::Duration::from_secs(5),
            forward: false,
        },
    );
    let run = fill_dev_through(&proxy, &user, &small_pins(), "1", "0");
    assert_eq!(run.code(), 3, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("answers nothing: the last 8 requests to it failed (the last: timed out"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_busy_server_gets_fewer_requests_at_once() {
    let user = layout(devpi(), "layoutbusy");
    let proxy = FaultProxy::start(&devpi().url());
    // The first page answers 503; every page takes a moment, so requests overlap.
    proxy
        .on(
            Match::new(dev_pages(&user)),
            When::Nth(1),
            Fault::Status(503, Some(0)),
        )
        .on(
            Match::new(dev_pages(&user)),
            When::Always,
            Fault::Delay {
                hold: std::time::Duration::from_millis(200),
                forward: true,
            },
        );
    let dev = format!("{}/{}/dev", proxy.url(), user.name);
    let home = tempfile::tempdir().unwrap();
    let pins = small_pins();
    let run = plan_for(home.path(), &pins, &dev, &["-v", "--host-concurrency", "3"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let present = rows(&run).iter().filter(|j| j.2 == "present").count();
    assert_eq!(present, SMALL, "{:?}", rows(&run));
    assert!(
        run.stderr()
            .contains("note: at most 3 index requests at once per server (--host-concurrency)"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains(&format!(
            "note: {}: the server answered 429/503 or timed out; at most 1 index request(s) at once (was 3)",
            proxy.url()
        )),
        "{}",
        run.stderr()
    );
    let most = proxy.max_in_flight();
    assert!(
        most <= 3,
        "{most} requests at once with --host-concurrency 3"
    );
    assert!(most >= 2, "the planner asked one page at a time ({most})");
}
