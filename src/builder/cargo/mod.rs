//! Rust extensions built offline: the crates an sdist's `Cargo.lock` pins are fetched before
//! the build (outside the sandbox, with the user's own cargo), verified against the lock's
//! checksums, kept in a content-addressed crate cache, and handed to the sandboxed build as a
//! vendored directory source with the network off.
//!
//! 1. [`locate`]: the sdist's `Cargo.toml` (maturin's `manifest-path`, setuptools-rust's
//!    `path`, the root, `rust/`, `src/`, `native/`) and its `Cargo.lock` (there or in a
//!    workspace root above). A manifest without a lock cannot be built offline: cargo would
//!    have to resolve versions against a registry.
//! 2. [`lock`]: the registry crates, with their checksums (git sources and unchecked entries
//!    are refused).
//! 3. [`cache`]: `<cache>/crates/<sha256>.crate`. When every crate is there, cargo is not run
//!    at all; otherwise [`fetch`] runs `cargo fetch --locked` and copies what it downloaded
//!    into the cache, each file checked against the lock first.
//! 4. [`vendor`]: the crates unpacked into the build dir, and a `CARGO_HOME/config.toml`
//!    replacing the registry with them, offline.
//!
//! Only cargo's default registry is replaced; a lock that names several registries is refused
//! before anything is fetched, since one vendored directory cannot stand for both.

mod cache;
mod fetch;
mod locate;
mod lock;
mod vendor;

use std::path::{Path, PathBuf};

pub use lock::{CargoLockError, CrateChecksum, EntryProblem, LockedCrate, parse_lock};

use super::{UnpackError, UnpackLimits};

/// The crates of a Rust build, ready in the build dir.
#[derive(Debug, Clone)]
pub struct VendoredCrates {
    /// Every registry crate of the lock(s), sorted.
    pub crates: Vec<LockedCrate>,
    /// How many had to be fetched with cargo (the rest came from the crate cache).
    pub fetched: usize,
    /// `<build dir>/cargo-vendor`.
    pub vendor_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum CargoError {
    #[error(
        "offline builds need a Cargo.lock: {sdist} has {manifest} but no Cargo.lock beside it \
         or above it, so its crates cannot be pinned and fetched before the build"
    )]
    NoLock { sdist: String, manifest: String },
    #[error("{sdist}: {lock}: {source}")]
    Lock {
        sdist: String,
        lock: String,
        source: Box<CargoLockError>,
    },
    #[error("{sdist}: {lock}: cannot read: {source}")]
    ReadLock {
        sdist: String,
        lock: String,
        source: std::io::Error,
    },
    #[error(
        "{sdist}: the lock names crates from {} registries ({}); offline builds vendor crates of \
         one registry", sources.len(), sources.join(", ")
    )]
    SeveralRegistries { sdist: String, sources: Vec<String> },
    #[error(
        "no cargo to fetch the {missing} crates not in the crate cache: put cargo on PATH, set \
         CARGO, or give its directory with --build-path"
    )]
    NoCargo { missing: usize },
    #[error("cannot start {}: {source}", cargo.display())]
    Spawn {
        cargo: PathBuf,
        source: std::io::Error,
    },
    #[error("cargo fetch --locked did not finish within {timeout:?}")]
    FetchTimedOut { timeout: std::time::Duration },
    #[error("cargo fetch --locked failed ({status}):\n{stderr}")]
    FetchFailed { status: String, stderr: String },
    #[error(
        "crate {name} {version}: cargo fetched it, but its .crate file is neither in cargo's \
         download cache nor in a local-registry of the cargo configuration"
    )]
    NotFetched { name: String, version: String },
    #[error(transparent)]
    ChecksumMismatch(Box<ChecksumMismatch>),
    #[error("crate {name} {version}: {source}")]
    Unpack {
        name: String,
        version: String,
        source: Box<UnpackError>,
    },
    #[error("crate {name} {version}: the archive's top-level directory is not `{name}-{version}`")]
    CrateLayout { name: String, version: String },
    #[error("crate {name} {version} is pinned twice (from two registries)")]
    DuplicateCrate { name: String, version: String },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A `.crate` whose bytes are not the ones the lock pins.
#[derive(Debug, thiserror::Error)]
#[error(
    "crate {name} {version}: {} has sha256 {actual}, but Cargo.lock pins {expected}; nothing is \
     built from it",
    path.display()
)]
pub struct ChecksumMismatch {
    pub name: String,
    pub version: String,
    pub expected: CrateChecksum,
    pub actual: CrateChecksum,
    pub path: PathBuf,
}

impl CargoError {
    /// The sdist itself is at fault (a rebuild fails the same way), not the machine.
    pub fn is_sdist_fault(&self) -> bool {
        matches!(
            self,
            Self::NoLock { .. }
                | Self::Lock { .. }
                | Self::SeveralRegistries { .. }
                | Self::CrateLayout { .. }
                | Self::DuplicateCrate { .. }
        )
    }
}

/// What [`prepare`] needs from the builder.
pub(super) struct PrepareOptions<'a> {
    /// The sdist's file name, for messages.
    pub sdist: &'a str,
    pub cache_dir: &'a Path,
    /// The build dir: `cargo-vendor/` and `cargo-home/config.toml` are written there.
    pub build_dir: &'a Path,
    /// `--build-path` directories, where cargo is looked for last.
    pub build_path: &'a [PathBuf],
    pub unpack: UnpackLimits,
    /// Longest a `cargo fetch` may run.
    pub fetch_timeout: std::time::Duration,
}

/// Find, fetch, verify and vendor the crates of the sdist unpacked at `root`; `None` when the
/// sdist has no Rust manifest in a place a back end would look.
pub(super) async fn prepare(
    root: &Path,
    options: &PrepareOptions<'_>,
) -> Result<Option<VendoredCrates>, CargoError> {
    let manifests = locate::find_manifests(root);
    if manifests.is_empty() {
        return Ok(None);
    }
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut locks: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut crates = Vec::new();
    for found in &manifests {
        let Some(lock) = &found.lock else {
            return Err(CargoError::NoLock {
                sdist: options.sdist.to_string(),
                manifest: found.relative.clone(),
            });
        };
        if locks.iter().any(|(l, _)| l == lock) {
            continue;
        }
        let shown = lock
            .strip_prefix(&real_root)
            .unwrap_or(lock)
            .display()
            .to_string();
        let text = std::fs::read_to_string(lock).map_err(|source| CargoError::ReadLock {
            sdist: options.sdist.to_string(),
            lock: shown.clone(),
            source,
        })?;
        crates.extend(parse_lock(&text).map_err(|source| CargoError::Lock {
            sdist: options.sdist.to_string(),
            lock: shown,
            source: Box::new(source),
        })?);
        locks.push((lock.clone(), found.manifest.clone()));
    }
    crates.sort();
    crates.dedup();
    let mut sources: Vec<String> = crates.iter().map(|c| c.source.clone()).collect();
    sources.sort();
    sources.dedup();
    if sources.len() > 1 {
        return Err(CargoError::SeveralRegistries {
            sdist: options.sdist.to_string(),
            sources,
        });
    }
    let cache = cache::CrateCache::new(options.cache_dir);
    let mut ready = Vec::with_capacity(crates.len());
    let mut missing = Vec::new();
    for krate in &crates {
        match cache.get(krate)? {
            Some(path) => ready.push((krate.clone(), path)),
            None => missing.push(krate.clone()),
        }
    }
    let fetched = missing.len();
    if !missing.is_empty() {
        let host_env = |k: &str| std::env::var_os(k);
        let cargo = fetch::find_cargo(host_env, options.build_path).ok_or(CargoError::NoCargo {
            missing: missing.len(),
        })?;
        for (_, manifest) in &locks {
            fetch::cargo_fetch(&cargo, manifest, options.fetch_timeout).await?;
        }
        let dirs = fetch::cargo_home(host_env)
            .map(|home| fetch::candidate_dirs(&home))
            .unwrap_or_default();
        for krate in missing {
            let file = fetch::find_fetched(&krate, &dirs)?;
            let cached = cache.insert(&krate, &file)?;
            ready.push((krate, cached));
        }
        ready.sort();
    }
    let vendor_dir = options.build_dir.join("cargo-vendor");
    vendor::vendor(&ready, &vendor_dir, options.unpack)?;
    let config = options.build_dir.join("cargo-home").join("config.toml");
    std::fs::write(&config, vendor::config_toml(&vendor_dir)).map_err(|source| CargoError::Io {
        what: "write",
        path: config,
        source,
    })?;
    Ok(Some(VendoredCrates {
        crates,
        fetched,
        vendor_dir,
    }))
}

#[cfg(test)]
mod tests;
