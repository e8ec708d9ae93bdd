//! Probing a target interpreter once: its PEP 508 marker environment and the compatibility
//! tags it accepts, in `packaging.tags.sys_tags()` order.
//!
//! The probe is a stdlib-only script (`interpreter/probe.py`) run as `python -I -c`; `-I`
//! keeps `PYTHONPATH`, the user site and the working directory out, and the environment is
//! cleared except `PATH` and `LANG`. `site` still runs so a virtualenv reports its own
//! prefix, and so `.pth` noise cannot break us the JSON is read from the last stdout line.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use pep508_rs::MarkerEnvironment;
use serde::Deserialize;

use crate::distribution::TagSet;

const PROBE: &str = include_str!("interpreter/probe.py");
const TIMEOUT: Duration = Duration::from_secs(30);
/// How much of stderr to show when the probe fails.
const STDERR_TAIL: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum InterpreterError {
    #[error("Python interpreter `{}` not found", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot run Python interpreter `{}`: {source}", path.display())]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("probing Python interpreter `{}` did not finish within {} s", path.display(), TIMEOUT.as_secs())]
    Timeout { path: PathBuf },
    #[error("probing Python interpreter `{}` failed ({status}):\n{stderr}", path.display())]
    Failed {
        path: PathBuf,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("Python interpreter `{}` printed an invalid probe result: {message}", path.display())]
    BadOutput { path: PathBuf, message: String },
}

/// A probed interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The path (or command name) we were given.
    pub requested: PathBuf,
    /// `sys.executable`.
    pub executable: PathBuf,
    pub markers: MarkerEnvironment,
    pub tags: TagSet,
    /// Short name for reports: the interpreter tag (`cp311`, `pp310`), or the full ABI tag
    /// when the build has ABI flags (`cp313t` free-threaded, `cp311d` debug).
    pub label: String,
    pub python_version: (u8, u8),
    pub sys_prefix: PathBuf,
    pub base_prefix: PathBuf,
}

/// The probe's JSON; `markers` is kept raw so a bad field gets a precise message.
#[derive(Deserialize)]
struct ProbeOutput {
    markers: serde_json::Value,
    sys_executable: PathBuf,
    sys_prefix: PathBuf,
    base_prefix: PathBuf,
    version_info: (u8, u8, u32, String, u32),
    interpreter_tag: String,
    tags: Vec<String>,
}

/// Runs the probe in `python` (a path, or a command looked up on `PATH`).
pub async fn probe(python: &Path) -> Result<Interpreter, InterpreterError> {
    probe_with_output(python)
        .await
        .map(|(interpreter, _)| interpreter)
}

/// The probe, and the JSON line it printed (what [`probe_cached`] stores).
async fn probe_with_output(python: &Path) -> Result<(Interpreter, String), InterpreterError> {
    let mut command = tokio::process::Command::new(python);
    command
        .args(["-I", "-c", PROBE])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for key in ["PATH", "LANG"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    let path = python.to_path_buf();
    let child = command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => InterpreterError::NotFound { path: path.clone() },
        _ => InterpreterError::Spawn {
            path: path.clone(),
            source,
        },
    })?;
    // On timeout the future is dropped, and with it the child (kill_on_drop).
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| InterpreterError::Timeout { path: path.clone() })?
        .map_err(|source| InterpreterError::Spawn {
            path: path.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(InterpreterError::Failed {
            path,
            status: output.status,
            stderr: tail(&String::from_utf8_lossy(&output.stderr), STDERR_TAIL),
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let interpreter = parse_output(&path, &stdout)?;
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    Ok((interpreter, last))
}

/// Like [`probe`], but remembers the answer in `cache_dir/interpreters/`, keyed by the path
/// asked for, the executable's identity (resolved path, size, modification time) and the
/// probe script itself. Probing costs a Python start-up (~0.1 s); a nightly no-op should not
/// pay it again for an interpreter that did not change.
pub async fn probe_cached(
    python: &Path,
    cache_dir: &Path,
) -> Result<Interpreter, InterpreterError> {
    let Some(key) = cache_key(python) else {
        return probe(python).await;
    };
    let file = cache_dir.join("interpreters").join(format!("{key}.json"));
    if let Ok(cached) = std::fs::read_to_string(&file)
        && let Ok(interpreter) = parse_output(python, &cached)
    {
        return Ok(interpreter);
    }
    let (interpreter, line) = probe_with_output(python).await?;
    // A cache that cannot be written only costs the next run a probe.
    let _ = std::fs::create_dir_all(file.parent().expect("cache file has a parent"));
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, line).is_ok() {
        let _ = std::fs::rename(&tmp, &file);
    }
    Ok(interpreter)
}

fn cache_key(python: &Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let resolved = if python.components().count() > 1 {
        python.to_path_buf()
    } else {
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(python))
            .find(|candidate| candidate.is_file())?
    };
    let real = std::fs::canonicalize(&resolved).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let mut hasher = Sha256::new();
    hasher.update(
        std::path::absolute(&resolved)
            .ok()?
            .as_os_str()
            .as_encoded_bytes(),
    );
    hasher.update(real.as_os_str().as_encoded_bytes());
    hasher.update(format!(
        "{}:{}:{}:{}",
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ino()
    ));
    hasher.update(PROBE.as_bytes());
    Some(hex::encode(hasher.finalize()))
}

fn parse_output(path: &Path, stdout: &str) -> Result<Interpreter, InterpreterError> {
    let bad = |message: String| InterpreterError::BadOutput {
        path: path.to_path_buf(),
        message,
    };
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let out: ProbeOutput =
        serde_json::from_str(last).map_err(|err| bad(format!("{err} in `{}`", tail(last, 200))))?;
    let markers = markers(out.markers).map_err(|err| bad(format!("markers: {err}")))?;
    let tags = TagSet::from_strings(&out.tags).map_err(|err| bad(err.to_string()))?;
    if tags.is_empty() {
        return Err(bad("no compatibility tags".to_string()));
    }
    let first_abi = &tags.tags()[0].abi;
    let label = if first_abi.starts_with(&out.interpreter_tag) {
        first_abi.clone()
    } else {
        out.interpreter_tag
    };
    Ok(Interpreter {
        requested: path.to_path_buf(),
        executable: out.sys_executable,
        markers,
        tags,
        label,
        python_version: (out.version_info.0, out.version_info.1),
        sys_prefix: out.sys_prefix,
        base_prefix: out.base_prefix,
    })
}

/// `MarkerEnvironment` deserialises from exactly the probe's field names. Development builds
/// report `python_full_version` like `3.14.0a1+`, which is not PEP 440; drop the `+` as uv does.
fn markers(mut value: serde_json::Value) -> Result<MarkerEnvironment, serde_json::Error> {
    if let Some(full) = value.get_mut("python_full_version")
        && let Some(stripped) = full.as_str().and_then(|s| s.strip_suffix('+'))
    {
        *full = serde_json::Value::String(stripped.to_string());
    }
    serde_json::from_value(value)
}

fn tail(text: &str, max: usize) -> String {
    let text = text.trim_end();
    match text.char_indices().rev().nth(max) {
        Some((cut, _)) => format!("…{}", &text[cut..]),
        None => text.to_string(),
    }
}

/// A CPython 3.`minor` on x86_64 Linux with its tags, for unit tests that need no real
/// interpreter.
#[cfg(test)]
pub(crate) fn test_cpython(minor: u8) -> Interpreter {
    let platforms = [
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
        "linux_x86_64",
    ];
    let own = format!("cp3{minor}");
    let mut tags = Vec::new();
    for abi in [own.as_str(), "abi3", "none"] {
        tags.extend(platforms.iter().map(|p| format!("{own}-{abi}-{p}")));
    }
    for older in (2..minor).rev() {
        tags.extend(platforms.iter().map(|p| format!("cp3{older}-abi3-{p}")));
    }
    let pure: Vec<String> = [format!("py3{minor}"), "py3".into()]
        .into_iter()
        .chain((0..minor).rev().map(|m| format!("py3{m}")))
        .collect();
    for python in &pure {
        tags.extend(platforms.iter().map(|p| format!("{python}-none-{p}")));
    }
    tags.push(format!("{own}-none-any"));
    tags.extend(pure.iter().map(|python| format!("{python}-none-any")));
    let markers: MarkerEnvironment = serde_json::from_value(serde_json::json!({
        "implementation_name": "cpython",
        "implementation_version": format!("3.{minor}.1"),
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "6.1.0",
        "platform_system": "Linux",
        "platform_version": "#1 SMP",
        "python_full_version": format!("3.{minor}.1"),
        "python_version": format!("3.{minor}"),
        "sys_platform": "linux",
    }))
    .unwrap();
    Interpreter {
        requested: format!("python3.{minor}").into(),
        executable: format!("/usr/bin/python3.{minor}").into(),
        markers,
        tags: TagSet::from_strings(&tags).unwrap(),
        label: own,
        python_version: (3, minor),
        sys_prefix: "/usr".into(),
        base_prefix: "/usr".into(),
    }
}

/// A job's interpreter for unit tests, by label (`cp311`; the minor version from it).
#[cfg(test)]
pub(crate) fn test_labelled(label: &str) -> std::sync::Arc<Interpreter> {
    let minor = label
        .strip_prefix("cp3")
        .and_then(|m| {
            m.trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .unwrap_or(11);
    let mut interpreter = test_cpython(minor);
    interpreter.label = label.to_string();
    std::sync::Arc::new(interpreter)
}

#[cfg(test)]
mod tests;
