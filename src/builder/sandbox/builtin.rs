//! Layer (b): the built-in sandbox, for machines where bubblewrap cannot create namespaces
//! (containers under Docker's default seccomp profile, hosts with unprivileged user namespaces
//! switched off, machines without bwrap). It needs no external program and no privilege:
//!
//! * Landlock: the filesystem is invisible except the system directories a build reads
//!   (`/usr`, `/lib*`, `/bin`, `/sbin`, a few `/etc` files, `/proc`, `/dev/null` and friends)
//!   and the command's read-only paths; only the command's writable paths (the build dir, with
//!   its private temp) can be written. TCP bind/connect are denied (ABI ≥ 4), signals and
//!   abstract UNIX sockets are scoped to the sandbox (ABI ≥ 6).
//! * seccomp: `socket()` for AF_INET, AF_INET6, AF_PACKET and AF_NETLINK fails with EACCES (so
//!   UDP and raw sockets too; AF_UNIX works); `setsid`/`setpgid` fail, so every descendant stays
//!   in the process group wheelwright kills (there is no pid namespace to do it); io_uring (it
//!   creates sockets behind seccomp's back), namespaces, keyrings and `open_by_handle_at` fail.
//! * `no_new_privs`, the rlimits, the cleared environment; as root, the build runs as a uid of
//!   its own ([`super::uid_pool`]), so its process cap counts its own processes only. Without
//!   root every build runs as wheelwright's uid and the cap counts all of them together.
//!
//! How it is applied: wheelwright re-executes itself as `wheelwright __sandbox-exec ... --
//! PROGRAM ARGS`. The fresh process is single-threaded and owns its memory, so building the
//! Landlock ruleset and the BPF programs there (which allocates) is sound; doing the same in
//! `pre_exec` after a fork of the multi-threaded tokio process is not (only async-signal-safe
//! calls are allowed there). The launcher restricts itself and then execs the program in place
//! (same pid, same process group), so the restrictions hold for everything the build starts.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use seccompiler::{
    BackendError, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};

use super::launcher_error::{ExecArgsError, LandlockError, SeccompError};
use super::{ProbeError, SandboxCommand};

/// The hidden subcommand the launcher runs as.
pub const SANDBOX_EXEC: &str = "__sandbox-exec";
/// The hidden test helper that runs a command under a seccomp filter (see [`jail_main`]).
pub const TEST_JAIL: &str = "__test-jail";

/// Exit status of the launcher when it cannot restrict itself (it never runs the program then).
const SETUP_FAILED: i32 = 125;

/// The newest ABI the crate knows; older kernels get what they have (best effort), and the
/// probe reports exactly which parts. From ABI 9 named UNIX sockets outside the writable
/// paths are refused too, from ABI 10 UDP as well (seccomp refuses inet sockets anyway).
const ABI_WANTED: ABI = ABI::V10;

/// What the built-in layer gets on this kernel (from the probe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Builtin {
    /// This executable: the launcher.
    pub launcher: PathBuf,
    /// The kernel's Landlock ABI (0: none).
    pub abi: i64,
    /// Landlock enforced filesystem rules.
    pub filesystem: bool,
    /// Landlock denies TCP bind/connect (ABI ≥ 4).
    pub tcp: bool,
    /// Landlock scopes signals and abstract UNIX sockets (ABI ≥ 6).
    pub scopes: bool,
}

/// Arguments of `__sandbox-exec` (paths stay `OsString`: they need not be UTF-8).
#[derive(Debug, Default, PartialEq)]
struct ExecArgs {
    ro: Vec<PathBuf>,
    rw: Vec<PathBuf>,
    /// Switch to this uid/gid first (wheelwright runs as root).
    uid: Option<u32>,
    /// Processes the build may add to what its uid already runs.
    nproc: Option<u64>,
    /// Check the restrictions, print what holds, exit (no program).
    probe: bool,
    program: Vec<OsString>,
}

static LAUNCHER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// For programs that embed the library (benchmarks, tests): the wheelwright executable to
/// re-exec as the launcher. The default is the running executable, which is wheelwright.
pub fn set_launcher(path: PathBuf) {
    let _ = LAUNCHER.set(path);
}

/// Runs the probe launcher once: it applies every restriction to itself and reports.
pub(super) fn probe(drop_to: Option<u32>) -> Result<Builtin, ProbeError> {
    let launcher = match LAUNCHER.get() {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .map_err(|e| ProbeError::OwnExecutable(std::sync::Arc::new(e)))?,
    };
    let mut command = std::process::Command::new(&launcher);
    command.arg(SANDBOX_EXEC).arg("--probe");
    if let Some(uid) = drop_to {
        command.arg("--uid").arg(uid.to_string());
    }
    let output = command
        .arg("--")
        .stdin(Stdio::null())
        .env_clear()
        .current_dir("/")
        .output()
        .map_err(|e| ProbeError::CannotRun {
            program: launcher.clone(),
            source: std::sync::Arc::new(e),
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("sandbox-probe ")) else {
        let why = String::from_utf8_lossy(&output.stderr);
        return Err(ProbeError::LauncherRefused(
            why.trim()
                .strip_prefix("wheelwright sandbox: ")
                .unwrap_or(why.trim())
                .to_string(),
        ));
    };
    let field = |name: &str| {
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    Ok(Builtin {
        launcher,
        abi: field("abi"),
        filesystem: field("fs") == 1,
        tcp: field("tcp") == 1,
        scopes: field("scopes") == 1,
    })
}

impl Builtin {
    /// `wheelwright __sandbox-exec [--uid N] [--nproc N] --ro P... --rw P... -- PROGRAM ARGS`.
    pub(super) fn command(
        &self,
        cmd: &SandboxCommand,
        drop_to: Option<u32>,
        nproc: u64,
    ) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.launcher);
        command.arg(SANDBOX_EXEC);
        if let Some(uid) = drop_to {
            command.arg("--uid").arg(uid.to_string());
        }
        command.arg("--nproc").arg(nproc.to_string());
        for path in &cmd.ro_paths {
            command.arg("--ro").arg(path);
        }
        for path in &cmd.rw_paths {
            command.arg("--rw").arg(path);
        }
        command
            .arg("--")
            .arg(&cmd.program)
            .args(&cmd.args)
            .current_dir(&cmd.cwd)
            .env_clear()
            .envs(cmd.env.iter().map(|(k, v)| (k, v)));
        // A build uid has no account, so `getpass.getuser()` (which reads LOGNAME and USER
        // before asking the password database) would fail: it gets the name builds had when
        // they all ran as nobody, the name bubblewrap's builds see inside their namespace.
        if drop_to.is_some() {
            for key in ["LOGNAME", "USER"] {
                if !cmd.env.iter().any(|(k, _)| k == key) {
                    command.env(key, "nobody");
                }
            }
        }
        command
    }
}

fn parse_exec_args(args: &[OsString]) -> Result<ExecArgs, ExecArgsError> {
    let mut out = ExecArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value =
            |name: &'static str| it.next().cloned().ok_or(ExecArgsError::MissingValue(name));
        match arg.as_bytes() {
            b"--" => {
                out.program = it.cloned().collect();
                return Ok(out);
            }
            b"--probe" => out.probe = true,
            b"--ro" => out.ro.push(value("--ro")?.into()),
            b"--rw" => out.rw.push(value("--rw")?.into()),
            b"--uid" => {
                let v = value("--uid")?;
                out.uid = Some(number(&v).ok_or(ExecArgsError::NotANumber("--uid"))?);
            }
            b"--nproc" => {
                let v = value("--nproc")?;
                out.nproc = Some(number(&v).ok_or(ExecArgsError::NotANumber("--nproc"))?);
            }
            _ => {
                return Err(ExecArgsError::Unexpected(
                    arg.to_string_lossy().into_owned(),
                ));
            }
        }
    }
    Err(ExecArgsError::NoProgram)
}

fn number<T: std::str::FromStr>(value: &OsStr) -> Option<T> {
    value.to_str()?.parse().ok()
}

/// `wheelwright __sandbox-exec ...`: restrict this process, then exec the program. Returns
/// only on failure (or after a probe), with the exit status to use.
pub fn exec_main(args: &[OsString]) -> i32 {
    let fail = |what: String| {
        eprintln!("wheelwright sandbox: {what}");
        SETUP_FAILED
    };
    let args = match parse_exec_args(args) {
        Ok(args) => args,
        Err(e) => return fail(format!("__sandbox-exec: {e}")),
    };
    if let Some(uid) = args.uid
        && let Err(e) = become_build_user(uid)
    {
        return fail(format!("cannot switch to uid {uid}: {e}"));
    }
    // Set after the uid switch (a credential change clears it): the build dies with us.
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    if let Some(extra) = args.nproc {
        let running = tasks_of(rustix::process::getuid().as_raw());
        let limit = rustix::process::Rlimit {
            current: Some(running + extra),
            maximum: Some(running + extra),
        };
        if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Nproc, limit) {
            return fail(format!("RLIMIT_NPROC: {e}"));
        }
    }
    let landlock = match restrict_filesystem(&args.ro, &args.rw) {
        Ok(status) => status,
        Err(e) => return fail(format!("Landlock: {e}")),
    };
    if let Err(e) = rustix::thread::set_no_new_privs(true) {
        return fail(format!("no_new_privs: {e}"));
    }
    if let Err(e) = install_seccomp() {
        return fail(format!(
            "seccomp filter refused ({e}): network isolation is impossible here"
        ));
    }
    if args.probe {
        return probe_report(&landlock);
    }
    let Some((program, rest)) = args.program.split_first() else {
        return fail("no program to run".into());
    };
    let error = std::process::Command::new(program).args(rest).exec();
    eprintln!(
        "wheelwright sandbox: cannot exec {}: {error}",
        Path::new(program).display()
    );
    127
}

/// From root to `uid`, keeping only CAP_DAC_READ_SEARCH (ambient, so it survives exec): the
/// build must read the interpreter and caches in root's home, which uid 65534 cannot traverse;
/// Landlock still decides which paths it may read, and `open_by_handle_at` (the one way that
/// capability sidesteps paths) is refused by seccomp. `SECBIT_NO_SETUID_FIXUP` (locked) keeps
/// it in force for `access(2)`, which otherwise checks with no capabilities at all: compilers
/// pick their temp dir and tools find programs with it.
fn become_build_user(uid: u32) -> std::io::Result<()> {
    use rustix::process::{Gid, Uid};
    use rustix::thread::{CapabilitiesSecureBits as Bits, CapabilitySet, CapabilitySets};
    rustix::thread::set_capabilities_secure_bits(
        Bits::NO_SETUID_FIXUP | Bits::NO_SETUID_FIXUP_LOCKED | Bits::NO_ROOT | Bits::NO_ROOT_LOCKED,
    )?;
    rustix::thread::set_keep_capabilities(true)?;
    rustix::thread::set_thread_groups(&[])?;
    let gid = Gid::from_raw(uid);
    rustix::thread::set_thread_res_gid(gid, gid, gid)?;
    let id = Uid::from_raw(uid);
    rustix::thread::set_thread_res_uid(id, id, id)?;
    let keep = CapabilitySet::DAC_READ_SEARCH;
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: keep,
            permitted: keep,
            inheritable: keep,
        },
    )?;
    rustix::thread::configure_capability_in_ambient_set(CapabilitySet::DAC_READ_SEARCH, true)?;
    rustix::thread::set_keep_capabilities(false)?;
    Ok(())
}

/// Threads whose real uid is `uid` (RLIMIT_NPROC counts them). A process directory in /proc
/// belongs to the process's effective uid: one `stat` per process skips the others cheaply,
/// and only candidates have their `status` read (real uid and thread count).
fn tasks_of(uid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.as_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        if entry.metadata().map(|m| m.uid()).ok() != Some(uid) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        };
        if field("Uid:") == Some(u64::from(uid)) {
            total += field("Threads:").unwrap_or(1);
        }
    }
    total
}

/// System paths a build reads. Missing ones are skipped (distributions differ).
const SYSTEM_RO: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
];
/// Devices a build opens for reading and writing.
const DEVICES_RW: &[&str] = &["/dev/null", "/dev/zero", "/dev/full"];
const DEVICES_RO: &[&str] = &["/dev/urandom", "/dev/random"];

struct LandlockStatus {
    abi: i64,
    filesystem: bool,
    tcp: bool,
    scopes: bool,
}

fn kernel_abi() -> i64 {
    // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) only returns a
    // number (the ABI) or -1 with errno; it reads no memory.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    };
    v.max(0)
}

fn restrict_filesystem(ro: &[PathBuf], rw: &[PathBuf]) -> Result<LandlockStatus, LandlockError> {
    let abi = kernel_abi();
    if abi == 0 {
        return Ok(LandlockStatus {
            abi,
            filesystem: false,
            tcp: false,
            scopes: false,
        });
    }
    let read = AccessFs::from_read(ABI_WANTED);
    let all = AccessFs::from_all(ABI_WANTED);
    let file_rw = AccessFs::from_file(ABI_WANTED) & !AccessFs::Execute;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)?
        .handle_access(AccessNet::from_all(ABI_WANTED))?
        .scope(Scope::from_all(ABI_WANTED))?
        .create()?;
    let mut rule = |path: &Path, access, required: bool| -> Result<(), LandlockError> {
        match PathFd::new(path) {
            Ok(fd) => {
                ruleset
                    .as_mut()
                    .add_rule(PathBeneath::new(fd, access))
                    .map_err(|source| LandlockError::Rule {
                        path: path.to_path_buf(),
                        source,
                    })?;
                Ok(())
            }
            Err(_) if !required => Ok(()),
            Err(source) => Err(LandlockError::Open {
                path: path.to_path_buf(),
                source,
            }),
        }
    };
    for path in SYSTEM_RO {
        rule(Path::new(path), read, false)?;
    }
    for path in super::ETC_FILES {
        rule(Path::new(path), read, false)?;
    }
    for path in DEVICES_RW {
        rule(Path::new(path), file_rw, false)?;
    }
    for path in DEVICES_RO {
        rule(Path::new(path), AccessFs::ReadFile.into(), false)?;
    }
    for path in ro {
        rule(path, read, true)?;
    }
    for path in rw {
        rule(path, all, true)?;
    }
    let status = ruleset.restrict_self()?;
    let enforced = status.ruleset != RulesetStatus::NotEnforced;
    Ok(LandlockStatus {
        abi,
        filesystem: enforced,
        tcp: enforced && abi >= 4,
        scopes: enforced && abi >= 6,
    })
}

/// Checks that the filters hold (an inet socket is refused, a UNIX one is not), then prints
/// the line [`probe`] parses.
fn probe_report(landlock: &LandlockStatus) -> i32 {
    // SAFETY: socket(2) and close(2) on integers only.
    let inet = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) };
    if inet >= 0 {
        unsafe { libc::close(inet) };
        eprintln!("wheelwright sandbox: seccomp did not refuse an AF_INET socket");
        return SETUP_FAILED;
    }
    let unix = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) };
    if unix < 0 {
        let e = std::io::Error::last_os_error();
        eprintln!("wheelwright sandbox: an AF_UNIX socket was refused: {e}");
        return SETUP_FAILED;
    }
    unsafe { libc::close(unix) };
    println!(
        "sandbox-probe abi={} fs={} tcp={} scopes={}",
        landlock.abi, landlock.filesystem as u8, landlock.tcp as u8, landlock.scopes as u8
    );
    0
}

fn target_arch() -> Result<TargetArch, BackendError> {
    TargetArch::try_from(std::env::consts::ARCH)
}

/// One filter: every syscall in `rules` (any of its rules matching) returns `errno`.
fn errno_filter(
    rules: Vec<(i64, Vec<SeccompRule>)>,
    errno: i32,
) -> Result<BpfProgram, BackendError> {
    let filter = SeccompFilter::new(
        rules.into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        target_arch()?,
    )?;
    BpfProgram::try_from(filter)
}

fn arg_eq(index: u8, value: u64) -> Result<SeccompRule, BackendError> {
    let condition = SeccompCondition::new(index, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, value)?;
    SeccompRule::new(vec![condition])
}

/// arg `index` has every bit of `flag` set.
fn arg_has(index: u8, flag: u64) -> Result<SeccompRule, BackendError> {
    let condition = SeccompCondition::new(
        index,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(flag),
        flag,
    )?;
    SeccompRule::new(vec![condition])
}

/// The x32 ABI shares x86_64's audit arch with syscall numbers offset by this bit; its
/// `socket` must be refused too (kernels that disable x32 refuse it anyway).
#[cfg(target_arch = "x86_64")]
const X32: i64 = 0x4000_0000;

const NAMESPACE_FLAGS: [libc::c_int; 7] = [
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWCGROUP,
];

/// The "no namespaces" rules Docker's default profile has: `unshare`, `setns`, namespace
/// flags to `clone` refused (EPERM); `clone3` (flags in memory, out of BPF's reach) ENOSYS,
/// so libc falls back to `clone`.
fn namespace_filters() -> Result<Vec<BpfProgram>, BackendError> {
    let mut clone_rules = Vec::new();
    for flag in NAMESPACE_FLAGS {
        clone_rules.push(arg_has(0, flag as u64)?);
    }
    let eperm = errno_filter(
        vec![
            (libc::SYS_unshare, vec![]),
            (libc::SYS_setns, vec![]),
            (libc::SYS_clone, clone_rules),
        ],
        libc::EPERM,
    )?;
    let enosys = errno_filter(vec![(libc::SYS_clone3, vec![])], libc::ENOSYS)?;
    Ok(vec![eperm, enosys])
}

fn build_filters() -> Result<Vec<BpfProgram>, BackendError> {
    let mut socket_rules = Vec::new();
    for family in [
        libc::AF_INET,
        libc::AF_INET6,
        libc::AF_PACKET,
        libc::AF_NETLINK,
    ] {
        socket_rules.push(arg_eq(0, family as u64)?);
    }
    #[allow(unused_mut)]
    let mut sockets = vec![(libc::SYS_socket, socket_rules.clone())];
    #[cfg(target_arch = "x86_64")]
    sockets.push((libc::SYS_socket | X32, socket_rules));
    let network = errno_filter(sockets, libc::EACCES)?;
    let process = errno_filter(
        [
            libc::SYS_setsid,
            libc::SYS_setpgid,
            libc::SYS_io_uring_setup,
            libc::SYS_io_uring_enter,
            libc::SYS_io_uring_register,
            libc::SYS_open_by_handle_at,
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_request_key,
            libc::SYS_bpf,
            libc::SYS_perf_event_open,
            libc::SYS_userfaultfd,
        ]
        .into_iter()
        .map(|nr| (nr, vec![]))
        .collect(),
        libc::EPERM,
    )?;
    let mut filters = vec![network, process];
    filters.extend(namespace_filters()?);
    Ok(filters)
}

fn install_seccomp() -> Result<(), SeccompError> {
    for filter in build_filters()? {
        seccompiler::apply_filter(&filter).map_err(SeccompError::Install)?;
    }
    Ok(())
}

/// `wheelwright __test-jail no-namespaces|no-sandbox -- PROGRAM ARGS`: a test helper that runs
/// a program the way a restrictive container would. `no-namespaces` refuses namespaces as
/// Docker's default seccomp profile does (bubblewrap cannot work); `no-sandbox` also refuses
/// installing seccomp filters, so the built-in layer cannot work either.
pub fn jail_main(args: &[OsString]) -> i32 {
    let fail = |what: String| {
        eprintln!("wheelwright test jail: {what}");
        SETUP_FAILED
    };
    let (mode, program) = match args {
        [mode, dashdash, program @ ..] if dashdash == "--" && !program.is_empty() => {
            (mode.to_string_lossy(), program)
        }
        _ => return fail("usage: __test-jail no-namespaces|no-sandbox -- PROGRAM ARGS".into()),
    };
    let mut filters = match namespace_filters() {
        Ok(f) => f,
        Err(e) => return fail(e.to_string()),
    };
    match mode.as_ref() {
        "no-namespaces" => {}
        "no-sandbox" => {
            let rules = arg_eq(0, libc::PR_SET_SECCOMP as u64).map(|r| {
                vec![
                    (libc::SYS_seccomp, vec![]),
                    (libc::SYS_prctl, vec![r]),
                    (libc::SYS_landlock_create_ruleset, vec![]),
                ]
            });
            match rules.and_then(|r| errno_filter(r, libc::EPERM)) {
                Ok(f) => filters.push(f),
                Err(e) => return fail(e.to_string()),
            }
        }
        other => return fail(format!("unknown mode `{other}`")),
    }
    if let Err(e) = rustix::thread::set_no_new_privs(true) {
        return fail(format!("no_new_privs: {e}"));
    }
    for filter in &filters {
        if let Err(e) = seccompiler::apply_filter(filter) {
            return fail(e.to_string());
        }
    }
    let error = std::process::Command::new(&program[0])
        .args(&program[1..])
        .exec();
    fail(format!(
        "cannot exec {}: {error}",
        program[0].to_string_lossy()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_args_round_trip_non_utf8_paths() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(b"/tmp/\xff".to_vec());
        let args: Vec<OsString> = [
            OsString::from("--uid"),
            "65534".into(),
            "--nproc".into(),
            "512".into(),
            "--ro".into(),
            odd.clone(),
            "--rw".into(),
            "/b".into(),
            "--".into(),
            "/usr/bin/python3".into(),
            "--ro".into(),
        ]
        .into();
        let parsed = parse_exec_args(&args).unwrap();
        assert_eq!(parsed.uid, Some(65534));
        assert_eq!(parsed.nproc, Some(512));
        assert_eq!(parsed.ro, vec![PathBuf::from(odd)]);
        assert_eq!(parsed.rw, vec![PathBuf::from("/b")]);
        // Everything after `--` is the program's, even what looks like our flags.
        assert_eq!(
            parsed.program,
            vec![OsString::from("/usr/bin/python3"), "--ro".into()]
        );
        assert_eq!(
            parse_exec_args(&["--uid".into(), "x".into(), "--".into()]),
            Err(ExecArgsError::NotANumber("--uid"))
        );
        assert_eq!(
            parse_exec_args(&["--ro".into()]),
            Err(ExecArgsError::MissingValue("--ro"))
        );
        assert_eq!(
            parse_exec_args(&["/bin/true".into()]),
            Err(ExecArgsError::Unexpected("/bin/true".into()))
        );
        assert_eq!(parse_exec_args(&[]), Err(ExecArgsError::NoProgram));
    }

    #[test]
    fn the_filters_compile_for_this_architecture() {
        let filters = build_filters().unwrap();
        assert_eq!(filters.len(), 4);
        assert!(filters.iter().all(|f| !f.is_empty()));
    }
}
