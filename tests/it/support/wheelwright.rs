//! The `wheelwright` binary under test, with a scrubbed environment.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::Command;

/// A `Command` for the wheelwright binary that owns a fresh temporary `HOME` (with
/// `XDG_CACHE_HOME` inside it) and deletes it on drop. Derefs to `Command`, so add
/// arguments and run it as usual; keep this value alive while the command runs.
/// Tests that need several commands to share a cache use [`wheelwright_with_home`].
pub(crate) struct WheelwrightCommand {
    command: Command,
    home: tempfile::TempDir,
}

impl WheelwrightCommand {
    /// The temporary `HOME`; the cache is `home()/.cache`.
    pub(crate) fn home(&self) -> &Path {
        self.home.path()
    }
}

impl Deref for WheelwrightCommand {
    type Target = Command;
    fn deref(&self) -> &Command {
        &self.command
    }
}

impl DerefMut for WheelwrightCommand {
    fn deref_mut(&mut self) -> &mut Command {
        &mut self.command
    }
}

/// The wheelwright binary with `env_clear()` and then only `PATH`, `LANG=C.UTF-8`, `CI=true`,
/// and `HOME`/`XDG_CACHE_HOME` in a fresh temporary directory: no `PIP_*`, `DEVPI_*` or proxy
/// variables leak in from the developer's shell.
pub(crate) fn wheelwright() -> WheelwrightCommand {
    let home = tempfile::Builder::new()
        .prefix(&super::temp_prefix("home"))
        .tempdir()
        .expect("create temporary HOME");
    let command = wheelwright_with_home(home.path());
    WheelwrightCommand { command, home }
}

/// Like [`wheelwright`] but with `HOME` = `home` and `XDG_CACHE_HOME` = `home/.cache`; the
/// caller owns the directory (so several commands can share one cache).
pub(crate) fn wheelwright_with_home(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelwright"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LANG", "C.UTF-8")
        .env("CI", "true")
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join(".cache"));
    command
}
