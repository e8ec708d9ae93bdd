//! One real devpi-server per test process (started on first use), and per-test users.

use super::process::WatchedProcess;
use super::{free_port, http_client, legacy_upload, log_tail, test_venv, unique};
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const START_DEADLINE: Duration = Duration::from_secs(60);
const PORT_ATTEMPTS: usize = 5;

/// A devpi-server on `127.0.0.1`, shared by all tests of this process.
pub(crate) struct DevpiServer {
    url: String,
    root_password: String,
    log: PathBuf,
    client: reqwest::blocking::Client,
    /// Held only so the watchdog's stdin stays open for the process lifetime.
    _process: Mutex<WatchedProcess>,
}

/// A user on the shared server, logged in.
pub(crate) struct DevpiUser {
    pub name: String,
    pub password: String,
    /// Login token from `POST /+login` (valid for 10 h).
    pub token: String,
    server_url: String,
    client: reqwest::blocking::Client,
}

/// The devpi-server of this test process, started on first use.
pub(crate) fn devpi() -> &'static DevpiServer {
    static SERVER: OnceLock<DevpiServer> = OnceLock::new();
    SERVER.get_or_init(DevpiServer::start)
}

enum StartError {
    /// Someone else took the port (or answered on it): try another one.
    PortTaken(String),
}

impl DevpiServer {
    /// A server of its own, for a test that needs nothing else to write to the server while
    /// it runs (devpi's serial counts every write on the server); stopped when dropped.
    pub(crate) fn private() -> DevpiServer {
        DevpiServer::start()
    }

    /// A server of its own started with extra `devpi-server` options (e.g.
    /// `--enable-core-metadata`); stopped when dropped.
    pub(crate) fn private_with(options: &[&str]) -> DevpiServer {
        DevpiServer::start_with(options)
    }

    fn start() -> DevpiServer {
        DevpiServer::start_with(&[])
    }

    fn start_with(options: &[&str]) -> DevpiServer {
        let venv = test_venv();
        let client = http_client();
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            // A fresh server dir per attempt: the watchdog of a failed attempt removes its dir.
            let (serverdir, data, log, root_password) = init_serverdir(&venv);
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}");
            let mut args: Vec<String> = vec![
                "--serverdir".into(),
                data.to_string_lossy().into_owned(),
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
            ];
            args.extend(options.iter().map(|o| o.to_string()));
            let mut process = WatchedProcess::spawn(
                &venv,
                &venv.join("bin/devpi-server"),
                &args,
                &log,
                Some(&serverdir),
            );
            match wait_ready(&client, &url, &root_password, &mut process) {
                Ok(()) => {
                    return DevpiServer {
                        url,
                        root_password,
                        log,
                        client,
                        _process: Mutex::new(process),
                    };
                }
                Err(StartError::PortTaken(why)) => {
                    process.stop();
                    last = why;
                }
            }
        }
        panic!("devpi-server did not start after {PORT_ATTEMPTS} ports; last: {last}");
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn root_password(&self) -> &str {
        &self.root_password
    }

    pub(crate) fn log_path(&self) -> &Path {
        &self.log
    }

    /// Fail if the server log has a Python traceback so far.
    pub(crate) fn assert_no_tracebacks(&self) {
        super::assert_log_has_no_tracebacks("devpi-server", &self.log);
    }

    /// Create a new user (unique name from `prefix`) and log in as it.
    pub(crate) fn new_user(&self, prefix: &str) -> DevpiUser {
        let name = unique(prefix);
        let password = unique("pw");
        let response = self
            .client
            .put(format!("{}/{name}", self.url))
            .header("Accept", "application/json")
            .json(&json!({ "password": password }))
            .send()
            .expect("PUT user");
        let status = response.status();
        let body = response.text().unwrap_or_default();
        assert_eq!(status.as_u16(), 201, "create devpi user {name}: {body}");
        let token = login(&self.client, &self.url, &name, &password)
            .unwrap_or_else(|e| panic!("login as {name}: {e}"));
        DevpiUser {
            name,
            password,
            token,
            server_url: self.url.clone(),
            client: self.client.clone(),
        }
    }
}

/// `devpi-init` a new server dir without the root/pypi mirror (tests never reach the
/// internet). Returns (server dir, data dir, log file, root password).
fn init_serverdir(venv: &Path) -> (PathBuf, PathBuf, PathBuf, String) {
    let serverdir = tempfile::Builder::new()
        .prefix(&super::temp_prefix("devpi"))
        .tempdir()
        .expect("create devpi server dir")
        // The watchdog removes it after the server exits.
        .keep();
    let data = serverdir.join("data");
    let log = serverdir.join("server.log");
    let root_password = unique("rootpw");
    let init = Command::new(venv.join("bin/devpi-init"))
        .arg("--serverdir")
        .arg(&data)
        .arg("--no-root-pypi")
        .arg("--root-passwd")
        .arg(&root_password)
        .output()
        .expect("run devpi-init");
    assert!(
        init.status.success(),
        "devpi-init failed ({}):\n{}{}",
        init.status,
        String::from_utf8_lossy(&init.stdout),
        String::from_utf8_lossy(&init.stderr)
    );
    (serverdir, data, log, root_password)
}

/// Poll `GET /+api` until it answers, then log in as root with our password to make sure
/// the server on that port is ours (another process may have grabbed the port).
fn wait_ready(
    client: &reqwest::blocking::Client,
    url: &str,
    root_password: &str,
    process: &mut WatchedProcess,
) -> Result<(), StartError> {
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Some(status) = process.exited() {
            let tail = log_tail(&process.log, 40);
            if tail.contains("in use") {
                return Err(StartError::PortTaken(tail));
            }
            panic!("devpi-server exited during start-up ({status}); log tail:\n{tail}");
        }
        let ready = client
            .get(format!("{url}/+api"))
            .header("Accept", "application/json")
            .timeout(Duration::from_secs(5))
            .send()
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return match login(client, url, "root", root_password) {
                Ok(_) => Ok(()),
                Err(e) => Err(StartError::PortTaken(format!(
                    "{url} answers but is not our server: {e}"
                ))),
            };
        }
        if Instant::now() > deadline {
            panic!(
                "devpi-server at {url} not ready after {START_DEADLINE:?}; log tail:\n{}",
                log_tail(&process.log, 40)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `POST /+login` and return the token (`result.password`).
fn login(
    client: &reqwest::blocking::Client,
    url: &str,
    user: &str,
    password: &str,
) -> Result<String, String> {
    let response = client
        .post(format!("{url}/+login"))
        .header("Accept", "application/json")
        .json(&json!({ "user": user, "password": password }))
        .send()
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().map_err(|e| format!("{status}: {e}"))?;
    match body["result"]["password"].as_str() {
        Some(token) if status.is_success() => Ok(token.to_string()),
        _ => Err(format!("{status}: {body}")),
    }
}

impl DevpiUser {
    /// `DEVPI_USER`/`DEVPI_PASSWORD` for the wheelwright binary (devpi-builder's variables).
    pub(crate) fn env(&self) -> [(&'static str, &str); 2] {
        [
            ("DEVPI_USER", self.name.as_str()),
            ("DEVPI_PASSWORD", self.password.as_str()),
        ]
    }

    /// `X-Devpi-Auth: base64(user:token)`, the header devpi-client sends.
    pub(crate) fn auth_header(&self) -> (&'static str, String) {
        let raw = format!("{}:{}", self.name, self.token);
        (
            "X-Devpi-Auth",
            base64::engine::general_purpose::STANDARD.encode(raw),
        )
    }

    /// `http://127.0.0.1:PORT/{user}/{index}`
    pub(crate) fn index_url(&self, index: &str) -> String {
        format!("{}/{}/{index}", self.server_url, self.name)
    }

    /// Create a stage index. `bases` are `user/index` names; a bare `index` means one of this
    /// user's. Returns the index URL.
    pub(crate) fn create_index(&self, name: &str, bases: &[&str], volatile: bool) -> String {
        let bases: Vec<String> = bases
            .iter()
            .map(|b| {
                if b.contains('/') {
                    b.to_string()
                } else {
                    format!("{}/{b}", self.name)
                }
            })
            .collect();
        let url = self.index_url(name);
        let (key, value) = self.auth_header();
        let response = self
            .client
            .put(&url)
            .header("Accept", "application/json")
            .header(key, value)
            .json(&json!({ "type": "stage", "bases": bases, "volatile": volatile }))
            .send()
            .expect("PUT index");
        let status = response.status();
        let body = response.text().unwrap_or_default();
        assert_eq!(status.as_u16(), 200, "create index {url}: {body}");
        url
    }

    /// Create a mirror index (devpi's `type: mirror`) of `mirror_url`, a simple index base
    /// such as another local index's `+simple/`. Returns the index URL.
    pub(crate) fn create_mirror(&self, name: &str, mirror_url: &str) -> String {
        let url = self.index_url(name);
        let (key, value) = self.auth_header();
        let response = self
            .client
            .put(&url)
            .header("Accept", "application/json")
            .header(key, value)
            .json(&json!({ "type": "mirror", "mirror_url": mirror_url, "volatile": true }))
            .send()
            .expect("PUT mirror index");
        let status = response.status();
        let body = response.text().unwrap_or_default();
        assert_eq!(status.as_u16(), 200, "create mirror {url}: {body}");
        url
    }

    /// `PATCH` an index with a JSON list of operations, e.g. `["mirror_whitelist+=foo"]`.
    pub(crate) fn patch_index(&self, name: &str, ops: Value) {
        let url = self.index_url(name);
        let (key, value) = self.auth_header();
        let response = self
            .client
            .patch(&url)
            .header("Accept", "application/json")
            .header(key, value)
            .json(&ops)
            .send()
            .expect("PATCH index");
        let status = response.status();
        let body = response.text().unwrap_or_default();
        assert_eq!(status.as_u16(), 200, "patch index {url} with {ops}: {body}");
    }

    /// Upload a distribution to one of this user's indexes; panics unless devpi answers 200.
    pub(crate) fn upload(&self, index: &str, path: &Path) {
        let response = self.try_upload(index, path);
        assert_eq!(
            response.status,
            200,
            "upload {} to {}: {}",
            path.display(),
            self.index_url(index),
            response.body
        );
    }

    /// Upload a distribution and return devpi's answer whatever it is.
    pub(crate) fn try_upload(&self, index: &str, path: &Path) -> super::UploadResponse {
        let (key, value) = self.auth_header();
        legacy_upload(
            &self.client,
            &format!("{}/", self.index_url(index)),
            path,
            None,
            &[(key, &value), ("Accept", "application/json")],
        )
    }

    /// `(filename, sha256)` of every release file of `project` the index shows, sorted by
    /// filename; with `ignore_bases` only the index's own files.
    pub(crate) fn files(
        &self,
        index: &str,
        project: &str,
        ignore_bases: bool,
    ) -> Vec<(String, String)> {
        let mut url = format!("{}/{project}", self.index_url(index));
        if ignore_bases {
            url.push_str("?ignore_bases");
        }
        let response = self
            .client
            .get(&url)
            .header("Accept", "application/json")
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        if response.status().as_u16() == 404 {
            return Vec::new();
        }
        let status = response.status();
        let body: Value = response
            .json()
            .unwrap_or_else(|e| panic!("GET {url}: {status}, not JSON: {e}"));
        assert!(status.is_success(), "GET {url}: {status}: {body}");
        let mut files = Vec::new();
        let versions = body["result"].as_object().cloned().unwrap_or_default();
        for (_version, data) in versions {
            // A version without `+links` has no files (docs/devpi-protocol.md, Listings).
            for link in data["+links"].as_array().into_iter().flatten() {
                if link["rel"] != "releasefile" {
                    continue;
                }
                let href = link["href"].as_str().unwrap_or_default();
                let filename = href.rsplit('/').next().unwrap_or_default().to_string();
                let sha256 = link["hashes"]["sha256"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| {
                        link["hash_spec"]
                            .as_str()
                            .and_then(|s| s.strip_prefix("sha256="))
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| panic!("no sha256 for {href} in {url}"));
                files.push((filename, sha256));
            }
        }
        files.sort();
        files
    }
}
