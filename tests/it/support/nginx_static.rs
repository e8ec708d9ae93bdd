//! A real nginx serving a directory as static files, the ordinary way to publish a
//! wheelwright directory target: plain HTTP, the master process as root and its workers as
//! an unprivileged user (`user www-data;`), so a file or directory the workers cannot read
//! is answered 403 as in production.
//!
//! Unlike [`super::nginx`], nginx runs with its master process: without one it never switches
//! to the worker user. The master stays in the foreground (`daemon off`) under the watchdog of
//! [`super::process`]; on SIGTERM it stops its workers. Its own files (pid, logs, config, temp
//! dirs) live in a private temp dir that only the master (root) touches.

use super::process::WatchedProcess;
use super::{free_port, log_tail, test_venv};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const NGINX: &str = "/usr/sbin/nginx";
const START_DEADLINE: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 5;

/// The unprivileged user nginx's workers run as (Debian's web-server user).
pub(crate) const WORKER_USER: &str = "www-data";

/// nginx serving one directory at `http://127.0.0.1:PORT/`; stopped when dropped.
pub(crate) struct StaticNginx {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub access_log: PathBuf,
    pub error_log: PathBuf,
    pid_file: PathBuf,
    _process: WatchedProcess,
}

impl StaticNginx {
    /// Serve `root` (which, with its parents, must be traversable by [`WORKER_USER`]).
    pub(crate) fn serve(root: &Path) -> StaticNginx {
        Self::start(root, &Extra::default())
    }

    /// Serve `root` with these response headers on every file (a `Content-Security-Policy`,
    /// as Jenkins sends for archived HTML).
    pub(crate) fn serve_with_headers(root: &Path, headers: &[(&str, &str)]) -> StaticNginx {
        Self::start(
            root,
            &Extra {
                headers,
                ..Extra::default()
            },
        )
    }

    /// Serve `root` with `http` added to the `http` block and `server` to the `server` block
    /// (a configuration snippet the documentation gives, tested as written).
    pub(crate) fn serve_with(root: &Path, http: &str, server: &str) -> StaticNginx {
        Self::start(
            root,
            &Extra {
                http,
                server,
                ..Extra::default()
            },
        )
    }

    fn start(root: &Path, extra: &Extra<'_>) -> StaticNginx {
        assert!(
            Path::new(NGINX).is_file(),
            "{NGINX} is missing: run scripts/test.sh first (it installs nginx-light)"
        );
        let venv = test_venv();
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix(&super::temp_prefix("nginx-static"))
                .tempdir()
                .expect("create nginx dir")
                // The watchdog removes it after nginx exits.
                .keep();
            let port = free_port();
            // Answered by nginx itself, not from the served directory: proves the server on
            // the port is this one before the test trusts any other answer.
            let token = super::unique("ready");
            let conf = dir.join("nginx.conf");
            std::fs::write(&conf, config(&dir, root, port, &token, extra))
                .expect("write nginx.conf");
            let error_log = dir.join("error.log");
            let args: Vec<String> = vec![
                "-p".into(),
                path_str(&dir).into(),
                "-e".into(),
                path_str(&error_log).into(),
                "-c".into(),
                path_str(&conf).into(),
            ];
            let mut process = WatchedProcess::spawn(
                &venv,
                Path::new(NGINX),
                &args,
                &dir.join("nginx.out"),
                Some(&dir),
            );
            let url = format!("http://127.0.0.1:{port}");
            match wait_ready(&url, &token, &error_log, &mut process) {
                Ok(()) => {
                    return StaticNginx {
                        url,
                        access_log: dir.join("access.log"),
                        error_log,
                        pid_file: dir.join("nginx.pid"),
                        _process: process,
                    };
                }
                Err(why) => {
                    process.stop();
                    last = why;
                }
            }
        }
        panic!("nginx did not start after {PORT_ATTEMPTS} ports; last: {last}");
    }

    /// The uids of nginx's worker processes (the children of the master in the pid file).
    pub(crate) fn worker_uids(&self) -> Vec<u32> {
        let pid = std::fs::read_to_string(&self.pid_file)
            .unwrap_or_else(|e| panic!("read {}: {e}", self.pid_file.display()));
        let master: u32 = pid.trim().parse().expect("nginx.pid holds a pid");
        let mut uids = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
            // Processes come and go while we read: skip any we cannot read.
            let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
                continue;
            };
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|v| v.parse::<u32>().ok())
            };
            if field("PPid:") == Some(master)
                && let Some(uid) = field("Uid:")
            {
                uids.push(uid);
            }
        }
        uids
    }

    /// nginx's access log so far.
    pub(crate) fn access_log_text(&self) -> String {
        std::fs::read_to_string(&self.access_log).unwrap_or_default()
    }

    /// The last lines of nginx's error log, for assertion messages.
    pub(crate) fn error_log_tail(&self) -> String {
        log_tail(&self.error_log, 40)
    }
}

/// The uid of `user` from /etc/passwd.
pub(crate) fn uid_of(user: &str) -> u32 {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            (fields.next() == Some(user))
                .then(|| fields.nth(1).and_then(|uid| uid.parse().ok()))
                .flatten()
        })
        .unwrap_or_else(|| panic!("no user {user} in /etc/passwd"))
}

fn wait_ready(
    url: &str,
    token: &str,
    error_log: &Path,
    process: &mut WatchedProcess,
) -> Result<(), String> {
    let client = super::http_client();
    let ready = format!("{url}/.wheelwright-test-ready");
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Some(status) = process.exited() {
            let tail = format!(
                "{}\n{}",
                log_tail(&process.log, 20),
                log_tail(error_log, 20)
            );
            if tail.contains("in use") {
                return Err(tail);
            }
            panic!("nginx exited during start-up ({status}); log tail:\n{tail}");
        }
        if let Ok(response) = client.get(&ready).send() {
            let status = response.status();
            let body = response.text().unwrap_or_default();
            if status.is_success() && body == token {
                return Ok(());
            }
            return Err(format!(
                "{ready} answers {status} but is not our nginx: {body}"
            ));
        }
        if Instant::now() > deadline {
            panic!(
                "nginx at {url} not ready after {START_DEADLINE:?}; error log:\n{}",
                log_tail(error_log, 40)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", path.display()))
}

/// What a test adds to the configuration.
#[derive(Default)]
struct Extra<'a> {
    /// Response headers on every file.
    headers: &'a [(&'a str, &'a str)],
    /// Lines for the `http` block.
    http: &'a str,
    /// Lines for the `server` block.
    server: &'a str,
}

/// The access log begins as nginx's combined format does (request, status, body bytes), then
/// names the file that answered after any internal redirect (`$uri`: an `index` directive's
/// choice), the content type sent and the request's `Accept`.
fn config(dir: &Path, root: &Path, port: u16, token: &str, extra: &Extra<'_>) -> String {
    let d = path_str(dir);
    let root = path_str(root);
    let (http, server) = (extra.http, extra.server);
    let headers: String = extra
        .headers
        .iter()
        .map(|(name, value)| format!("        add_header {name} \"{value}\" always;\n"))
        .collect();
    format!(
        "daemon off;
master_process on;
user {WORKER_USER};
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    types {{ text/html html; text/css css; image/png png; }}
    default_type application/octet-stream;
    log_format served '\"$request\" $status $body_bytes_sent $uri \"$sent_http_content_type\" \"$http_accept\"';
    access_log {d}/access.log served;
{http}
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
{server}
{headers}        location = /.wheelwright-test-ready {{
            return 200 \"{token}\";
        }}
    }}
}}
"
    )
}
