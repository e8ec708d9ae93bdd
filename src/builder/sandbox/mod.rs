//! Running one untrusted command with no network, a read-only system, rlimits, a wall-clock
//! timeout that kills everything it started, a disk watchdog and capped output.
//!
//! The sandbox knows nothing of Python packaging: it runs a program with the paths,
//! environment and limits it is given. Isolation comes from one of two layers, chosen once per
//! run and never silently dropped:
//!
//! * bubblewrap ([`bwrap`]): new user, mount, net, pid, ipc and uts namespaces;
//! * the built-in layer ([`builtin`]): Landlock and seccomp applied by a re-exec of wheelwright,
//!   for machines where namespaces cannot be created.
//!
//! When neither works, [`Sandbox::new`] refuses ([`SandboxError::Unavailable`]); only
//! `--sandbox off` runs builds without isolation. The rlimits, process-group kill, timeout,
//! watchdog and output cap ([`limits`]) apply under every layer.

mod builtin;
mod bwrap;
mod launcher_error;
mod limits;
mod probe;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use serde::Serialize;

use super::log::{LogSink, LogSummary};
pub use builtin::{SANDBOX_EXEC, TEST_JAIL, exec_main, jail_main, set_launcher};
pub use limits::SandboxLimits;
use limits::{
    GroupGuard, apply_rlimits, chown_tree, disk_watchdog, kill_group, status_to_termination,
};
pub(super) use probe::ProbeError;

/// `--sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SandboxMode {
    /// bubblewrap when it works, else the built-in layer, else refuse.
    #[default]
    Auto,
    /// The old name of `Auto` (a real sandbox or refuse), kept for compatibility.
    Required,
    /// bubblewrap or refuse.
    Bwrap,
    /// The built-in layer (Landlock + seccomp) or refuse.
    Builtin,
    /// rlimits, timeout and output cap only: the caller accepts the risk.
    Off,
}

/// `/etc` as builds see it: only what the dynamic loader, compilers (Debian's alternatives)
/// and `getpass.getuser()` need; never the host's resolver, certificates or credentials.
const ETC_FILES: [&str; 8] = [
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
];

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
    /// No layer the mode allows works here; `None` means that layer was not asked for.
    #[error("{}", refusal(.bwrap.as_deref(), .builtin.as_deref()))]
    Unavailable {
        bwrap: Option<Box<ProbeError>>,
        builtin: Option<Box<ProbeError>>,
    },
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

/// What to install or enable, per layer that failed.
fn refusal(bwrap: Option<&ProbeError>, builtin: Option<&ProbeError>) -> String {
    let mut text = String::from("no sandbox can be had on this machine, so nothing is built");
    if let Some(why) = bwrap {
        text.push_str(&format!(
            "; bubblewrap: {why} (install the `bubblewrap` package and allow unprivileged user \
             namespaces: sysctl kernel.unprivileged_userns_clone=1, on Ubuntu \
             kernel.apparmor_restrict_unprivileged_userns=0, in a container run with a seccomp \
             profile that allows them)"
        ));
    }
    if let Some(why) = builtin {
        text.push_str(&format!(
            "; built-in (Landlock + seccomp): {why} (needs a Linux kernel with seccomp filters, \
             and a container runtime that lets processes install them)"
        ));
    }
    text.push_str("; `--sandbox off` builds without isolation");
    text
}

/// What kept a build off the network. Reports write these words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NetworkProtection {
    /// An empty network namespace (bwrap).
    #[serde(rename = "namespace")]
    Namespace,
    /// seccomp refuses new sockets but AF_UNIX; Landlock (ABI ≥ 4) refuses TCP bind/connect.
    #[serde(rename = "seccomp+landlock")]
    SeccompLandlock,
    /// seccomp alone (a kernel whose Landlock cannot scope TCP).
    #[serde(rename = "seccomp")]
    Seccomp,
    #[serde(rename = "none")]
    None,
}

/// What kept a build from writing outside its directories. Reports write these words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FilesystemProtection {
    /// Read-only binds in a mount namespace (bwrap).
    #[serde(rename = "namespace")]
    Namespace,
    #[serde(rename = "landlock")]
    Landlock,
    #[serde(rename = "none")]
    None,
}

/// The word a report uses, as serde writes it.
fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

impl std::fmt::Display for NetworkProtection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&word(self))
    }
}

impl std::fmt::Display for FilesystemProtection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&word(self))
    }
}

/// What protected a build, for reports and the build log's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protections {
    pub network: NetworkProtection,
    pub filesystem: FilesystemProtection,
    pub pid_namespace: bool,
    /// The limits that apply under every layer.
    pub limits: String,
}

#[derive(Debug, Clone)]
enum Layer {
    Bwrap(PathBuf),
    Builtin(builtin::Builtin),
    Off,
}

/// A configured sandbox, shared by every build.
#[derive(Debug, Clone)]
pub struct Sandbox {
    layer: Layer,
    limits: SandboxLimits,
    /// Set when running as root: the unprivileged uid/gid builds run as.
    drop_to: Option<u32>,
}

/// The uid/gid builds run as when wheelwright runs as root ("nobody").
pub const BUILD_UID: u32 = 65534;

static BWRAP: OnceLock<Result<PathBuf, ProbeError>> = OnceLock::new();
static BUILTIN: OnceLock<Result<builtin::Builtin, ProbeError>> = OnceLock::new();

fn build_uid() -> Option<u32> {
    rustix::process::geteuid().is_root().then_some(BUILD_UID)
}

fn bwrap_probe() -> Result<PathBuf, ProbeError> {
    BWRAP.get_or_init(|| bwrap::probe(build_uid())).clone()
}

fn builtin_probe() -> Result<builtin::Builtin, ProbeError> {
    BUILTIN
        .get_or_init(|| {
            let probed = builtin::probe(build_uid())?;
            if !probed.filesystem {
                eprintln!(
                    "warning: sandbox: the kernel has no usable Landlock (ABI {}): the built-in \
                     layer cuts the network but builds can read every file this user can",
                    probed.abi
                );
            }
            Ok(probed)
        })
        .clone()
}

impl Sandbox {
    /// Start the probes `mode` needs in the background, so the choice is made at start without
    /// delaying the first request; [`Sandbox::new`] waits for them.
    pub fn warm_up(mode: SandboxMode) {
        if mode != SandboxMode::Off {
            std::thread::spawn(move || {
                let _ = Self::choose(mode);
            });
        }
    }

    fn choose(mode: SandboxMode) -> Result<Layer, SandboxError> {
        let unavailable =
            |bwrap: Option<ProbeError>, builtin: Option<ProbeError>| SandboxError::Unavailable {
                bwrap: bwrap.map(Box::new),
                builtin: builtin.map(Box::new),
            };
        match mode {
            SandboxMode::Off => Ok(Layer::Off),
            SandboxMode::Bwrap => bwrap_probe()
                .map(Layer::Bwrap)
                .map_err(|why| unavailable(Some(why), None)),
            SandboxMode::Builtin => builtin_probe()
                .map(Layer::Builtin)
                .map_err(|why| unavailable(None, Some(why))),
            SandboxMode::Auto | SandboxMode::Required => match bwrap_probe() {
                Ok(bwrap) => Ok(Layer::Bwrap(bwrap)),
                Err(no_bwrap) => builtin_probe()
                    .map(Layer::Builtin)
                    .map_err(|why| unavailable(Some(no_bwrap), Some(why))),
            },
        }
    }

    pub fn new(mode: SandboxMode, limits: SandboxLimits) -> Result<Self, SandboxError> {
        let layer = Self::choose(mode)?;
        // Without isolation the build runs as us.
        let drop_to = match layer {
            Layer::Off => None,
            _ => build_uid(),
        };
        Ok(Self {
            layer,
            limits,
            drop_to,
        })
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    /// Whether [`SandboxCommand::source_mount`] is honoured (a mount namespace of our own).
    pub fn supports_source_mount(&self) -> bool {
        matches!(self.layer, Layer::Bwrap(_))
    }

    pub fn is_isolated(&self) -> bool {
        !matches!(self.layer, Layer::Off)
    }

    /// `bwrap`, `builtin` or `off` (the report's `build.sandbox`).
    pub fn layer_name(&self) -> &'static str {
        match self.layer {
            Layer::Bwrap(_) => "bwrap",
            Layer::Builtin(_) => "builtin",
            Layer::Off => "off",
        }
    }

    pub fn protections(&self) -> Protections {
        let limits = "rlimits, wall-clock timeout, disk watchdog, output cap".to_string();
        let (network, filesystem, pid_namespace) = match &self.layer {
            Layer::Bwrap(_) => (
                NetworkProtection::Namespace,
                FilesystemProtection::Namespace,
                true,
            ),
            Layer::Builtin(b) => (
                if b.tcp {
                    NetworkProtection::SeccompLandlock
                } else {
                    NetworkProtection::Seccomp
                },
                if b.filesystem {
                    FilesystemProtection::Landlock
                } else {
                    FilesystemProtection::None
                },
                false,
            ),
            Layer::Off => (NetworkProtection::None, FilesystemProtection::None, false),
        };
        Protections {
            network,
            filesystem,
            pid_namespace,
            limits,
        }
    }

    /// The `RLIMIT_NPROC` the command should set on itself once inside, or `None`: only a
    /// private user namespace (bwrap) makes that safe; the built-in layer's launcher sets it
    /// relative to what the build uid already runs.
    pub fn nproc_limit(&self) -> Option<u64> {
        matches!(self.layer, Layer::Bwrap(_)).then_some(self.limits.processes)
    }

    /// "builtin as uid 65534 (network: seccomp+landlock, filesystem: landlock, pid namespace:
    /// no, limits: ...)" and the like.
    pub fn describe(&self) -> String {
        let p = self.protections();
        let who = match self.drop_to {
            Some(uid) => format!(" as uid {uid}"),
            None => String::new(),
        };
        let abi = match &self.layer {
            Layer::Builtin(b) => format!(", Landlock ABI {}", b.abi),
            _ => String::new(),
        };
        format!(
            "{}{who} (network: {}, filesystem: {}, pid namespace: {}, limits: {}{abi})",
            self.layer_name(),
            p.network,
            p.filesystem,
            if p.pid_namespace { "yes" } else { "no" },
            p.limits
        )
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
        log.first_line(&format!("[wheelwright] sandbox: {}", self.describe()));
        let stage = match (&self.layer, self.drop_to) {
            (Layer::Bwrap(_), Some(uid)) => Some(bwrap::Stage::prepare(cmd, uid)?),
            (Layer::Builtin(_), Some(uid)) => {
                // The build uid writes only what is handed to it.
                for path in &cmd.rw_paths {
                    chown_tree(path, uid).map_err(|source| SandboxError::Setup {
                        what: format!("chown {}", path.display()),
                        source,
                    })?;
                }
                None
            }
            _ => None,
        };
        let mut command = match &self.layer {
            Layer::Bwrap(bwrap) => bwrap::command(bwrap, cmd, stage.as_ref()),
            Layer::Builtin(builtin) => builtin.command(cmd, self.drop_to, self.limits.processes),
            Layer::Off => {
                let mut command = tokio::process::Command::new(&cmd.program);
                command
                    .args(&cmd.args)
                    .current_dir(&cmd.cwd)
                    .env_clear()
                    .envs(cmd.env.iter().map(|(k, v)| (k, v)));
                command
            }
        };
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let rlimits = self.limits.rlimits();
        // SAFETY: only async-signal-safe syscalls (setrlimit) between fork and exec.
        unsafe {
            command.pre_exec(move || apply_rlimits(&rlimits));
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
        // pid namespace already took everything; the built-in layer refuses leaving the group.
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_says_what_to_install_or_enable_for_each_layer_tried() {
        let both = SandboxError::Unavailable {
            bwrap: Some(Box::new(ProbeError::BwrapNotFound)),
            builtin: Some(Box::new(ProbeError::LauncherRefused(
                "seccomp filter refused".into(),
            ))),
        }
        .to_string();
        assert!(both.contains("nothing is built"), "{both}");
        assert!(both.contains("`bwrap` not found on PATH"), "{both}");
        assert!(both.contains("install the `bubblewrap` package"), "{both}");
        assert!(both.contains("seccomp filter refused"), "{both}");
        assert!(both.contains("--sandbox off"), "{both}");
        let only_builtin = SandboxError::Unavailable {
            bwrap: None,
            builtin: Some(Box::new(ProbeError::LauncherRefused("no".into()))),
        }
        .to_string();
        assert!(!only_builtin.contains("bubblewrap"), "{only_builtin}");
    }

    #[test]
    fn protections_follow_the_layer_and_what_the_kernel_has() {
        let sandbox = |layer| Sandbox {
            layer,
            limits: SandboxLimits::default(),
            drop_to: None,
        };
        let old_kernel = sandbox(Layer::Builtin(builtin::Builtin {
            launcher: "/x".into(),
            abi: 2,
            filesystem: true,
            tcp: false,
            scopes: false,
        }));
        let p = old_kernel.protections();
        assert_eq!(
            (p.network, p.filesystem),
            (NetworkProtection::Seccomp, FilesystemProtection::Landlock)
        );
        assert_eq!(
            (p.network.to_string(), p.filesystem.to_string()),
            ("seccomp".to_string(), "landlock".to_string())
        );
        assert!(!p.pid_namespace);
        assert!(
            old_kernel
                .describe()
                .starts_with("builtin (network: seccomp,")
        );
        assert!(old_kernel.describe().contains("Landlock ABI 2"));
        let bwrap = sandbox(Layer::Bwrap("/usr/bin/bwrap".into())).protections();
        assert_eq!(bwrap.network, NetworkProtection::Namespace);
        assert!(bwrap.pid_namespace);
        let off = sandbox(Layer::Off);
        assert_eq!(off.layer_name(), "off");
        assert_eq!(off.protections().network, NetworkProtection::None);
        assert!(!off.is_isolated());
    }

    #[tokio::test]
    async fn the_log_names_the_sandbox_in_its_first_line_only() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox::new(SandboxMode::Off, SandboxLimits::default()).unwrap();
        let cmd = SandboxCommand {
            program: "/bin/echo".into(),
            args: vec!["hello".into()],
            cwd: dir.path().to_path_buf(),
            env: Vec::new(),
            ro_paths: Vec::new(),
            rw_paths: Vec::new(),
            source_mount: None,
            watch_dir: dir.path().to_path_buf(),
            log_path: dir.path().join("log"),
        };
        sandbox.run(&cmd).await.unwrap();
        sandbox.run(&cmd).await.unwrap();
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert!(lines[0].starts_with("[wheelwright] sandbox: off"), "{log}");
        assert_eq!(lines[1..], ["hello", "hello"], "{log}");
    }
}
