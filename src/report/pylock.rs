//! `--lock pylock.toml` (or `pylock.NAME.toml`): the runtime set the target serves as a PEP 751
//! lock file, which pip (26, `pip install -r pylock.toml`) and uv (`uv pip install -r`,
//! `uv pip sync`) install, and `packaging.pylock` validates.
//!
//! The jobs are grouped as for the hash lock (lock.rs: one version per project and
//! interpreter, a marker where interpreters differ). Each package names its files on the
//! target: the URL the target lists (or, for a directory target, the path relative to the
//! lock file, so the pair can move together), with PEP 700's size and upload time where the
//! target gives them. `environments` lists the interpreters the lock was made for, so an
//! installer on any other refuses it instead of installing part of it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Component, Path};

use crate::distribution::{SafeFilename, Sha256};
use crate::timestamp::Timestamp;

use super::lock::{
    Grouped, HashLockError, Lock, LockInterpreter, LockJob, comment_text, group, marker,
};

/// PEP 751's file names: `pylock.toml`, or `pylock.NAME.toml` with a NAME without dots.
pub(crate) fn is_pylock_name(name: &str) -> bool {
    name == "pylock.toml"
        || name
            .strip_prefix("pylock.")
            .and_then(|rest| rest.strip_suffix(".toml"))
            .is_some_and(|middle| !middle.is_empty() && !middle.contains('.'))
}

/// Where an installer gets a locked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// The URL the target lists (no credentials).
    Url(String),
    /// A path relative to the lock file's directory (PEP 751 `path`).
    Path(String),
}

/// A file the target serves, as the lock names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockedFile {
    pub filename: SafeFilename,
    pub location: Location,
    pub size: Option<u64>,
    pub upload_time: Option<Timestamp>,
}

/// What the lock says about where its packages come from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    /// PEP 751 `packages.index`: the target's simple index URL (none for a directory).
    pub index: Option<String>,
    /// The target's files, by sha256.
    pub files: BTreeMap<Sha256, LockedFile>,
}

/// The PEP 751 text. A job whose file the target does not list (yet) is left out and named
/// in `missing`, as a job without a hash is.
pub(crate) fn render(
    interpreters: &[LockInterpreter],
    jobs: &[LockJob],
    origin: &Origin,
) -> Result<Lock, HashLockError> {
    let Grouped {
        groups,
        mut missing,
        after_fill,
    } = group(interpreters, jobs)?;
    let mut text = String::from(
        "# PEP 751 lock file written by wheelwright: the files the target serves.\n\
         # Install with: pip install -r THIS_FILE, or uv pip install -r THIS_FILE\n",
    );
    text.push_str("lock-version = \"1.0\"\n");
    let environments: BTreeSet<String> = interpreters
        .iter()
        .map(LockInterpreter::full_clause)
        .collect::<Result<_, _>>()?;
    let environments: Vec<String> = environments.iter().map(|m| string(m)).collect();
    writeln!(text, "environments = [{}]", environments.join(", ")).expect("a String takes text");
    if let Some((major, minor)) = interpreters.iter().map(|i| i.python_version).min() {
        writeln!(text, "requires-python = \">={major}.{minor}\"").expect("a String takes text");
    }
    text.push_str("created-by = \"wheelwright\"\n");
    let mut packages = 0;
    for ((project, version), by_interpreter) in &groups {
        let mut files = Vec::new();
        for sha in Grouped::hashes(by_interpreter) {
            match origin.files.get(sha) {
                Some(file) => files.push((sha, file)),
                None => missing.push(format!(
                    "{project}=={version}: the target lists no file with sha256 {sha}"
                )),
            }
        }
        if files.is_empty() {
            continue;
        }
        files.sort_by(|a, b| a.1.filename.cmp(&b.1.filename));
        packages += 1;
        text.push_str("\n[[packages]]\n");
        writeln!(text, "name = {}", string(project.as_ref())).expect("a String takes text");
        writeln!(text, "version = {}", string(&version.to_string())).expect("a String takes text");
        if let Some(marker) = marker(project, version, interpreters, by_interpreter)? {
            writeln!(text, "marker = {}", string(&marker)).expect("a String takes text");
        }
        if let Some(index) = &origin.index {
            writeln!(text, "index = {}", string(index)).expect("a String takes text");
        }
        for (sha, file) in files {
            text.push_str(&wheel_table(sha, file));
        }
    }
    if packages == 0 {
        // PEP 751 requires the key; a lock of nothing says so.
        text.push_str("packages = []\n");
    }
    Ok(Lock {
        text,
        missing: missing.iter().map(|m| comment_text(m)).collect(),
        after_fill,
    })
}

/// `[[packages.wheels]]` in the key order PEP 751 gives. wheelwright locks wheels only: the
/// target holds no sdists of its own making.
fn wheel_table(sha: &Sha256, file: &LockedFile) -> String {
    let mut table = String::from("\n[[packages.wheels]]\n");
    let mut line = |key: &str, value: String| {
        writeln!(table, "{key} = {value}").expect("a String takes text");
    };
    line("name", string(file.filename.as_str()));
    if let Some(time) = file.upload_time {
        // A TOML offset date-time, written bare (PEP 751: a datetime, UTC).
        line("upload-time", time.to_string());
    }
    match &file.location {
        Location::Url(url) => line("url", string(url)),
        Location::Path(path) => line("path", string(path)),
    }
    if let Some(size) = file.size {
        line("size", size.to_string());
    }
    line("hashes", format!("{{sha256 = {}}}", string(sha.as_str())));
    table
}

/// `to` relative to the directory `from` (both absolute, neither with `..`): what PEP 751's
/// `path` holds, read relative to the lock file's directory.
pub(crate) fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// A TOML basic string, escaped by the TOML writer.
fn string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests;
