//! Calling one PEP 517 hook through the embedded shim (`shim.py`), inside the sandbox.
//!
//! The protocol is pyproject_hooks' `_in_process.py`, reduced to what a wheel build needs:
//! `python -S -s shim.py <hook> <control_dir>` reads `control_dir/input.json`
//! (`{backend, backend_path, site_dirs, kwargs, nproc}`) and writes `control_dir/output.json`
//! (`{return_val} | {hook_missing} | {unsupported, traceback} | {traceback}` plus timings).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::log::LogSummary;
use super::sandbox::{Sandbox, SandboxCommand, SandboxError, Termination};

pub(super) const SHIM: &str = include_str!("shim.py");

/// One `config_settings` value (PEP 517: a string, or a list of strings for a repeated key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Str(String),
    List(Vec<String>),
}

pub type ConfigSettings = BTreeMap<String, ConfigValue>;

/// `-C KEY=VAL` options in order; a repeated key becomes a list (pip and build do this).
pub fn config_settings<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ConfigSettings {
    let mut out = ConfigSettings::new();
    for (key, value) in pairs {
        let value = value.to_string();
        match out.remove(key) {
            None => out.insert(key.to_string(), ConfigValue::Str(value)),
            Some(ConfigValue::Str(first)) => {
                out.insert(key.to_string(), ConfigValue::List(vec![first, value]))
            }
            Some(ConfigValue::List(mut all)) => {
                all.push(value);
                out.insert(key.to_string(), ConfigValue::List(all))
            }
        };
    }
    out
}

/// Everything a hook call needs besides the hook's own arguments.
#[derive(Debug, Clone)]
pub(super) struct HookContext {
    /// The build environment's python (`<env>/bin/python`).
    pub python: PathBuf,
    /// The unpacked source tree (cwd of the hook).
    pub source_dir: PathBuf,
    /// Where `shim.py`, `input.json` and `output.json` live (inside the writable build dir).
    pub control_dir: PathBuf,
    pub backend: String,
    /// Absolute backend-path entries.
    pub backend_path: Vec<PathBuf>,
    pub site_dirs: Vec<PathBuf>,
    pub env: Vec<(String, String)>,
    pub ro_paths: Vec<PathBuf>,
    pub rw_paths: Vec<PathBuf>,
    /// `(host, inside)`: the source tree's fixed mount point (bubblewrap only).
    pub source_mount: Option<(PathBuf, PathBuf)>,
    /// The directory the disk watchdog measures.
    pub watch_dir: PathBuf,
}

/// What a hook returned.
#[derive(Debug, Clone)]
pub(super) struct HookResult {
    /// `None` when the backend does not define the hook.
    pub value: Option<serde_json::Value>,
    pub log: LogSummary,
    /// Time and CPU inside the hook itself, as the shim measured them.
    pub hook_wall: Duration,
    pub hook_cpu: Duration,
    /// Wall time of the whole sandboxed process.
    pub process_wall: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("cannot prepare hook call: {0}")]
    Setup(#[from] std::io::Error),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The process ended without a usable answer (killed, crashed, traceback).
    #[error("hook `{hook}` failed ({})", describe(termination))]
    Failed {
        hook: String,
        termination: Termination,
        traceback: Option<String>,
        log: LogSummary,
    },
    #[error("hook `{hook}` wrote an unreadable output.json: {message}")]
    BadOutput {
        hook: String,
        message: String,
        log: LogSummary,
    },
}

pub(crate) fn describe(t: &Termination) -> String {
    match t {
        Termination::Exited(code) => format!("exit status {code}"),
        Termination::Signaled(sig) => format!("killed by signal {sig}"),
        Termination::TimedOut => "wall-clock timeout".into(),
        Termination::DiskQuota(size) => format!("disk cap exceeded at {size} bytes"),
    }
}

#[derive(Serialize)]
struct Input<'a> {
    backend: &'a str,
    backend_path: &'a [PathBuf],
    site_dirs: &'a [PathBuf],
    kwargs: serde_json::Value,
    nproc: Option<u64>,
}

#[derive(Deserialize)]
struct Output {
    return_val: Option<serde_json::Value>,
    #[serde(default)]
    hook_missing: bool,
    traceback: Option<String>,
    #[serde(default)]
    wall: f64,
    #[serde(default)]
    cpu: f64,
}

/// Run `hook(**kwargs)` in the sandbox; `log_path` receives its output.
pub(super) async fn call_hook(
    sandbox: &Sandbox,
    ctx: &HookContext,
    hook: &str,
    kwargs: serde_json::Value,
    log_path: &Path,
) -> Result<HookResult, HookError> {
    // The previous hook ran with write access to the build dir and may have left symlinks in
    // the control dir: start from a fresh directory and create files exclusively, so nothing we
    // write (possibly as root) follows a link planted by the build.
    match std::fs::remove_dir_all(&ctx.control_dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    std::fs::create_dir(&ctx.control_dir)?;
    let shim = ctx.control_dir.join("shim.py");
    write_new(&shim, SHIM.as_bytes())?;
    let output_path = ctx.control_dir.join("output.json");
    let input = Input {
        backend: &ctx.backend,
        backend_path: &ctx.backend_path,
        site_dirs: &ctx.site_dirs,
        kwargs,
        nproc: sandbox.nproc_limit(),
    };
    write_new(
        &ctx.control_dir.join("input.json"),
        &serde_json::to_vec(&input).map_err(std::io::Error::other)?,
    )?;
    let command = SandboxCommand {
        program: ctx.python.clone(),
        // -S: no site, so the base interpreter's site-packages stay invisible; the shim adds
        // the build environment's site dir itself. -s: no user site.
        args: vec![
            "-S".into(),
            "-s".into(),
            shim.into_os_string(),
            hook.into(),
            ctx.control_dir.clone().into_os_string(),
        ],
        cwd: ctx.source_dir.clone(),
        env: ctx.env.clone(),
        ro_paths: ctx.ro_paths.clone(),
        rw_paths: ctx.rw_paths.clone(),
        source_mount: ctx.source_mount.clone(),
        watch_dir: ctx.watch_dir.clone(),
        log_path: log_path.to_path_buf(),
    };
    let outcome = sandbox.run(&command).await?;
    let output: Option<Output> = read_regular(&output_path)
        .map(|bytes| serde_json::from_slice(&bytes))
        .transpose()
        .map_err(|e| HookError::BadOutput {
            hook: hook.to_string(),
            message: e.to_string(),
            log: outcome.log.clone(),
        })?;
    let failed = |traceback| HookError::Failed {
        hook: hook.to_string(),
        termination: outcome.termination.clone(),
        traceback,
        log: outcome.log.clone(),
    };
    if outcome.termination != Termination::Exited(0) {
        return Err(failed(output.and_then(|o| o.traceback)));
    }
    let Some(output) = output else {
        return Err(failed(None));
    };
    if output.traceback.is_some() {
        return Err(failed(output.traceback));
    }
    if !output.hook_missing && output.return_val.is_none() {
        return Err(HookError::BadOutput {
            hook: hook.to_string(),
            message: "neither return_val nor hook_missing".into(),
            log: outcome.log,
        });
    }
    Ok(HookResult {
        value: if output.hook_missing {
            None
        } else {
            output.return_val
        },
        log: outcome.log,
        hook_wall: Duration::from_secs_f64(output.wall.max(0.0)),
        hook_cpu: Duration::from_secs_f64(output.cpu.max(0.0)),
        process_wall: outcome.duration,
    })
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    // O_CREAT|O_EXCL never follows a symlink.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)
}

/// Read a file the build wrote, refusing symlinks (`O_NOFOLLOW`) and anything but a regular file.
fn read_regular(path: &Path) -> Option<Vec<u8>> {
    // output.json is small; a huge one is not an answer.
    read_regular_limited(path, 16 << 20)
}

/// [`read_regular`] with a size cap of the caller's: a file longer than `limit` is `None`.
pub(super) fn read_regular_limited(path: &Path, limit: u64) -> Option<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    use std::io::Read;
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut file = std::fs::File::from(fd);
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= limit).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_become_lists() {
        let cs = config_settings([("a", "1"), ("b", "x"), ("a", "2"), ("a", "3")]);
        assert_eq!(
            serde_json::to_string(&cs).unwrap(),
            r#"{"a":["1","2","3"],"b":"x"}"#
        );
    }
}
