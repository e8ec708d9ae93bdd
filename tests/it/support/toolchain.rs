//! The Rust toolchain the build tests hand to the sandbox: rustup's proxies (the suite is
//! built with rustup's cargo) in a directory like `~/.cargo/bin`, and the caller's rustup
//! home.

use std::path::{Path, PathBuf};

/// A toolchain dir like `~/.cargo/bin` (the rustup binary and its cargo/rustc links) with a
/// fake credential file in its parent, as `~/.cargo/credentials.toml` sits next to
/// `~/.cargo/bin`.
pub(crate) struct FakeCargoHome {
    dir: tempfile::TempDir,
}

impl FakeCargoHome {
    pub(crate) fn new() -> Self {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let rustup = std::env::split_paths(&path)
            .map(|d| d.join("rustup"))
            .find(|p| p.is_file())
            .expect("the rustup proxy on PATH (the test suite is built with rustup's cargo)");
        let rustup = std::fs::canonicalize(rustup).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        if std::fs::hard_link(&rustup, bin.join("rustup")).is_err() {
            std::fs::copy(&rustup, bin.join("rustup")).unwrap();
        }
        for proxy in ["cargo", "rustc"] {
            std::os::unix::fs::symlink("rustup", bin.join(proxy)).unwrap();
        }
        std::fs::write(
            dir.path().join("credentials.toml"),
            "[registry]\ntoken = \"ww-fake-cargo-token\"\n",
        )
        .unwrap();
        Self { dir }
    }

    /// The directory holding `bin` and the credential file.
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// The fake credential file beside `bin`.
    pub(crate) fn credentials(&self) -> PathBuf {
        self.dir.path().join("credentials.toml")
    }
}

/// The caller's rustup home (the test's HOME is not the fill's).
pub(crate) fn rustup_home() -> String {
    std::env::var("RUSTUP_HOME")
        .unwrap_or_else(|_| format!("{}/.rustup", std::env::var("HOME").expect("HOME")))
}
