//! A real pypiserver per test: the standard (legacy, `:action=file_upload`) upload API.

use super::process::WatchedProcess;
use super::{free_port, http_client, log_tail, test_venv, unique};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const START_DEADLINE: Duration = Duration::from_secs(60);
const PORT_ATTEMPTS: usize = 5;

/// A pypiserver on `127.0.0.1` serving `packages_dir`; stopped on drop.
pub(crate) struct Pypiserver {
    url: String,
    packages_dir: PathBuf,
    process: WatchedProcess,
    /// Log and htpasswd file.
    _scratch: tempfile::TempDir,
}

impl Pypiserver {
    /// Start pypiserver on `packages_dir`. With `auth = Some((user, password))` uploads need
    /// those credentials (`-P htpasswd -a update`); without, anyone may upload (`-P . -a .`).
    /// Downloads and listings are never authenticated. `--disable-fallback`: unknown
    /// projects are 404, never a redirect to a public index.
    pub(crate) fn start(packages_dir: &Path, auth: Option<(&str, &str)>) -> Pypiserver {
        let venv = test_venv();
        let scratch = tempfile::Builder::new()
            .prefix(&super::temp_prefix("pypiserver"))
            .tempdir()
            .expect("create pypiserver scratch dir");
        let log = scratch.path().join("server.log");
        let auth_args: Vec<String> = match auth {
            Some((user, password)) => {
                let htpasswd = scratch.path().join("htpasswd");
                write_htpasswd(&venv, &htpasswd, user, password);
                vec![
                    "-P".into(),
                    htpasswd.to_string_lossy().into_owned(),
                    "-a".into(),
                    "update".into(),
                ]
            }
            None => vec!["-P".into(), ".".into(), "-a".into(), ".".into()],
        };
        let client = http_client();
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}");
            // A health endpoint only this instance knows proves that the server answering on
            // the port is ours.
            let health = format!("/{}", unique("health"));
            let mut args: Vec<String> = vec![
                "run".into(),
                "-p".into(),
                port.to_string(),
                "-i".into(),
                "127.0.0.1".into(),
                "--disable-fallback".into(),
                "--health-endpoint".into(),
                health.clone(),
            ];
            args.extend(auth_args.iter().cloned());
            args.push(packages_dir.to_string_lossy().into_owned());
            let mut process =
                WatchedProcess::spawn(&venv, &venv.join("bin/pypi-server"), &args, &log, None);
            let deadline = Instant::now() + START_DEADLINE;
            loop {
                if let Some(status) = process.exited() {
                    let tail = log_tail(&log, 40);
                    if tail.contains("in use") {
                        last = tail;
                        break;
                    }
                    panic!("pypiserver exited during start-up ({status}); log tail:\n{tail}");
                }
                let ready = client
                    .get(format!("{url}{health}"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    return Pypiserver {
                        url,
                        packages_dir: packages_dir.to_path_buf(),
                        process,
                        _scratch: scratch,
                    };
                }
                if Instant::now() > deadline {
                    panic!(
                        "pypiserver at {url} not ready after {START_DEADLINE:?}; log tail:\n{}",
                        log_tail(&log, 40)
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("pypiserver did not start after {PORT_ATTEMPTS} ports; last: {last}");
    }

    /// `http://127.0.0.1:PORT` (the upload URL; the simple index is under `/simple/`).
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn packages_dir(&self) -> &Path {
        &self.packages_dir
    }

    /// Filenames in the served directory, sorted.
    pub(crate) fn filenames(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.packages_dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", self.packages_dir.display()))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    pub(crate) fn assert_no_tracebacks(&self) {
        super::assert_log_has_no_tracebacks("pypiserver", &self.process.log);
    }
}

/// Write an Apache htpasswd file with passlib from the test venv (pypiserver reads it with
/// passlib too), so no `htpasswd` binary is needed.
fn write_htpasswd(venv: &Path, path: &Path, user: &str, password: &str) {
    let output = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(
            "import sys\n\
             from passlib.apache import HtpasswdFile\n\
             ht = HtpasswdFile(sys.argv[1], new=True)\n\
             ht.set_password(sys.argv[2], sys.stdin.read())\n\
             ht.save()\n",
        )
        .arg(path)
        .arg(user)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            // The password goes through stdin so it never shows in a process listing.
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(password.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run passlib");
    assert!(
        output.status.success(),
        "writing htpasswd with passlib failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
