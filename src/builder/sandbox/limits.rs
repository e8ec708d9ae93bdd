//! What applies under every layer: rlimits, the process-group kill, the disk watchdog.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::process::{Pid, Resource, Rlimit, Signal};

use super::super::log::LogLimits;
use super::Termination;

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
    /// `RLIMIT_NPROC`: processes the build may add (bwrap: inside its own user namespace, set
    /// from inside, see [`super::Sandbox::nproc_limit`]; built-in: on top of what the build uid
    /// already runs).
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

impl SandboxLimits {
    /// The per-process rlimits set between fork and exec.
    pub(super) fn rlimits(&self) -> [(Resource, u64); 5] {
        [
            (Resource::As, self.address_space),
            (Resource::Cpu, self.cpu_seconds),
            (Resource::Fsize, self.file_size),
            (Resource::Core, 0),
            (Resource::Nofile, self.open_files),
        ]
    }
}

/// Only async-signal-safe work (setrlimit): called between fork and exec.
pub(super) fn apply_rlimits(rlimits: &[(Resource, u64)]) -> std::io::Result<()> {
    for &(resource, value) in rlimits {
        let limit = Rlimit {
            current: Some(value),
            maximum: Some(value),
        };
        rustix::process::setrlimit(resource, limit)?;
    }
    Ok(())
}

pub(super) fn status_to_termination(
    status: std::io::Result<std::process::ExitStatus>,
) -> Termination {
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => Termination::Exited(code),
            (None, Some(sig)) => Termination::Signaled(sig),
            (None, None) => Termination::Exited(-1),
        },
        Err(_) => Termination::Exited(-1),
    }
}

pub(super) fn kill_group(pgid: Option<Pid>, signal: Signal) {
    if let Some(pgid) = pgid {
        let _ = rustix::process::kill_process_group(pgid, signal);
    }
}

/// Kills the whole process group if `run` is dropped (Ctrl-C, a cancelled future):
/// `kill_on_drop` alone reaches only the direct child.
pub(super) struct GroupGuard(pub(super) Option<Pid>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0, Signal::KILL);
    }
}

/// Resolves with the measured size once `dir` holds more than `cap` bytes; never otherwise.
pub(super) async fn disk_watchdog(dir: PathBuf, cap: u64, poll: Duration) -> u64 {
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

pub(super) fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Hand a tree to the build uid (lchown: links are not followed).
pub(super) fn chown_tree(root: &Path, uid: u32) -> std::io::Result<()> {
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
