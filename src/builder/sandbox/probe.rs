//! Why a sandbox layer cannot be used on this machine: what the start-up probes found. The
//! texts feed the "no sandbox can be had" refusal ([`super::SandboxError::Unavailable`]).

use std::path::PathBuf;
use std::sync::Arc;

/// A layer's probe failed. Kept for the whole run (the probes run once), hence `Clone`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    #[error("`bwrap` not found on PATH")]
    BwrapNotFound,
    /// bubblewrap exists but cannot create its namespaces here (an ordinary Docker
    /// container, Ubuntu's AppArmor userns restriction).
    #[error("`{} --unshare-all ... true` failed: {stderr}", .bwrap.display())]
    BwrapFailed { bwrap: PathBuf, stderr: String },
    /// Running as root, builds switch to an unprivileged uid with util-linux tools.
    #[error(
        "`{tool}` (util-linux) not found on PATH; needed to build as an unprivileged uid when running as root"
    )]
    ToolMissing { tool: &'static str },
    #[error("cannot locate wheelwright's own executable: {0}")]
    OwnExecutable(Arc<std::io::Error>),
    #[error("cannot run {}: {source}", .program.display())]
    CannotRun {
        program: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// The built-in layer's launcher could not apply its restrictions; its own words.
    #[error("{0}")]
    LauncherRefused(String),
}
