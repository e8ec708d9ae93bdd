//! What the built-in layer's launcher (`__sandbox-exec`, in the child before it execs the
//! build) can fail at. It prints these and exits; the parent reads that line as the probe's
//! [`super::ProbeError::LauncherRefused`].

use std::path::PathBuf;

/// `__sandbox-exec`'s arguments are not what the parent passes.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum ExecArgsError {
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("{0} expects a number")]
    NotANumber(&'static str),
    #[error("unexpected argument {0}")]
    Unexpected(String),
    #[error("missing `--` before the program")]
    NoProgram,
}

/// The Landlock ruleset could not be made or applied.
#[derive(Debug, thiserror::Error)]
pub(super) enum LandlockError {
    #[error("{0}")]
    Ruleset(#[from] landlock::RulesetError),
    #[error("{}: {source}", .path.display())]
    Rule {
        path: PathBuf,
        source: landlock::RulesetError,
    },
    #[error("{}: {source}", .path.display())]
    Open {
        path: PathBuf,
        source: landlock::PathFdError,
    },
}

/// The seccomp filters could not be compiled for this machine, or the kernel refused them.
#[derive(Debug, thiserror::Error)]
pub(super) enum SeccompError {
    #[error("{0}")]
    Compile(#[from] seccompiler::BackendError),
    #[error("{0}")]
    Install(seccompiler::Error),
}
