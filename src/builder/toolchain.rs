//! `--build-path DIR`: toolchains outside `/usr` (a Rust toolchain under rustup, a compiler in
//! `/opt`), made visible read-only inside the sandbox and put on the build's `PATH`.
//!
//! Only the named directories are bound, never their parents: `--build-path ~/.cargo/bin`
//! shows the rustup proxies and nothing else of `~/.cargo` (where `credentials.toml` lives). A
//! directory that itself holds a credential file, or that contains the home directory, is
//! refused.
//!
//! rustup: when a build path holds the `rustup` proxy binary, the rustup home (`RUSTUP_HOME`,
//! else `~/.rustup`) is bound read-only and `RUSTUP_HOME` names it; `RUSTUP_TOOLCHAIN` is set to
//! the caller's (or the default) toolchain so the proxy needs to write nothing and a
//! `rust-toolchain.toml` in the sdist cannot ask for a download. `CARGO_HOME` always points into
//! the writable build dir, so cargo's registry cache and configuration are the build's own.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// File names that mark a directory as holding secrets (cargo, pip, git, netrc, cloud CLIs).
const CREDENTIAL_NAMES: &[&str] = &[
    "credentials",
    "credentials.toml",
    ".credentials.toml",
    ".netrc",
    ".pypirc",
    ".git-credentials",
    ".npmrc",
    ".ssh",
    ".aws",
    ".docker",
    ".gnupg",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildPathProblem {
    NotAbsolute,
    Unreadable(String),
    NotADirectory,
    /// `/`, the home directory or one of its parents.
    TooBroad,
    /// Holds a file or directory with a credential's name.
    HoldsCredentials(String),
}

impl std::fmt::Display for BuildPathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAbsolute => write!(f, "expected an absolute path"),
            Self::Unreadable(e) => write!(f, "cannot resolve: {e}"),
            Self::NotADirectory => write!(f, "expected a directory"),
            Self::TooBroad => write!(
                f,
                "contains the home directory; name the toolchain's own bin directory"
            ),
            Self::HoldsCredentials(name) => write!(
                f,
                "holds `{name}`, which may be a secret; name a directory with only the toolchain"
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("--build-path {path}: {problem}")]
    BuildPath {
        path: String,
        problem: BuildPathProblem,
    },
    #[error("rustup home {path} (for the rustup proxies on --build-path): {problem}")]
    RustupHome {
        path: String,
        problem: BuildPathProblem,
    },
}

/// The toolchain directories every build sees.
#[derive(Debug, Clone, Default)]
pub struct Toolchains {
    dirs: Vec<PathBuf>,
    rustup: Option<Rustup>,
}

#[derive(Debug, Clone)]
struct Rustup {
    home: PathBuf,
    toolchain: Option<String>,
}

impl Toolchains {
    /// Check `dirs`; `host_env` reads the caller's environment (`HOME`, `RUSTUP_HOME`,
    /// `RUSTUP_TOOLCHAIN`).
    pub fn new(
        dirs: &[PathBuf],
        host_env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, ToolchainError> {
        let home = host_env("HOME").map(PathBuf::from);
        let mut checked = Vec::new();
        for given in dirs {
            // `~/` as a shell would expand it, for the config file (where no shell does).
            let expanded = match (given.strip_prefix("~"), &home) {
                (Ok(rest), Some(home)) => home.join(rest),
                _ => given.clone(),
            };
            let dir = check_dir(&expanded, home.as_deref()).map_err(|problem| {
                ToolchainError::BuildPath {
                    path: given.display().to_string(),
                    problem,
                }
            })?;
            if !checked.contains(&dir) {
                checked.push(dir);
            }
        }
        let has_proxy = checked.iter().any(|d| d.join("rustup").is_file());
        let rustup = if has_proxy {
            let configured = host_env("RUSTUP_HOME").map(PathBuf::from);
            let default = home.as_ref().map(|h| h.join(".rustup"));
            match configured.or(default) {
                Some(path) if path.is_dir() => {
                    let home_dir = check_dir(&path, home.as_deref()).map_err(|problem| {
                        ToolchainError::RustupHome {
                            path: path.display().to_string(),
                            problem,
                        }
                    })?;
                    let toolchain = host_env("RUSTUP_TOOLCHAIN")
                        .and_then(|t| t.into_string().ok())
                        .filter(|t| !t.is_empty())
                        .or_else(|| default_toolchain(&home_dir));
                    Some(Rustup {
                        home: home_dir,
                        toolchain,
                    })
                }
                // No rustup home: the proxies will say so themselves inside the build.
                _ => None,
            }
        } else {
            None
        };
        Ok(Self {
            dirs: checked,
            rustup,
        })
    }

    /// Directories to bind read-only.
    pub fn ro_paths(&self) -> Vec<PathBuf> {
        let mut paths = self.dirs.clone();
        paths.extend(self.rustup.iter().map(|r| r.home.clone()));
        paths
    }

    /// `PATH` entries, in the order given, ahead of `/usr/bin`.
    pub fn path_entries(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Variables for one build; `cargo_home` is a writable directory of that build.
    pub fn env(&self, cargo_home: &Path) -> Vec<(String, String)> {
        let mut vars = vec![("CARGO_HOME".to_string(), cargo_home.display().to_string())];
        if let Some(rustup) = &self.rustup {
            vars.push(("RUSTUP_HOME".into(), rustup.home.display().to_string()));
            // rustup ≥ 1.28: never try to install a missing toolchain (there is no network).
            vars.push(("RUSTUP_AUTO_INSTALL".into(), "0".into()));
            if let Some(toolchain) = &rustup.toolchain {
                vars.push(("RUSTUP_TOOLCHAIN".into(), toolchain.clone()));
            }
        }
        vars
    }
}

/// Absolute, an existing directory (resolved), not `/` nor a parent of `home`, holding no
/// credential file.
fn check_dir(dir: &Path, home: Option<&Path>) -> Result<PathBuf, BuildPathProblem> {
    if !dir.is_absolute() {
        return Err(BuildPathProblem::NotAbsolute);
    }
    let real =
        std::fs::canonicalize(dir).map_err(|e| BuildPathProblem::Unreadable(e.to_string()))?;
    if !real.is_dir() {
        return Err(BuildPathProblem::NotADirectory);
    }
    let home = home.map(|h| std::fs::canonicalize(h).unwrap_or_else(|_| h.to_path_buf()));
    if real == Path::new("/") || home.is_some_and(|h| h.starts_with(&real)) {
        return Err(BuildPathProblem::TooBroad);
    }
    let entries =
        std::fs::read_dir(&real).map_err(|e| BuildPathProblem::Unreadable(e.to_string()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if let Some(hit) = CREDENTIAL_NAMES.iter().find(|n| name == **n) {
            return Err(BuildPathProblem::HoldsCredentials(hit.to_string()));
        }
    }
    Ok(real)
}

/// `default_toolchain` of `<rustup home>/settings.toml`.
fn default_toolchain(rustup_home: &Path) -> Option<String> {
    let text = std::fs::read_to_string(rustup_home.join("settings.toml")).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    table
        .get("default_toolchain")
        .and_then(|v| v.as_str())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(pairs: &'a [(&'a str, &'a Path)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_os_str().to_owned())
        }
    }

    #[test]
    fn a_proxy_dir_brings_its_rustup_home_and_toolchain() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("cargo/bin");
        let rustup = tmp.path().join("rustup");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(rustup.join("toolchains")).unwrap();
        std::fs::write(bin.join("rustup"), b"").unwrap();
        std::fs::write(
            rustup.join("settings.toml"),
            "default_toolchain = \"stable-x86_64-unknown-linux-gnu\"\n",
        )
        .unwrap();
        let home = tmp.path().join("home");
        std::fs::create_dir(&home).unwrap();
        let t = Toolchains::new(
            std::slice::from_ref(&bin),
            env_of(&[("HOME", &home), ("RUSTUP_HOME", &rustup)]),
        )
        .unwrap();
        let bin = std::fs::canonicalize(bin).unwrap();
        let rustup = std::fs::canonicalize(rustup).unwrap();
        assert_eq!(t.ro_paths(), vec![bin.clone(), rustup.clone()]);
        assert_eq!(t.path_entries(), &[bin]);
        let vars = t.env(Path::new("/b/cargo-home"));
        let get = |k: &str| {
            vars.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("CARGO_HOME"), Some("/b/cargo-home"));
        assert_eq!(get("RUSTUP_HOME"), rustup.to_str());
        assert_eq!(
            get("RUSTUP_TOOLCHAIN"),
            Some("stable-x86_64-unknown-linux-gnu")
        );
    }

    #[test]
    fn credentials_relative_paths_and_the_home_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let cargo = tmp.path().join("cargo");
        std::fs::create_dir_all(cargo.join("bin")).unwrap();
        std::fs::write(cargo.join("credentials.toml"), b"token = \"x\"").unwrap();
        let none = |_: &str| None;
        let err = Toolchains::new(std::slice::from_ref(&cargo), none).unwrap_err();
        assert!(
            matches!(&err, ToolchainError::BuildPath { problem: BuildPathProblem::HoldsCredentials(n), .. } if n == "credentials.toml"),
            "{err}"
        );
        assert!(Toolchains::new(&[cargo.join("bin")], none).is_ok());
        let tilde = Toolchains::new(&[PathBuf::from("~/bin")], env_of(&[("HOME", &cargo)]));
        assert_eq!(
            tilde.unwrap().path_entries(),
            &[std::fs::canonicalize(cargo.join("bin")).unwrap()]
        );
        let err = Toolchains::new(&[PathBuf::from("cargo/bin")], none).unwrap_err();
        assert!(err.to_string().contains("absolute"), "{err}");
        let home = cargo.join("bin");
        for broad in [tmp.path().to_path_buf(), PathBuf::from("/")] {
            let err = Toolchains::new(&[broad], env_of(&[("HOME", &home)])).unwrap_err();
            assert!(
                matches!(
                    &err,
                    ToolchainError::BuildPath {
                        problem: BuildPathProblem::TooBroad,
                        ..
                    }
                ),
                "{err}"
            );
        }
    }
}
