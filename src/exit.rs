//! Exit codes: 0 all requested wheels are on the target (plan: the plan could be made);
//! 1 some jobs failed; 2 bad input or configuration, nothing changed; 3 the target or an
//! upstream index could not be used; 128 + the signal's number when a signal stopped the run
//! (129 SIGHUP, 130 SIGINT, 143 SIGTERM). Jenkins and scripts rely on these numbers.

use std::process::ExitCode;

pub const JOBS_FAILED: u8 = 1;
pub const BAD_INPUT: u8 = 2;
pub const INDEX_UNUSABLE: u8 = 3;
pub const INTERRUPTED_SIGHUP: u8 = 129;
pub const INTERRUPTED_SIGINT: u8 = 130;
pub const INTERRUPTED_SIGTERM: u8 = 143;

/// What an exit code of `fill` or `plan` means, in the words of the reports' verdict line.
pub fn meaning(code: u8) -> &'static str {
    match code {
        0 => "everything requested is on the target",
        JOBS_FAILED => "some jobs failed",
        BAD_INPUT => "bad input or configuration",
        INDEX_UNUSABLE => "the target or an upstream index could not be used",
        INTERRUPTED_SIGHUP | INTERRUPTED_SIGINT | INTERRUPTED_SIGTERM => "stopped by a signal",
        _ => "unknown exit code",
    }
}

/// An error that ends the run, with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn input(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: BAD_INPUT,
            error: error.into(),
        }
    }
    pub fn unusable(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: INDEX_UNUSABLE,
            error: error.into(),
        }
    }
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

/// Index errors are configuration errors (exit 2) when they are about what was given
/// (a malformed URL, an unreadable certificate), and "unusable" (exit 3) otherwise.
impl From<crate::index::IndexError> for Failure {
    fn from(error: crate::index::IndexError) -> Failure {
        match error {
            crate::index::IndexError::Config(_) | crate::index::IndexError::TlsSetup(_) => {
                Failure::input(error)
            }
            other => Failure::unusable(other),
        }
    }
}
