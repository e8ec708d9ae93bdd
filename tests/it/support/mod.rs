//! Integration-test harness: real servers (devpi-server, pypiserver) on loopback ports,
//! paths to the project's fixtures, the `wheelwright` binary with a scrubbed environment and
//! what its runs left ([`Run`]), and every helper more than one test module uses: test
//! modules import from here, never from each other.
//!
//! Servers run from the virtualenv that `scripts/test.sh` creates (`.venv-test`, or
//! `$WHEELWRIGHT_TEST_VENV`). Every server runs under a watchdog (see [`process`]) that kills
//! it as soon as the test process goes away, so a static server never outlives `cargo test`.

// Each test module uses a different part of the harness; the rest would be dead code (and
// unused re-exports) there.
#![allow(dead_code, unused_imports)]

mod canned;
mod devpi;
mod dists;
mod files;
mod forward_proxy;
mod nginx;
mod nginx_static;
pub(crate) mod pki;
mod process;
mod proxy;
mod pypiserver;
mod python;
mod run;
pub(crate) mod snapshot;
mod tls;
mod toolchain;
mod upstreams;
mod wheelwright;

pub(crate) use canned::{Body, CannedServer, Reply};
pub(crate) use devpi::{DevpiServer, DevpiUser, devpi};
pub(crate) use dists::{make_failing_sdist, make_wheel, make_wheel_with};
pub(crate) use files::{only_wheel, sha256_of, wheel_member, wheels};
pub(crate) use forward_proxy::ForwardProxy;
pub(crate) use nginx::{Nginx, PROXY_PASSWORD, PROXY_USER, nginx};
pub(crate) use nginx_static::{StaticNginx, WORKER_USER, uid_of};
pub(crate) use proxy::{Fault, FaultProxy, LoggedRequest, Match, RequestInfo, When};
pub(crate) use pypiserver::Pypiserver;
pub(crate) use python::{Venv, pip_resolution, pyenv_python, pyenv_versions};
pub(crate) use run::{Run, fill, job, plan, report_job, run};
pub(crate) use tls::{authority, path_str, plan_bravo, target_with_bravo};
pub(crate) use toolchain::{FakeCargoHome, rustup_home};
pub(crate) use upstreams::{deps_upstream, user_with_upstream, user_with_upstream_on};
pub(crate) use wheelwright::{WheelwrightCommand, wheelwright, wheelwright_with_home};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The project root (`CARGO_MANIFEST_DIR`).
pub(crate) fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `<project>/fixtures`.
pub(crate) fn fixtures_dir() -> PathBuf {
    project_root().join("fixtures")
}

/// A built fixture distribution in `fixtures/dist/` (see `fixtures/README.md`).
pub(crate) fn fixture_dist(filename: &str) -> PathBuf {
    let path = fixtures_dir().join("dist").join(filename);
    assert!(
        path.is_file(),
        "fixture distribution {filename} is missing at {}; rebuild with `python3 fixtures/build_fixtures.py`",
        path.display()
    );
    path
}

/// Wheels of common build backends (setuptools, wheel, flit_core, hatchling and their
/// dependencies) that `scripts/test.sh` downloads once; build tests use them as a local upstream.
pub(crate) fn upstream_wheels_dir() -> PathBuf {
    let dir = project_root().join(".cache").join("upstream-wheels");
    let has_wheels = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".whl"))
        })
        .unwrap_or(false);
    assert!(
        has_wheels,
        "no upstream wheels in {}: run scripts/test.sh first (it downloads them)",
        dir.display()
    );
    dir
}

/// The virtualenv holding devpi-server and pypiserver.
pub(crate) fn test_venv() -> PathBuf {
    let venv = std::env::var_os("WHEELWRIGHT_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join(".venv-test"));
    for tool in ["python", "devpi-init", "devpi-server", "pypi-server"] {
        assert!(
            venv.join("bin").join(tool).is_file(),
            "{} has no bin/{tool}: run scripts/test.sh first (it installs devpi-server into .venv-test)",
            venv.display()
        );
    }
    venv
}

/// A name unique within this machine for this run: `{prefix}-{counter}-{pid}`.
pub(crate) fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{n}-{}", std::process::id())
}

/// Prefix of every temporary directory the harness creates. `scripts/test.sh` sets
/// `WHEELWRIGHT_TEST_RUN_ID` so it can find (and fail on) servers of its run left running.
pub(crate) fn temp_prefix(kind: &str) -> String {
    match std::env::var("WHEELWRIGHT_TEST_RUN_ID") {
        Ok(run) if !run.is_empty() => format!("wheelwright-it-{run}-{kind}-"),
        _ => format!("wheelwright-it-{kind}-"),
    }
}

/// A loopback port that was free a moment ago. Another process may take it before the server
/// binds it; the servers retry with a new port when that happens.
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// A blocking HTTP client that never uses a proxy (tests only talk to loopback servers).
pub(crate) fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("build reqwest client")
}

/// Project name and version from a distribution filename: wheels
/// `{name}-{version}-{tags}.whl`, sdists `{name}-{version}.tar.gz|.zip`.
pub(crate) fn name_version_from_filename(filename: &str) -> (String, String) {
    let parsed = if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.splitn(3, '-');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(version), Some(_tags)) => Some((name, version)),
            _ => None,
        }
    } else {
        filename
            .strip_suffix(".tar.gz")
            .or_else(|| filename.strip_suffix(".zip"))
            .and_then(|stem| stem.rsplit_once('-'))
    };
    let (name, version) = parsed.unwrap_or_else(|| {
        panic!("cannot read name and version from distribution filename {filename:?}")
    });
    (name.to_string(), version.to_string())
}

/// The outcome of a legacy (twine-style) upload.
#[derive(Debug)]
pub(crate) struct UploadResponse {
    pub status: u16,
    pub body: String,
}

/// `POST` a distribution to a legacy upload URL (`:action=file_upload`, `name`, `version`,
/// `content`), with optional HTTP Basic credentials, and return the status and body.
pub(crate) fn legacy_upload(
    client: &reqwest::blocking::Client,
    upload_url: &str,
    path: &Path,
    basic_auth: Option<(&str, &str)>,
    extra_headers: &[(&str, &str)],
) -> UploadResponse {
    let filename = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or_else(|| panic!("no UTF-8 filename in {}", path.display()))
        .to_string();
    let (name, version) = name_version_from_filename(&filename);
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let content = reqwest::blocking::multipart::Part::bytes(bytes)
        .file_name(filename)
        .mime_str("application/octet-stream")
        .expect("mime type");
    let form = reqwest::blocking::multipart::Form::new()
        .text(":action", "file_upload")
        .text("protocol_version", "1")
        .text("name", name)
        .text("version", version)
        .part("content", content);
    let mut request = client.post(upload_url).multipart(form);
    if let Some((user, password)) = basic_auth {
        request = request.basic_auth(user, Some(password));
    }
    for (key, value) in extra_headers {
        request = request.header(*key, *value);
    }
    let response = request
        .send()
        .unwrap_or_else(|e| panic!("upload {} to {upload_url}: {e}", path.display()));
    let status = response.status().as_u16();
    let body = response.text().unwrap_or_default();
    UploadResponse { status, body }
}

/// The last `lines` lines of a log file, for panic messages.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read {}: {e}>", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Panic if a server log contains a Python traceback (idea from devpi-plumber's
/// `fail_on_output=['Traceback']`): a server-side exception is a bug even if the client got
/// a plausible answer.
pub(crate) fn assert_log_has_no_tracebacks(server: &str, path: &Path) {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| panic!("cannot read {server} log {}: {e}", path.display()));
    if let Some(at) = text.find("Traceback") {
        // The request lines before it, and the traceback to its exception line (devpi's
        // chained tracebacks run past a hundred lines; frames' source lines are left out).
        let before: Vec<&str> = text[..at].lines().collect();
        let context = before[before.len().saturating_sub(6)..].join("\n");
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let excerpt: String = text[start..]
            .lines()
            .filter(|line| !line.trim_start().starts_with('^'))
            .take(200)
            .collect::<Vec<_>>()
            .join("\n");
        let excerpt = format!("{context}\n{excerpt}");
        panic!(
            "{server} log {} contains a traceback:\n{excerpt}",
            path.display()
        );
    }
}
