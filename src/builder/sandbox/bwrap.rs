//! Layer (a): bubblewrap (new user, mount, net, pid, ipc and uts namespaces).
//!
//! Running as root, the build never runs as real root: we switch to the build's own unprivileged
//! uid ([`super::uid_pool`]) before exec'ing bwrap, so `RLIMIT_NPROC` (which root ignores)
//! applies and anything the build writes is owned by that uid; inside its user namespace the
//! build is nobody (65534), as it was when every build ran as nobody, so the password database
//! knows its name. The uid of its own matters on kernels before 5.14, where `RLIMIT_NPROC`
//! counted a uid's processes across all namespaces; since then each build's user namespace
//! has its own count anyway. That uid usually cannot traverse the paths it
//! must see (root's `~/.pyenv/...`, `~/.cache/...`), so, still as root, we first enter a private
//! mount namespace (util-linux `unshare -m`) and bind each such path onto a staging directory
//! the uid can reach; bwrap then binds the staging directory back at the original path. The host
//! mount table is never touched.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::limits::{chown_tree, set_mode};
use super::{ProbeError, SandboxCommand, SandboxError};

/// The namespaces and the base file system of every bwrap run. The probe runs exactly these
/// (then `/usr/bin/true`), so a probe that passes proves that a build can start: a host that
/// allows the namespaces but not a new `/proc` (some containers) fails the probe, not every
/// build. `--unshare-all` only *tries* a user namespace; `--disable-userns` needs an explicit
/// `--unshare-user`.
const BASE_ARGS: &[&str] = &[
    "--unshare-all",
    "--unshare-user",
    "--die-with-parent",
    "--new-session",
    "--disable-userns",
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/bin",
    "/bin",
    "--symlink",
    "usr/sbin",
    "/sbin",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
];

/// Who a build run as root is inside its user namespace.
const NOBODY: &str = "65534";

/// The bwrap (or `unshare ... bwrap`) command line for `cmd`.
pub(super) fn command(
    bwrap: &Path,
    cmd: &SandboxCommand,
    stage: Option<&Stage>,
) -> tokio::process::Command {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |items: &[&str]| args.extend(items.iter().map(OsString::from));
    push(BASE_ARGS);
    for etc in super::ETC_FILES {
        push(&["--ro-bind-try", etc, etc]);
    }
    let mut binds = |paths: &[PathBuf], flag: &str| {
        for path in paths {
            let source = stage
                .and_then(|s| s.source_for(path))
                .unwrap_or_else(|| path.clone());
            args.push(flag.into());
            args.push(source.into_os_string());
            args.push(path.clone().into_os_string());
        }
    };
    // Read-write first, so a read-only path nested inside a writable one stays read-only.
    binds(&cmd.rw_paths, "--bind");
    binds(&cmd.ro_paths, "--ro-bind");
    if let Some((host, inside)) = &cmd.source_mount {
        let source = stage
            .and_then(|s| s.source_under(host))
            .unwrap_or_else(|| host.clone());
        args.extend([
            "--bind".into(),
            source.into_os_string(),
            inside.clone().into(),
        ]);
    }
    if stage.is_some() {
        args.extend(["--uid", NOBODY, "--gid", NOBODY].map(OsString::from));
    }
    args.push("--chdir".into());
    args.push(cmd.cwd.clone().into_os_string());
    args.push("--clearenv".into());
    for (key, value) in &cmd.env {
        args.extend(["--setenv".into(), key.into(), value.into()]);
    }
    args.push("--".into());
    args.push(cmd.program.clone().into_os_string());
    args.extend(cmd.args.iter().cloned());

    let mut command = match stage {
        None => {
            let mut command = tokio::process::Command::new(bwrap);
            command.args(&args);
            command
        }
        Some(stage) => {
            let mut command = tokio::process::Command::new("unshare");
            command.args(stage.wrapper_args(bwrap));
            command.args(&args);
            command
        }
    };
    // bwrap's own environment is cleared as well (--clearenv covers only the child).
    command.env_clear().env("PATH", "/usr/bin:/bin");
    command
}

/// Staging of bind sources for the unprivileged build uid (see the module docs).
pub(super) struct Stage {
    dir: tempfile::TempDir,
    /// (original path, staging path, writable)
    entries: Vec<(PathBuf, PathBuf, bool)>,
    uid: u32,
}

impl Stage {
    pub(super) fn prepare(cmd: &SandboxCommand, uid: u32) -> Result<Self, SandboxError> {
        let setup = |what: String| move |source| SandboxError::Setup { what, source };
        let dir = tempfile::Builder::new()
            .prefix("ww-stage-")
            .tempdir()
            .map_err(setup("create staging dir".into()))?;
        set_mode(dir.path(), 0o755).map_err(setup("chmod staging dir".into()))?;
        let mut entries = Vec::new();
        let all = cmd
            .ro_paths
            .iter()
            .map(|p| (p, false))
            .chain(cmd.rw_paths.iter().map(|p| (p, true)));
        for (i, (path, writable)) in all.enumerate() {
            if writable {
                chown_tree(path, uid).map_err(setup(format!("chown {}", path.display())))?;
            }
            let staged = dir.path().join(i.to_string());
            // Files (a single bound file) need a file as mount point.
            if path.is_dir() {
                std::fs::create_dir(&staged)
            } else {
                std::fs::write(&staged, b"")
            }
            .map_err(setup(format!("create {}", staged.display())))?;
            entries.push((path.clone(), staged, writable));
        }
        Ok(Self { dir, entries, uid })
    }

    fn source_for(&self, path: &Path) -> Option<PathBuf> {
        self.entries
            .iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, s, _)| s.clone())
    }

    /// The staged counterpart of `path` when it lies inside a staged writable directory.
    fn source_under(&self, path: &Path) -> Option<PathBuf> {
        self.entries
            .iter()
            .filter(|(_, _, writable)| *writable)
            .find_map(|(p, s, _)| path.strip_prefix(p).ok().map(|rest| s.join(rest)))
    }

    /// `unshare -m --propagation private -- sh -c SCRIPT sh <src stage mode>... -- setpriv ... bwrap`
    fn wrapper_args(&self, bwrap: &Path) -> Vec<OsString> {
        const SCRIPT: &str = r#"set -e
while [ "$1" != "--" ]; do
  mount --bind "$1" "$2"
  if [ "$3" = ro ]; then mount -o remount,bind,ro "$2"; fi
  shift 3
done
shift
exec "$@""#;
        let mut args: Vec<OsString> = [
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            SCRIPT,
            "sh",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        for (path, staged, writable) in &self.entries {
            args.push(path.clone().into_os_string());
            args.push(staged.clone().into_os_string());
            args.push(if *writable { "rw" } else { "ro" }.into());
        }
        let id = self.uid.to_string();
        args.extend(
            [
                "--",
                "setpriv",
                "--reuid",
                &id,
                "--regid",
                &id,
                "--clear-groups",
                "--no-new-privs",
                "--",
            ]
            .iter()
            .map(OsString::from),
        );
        args.push(bwrap.as_os_str().to_owned());
        let _ = self.dir.path();
        args
    }
}

/// Check once that bwrap can create its namespaces here (it cannot in ordinary Docker
/// containers or under Ubuntu's AppArmor userns restriction).
pub(super) fn probe(drop_to: Option<u32>) -> Result<PathBuf, ProbeError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let bwrap = std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|p| p.is_file())
        .ok_or(ProbeError::BwrapNotFound)?;
    let mut command = std::process::Command::new(&bwrap);
    if let Some(uid) = drop_to {
        use std::os::unix::process::CommandExt;
        command.uid(uid).gid(uid);
    }
    let output = command
        .args(BASE_ARGS)
        .args(["--", "/usr/bin/true"])
        .stdin(Stdio::null())
        .env_clear()
        .output()
        .map_err(|e| ProbeError::CannotRun {
            program: bwrap.clone(),
            source: std::sync::Arc::new(e),
        })?;
    if !output.status.success() {
        return Err(ProbeError::BwrapFailed {
            bwrap,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    if drop_to.is_some() {
        for tool in ["unshare", "setpriv", "mount"] {
            let found = std::env::split_paths(&path).any(|dir| dir.join(tool).is_file());
            if !found {
                return Err(ProbeError::ToolMissing { tool });
            }
        }
    }
    Ok(bwrap)
}
