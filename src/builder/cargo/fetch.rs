//! Fetching the locked crates with the user's own cargo, outside the sandbox.
//!
//! `cargo fetch --locked --manifest-path <the sdist's Cargo.toml>` downloads exactly the
//! packages of the lock (all targets) and changes nothing: with `--locked` a lock that does
//! not match the manifest is an error rather than a rewrite. cargo reads its configuration
//! from `CARGO_HOME` as the user set it up (registry, mirror or source replacement, proxy,
//! TLS, credentials), so no registry address is built into wheelwright.
//!
//! What cargo does with an untrusted manifest here: `cargo fetch` resolves and downloads; it
//! compiles nothing and runs no build script (`build.rs`) nor proc macro. It does read
//! configuration from the working directory's ancestors (`.cargo/config.toml`), which could
//! name a `rustc` wrapper or another source, so it runs in `/`, never inside the sdist or a
//! shared temporary directory. A `rust-toolchain.toml` in the sdist is not seen for the same
//! reason (rustup looks at the working directory). Whatever it downloads is only used after
//! its sha256 matches the lock.
//!
//! Where the bytes are afterwards: cargo keeps downloaded `.crate` files in
//! `$CARGO_HOME/registry/cache/<registry>/NAME-VERSION.crate`; a `local-registry` source
//! (`[source.NAME] local-registry = "DIR"` in the user's `config.toml`) is read in place, so
//! its `DIR/NAME-VERSION.crate` is looked at too. A `directory` source (cargo vendor's) has no
//! `.crate` files to verify and is not supported.

use std::path::{Path, PathBuf};

use super::cache::sha256;
use super::lock::LockedCrate;
use super::{CargoError, ChecksumMismatch};
use crate::index::redact_text;

/// The cargo to run: `$CARGO`, else the first `cargo` on `PATH`, else one in a `--build-path`
/// directory.
pub(super) fn find_cargo(
    host_env: impl Fn(&str) -> Option<std::ffi::OsString>,
    build_path: &[PathBuf],
) -> Option<PathBuf> {
    if let Some(cargo) = host_env("CARGO").map(PathBuf::from)
        && cargo.is_file()
    {
        return Some(cargo);
    }
    let path = host_env("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(build_path.iter().cloned())
        .map(|d| d.join("cargo"))
        .find(|p| p.is_file())
}

/// The user's cargo home: `$CARGO_HOME`, else `~/.cargo`.
pub(super) fn cargo_home(host_env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    host_env("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| host_env("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// Run `cargo fetch --locked` on `manifest`, for at most `timeout` (the build timeout: a
/// stalled registry must not hold the build slot forever).
pub(super) async fn cargo_fetch(
    cargo: &Path,
    manifest: &Path,
    timeout: std::time::Duration,
) -> Result<(), CargoError> {
    let run = tokio::process::Command::new(cargo)
        .args(["fetch", "--locked", "--quiet", "--manifest-path"])
        .arg(manifest)
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| CargoError::FetchTimedOut { timeout })?
        .map_err(|source| CargoError::Spawn {
            cargo: cargo.to_path_buf(),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .rev()
        .take(12)
        .collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(CargoError::FetchFailed {
        status: output.status.to_string(),
        stderr: redact_text(&tail.join("\n")),
    })
}

/// Where a fetched crate's bytes may be: cargo's download cache of every registry, and the
/// `local-registry` directories of the user's configuration.
pub(super) fn candidate_dirs(cargo_home: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(entries) = std::fs::read_dir(cargo_home.join("registry").join("cache")) {
        let mut found: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        found.sort();
        dirs.extend(found);
    }
    for name in ["config.toml", "config"] {
        let Ok(text) = std::fs::read_to_string(cargo_home.join(name)) else {
            continue;
        };
        let Ok(table) = toml::from_str::<toml::Table>(&text) else {
            continue;
        };
        let sources = table.get("source").and_then(|s| s.as_table());
        for source in sources.into_iter().flat_map(|s| s.values()) {
            if let Some(dir) = source.get("local-registry").and_then(|d| d.as_str()) {
                // cargo resolves a relative config path against the directory holding the
                // config's directory.
                let dir = Path::new(dir);
                dirs.push(if dir.is_absolute() {
                    dir.to_path_buf()
                } else {
                    cargo_home.parent().unwrap_or(cargo_home).join(dir)
                });
            }
        }
    }
    dirs
}

/// The first `NAME-VERSION.crate` in `dirs` whose bytes match the lock; a file that exists but
/// does not match is reported when no other does.
pub(super) fn find_fetched(krate: &LockedCrate, dirs: &[PathBuf]) -> Result<PathBuf, CargoError> {
    let file = format!("{}.crate", krate.dir_name());
    let mut wrong = None;
    for dir in dirs {
        let path = dir.join(&file);
        if !path.is_file() {
            continue;
        }
        match sha256(&path) {
            Ok(sum) if sum == krate.checksum => return Ok(path),
            Ok(sum) => wrong = wrong.or(Some((path, sum))),
            Err(_) => continue,
        }
    }
    match wrong {
        Some((path, actual)) => Err(CargoError::ChecksumMismatch(Box::new(ChecksumMismatch {
            name: krate.name.clone(),
            version: krate.version.clone(),
            expected: krate.checksum,
            actual,
            path,
        }))),
        None => Err(CargoError::NotFetched {
            name: krate.name.clone(),
            version: krate.version.clone(),
        }),
    }
}
