//! Why the builder could not be set up. The pipeline sets it up on the first build (or at
//! start with `--sandbox required`); a refusal fails the jobs that need a build and makes
//! `fill` exit 2 (a configuration error), while the jobs that need no build still run.

use crate::builder::{SandboxError, ToolchainError};
use crate::requirements::RequirementsError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum BuilderSetupError {
    #[error("--build-env `{pair}`: expected KEY=VALUE")]
    BuildEnv { pair: String },
    #[error(transparent)]
    Toolchains(ToolchainError),
    #[error(transparent)]
    ConstraintsUnreadable(RequirementsError),
    /// A `--build-constraints` line that does not pin one version.
    #[error("{origin}: build constraints must pin one version with `==`, got `{text}`")]
    ConstraintNotPinned { origin: String, text: String },
    /// No sandbox layer works (or the layer asked for does not).
    #[error(transparent)]
    Sandbox(SandboxError),
}
