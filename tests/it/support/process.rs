//! Server processes that cannot outlive the test process.
//!
//! A `static` server is never dropped, so we can't kill it from Rust. Instead every server
//! runs as the child of a tiny Python watchdog whose stdin is a pipe from the test process.
//! When the test process exits for any reason (success, panic, SIGKILL) the kernel closes
//! the pipe's write end, the watchdog reads EOF, terminates the server (SIGTERM, then
//! SIGKILL after 10 s) and removes the server's scratch directory. The server also gets
//! `PR_SET_PDEATHSIG` so it dies if the watchdog itself is killed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The watchdog. argv: `<cleanup dir or ''> <server argv...>`.
const WATCHDOG: &str = r#"
import ctypes, os, shutil, signal, subprocess, sys, threading

cleanup, argv = sys.argv[1], sys.argv[2:]

def die_with_parent():
    # PR_SET_PDEATHSIG = 1: the server gets SIGTERM when the watchdog dies.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)

server = subprocess.Popen(argv, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)

def stop_on_eof():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

threading.Thread(target=stop_on_eof, daemon=True).start()
code = server.wait()
if cleanup:
    shutil.rmtree(cleanup, ignore_errors=True)
sys.exit(code)
"#;

/// A server running under the watchdog; dropping it stops the server and waits for it.
pub(super) struct WatchedProcess {
    child: Child,
    pub log: PathBuf,
}

impl WatchedProcess {
    /// Start `program args...` under the watchdog with stdout and stderr appended to `log`.
    /// `cleanup`, when given, is removed recursively after the server exits.
    pub(super) fn spawn(
        venv: &Path,
        program: &Path,
        args: &[String],
        log: &Path,
        cleanup: Option<&Path>,
    ) -> WatchedProcess {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open log {}: {e}", log.display()));
        let err = out.try_clone().expect("clone log handle");
        let child = Command::new(venv.join("bin").join("python"))
            .arg("-c")
            .arg(WATCHDOG)
            .arg(cleanup.map(|p| p.as_os_str()).unwrap_or_default())
            .arg(program)
            .args(args)
            // The servers must never reach the internet, nor see a proxy.
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("all_proxy")
            .env_remove("ALL_PROXY")
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start watchdog for {}: {e}", program.display()));
        WatchedProcess {
            child,
            log: log.to_path_buf(),
        }
    }

    /// `Some(exit description)` if the server (and so the watchdog) has exited.
    pub(super) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("cannot query process: {e}")),
        }
    }

    /// Close the watchdog's stdin and wait until it has stopped the server.
    pub(super) fn stop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for WatchedProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
