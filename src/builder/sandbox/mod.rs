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
//! watchdog and output cap ([`limits`]) apply under every layer. Running as root, each build
//! runs as a uid of its own ([`uid_pool`], taken by [`Sandbox::for_build`]), so builds never
//! share a process budget.

mod builtin;
mod bwrap;
mod launcher_error;
mod limits;
mod probe;
mod protections;
mod uid_pool;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use super::log::{LogSink, LogSummary};
pub use builtin::{SANDBOX_EXEC, TEST_JAIL, exec_main, jail_main, set_launcher};
pub use limits::SandboxLimits;
use limits::{
    GroupGuard, apply_rlimits, chown_tree, disk_watchdog, kill_group, status_to_termination,
};
pub(super) use probe::ProbeError;
pub use protections::{FilesystemProtection, NetworkProtection, ProcessBudget, Protections};
pub use uid_pool::{BUILD_UIDS, UidPoolError};
use uid_pool::{UidLease, UidPool};

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
    /// Running as root: no uid of its own for a build.
    #[error(transparent)]
    BuildUids(#[from] UidPoolError),
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

#[derive(Debug, Clone)]
enum Layer {
    Bwrap(PathBuf),
    Builtin(builtin::Builtin),
    Off,
}

/// Who builds run as.
#[derive(Debug, Clone)]
enum Identity {
    /// wheelwright's own uid (it is not root, or `--sandbox off`).
    Caller,
    /// wheelwright runs as root: every build runs as a uid of the pool, `lease` on a build's
    /// own sandbox ([`Sandbox::for_build`]); without one, each command takes one for itself.
    Pool {
        pool: Arc<UidPool>,
        lease: Option<Arc<UidLease>>,
    },
}

/// A configured sandbox: one shared by every build, and one per build
/// ([`Sandbox::for_build`]) that holds the build's uid.
#[derive(Debug, Clone)]
pub struct Sandbox {
    layer: Layer,
    limits: SandboxLimits,
    identity: Identity,
}

/// The uid the probes switch to when running as root (nobody): they only check that the
/// switch and the restrictions work and start no build, so no uid of the pool is needed.
const PROBE_UID: u32 = 65534;

static BWRAP: OnceLock<Result<PathBuf, ProbeError>> = OnceLock::new();
static BUILTIN: OnceLock<Result<builtin::Builtin, ProbeError>> = OnceLock::new();

fn probe_uid() -> Option<u32> {
    rustix::process::geteuid().is_root().then_some(PROBE_UID)
}

/// Whether `RLIMIT_NPROC` counts per user namespace (Linux ≥ 5.14, "ucounts: Move
/// RLIMIT_NPROC into ucounts"); before, one count per uid spanned every namespace.
fn counts_per_user_namespace() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (5, 14)
}

fn bwrap_probe() -> Result<PathBuf, ProbeError> {
    BWRAP.get_or_init(|| bwrap::probe(probe_uid())).clone()
}

fn builtin_probe() -> Result<builtin::Builtin, ProbeError> {
    BUILTIN
        .get_or_init(|| {
            let probed = builtin::probe(probe_uid())?;
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
        let identity = match layer {
            Layer::Off => Identity::Caller,
            _ if rustix::process::geteuid().is_root() => Identity::Pool {
                pool: Arc::new(UidPool::system()?),
                lease: None,
            },
            _ => Identity::Caller,
        };
        Ok(Self {
            layer,
            limits,
            identity,
        })
    }

    /// The sandbox of one build: running as root, it holds a uid of its own for as long as it
    /// (or a clone) lives, so every command of the build runs as that uid and no other build
    /// (of this run or of another wheelwright process) runs as it meanwhile.
    pub fn for_build(&self) -> Result<Sandbox, SandboxError> {
        let mut own = self.clone();
        if let Identity::Pool { pool, lease } = &mut own.identity
            && lease.is_none()
        {
            *lease = Some(Arc::new(pool.lease()?));
        }
        Ok(own)
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

    fn process_budget(&self) -> ProcessBudget {
        match (&self.layer, &self.identity) {
            (Layer::Off, _) => ProcessBudget::None,
            (_, Identity::Pool { .. }) => ProcessBudget::PerBuild,
            (Layer::Bwrap(_), Identity::Caller) if counts_per_user_namespace() => {
                ProcessBudget::PerBuild
            }
            _ => ProcessBudget::Shared,
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
            process_budget: self.process_budget(),
            limits,
        }
    }

    /// The `RLIMIT_NPROC` the command should set on itself once inside, or `None`: only a
    /// private user namespace (bwrap) makes that safe; the built-in layer's launcher sets it
    /// relative to what the build uid already runs.
    pub fn nproc_limit(&self) -> Option<u64> {
        matches!(self.layer, Layer::Bwrap(_)).then_some(self.limits.processes)
    }

    /// The uid this build holds (see [`Sandbox::for_build`]).
    fn leased_uid(&self) -> Option<u32> {
        match &self.identity {
            Identity::Pool {
                lease: Some(lease), ..
            } => Some(lease.uid()),
            _ => None,
        }
    }

    /// "builtin as uid 60928 (network: seccomp+landlock, filesystem: landlock, pid namespace:
    /// no, process budget: per-build, limits: ...)" and the like.
    pub fn describe(&self) -> String {
        self.describe_as(self.leased_uid())
    }

    fn describe_as(&self, uid: Option<u32>) -> String {
        let p = self.protections();
        let who = match (uid, &self.identity) {
            (Some(uid), _) => format!(" as uid {uid}"),
            (None, Identity::Pool { pool, .. }) => format!(
                ", each build as a uid of its own ({}–{})",
                pool.range().start(),
                pool.range().end()
            ),
            (None, Identity::Caller) => String::new(),
        };
        let abi = match &self.layer {
            Layer::Builtin(b) => format!(", Landlock ABI {}", b.abi),
            _ => String::new(),
        };
        let budget = match p.process_budget {
            ProcessBudget::Shared => " (one budget shared by the builds running at once)",
            _ => "",
        };
        format!(
            "{}{who} (network: {}, filesystem: {}, pid namespace: {}, process budget: {}{budget}, \
             limits: {}{abi})",
            self.layer_name(),
            p.network,
            p.filesystem,
            if p.pid_namespace { "yes" } else { "no" },
            p.process_budget,
            p.limits
        )
    }

    /// Run `cmd` to completion, timeout or watchdog kill.
    pub async fn run(&self, cmd: &SandboxCommand) -> Result<RunOutcome, SandboxError> {
        let started = Instant::now();
        // A command outside a build's sandbox takes a uid for itself, for as long as it runs.
        let own_lease = match &self.identity {
            Identity::Pool { pool, lease: None } => Some(pool.lease()?),
            _ => None,
        };
        let uid = own_lease
            .as_ref()
            .map(UidLease::uid)
            .or_else(|| self.leased_uid());
        let log = LogSink::create(&cmd.log_path, self.limits.log).map_err(|source| {
            SandboxError::Setup {
                what: format!("create log {}", cmd.log_path.display()),
                source,
            }
        })?;
        log.first_line(&format!("[wheelwright] sandbox: {}", self.describe_as(uid)));
        let stage = match (&self.layer, uid) {
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
            Layer::Builtin(builtin) => builtin.command(cmd, uid, self.limits.processes),
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
        drop(own_lease);
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
            identity: Identity::Caller,
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
        // Not root: every build counts against wheelwright's own uid, and says so.
        assert_eq!(p.process_budget, ProcessBudget::Shared);
        assert!(
            old_kernel
                .describe()
                .contains("process budget: shared (one budget shared by the builds running"),
            "{}",
            old_kernel.describe()
        );
        let bwrap = sandbox(Layer::Bwrap("/usr/bin/bwrap".into())).protections();
        assert_eq!(bwrap.network, NetworkProtection::Namespace);
        assert!(bwrap.pid_namespace);
        let off = sandbox(Layer::Off);
        assert_eq!(off.layer_name(), "off");
        assert_eq!(off.protections().network, NetworkProtection::None);
        assert_eq!(off.protections().process_budget, ProcessBudget::None);
        assert!(!off.is_isolated());
    }

    #[test]
    fn as_root_each_build_holds_a_uid_of_its_own_until_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let shared = Sandbox {
            layer: Layer::Builtin(builtin::Builtin {
                launcher: "/x".into(),
                abi: 6,
                filesystem: true,
                tcp: true,
                scopes: true,
            }),
            limits: SandboxLimits::default(),
            identity: Identity::Pool {
                pool: Arc::new(UidPool::new(dir.path().join("locks"), 70000..=70001)),
                lease: None,
            },
        };
        assert_eq!(shared.protections().process_budget, ProcessBudget::PerBuild);
        assert!(
            shared
                .describe()
                .starts_with("builtin, each build as a uid of its own (70000–70001) ("),
            "{}",
            shared.describe()
        );
        let first = shared.for_build().unwrap();
        let second = shared.for_build().unwrap();
        assert_eq!(first.leased_uid(), Some(70000));
        assert_eq!(second.leased_uid(), Some(70001));
        assert!(first.describe().starts_with("builtin as uid 70000 ("));
        // A clone is the same build: it keeps the uid, and does not take another.
        let again = first.for_build().unwrap();
        assert_eq!(again.leased_uid(), Some(70000));
        assert!(matches!(
            shared.for_build(),
            Err(SandboxError::BuildUids(UidPoolError::Exhausted { .. }))
        ));
        drop(first);
        assert!(shared.for_build().is_err(), "its clone still holds 70000");
        drop(again);
        assert_eq!(shared.for_build().unwrap().leased_uid(), Some(70000));
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
