//! `wheelwright fill` under faults: a proxy (support/proxy.rs) between wheelwright and the
//! real devpi-server target injects resets, 5xx/429 answers, timeouts, "stored, then 500",
//! a conflicting upload racing ours, a target that goes away, a token that expired, and the
//! run is killed halfway. The upstream index is devpi too, reached directly (never through
//! the proxy). After every scenario the target must hold each wheel exactly once, with the
//! upstream's bytes (docs/devpi-protocol.md, Uploads).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{
    DevpiUser, Fault, FaultProxy, Match, Run, When, devpi, fill, fixture_dist, http_client,
    legacy_upload, name_version_from_filename, sha256_of, user_with_upstream,
    wheelwright_with_home,
};

const ALPHA_1: &str = "ww_alpha-1.0-py3-none-any.whl";
const ALPHA_2: &str = "ww_alpha-2.0-py3-none-any.whl";
const ALPHA_RC: &str = "ww_alpha-3.0rc1-py3-none-any.whl";
const BRAVO: &str = "ww_bravo-1.0.0-py3-none-any.whl";
const ECHO: &str = "ww_echo_pkg-1.0-py3-none-any.whl";
const BIG: &str = "ww_big-1.0-py3-none-any.whl";
const KILO: &str = "ww_kilo-1.0-py3-none-any.whl";
const LIMA: &str = "ww_lima-1.0-py3-none-any.whl";
const MIKE: &str = "ww_mike-1.0-py3-none-any.whl";
const NOVEMBER: &str = "ww_november-1.0-py3-none-any.whl";

/// Ten wheels: six fixtures plus four made here (only the fixture set has no more pure wheels).
const REQUIREMENTS: &str = "ww-alpha==1.0\nww-alpha==2.0\nww-alpha==3.0rc1\nww-bravo==1.0.0\n\
    ww-echo-pkg==1.0\nww-big==1.0\nww-kilo==1.0\nww-lima==1.0\nww-mike==1.0\nww-november==1.0\n";
const FIXTURE_WHEELS: [&str; 6] = [ALPHA_1, ALPHA_2, ALPHA_RC, BRAVO, ECHO, BIG];
const MADE_WHEELS: [&str; 4] = [KILO, LIMA, MIKE, NOVEMBER];

/// A minimal valid pure wheel (METADATA, WHEEL, RECORD with hashes) named `filename`;
/// `payload` goes into the module, so different payloads give different bytes.
fn make_wheel(dir: &Path, filename: &str, payload: &str) -> PathBuf {
    let (dist, version) = name_version_from_filename(filename);
    let project = dist.replace('_', "-");
    let info = format!("{dist}-{version}.dist-info");
    let files = [
        (format!("{dist}/__init__.py"), format!("PAYLOAD = {payload:?}\n")),
        (
            format!("{info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {project}\nVersion: {version}\nSummary: fault test wheel\n"),
        ),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: wheelwright-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".into(),
        ),
    ];
    let path = dir.join(filename);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let mut record = String::new();
    for (name, text) in &files {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(text));
        record.push_str(&format!("{name},sha256={digest},{}\n", text.len()));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    zip.start_file(format!("{info}/RECORD"), options).unwrap();
    zip.write_all(record.as_bytes()).unwrap();
    zip.finish().unwrap();
    path
}

/// `ww_alpha-1.0-...whl` → `ww-alpha` (devpi's project name for the listing).
fn project_of(filename: &str) -> String {
    name_version_from_filename(filename)
        .0
        .replace('_', "-")
        .to_lowercase()
}

/// A user with an `upstream` index holding the fixture dists and four made wheels, an empty
/// non-volatile `target` index, and a home for wheelwright's cache.
struct Scene {
    user: DevpiUser,
    upstream: String,
    home: tempfile::TempDir,
    /// The wheels that must end up on the target, by filename.
    wheels: Vec<(String, PathBuf)>,
    _made: tempfile::TempDir,
}

impl Scene {
    fn new(prefix: &str) -> Scene {
        let (user, upstream) = user_with_upstream(prefix);
        user.create_index("target", &[], false);
        let made = tempfile::tempdir().unwrap();
        let mut wheels: Vec<(String, PathBuf)> = FIXTURE_WHEELS
            .iter()
            .map(|f| (f.to_string(), fixture_dist(f)))
            .collect();
        for filename in MADE_WHEELS {
            let path = make_wheel(made.path(), filename, prefix);
            user.upload("upstream", &path);
            wheels.push((filename.to_string(), path));
        }
        Scene {
            user,
            upstream,
            home: tempfile::tempdir().unwrap(),
            wheels,
            _made: made,
        }
    }

    /// The target index as seen through `proxy`.
    fn target_via(&self, proxy: &FaultProxy) -> String {
        format!("{}/{}/target", proxy.url(), self.user.name)
    }

    /// The path wheelwright POSTs uploads to.
    fn upload_path(&self) -> String {
        format!("/{}/target/", self.user.name)
    }

    /// The path of the target's own listing of a project (the upload check).
    fn listing_path(&self, project: &str) -> String {
        format!("/{}/target/{project}?ignore_bases", self.user.name)
    }

    fn fill(&self, requirements: &str, target: &str, extra: &[&str]) -> Run {
        let mut args = vec!["--index-url", self.upstream.as_str(), target, "--batch"];
        args.extend_from_slice(extra);
        fill(
            self.home.path(),
            requirements,
            &args,
            &[
                ("DEVPI_USER", self.user.name.as_str()),
                ("DEVPI_PASSWORD", self.user.password.as_str()),
            ],
        )
    }

    fn sha256(&self, filename: &str) -> String {
        let (_, path) = self.wheels.iter().find(|(f, _)| f == filename).unwrap();
        sha256_of(path)
    }

    /// Every file on the target itself (not inherited), over the scene's projects.
    fn target_files(&self) -> Vec<(String, String)> {
        let mut projects: Vec<String> = self.wheels.iter().map(|(f, _)| project_of(f)).collect();
        projects.sort();
        projects.dedup();
        let mut files: Vec<(String, String)> = projects
            .iter()
            .flat_map(|p| self.user.files("target", p, true))
            .collect();
        files.sort();
        files
    }

    /// The target holds every wheel exactly once, with the upstream's bytes, and nothing else.
    fn assert_target_complete(&self) {
        let mut expected: Vec<(String, String)> = self
            .wheels
            .iter()
            .map(|(f, p)| (f.clone(), sha256_of(p)))
            .collect();
        expected.sort();
        assert_eq!(self.target_files(), expected, "target contents");
    }
}

/// The report's job for a wheel filename.
fn job<'a>(run: &'a Run, filename: &str) -> &'a Value {
    run.report["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in report; stderr:\n{}", run.stderr()))
        .iter()
        .find(|j| j["file"]["filename"] == filename)
        .unwrap_or_else(|| panic!("no job for {filename} in {}", run.report))
}

fn retries(job: &Value) -> Vec<String> {
    job["retries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn attempts(job: &Value) -> usize {
    job["attempts"].as_u64().unwrap() as usize
}

fn print_proxy_log(proxy: &FaultProxy) {
    for r in proxy.log() {
        println!(
            "  {} {}{}: {} -> {}{}",
            r.request.method,
            r.request.path,
            r.request
                .upload_filename
                .as_deref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default(),
            r.fault.as_deref().unwrap_or("pass"),
            r.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "closed".into()),
            if r.forwarded { " (forwarded)" } else { "" }
        );
    }
}

#[test]
fn flaky_target_ends_with_every_wheel_once_and_byte_identical() {
    let scene = Scene::new("flaky");
    let proxy = FaultProxy::start(&devpi().url());
    let hold = Duration::from_secs(6); // > --timeout 4 (room for a loaded machine)
    let up = Match::upload_of;
    proxy
        .on(up(ALPHA_1), When::Nth(1), Fault::Reset)
        .on(up(ALPHA_2), When::Nth(1), Fault::Status(502, None))
        .on(up(ALPHA_2), When::Nth(2), Fault::Status(503, None))
        .on(up(BRAVO), When::Nth(1), Fault::Status(429, Some(1)))
        .on(
            up(ECHO),
            When::Nth(1),
            Fault::Delay {
                hold,
                forward: false,
            },
        )
        .on(up(BIG), When::Nth(1), Fault::StoreThenStatus(500))
        .on(
            up(KILO),
            When::Nth(1),
            Fault::Delay {
                hold,
                forward: true,
            },
        )
        .on(up(LIMA), When::Nth(1), Fault::Reset)
        .on(up(LIMA), When::Nth(2), Fault::StoreThenStatus(502))
        // The upload checks (and for ww-alpha the verification after an upload).
        .on(
            Match::request("GET", &scene.listing_path("ww-mike")),
            When::Nth(1),
            Fault::Status(503, None),
        )
        .on(
            Match::request("GET", &scene.listing_path("ww-november")),
            When::Nth(1),
            Fault::Reset,
        )
        .on(
            Match::request("GET", &scene.listing_path("ww-alpha")),
            When::Nth(2),
            Fault::Status(502, None),
        );

    let run = scene.fill(REQUIREMENTS, &scene.target_via(&proxy), &["--timeout", "4"]);
    println!(
        "flaky fill: exit {}, requests through the proxy {}, faults injected {}",
        run.code(),
        proxy.requests_seen(),
        proxy.faults_injected()
    );
    println!("faulted requests:");
    for r in proxy.log().iter().filter(|r| r.fault.is_some()) {
        println!(
            "  {} {} {}: {}",
            r.request.method,
            r.request.path,
            r.request.upload_filename.as_deref().unwrap_or(""),
            r.fault.as_deref().unwrap()
        );
    }
    println!("jobs:");
    for (filename, _) in &scene.wheels {
        let j = job(&run, filename);
        println!(
            "  {filename}: {} attempts={} POSTs seen={} forwarded={} retries={:?}",
            j["outcome"],
            j["attempts"],
            proxy.uploads_seen(filename),
            proxy.uploads_forwarded(filename),
            retries(j)
        );
    }
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());

    for (filename, _) in &scene.wheels {
        let j = job(&run, filename);
        assert_eq!(j["outcome"], "uploaded", "{filename}: {j}");
        assert_eq!(j["sha256"], scene.sha256(filename), "{filename}");
        // `attempts` counts the POSTs sent: exactly what reached the proxy.
        assert_eq!(
            attempts(j),
            proxy.uploads_seen(filename),
            "{filename}: attempts vs POSTs the proxy read"
        );
        // Every POST after the first one follows a recorded retry.
        assert!(attempts(j) <= retries(j).len() + 1, "{filename}: {j}");
    }
    // Every job whose upload POST was faulted shows why it retried.
    for filename in [ALPHA_1, ALPHA_2, BRAVO, ECHO, BIG, KILO, LIMA] {
        let j = job(&run, filename);
        assert!(!retries(j).is_empty(), "{filename} shows no retries: {j}");
    }
    let reasons = |f: &str| retries(job(&run, f));
    assert_eq!(reasons(ALPHA_2)[..2], ["HTTP 502", "HTTP 503"]);
    assert_eq!(reasons(BRAVO)[0], "HTTP 429");
    assert!(
        reasons(ECHO)[0].contains("timed out"),
        "{:?}",
        reasons(ECHO)
    );
    // Stored, then 500: the check before the retry finds the file, so no second POST.
    assert_eq!(reasons(BIG), ["HTTP 500"]);
    assert_eq!(attempts(job(&run, BIG)), 1);
    assert_eq!(proxy.uploads_seen(BIG), 1, "ww_big was POSTed again");
    assert_eq!(proxy.uploads_forwarded(BIG), 1);
    // Reset (not forwarded), then stored-then-502: two POSTs, one reached devpi, no third.
    assert_eq!(attempts(job(&run, LIMA)), 2);
    assert_eq!(proxy.uploads_forwarded(LIMA), 1);
    // Listing faults were injected and survived (they are retried inside the read).
    for project in ["ww-mike", "ww-november", "ww-alpha"] {
        let path = scene.listing_path(project);
        assert!(
            proxy
                .log()
                .iter()
                .any(|r| r.request.path == path && r.fault.is_some()),
            "no fault hit {path}"
        );
    }
    assert!(proxy.posts_forwarded(&scene.upload_path()) >= 10);

    scene.assert_target_complete();
    println!("final target state: {:?}", scene.target_files());

    // A second run finds everything and sends nothing.
    let again = scene.fill(REQUIREMENTS, &scene.target_via(&proxy), &[]);
    assert_eq!(again.code(), 0, "{}", again.stderr());
    assert_eq!(again.count("present"), 10, "{:?}", again.outcomes());
    devpi().assert_no_tracebacks();
}

#[test]
fn a_conflicting_upload_racing_ours_is_reported_and_not_overwritten() {
    let scene = Scene::new("race");
    let foreign_dir = tempfile::tempdir().unwrap();
    let foreign = make_wheel(foreign_dir.path(), ALPHA_1, "someone else's bytes");
    let foreign_sha = sha256_of(&foreign);
    assert_ne!(foreign_sha, scene.sha256(ALPHA_1));
    let upload_url = format!("{}/", scene.user.index_url("target"));
    let (auth_key, auth_value) = scene.user.auth_header();
    let proxy = FaultProxy::start(&devpi().url());
    proxy.on(
        Match::upload_of(ALPHA_1),
        When::Nth(1),
        Fault::Race(Arc::new(move || {
            let answer = legacy_upload(
                &http_client(),
                &upload_url,
                &foreign,
                None,
                &[(auth_key, &auth_value), ("Accept", "application/json")],
            );
            assert_eq!(answer.status, 200, "racing upload: {}", answer.body);
        })),
    );

    let run = scene.fill(
        "ww-alpha==1.0\nww-bravo==1.0.0\n",
        &scene.target_via(&proxy),
        &[],
    );
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    let alpha = job(&run, ALPHA_1);
    assert_eq!(alpha["outcome"], "failed", "{alpha}");
    let detail = alpha["detail"].as_str().unwrap();
    assert!(detail.contains("conflict"), "{detail}");
    assert!(detail.contains(&foreign_sha), "{detail}");
    // A 409 is never retried.
    assert_eq!(proxy.uploads_seen(ALPHA_1), 1);
    let statuses: Vec<Option<u16>> = proxy
        .log()
        .iter()
        .filter(|r| r.request.upload_filename.as_deref() == Some(ALPHA_1))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [Some(409)], "devpi's answer to our POST");
    assert_eq!(job(&run, BRAVO)["outcome"], "uploaded");
    assert!(run.stderr().contains("CONFLICT"), "{}", run.stderr());
    // The foreign bytes stay.
    assert_eq!(
        scene.user.files("target", "ww-alpha", true),
        [(ALPHA_1.to_string(), foreign_sha)]
    );
    // `attempts` is "POSTs sent", for failed jobs too.
    assert_eq!(
        attempts(alpha),
        1,
        "the failed job's report must count the POST it sent: {alpha}"
    );
}

#[test]
fn a_target_that_goes_away_stops_the_run_and_a_rerun_completes_it() {
    let scene = Scene::new("goaway");
    let proxy = FaultProxy::start(&devpi().url());
    // Two uploads land, then the third POST finds the server gone: connections are closed
    // and the port stops listening.
    proxy.on(Match::uploads(), When::Nth(3), Fault::GoDown);
    let run = scene.fill(
        REQUIREMENTS,
        &scene.target_via(&proxy),
        &["--transfer-concurrency", "1", "--retries", "2"],
    );
    println!(
        "target gone: exit {}, outcomes {:?}",
        run.code(),
        run.outcomes()
    );
    assert!(proxy.is_down());
    assert_eq!(run.code(), 3, "{}\n{}", run.stdout(), run.stderr());
    assert!(
        run.report["stopped"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "stopped: {}",
        run.report["stopped"]
    );
    assert_eq!(run.count("uploaded"), 2, "{:?}", run.outcomes());
    assert_eq!(run.count("failed"), 1, "{:?}", run.outcomes());
    assert_eq!(run.count("not-run"), 7, "{:?}", run.outcomes());
    let failed = run.report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["outcome"] == "failed")
        .unwrap();
    println!("the job that met the gone target: {}", failed["detail"]);
    assert!(
        failed["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&scene.target_via(&proxy))),
        "the failure names the target: {failed}"
    );
    // What the report calls uploaded is exactly what the target holds.
    let mut reported: Vec<(String, String)> = scene
        .wheels
        .iter()
        .map(|(f, _)| f)
        .filter(|f| job(&run, f)["outcome"] == "uploaded")
        .map(|f| (f.clone(), scene.sha256(f)))
        .collect();
    reported.sort();
    assert_eq!(scene.target_files(), reported);
    drop(proxy);

    let healthy = FaultProxy::start(&devpi().url());
    let rerun = scene.fill(REQUIREMENTS, &scene.target_via(&healthy), &[]);
    assert_eq!(rerun.code(), 0, "{}\n{}", rerun.stdout(), rerun.stderr());
    assert_eq!(rerun.count("present"), 2, "{:?}", rerun.outcomes());
    assert_eq!(rerun.count("uploaded"), 8, "{:?}", rerun.outcomes());
    for (filename, _) in &reported {
        assert_eq!(healthy.uploads_seen(filename), 0, "{filename} sent again");
    }
    scene.assert_target_complete();
}

#[test]
fn a_run_killed_halfway_is_completed_by_the_next_run() {
    let scene = Scene::new("sigkill");
    let proxy = FaultProxy::start(&devpi().url());
    // Slow uploads, so the kill lands in the middle.
    proxy.on(
        Match::uploads(),
        When::Always,
        Fault::Delay {
            hold: Duration::from_millis(400),
            forward: true,
        },
    );
    let reqs = scene.home.path().join("requirements.txt");
    std::fs::write(&reqs, REQUIREMENTS).unwrap();
    let mut child = wheelwright_with_home(scene.home.path())
        .arg("fill")
        .arg(&reqs)
        .args([
            "--index-url",
            &scene.upstream,
            &scene.target_via(&proxy),
            "--transfer-concurrency",
            "1",
        ])
        .env("DEVPI_USER", &scene.user.name)
        .env("DEVPI_PASSWORD", &scene.user.password)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("fill ended ({status}) before it could be killed halfway");
        }
        if scene.target_files().len() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no two uploads landed in time");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(proxy); // held requests are dropped, not forwarded
    let landed = scene.target_files();
    println!("killed with {} of 10 wheels on the target", landed.len());
    assert!(landed.len() < 10, "the kill came too late to test anything");

    let healthy = FaultProxy::start(&devpi().url());
    let rerun = scene.fill(REQUIREMENTS, &scene.target_via(&healthy), &[]);
    assert_eq!(rerun.code(), 0, "{}\n{}", rerun.stdout(), rerun.stderr());
    assert_eq!(
        rerun.count("present") + rerun.count("uploaded"),
        10,
        "{:?}",
        rerun.outcomes()
    );
    assert!(rerun.count("present") >= 2, "{:?}", rerun.outcomes());
    // What landed before the kill is found, not sent again.
    for (filename, _) in &landed {
        assert_eq!(healthy.uploads_seen(filename), 0, "{filename} sent again");
    }
    scene.assert_target_complete();
}

#[test]
fn an_expired_devpi_token_means_one_login_and_a_retry() {
    let scene = Scene::new("relogin");
    let proxy = FaultProxy::start(&devpi().url());
    // What devpi answers after a restart invalidated the token.
    proxy.on(
        Match::upload_of(BRAVO),
        When::Nth(1),
        Fault::Status(401, None),
    );
    let run = scene.fill("ww-bravo==1.0.0\n", &scene.target_via(&proxy), &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let bravo = job(&run, BRAVO);
    assert_eq!(bravo["outcome"], "uploaded");
    assert_eq!(retries(bravo), ["HTTP 401: logged in again"]);
    assert_eq!(attempts(bravo), 2);
    let logins = proxy
        .log()
        .iter()
        .filter(|r| r.request.method == "POST" && r.request.path == "/+login")
        .count();
    assert_eq!(logins, 2, "the start-up login and one more");
    assert_eq!(
        scene.user.files("target", "ww-bravo", true),
        [(BRAVO.to_string(), scene.sha256(BRAVO))]
    );
}

#[test]
fn the_proxy_relays_keep_alive_chunked_and_length_bodies() {
    // The proxy itself: several requests on one pooled connection, a chunked (streamed) and
    // a Content-Length upload, each relayed to the real server.
    let user = devpi().new_user("proxyself");
    let target = user.create_index("target", &[], false);
    let proxy = FaultProxy::start(&devpi().url());
    let via = target.replace(&devpi().url(), &proxy.url());
    let client = http_client();
    for _ in 0..3 {
        let r = client
            .get(format!("{via}/+api"))
            .header("Accept", "application/json")
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let bytes = std::fs::read(fixture_dist(ALPHA_1)).unwrap();
    let (key, value) = user.auth_header();
    let form = reqwest::blocking::multipart::Form::new()
        .text(":action", "file_upload")
        .text("name", "ww-alpha")
        .text("version", "1.0")
        .part(
            "content",
            reqwest::blocking::multipart::Part::reader(std::io::Cursor::new(bytes))
                .file_name(ALPHA_1),
        );
    let r = client
        .post(format!("{via}/"))
        .header(key, &value)
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
    let answer = legacy_upload(
        &client,
        &format!("{via}/"),
        &fixture_dist(BRAVO),
        None,
        &[(key, &value), ("Accept", "application/json")],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    print_proxy_log(&proxy);
    assert_eq!(proxy.uploads_forwarded(ALPHA_1), 1);
    let chunked: Vec<(String, bool)> = proxy
        .log()
        .into_iter()
        .filter_map(|r| Some((r.request.upload_filename?, r.request.chunked)))
        .collect();
    assert_eq!(
        chunked,
        [(ALPHA_1.to_string(), true), (BRAVO.to_string(), false)],
        "one streamed (chunked) upload, one with Content-Length"
    );
    assert_eq!(proxy.uploads_forwarded(BRAVO), 1);
    assert_eq!(proxy.requests_seen(), 5);

    // Nothing is rewritten, not even `Host`: devpi builds its hrefs from the proxy's address.
    let project: Value = client
        .get(format!("{via}/ww-alpha"))
        .header("Accept", "application/json")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let href = project["result"]["1.0"]["+links"][0]["href"]
        .as_str()
        .unwrap();
    assert!(href.starts_with(&proxy.url()), "{href}");
    assert!(
        proxy.connections_accepted() < 6,
        "keep-alive: {} connections for 6 requests",
        proxy.connections_accepted()
    );
    assert_eq!(
        user.files("target", "ww-alpha", true),
        [(ALPHA_1.to_string(), sha256_of(&fixture_dist(ALPHA_1)))]
    );
}

#[test]
fn a_second_signal_stops_at_once_without_waiting_for_the_transfer_in_flight() {
    let scene = Scene::new("twosignals");
    let proxy = FaultProxy::start(&devpi().url());
    // The upload is held far longer than the test waits: a run that waited for it would
    // still be running when the test looks.
    proxy.on(
        Match::uploads(),
        When::Always,
        Fault::Delay {
            hold: Duration::from_secs(600),
            forward: false,
        },
    );
    let reqs = scene.home.path().join("requirements.txt");
    std::fs::write(&reqs, "ww-alpha==1.0\n").unwrap();
    let report = scene.home.path().join("report.json");
    let mut child = wheelwright_with_home(scene.home.path())
        .arg("fill")
        .arg(&reqs)
        .args(["--index-url", &scene.upstream, &scene.target_via(&proxy)])
        .arg("--report-json")
        .arg(&report)
        .env("DEVPI_USER", &scene.user.name)
        .env("DEVPI_PASSWORD", &scene.user.password)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stderr, line by line, as it comes.
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while proxy.uploads_seen(ALPHA_1) == 0 {
        assert!(child.try_wait().unwrap().is_none(), "fill ended early");
        assert!(Instant::now() < deadline, "the upload never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let term = || rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    term();
    // The second signal only after the first was taken (two at once may arrive as one).
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the first signal was not acknowledged");
        let acknowledged = line.contains("SIGTERM: finishing transfers in flight");
        seen.push(line);
        if acknowledged {
            break;
        }
    }
    term();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    seen.extend(lines.try_iter());
    assert_eq!(status.code(), Some(143), "{seen:#?}");
    assert!(
        seen.iter()
            .any(|l| l == "SIGTERM again: stopping at once, without the reports"),
        "{seen:#?}"
    );
    // It did not wait: the held upload was never answered, and no report was written.
    let upload = proxy
        .log()
        .into_iter()
        .find(|r| r.request.upload_filename.as_deref() == Some(ALPHA_1))
        .unwrap();
    assert_eq!(upload.status, None, "{upload:?}");
    assert!(!report.exists());
}
