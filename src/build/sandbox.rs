//! Running one untrusted command with no network, a read-only system, rlimits, a wall-clock
//! timeout that kills everything it started, a disk watchdog and capped output.
//!
//! The sandbox knows nothing of Python packaging: it runs a program with the mounts, environment
//! and limits it is given. Isolation comes from bubblewrap (new user, mount, net, pid, ipc and
//! uts namespaces); the rlimits, process-group kill, timeout, watchdog and
//! output cap apply in every mode.
//!
//! Running as root, the build never runs as real root: we switch to an unprivileged uid
//! (65534 by default) before exec'ing bwrap, so `RLIMIT_NPROC` (which root ignores) applies and
//! anything the build writes is owned by that uid. That uid usually cannot traverse the paths it
//! must see (root's `~/.pyenv/...`, `~/.cache/...`), so, still as root, we first enter a private
//! mount namespace (util-linux `unshare -m`) and bind each such path onto a staging directory
//! the uid can reach; bwrap then binds the staging directory back at the original path. The host
//! mount table is never touched.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Resource, Rlimit, Signal};

use super::log::{LogLimits, LogSink, LogSummary};

/// `--sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SandboxMode {
    /// bwrap when it works, otherwise rlimits only with a warning.
    #[default]
    Auto,
    /// bwrap or an error.
    Required,
    /// rlimits, timeout and output cap only.
    Off,
}

/// Limits for one sandboxed command.
#[derive(Debug, Clone)]
pub struct SandboxLimits {
    /// `RLIMIT_AS` in bytes (per process).
    pub address_space: u64,
    /// `RLIMIT_CPU` in seconds (per process).
    pub cpu_seconds: u64,
    /// `RLIMIT_FSIZE`: the largest file the command may write.
    pub file_size: u64,
    pub open_files: u64,
    /// `RLIMIT_NPROC` inside the sandbox's own user namespace (bwrap only; the caller applies it
    /// from inside, see [`Sandbox::nproc_limit`]).
    pub processes: u64,
    /// Bytes the watched directory may hold.
    pub disk: u64,
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    pub log: LogLimits,
    /// How often the disk watchdog measures.
    pub disk_poll: Duration,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        Self {
            address_space: 4 << 30,
            cpu_seconds: 3600,
            file_size: 2 << 30,
            open_files: 4096,
            processes: 512,
            disk: 8 << 30,
            timeout: Duration::from_secs(30 * 60),
            kill_grace: Duration::from_secs(5),
            log: LogLimits::default(),
            disk_poll: Duration::from_secs(1),
        }
    }
}

/// One command to run.
#[derive(Debug, Clone)]
pub struct SandboxCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    /// The complete environment (nothing is inherited).
    pub env: Vec<(String, String)>,
    /// Bound read-only at the same path.
    pub ro_paths: Vec<PathBuf>,
    /// Bound read-write at the same path (made writable for the build uid).
    pub rw_paths: Vec<PathBuf>,
    /// `(host, inside)`: a directory within one of `rw_paths` bound read-write at a fixed path
    /// as well, so the build sees its source at the same place whatever the cache dir is.
    /// Only under bubblewrap ([`Sandbox::supports_source_mount`]); other layers ignore it.
    pub source_mount: Option<(PathBuf, PathBuf)>,
    /// The directory the disk watchdog measures.
    pub watch_dir: PathBuf,
    pub log_path: PathBuf,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    Exited(i32),
    Signaled(i32),
    /// Killed after the wall-clock timeout.
    TimedOut,
    /// Killed because the watched directory outgrew the disk cap.
    DiskQuota(u64),
}

#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub termination: Termination,
    pub log: LogSummary,
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("--sandbox required, but bubblewrap cannot be used: {0}")]
    Unavailable(String),
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("sandbox setup: {what}: {source}")]
    Setup {
        what: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
enum Isolation {
    Bwrap(PathBuf),
    None,
}

/// A configured sandbox, shared by every build.
#[derive(Debug, Clone)]
pub struct Sandbox {
    isolation: Isolation,
    limits: SandboxLimits,
    /// Set when running as root: the unprivileged uid/gid builds run as.
    drop_to: Option<u32>,
}

/// The uid/gid builds run as when wheelwright runs as root ("nobody").
pub const BUILD_UID: u32 = 65534;

static WARNED: AtomicBool = AtomicBool::new(false);
static PROBE: OnceLock<Result<PathBuf, String>> = OnceLock::new();

impl Sandbox {
    pub fn new(mode: SandboxMode, limits: SandboxLimits) -> Result<Self, SandboxError> {
        let drop_to = rustix::process::geteuid().is_root().then_some(BUILD_UID);
        let isolation = match mode {
            SandboxMode::Off => Isolation::None,
            SandboxMode::Auto | SandboxMode::Required => {
                match PROBE.get_or_init(|| probe_bwrap(drop_to)) {
                    Ok(bwrap) => Isolation::Bwrap(bwrap.clone()),
                    Err(why) if mode == SandboxMode::Required => {
                        return Err(SandboxError::Unavailable(why.clone()));
                    }
                    Err(why) => {
                        if !WARNED.swap(true, Ordering::Relaxed) {
                            eprintln!(
                                "warning: sandbox: bubblewrap unusable ({why}); builds run with rlimits only, network isolation is off"
                            );
                        }
                        Isolation::None
                    }
                }
            }
        };
        // Without namespaces there is nothing to stage paths in; the build runs as us.
        let drop_to = match isolation {
            Isolation::Bwrap(_) => drop_to,
            Isolation::None => None,
        };
        Ok(Self {
            isolation,
            limits,
            drop_to,
        })
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    /// Whether [`SandboxCommand::source_mount`] is honoured (a mount namespace of our own).
    pub fn supports_source_mount(&self) -> bool {
        matches!(self.isolation, Isolation::Bwrap(_))
    }

    pub fn is_isolated(&self) -> bool {
        matches!(self.isolation, Isolation::Bwrap(_))
    }

    /// The `RLIMIT_NPROC` the command should set on itself once inside, or `None` where it is
    /// unsafe: outside a private user namespace it counts every process of the real uid,
    /// including ours.
    pub fn nproc_limit(&self) -> Option<u64> {
        self.is_isolated().then_some(self.limits.processes)
    }

    /// "bwrap (net,pid,ipc,uts,mnt,user) as uid 65534 + rlimits" and the like.
    pub fn describe(&self) -> String {
        match (&self.isolation, self.drop_to) {
            (Isolation::Bwrap(_), Some(uid)) => {
                format!("bwrap (net,pid,ipc,uts,mnt,user) as uid {uid} + rlimits")
            }
            (Isolation::Bwrap(_), None) => "bwrap (net,pid,ipc,uts,mnt,user) + rlimits".into(),
            (Isolation::None, _) => "rlimits only (no network isolation)".into(),
        }
    }

    /// Run `cmd` to completion, timeout or watchdog kill.
    pub async fn run(&self, cmd: &SandboxCommand) -> Result<RunOutcome, SandboxError> {
        let started = Instant::now();
        let log = LogSink::create(&cmd.log_path, self.limits.log).map_err(|source| {
            SandboxError::Setup {
                what: format!("create log {}", cmd.log_path.display()),
                source,
            }
        })?;
        let stage = match (&self.isolation, self.drop_to) {
            (Isolation::Bwrap(_), Some(uid)) => Some(Stage::prepare(cmd, uid)?),
            _ => None,
        };
        let mut command = self.command(cmd, stage.as_ref());
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let rlimits = [
            (Resource::As, self.limits.address_space),
            (Resource::Cpu, self.limits.cpu_seconds),
            (Resource::Fsize, self.limits.file_size),
            (Resource::Core, 0),
            (Resource::Nofile, self.limits.open_files),
        ];
        // SAFETY: only async-signal-safe syscalls (setrlimit) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                for (resource, value) in rlimits {
                    let limit = Rlimit {
                        current: Some(value),
                        maximum: Some(value),
                    };
                    rustix::process::setrlimit(resource, limit)?;
                }
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|source| SandboxError::Spawn {
            program: cmd.program.display().to_string(),
            source,
        })?;
        let pgid = child.id().and_then(|id| Pid::from_raw(id as i32));
        let _guard = GroupGuard(pgid);
        let readers = [
            tokio::spawn(log.clone().drain(child.stdout.take().expect("piped"))),
            tokio::spawn(log.clone().drain(child.stderr.take().expect("piped"))),
        ];
        let watchdog = disk_watchdog(
            cmd.watch_dir.clone(),
            self.limits.disk,
            self.limits.disk_poll,
        );
        tokio::pin!(watchdog);
        let termination = tokio::select! {
            status = child.wait() => status_to_termination(status),
            _ = tokio::time::sleep(self.limits.timeout) => Termination::TimedOut,
            size = &mut watchdog => Termination::DiskQuota(size),
        };
        if matches!(
            termination,
            Termination::TimedOut | Termination::DiskQuota(_)
        ) {
            kill_group(pgid, Signal::TERM);
            if tokio::time::timeout(self.limits.kill_grace, child.wait())
                .await
                .is_err()
            {
                kill_group(pgid, Signal::KILL);
                let _ = child.wait().await;
            }
        }
        // Whatever is left in the group (a daemon the build started) goes too. With bwrap the
        // pid namespace already took everything, even processes that left the group.
        kill_group(pgid, Signal::KILL);
        for reader in readers {
            // A process outside our reach may still hold the pipe open: do not wait forever.
            if tokio::time::timeout(Duration::from_secs(2), reader)
                .await
                .is_err()
            {
                log.note("output pipe still open after exit; stopped reading");
            }
        }
        // Our own verdict goes last, after whatever the pipes still held.
        match termination {
            Termination::TimedOut => log.note(&format!(
                "killed: wall-clock timeout of {:?}",
                self.limits.timeout
            )),
            Termination::DiskQuota(size) => log.note(&format!(
                "killed: build directory grew to {size} bytes (cap {})",
                self.limits.disk
            )),
            _ => {}
        }
        drop(stage);
        Ok(RunOutcome {
            termination,
            log: log.summary(),
            duration: started.elapsed(),
        })
    }

    fn command(&self, cmd: &SandboxCommand, stage: Option<&Stage>) -> tokio::process::Command {
        let Isolation::Bwrap(bwrap) = &self.isolation else {
            let mut command = tokio::process::Command::new(&cmd.program);
            command
                .args(&cmd.args)
                .current_dir(&cmd.cwd)
                .env_clear()
                .envs(cmd.env.iter().map(|(k, v)| (k, v)));
            return command;
        };
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |items: &[&str]| args.extend(items.iter().map(OsString::from));
        // bubblewrap: --unshare-all only *tries* a user namespace; --disable-userns needs
        // an explicit --unshare-user.
        push(&[
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
        ]);
        // /etc: only what the dynamic loader, compilers (Debian's alternatives) and
        // `getpass.getuser()` need; never the host's resolver, certificates or credentials.
        for etc in [
            "/etc/ld.so.cache",
            "/etc/ld.so.conf",
            "/etc/ld.so.conf.d",
            "/etc/alternatives",
            "/etc/passwd",
            "/etc/group",
            "/etc/nsswitch.conf",
            "/etc/localtime",
        ] {
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
}

/// Staging of bind sources for the unprivileged build uid (see the module docs).
struct Stage {
    dir: tempfile::TempDir,
    /// (original path, staging path, writable)
    entries: Vec<(PathBuf, PathBuf, bool)>,
    uid: u32,
}

impl Stage {
    fn prepare(cmd: &SandboxCommand, uid: u32) -> Result<Self, SandboxError> {
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
fn probe_bwrap(drop_to: Option<u32>) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let bwrap = std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|p| p.is_file())
        .ok_or_else(|| "`bwrap` not found on PATH (install bubblewrap)".to_string())?;
    let mut command = std::process::Command::new(&bwrap);
    if let Some(uid) = drop_to {
        use std::os::unix::process::CommandExt;
        command.uid(uid).gid(uid);
    }
    let output = command
        .args([
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--",
            "/usr/bin/true",
        ])
        .stdin(Stdio::null())
        .env_clear()
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bwrap.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`{} --unshare-all ... true` failed: {}",
            bwrap.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    if drop_to.is_some() {
        for tool in ["unshare", "setpriv", "mount"] {
            let found = std::env::split_paths(&path).any(|dir| dir.join(tool).is_file());
            if !found {
                return Err(format!(
                    "`{tool}` (util-linux) not found on PATH; needed to build as an unprivileged uid when running as root"
                ));
            }
        }
    }
    Ok(bwrap)
}

fn status_to_termination(status: std::io::Result<std::process::ExitStatus>) -> Termination {
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => Termination::Exited(code),
            (None, Some(sig)) => Termination::Signaled(sig),
            (None, None) => Termination::Exited(-1),
        },
        Err(_) => Termination::Exited(-1),
    }
}

fn kill_group(pgid: Option<Pid>, signal: Signal) {
    if let Some(pgid) = pgid {
        let _ = rustix::process::kill_process_group(pgid, signal);
    }
}

/// Kills the whole process group if `run` is dropped (Ctrl-C, a cancelled future):
/// `kill_on_drop` alone reaches only the direct child.
struct GroupGuard(Option<Pid>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0, Signal::KILL);
    }
}

/// Resolves with the measured size once `dir` holds more than `cap` bytes; never otherwise.
async fn disk_watchdog(dir: PathBuf, cap: u64, poll: Duration) -> u64 {
    loop {
        tokio::time::sleep(poll).await;
        let d = dir.clone();
        let size = tokio::task::spawn_blocking(move || dir_size(&d, cap))
            .await
            .unwrap_or(0);
        if size > cap {
            return size;
        }
    }
}

/// Apparent size of a tree (allocated blocks, so sparse files count as what they use), stopping
/// early once past `stop_after`.
fn dir_size(dir: &Path, stop_after: u64) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            // Each entry costs at least an inode: count 512 bytes so empty-file floods add up.
            total += (meta.blocks() * 512).max(512);
            if meta.is_dir() {
                stack.push(entry.path());
            }
            if total > stop_after {
                return total;
            }
        }
    }
    total
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Hand a tree to the build uid (lchown: links are not followed).
fn chown_tree(root: &Path, uid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(root, Some(uid), Some(uid))?;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            std::os::unix::fs::lchown(entry.path(), Some(uid), Some(uid))?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok(())
}
