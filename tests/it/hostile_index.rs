//! A hostile upstream: listings whose names leave their directory, whose hashes are not
//! hashes, whose bodies are longer than declared or never end, and one of 100,000 files.
//! Each case runs `fill` end to end into a directory target with its own cache; the
//! hostile jobs fail with their reasons, the honest job beside them (a real fixture wheel
//! from the same server) is uploaded, nothing lands in a canary directory next to the
//! cache, nothing panics, and the process's peak memory stays bounded.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::support::{
    Body, CannedServer, Reply, Run, fixture_dist, job, sha256_of, wheelwright_with_home,
};

const HONEST: &str = "ww_alpha-1.0-py3-none-any.whl";
/// Generous: wheelwright streams downloads and holds a listing once.
const MAX_RSS_KIB: i64 = 200 * 1024;

/// The server with the honest project (`ww-alpha==1.0`) on it.
fn server() -> CannedServer {
    let server = CannedServer::start();
    let wheel = std::fs::read(fixture_dist(HONEST)).expect("read fixture wheel");
    let sha = sha256_of(&fixture_dist(HONEST));
    server.route(
        "/simple/ww-alpha/",
        Reply::html(format!(
            "<html><body><a href=\"/files/{HONEST}#sha256={sha}\">{HONEST}</a></body></html>"
        )),
    );
    server.route(&format!("/files/{HONEST}"), Reply::file(Body::Exact(wheel)));
    // What wheelwright asks before the first listing: the simple root, or a devpi
    // stage's `+api` for a `+simple` base.
    server.route("/simple/", Reply::html("<html><body></body></html>"));
    server.route(
        "/root/pypi/+api",
        Reply {
            content_type: "application/json".into(),
            body: Body::Exact(br#"{"type": "apiconfig", "result": {}}"#.to_vec()),
        },
    );
    server
}

/// An HTML project page with one anchor per (href, text).
fn page(anchors: &[(&str, &str)]) -> Reply {
    let mut html = String::from("<!DOCTYPE html><html><body>\n");
    for (href, text) in anchors {
        html.push_str(&format!("<a href=\"{href}\">{text}</a><br>\n"));
    }
    html.push_str("</body></html>\n");
    Reply::html(html)
}

/// A run of `fill` against the hostile server, with what the containment checks need.
struct HostileRun {
    run: Run,
    /// Peak resident set of the wheelwright process, KiB (`ru_maxrss`, see [`measured`]).
    max_rss_kib: i64,
    home: tempfile::TempDir,
}

impl std::ops::Deref for HostileRun {
    type Target = Run;
    fn deref(&self) -> &Run {
        &self.run
    }
}

impl HostileRun {
    fn cache(&self) -> PathBuf {
        self.home.path().join("cache")
    }
    fn target(&self) -> PathBuf {
        self.home.path().join("target")
    }
    fn canary(&self) -> PathBuf {
        self.home.path().join("canary")
    }

    fn job(&self, project: &str) -> &Value {
        job(&self.run, project)
    }

    /// The hostile job failed and says why (each of `needles` in its detail).
    fn assert_failed(&self, project: &str, needles: &[&str]) {
        let job = self.job(project);
        assert_eq!(job["outcome"], "failed", "{project}: {job}");
        let detail = job["detail"].as_str().unwrap_or_default();
        for needle in needles {
            assert!(
                detail.contains(needle),
                "{project}: {needle:?} not in {detail:?}"
            );
        }
    }

    /// What holds for every case: exit 1, no panic, the honest wheel uploaded byte for byte,
    /// nothing in the canary, only the honest wheel in the target, no partial download left
    /// in the store, and bounded memory.
    fn assert_contained(&self) {
        eprintln!("peak RSS of wheelwright: {} KiB", self.max_rss_kib);
        self.assert_code(1);
        assert!(!self.stderr().contains("panicked"), "{}", self.stderr());
        assert_eq!(
            self.job("ww-alpha")["outcome"],
            "uploaded",
            "{}",
            self.report
        );
        assert_eq!(
            sha256_of(&self.target().join(HONEST)),
            sha256_of(&fixture_dist(HONEST))
        );
        assert_eq!(entries(&self.canary()), Vec::<String>::new(), "canary");
        let metadata = format!("{HONEST}.metadata");
        assert_eq!(
            entries(&self.target()),
            ["simple", HONEST, metadata.as_str()],
            "target: the wheel and its PEP 658 metadata file"
        );
        let mut outside = entries(self.home.path());
        outside.retain(|e| {
            ![
                "cache",
                "target",
                "canary",
                "requirements.txt",
                "report.json",
            ]
            .contains(&e.as_str())
        });
        assert_eq!(
            outside,
            Vec::<String>::new(),
            "files beside cache and target"
        );
        let tmp = self.cache().join("store").join("tmp");
        assert_eq!(entries(&tmp), Vec::<String>::new(), "partial downloads");
        assert!(
            self.max_rss_kib < MAX_RSS_KIB,
            "peak RSS {} KiB is above {MAX_RSS_KIB} KiB",
            self.max_rss_kib
        );
    }
}

/// Names in a directory, sorted; a missing directory is empty.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `fill` of `ww-alpha==1.0` plus `hostile` requirements from `server` into `home/target`,
/// cache `home/cache`, with an empty `home/canary` beside them.
fn fill(server: &CannedServer, hostile: &str, extra: &[&str]) -> HostileRun {
    fill_from(server, "/simple/", hostile, extra)
}

/// [`fill`] with the index at `index_path` on the server.
fn fill_from(server: &CannedServer, index_path: &str, hostile: &str, extra: &[&str]) -> HostileRun {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(home.path().join("canary")).expect("canary");
    let reqs = home.path().join("requirements.txt");
    std::fs::write(&reqs, format!("ww-alpha==1.0\n{hostile}")).expect("requirements");
    let report = home.path().join("report.json");
    // HOME outside the directory watched for stray files.
    let user_home = tempfile::tempdir().expect("tempdir");
    let mut command = wheelwright_with_home(user_home.path());
    command
        .arg("fill")
        .arg(&reqs)
        .arg("--index-url")
        .arg(format!("{}{index_path}", server.url()))
        .arg("--cache-dir")
        .arg(home.path().join("cache"))
        .arg("--report-json")
        .arg(&report)
        .args(extra)
        .arg(home.path().join("target"));
    let rss_file = home.path().join("rss");
    let run = crate::support::run(&mut measured(&command, &rss_file)).with_report(&report);
    let max_rss_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS measured; stderr:\n{}", run.stderr()));
    std::fs::remove_file(&rss_file).expect("remove rss file");
    HostileRun {
        run,
        max_rss_kib,
        home,
    }
}

/// Runs `command` under a small Python parent that `wait4`s it and writes its peak RSS
/// (KiB) to `rss_file`. A process's peak RSS counts the memory of the process it was forked
/// from until its `exec`, so wheelwright is forked from that small parent, not from this
/// (large, multi-threaded) test process.
fn measured(command: &std::process::Command, rss_file: &Path) -> std::process::Command {
    const WAIT4: &str = "import os, sys\n\
        pid = os.fork()\n\
        if pid == 0:\n    os.execv(sys.argv[2], sys.argv[2:])\n\
        _, status, usage = os.wait4(pid, 0)\n\
        open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n\
        sys.exit(os.waitstatus_to_exitcode(status))\n";
    let mut wrapper = std::process::Command::new("python3");
    wrapper
        .arg("-c")
        .arg(WAIT4)
        .arg(rss_file)
        .arg(command.get_program())
        .args(command.get_args())
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            wrapper.env(key, value);
        }
    }
    wrapper
}

/// From the cache's store dir (`store/sha256/<hh>/<sha>/`) six `..` reach the directory that
/// holds the cache and the canary.
const UP_TO_HOME: &str = "../../../../../..";

#[test]
fn traversal_in_the_build_tag_is_refused() {
    let server = server();
    // Six dash-separated parts: a valid wheel name whose build tag is `1/../…/canary/evil`.
    let name = format!("ww_evil-1.0-1/{UP_TO_HOME}/canary/evil-py3-none-any.whl");
    server.route("/simple/ww-evil/", page(&[("/files/evil.whl", &name)]));
    server.route(
        "/files/evil.whl",
        Reply::file(Body::Exact(
            std::fs::read(fixture_dist(HONEST)).expect("read"),
        )),
    );
    let run = fill(&server, "ww-evil==1.0\n", &[]);
    run.assert_contained();
    run.assert_failed(
        "ww-evil",
        &[&format!("{name:?}"), "one path component", &server.url()],
    );
}

#[test]
fn traversal_absolute_paths_and_backslashes_in_filenames_are_refused() {
    let server = server();
    let home_like = std::env::temp_dir()
        .join("canary")
        .join("ww_abs-1.0-py3-none-any.whl");
    let absolute = home_like.to_string_lossy().into_owned();
    server.route(
        "/simple/ww-dots/",
        page(&[(
            "/files/d.whl",
            &format!("{UP_TO_HOME}/canary/ww_dots-1.0-py3-none-any.whl"),
        )]),
    );
    server.route("/simple/ww-abs/", page(&[("/files/a.whl", &absolute)]));
    let backslashed = "ww_back-1.0-1\\..\\..\\x-py3-none-any.whl";
    server.route("/simple/ww-back/", page(&[("/files/b.whl", backslashed)]));
    for file in ["d", "a", "b"] {
        server.route(
            &format!("/files/{file}.whl"),
            Reply::file(Body::Exact(
                std::fs::read(fixture_dist(HONEST)).expect("read"),
            )),
        );
    }
    let run = fill(&server, "ww-dots==1.0\nww-abs==1.0\nww-back==1.0\n", &[]);
    run.assert_contained();
    for project in ["ww-dots", "ww-abs"] {
        run.assert_failed(
            project,
            &["unusable upstream entries", "one path component"],
        );
    }
    run.assert_failed(
        "ww-back",
        &[&format!("{backslashed:?}"), "without `/` or `\\`"],
    );
}

#[test]
fn percent_encoded_slashes_in_a_devpi_href_are_refused() {
    let server = server();
    // devpi's simple pages link `+f/<hash path>/<filename>`; a name with `%2F` decodes to
    // one with `/` (pip unquotes the last segment the same way).
    let href = format!(
        "../../+f/abc/def/ww_evil-1.0-1%2F{}%2Fcanary%2Fevil-py3-none-any.whl",
        UP_TO_HOME.replace('/', "%2F")
    );
    server.route("/root/pypi/+simple/ww-evil/", page(&[(&href, "")]));
    server.route(
        "/root/pypi/+simple/ww-alpha/",
        Reply::html(format!(
            "<a href=\"/files/{HONEST}#sha256={}\">{HONEST}</a>",
            sha256_of(&fixture_dist(HONEST))
        )),
    );
    let run = fill_from(&server, "/root/pypi/+simple/", "ww-evil==1.0\n", &[]);
    run.assert_contained();
    run.assert_failed("ww-evil", &["ww_evil-1.0-1/../", "one path component"]);
}

#[test]
fn malformed_hashes_fail_their_jobs_only() {
    let server = server();
    let wheel = std::fs::read(fixture_dist(HONEST)).expect("read");
    let cases = [
        ("ww-short", "a".to_string(), "64 hex digits, not 1"),
        ("ww-long", "a".repeat(65), "64 hex digits, not 65"),
        ("ww-nonhex", "g".repeat(64), "hex digits (0-9, a-f)"),
        ("ww-unicode", "€".repeat(64), "hex digits (0-9, a-f)"),
    ];
    let mut hostile = String::new();
    for (project, hash, _) in &cases {
        let file = format!("{}-1.0-py3-none-any.whl", project.replace('-', "_"));
        // PEP 691 `hashes` carry the digest as written (a URL fragment would be
        // percent-encoded on the way).
        server.route(
            &format!("/simple/{project}/"),
            Reply::simple_json(
                serde_json::json!({
                    "meta": {"api-version": "1.0"},
                    "name": project,
                    "files": [{"filename": file, "url": format!("/files/{file}"),
                               "hashes": {"sha256": hash}}],
                })
                .to_string(),
            ),
        );
        server.route(
            &format!("/files/{file}"),
            Reply::file(Body::Exact(wheel.clone())),
        );
        hostile.push_str(&format!("{project}==1.0\n"));
    }
    let run = fill(&server, &hostile, &[]);
    run.assert_contained();
    for (project, hash, why) in &cases {
        run.assert_failed(project, &[&format!("sha256 {hash:?}"), why]);
    }
}

#[test]
fn a_body_longer_than_its_listed_size_is_cut_off() {
    let server = server();
    let wheel = std::fs::read(fixture_dist(HONEST)).expect("read");
    let listed = wheel.len() - 100;
    // No sha256 in the listing: only the PEP 700 size stands between the body and the store.
    server.route(
        "/simple/ww-sized/",
        Reply::simple_json(format!(
            r#"{{"meta": {{"api-version": "1.1"}}, "name": "ww-sized", "files": [
              {{"filename": "ww_sized-1.0-py3-none-any.whl", "url": "/files/sized.whl",
                "hashes": {{}}, "size": {listed}}}]}}"#
        )),
    );
    server.route("/files/sized.whl", Reply::file(Body::Unframed(wheel)));
    let run = fill(&server, "ww-sized==1.0\n", &[]);
    run.assert_contained();
    run.assert_failed(
        "ww-sized",
        &[
            &format!("longer than the listed size ({listed} bytes)"),
            "discarded",
        ],
    );
}

#[test]
fn a_content_length_above_the_listed_size_is_refused() {
    let server = server();
    let wheel = std::fs::read(fixture_dist(HONEST)).expect("read");
    let listed = wheel.len();
    let mut longer = wheel.clone();
    longer.extend_from_slice(&[0u8; 4096]);
    server.route(
        "/simple/ww-sized/",
        Reply::simple_json(format!(
            r#"{{"meta": {{"api-version": "1.1"}}, "name": "ww-sized", "files": [
              {{"filename": "ww_sized-1.0-py3-none-any.whl", "url": "/files/sized.whl",
                "hashes": {{}}, "size": {listed}}}]}}"#
        )),
    );
    server.route(
        "/files/sized.whl",
        Reply::file(Body::Declared {
            content_length: longer.len() as u64,
            bytes: longer,
        }),
    );
    let run = fill(&server, "ww-sized==1.0\n", &[]);
    run.assert_contained();
    run.assert_failed("ww-sized", &["longer than the listed size"]);
}

#[test]
fn a_body_longer_than_its_content_length_is_not_taken_for_the_file() {
    let server = server();
    let wheel = std::fs::read(fixture_dist(HONEST)).expect("read");
    let sha = sha256_of(&fixture_dist(HONEST));
    let file = "ww_cl-1.0-py3-none-any.whl";
    server.route(
        "/simple/ww-cl/",
        page(&[(&format!("/files/{file}#sha256={sha}"), file)]),
    );
    // The first 100 bytes are framed as the body; the rest is not the answer.
    server.route(
        &format!("/files/{file}"),
        Reply::file(Body::Declared {
            bytes: wheel,
            content_length: 100,
        }),
    );
    let run = fill(&server, "ww-cl==1.0\n", &[]);
    run.assert_contained();
    run.assert_failed("ww-cl", &["does not match the index's sha256"]);
}

#[test]
fn an_endless_body_is_cut_off_at_the_maximum_download_size() {
    let server = server();
    let file = "ww_endless-1.0-py3-none-any.whl";
    server.route(
        "/simple/ww-endless/",
        page(&[(&format!("/files/{file}"), file)]),
    );
    server.route(
        &format!("/files/{file}"),
        Reply::file(Body::Endless { cap: 1 << 30 }),
    );
    // The limit from the config file's key (the flag is the same clap option).
    let config = tempfile::NamedTempFile::new().expect("config file");
    std::fs::write(config.path(), "[fill]\nmax-download-size = \"8M\"\n").expect("config");
    let config_path = config.path().to_string_lossy().into_owned();
    let run = fill(&server, "ww-endless==1.0\n", &["--config", &config_path]);
    run.assert_contained();
    run.assert_failed(
        "ww-endless",
        &["longer than --max-download-size (8388608 bytes)"],
    );
    // Cut off near the limit, not read to the server's cap.
    assert!(
        server.bytes_sent() < 64 << 20,
        "{} bytes sent",
        server.bytes_sent()
    );
}

/// An error answer whose body never ends: its reason is read from the first bytes, the rest
/// is not read (the run ends, the memory stays small, the server sent far less than its cap).
#[test]
fn an_endless_error_page_is_not_read_to_its_end() {
    let server = server();
    server.route(
        "/simple/ww-down/",
        Reply {
            content_type: "text/html".into(),
            body: Body::EndlessError { cap: 1 << 30 },
        },
    );
    let run = fill(&server, "ww-down==1.0\n", &["--retries", "0"]);
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    assert_ne!(run.code(), 0, "{}", run.stderr());
    let said = format!("{}{}", run.stderr(), run.report);
    assert!(said.contains("503"), "{said}");
    assert!(
        server.bytes_sent() < 64 << 20,
        "{} bytes sent",
        server.bytes_sent()
    );
    assert!(
        run.max_rss_kib < MAX_RSS_KIB,
        "peak RSS {} KiB",
        run.max_rss_kib
    );
}

#[test]
fn a_listing_of_100000_files_is_read_in_bounded_memory() {
    let server = server();
    let mut html = String::with_capacity(16 << 20);
    html.push_str("<!DOCTYPE html><html><body>\n");
    let sha = "0".repeat(64);
    for i in 0..100_000u32 {
        // Every other entry has a short hash: those are rejected, the rest are usable.
        let hash = if i % 2 == 0 { sha.as_str() } else { "ab" };
        html.push_str(&format!(
            "<a href=\"/files/ww_many-1.{i}-py3-none-any.whl#sha256={hash}\">ww_many-1.{i}-py3-none-any.whl</a>\n"
        ));
    }
    html.push_str("</body></html>\n");
    server.route("/simple/ww-many/", Reply::html(html));
    let run = fill(&server, "ww-many==1.1\n", &[]);
    run.assert_contained();
    run.assert_failed(
        "ww-many",
        &["\"ww_many-1.1-py3-none-any.whl\"", "sha256 \"ab\""],
    );
}
