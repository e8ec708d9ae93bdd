//! Why a build failed, and at which step: every error names the project, version and step,
//! and failures from running something carry the log tail.

use std::path::PathBuf;
use std::time::Duration;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::hooks::describe;
use super::missing::{Missing, missing_in_log};
use super::{
    CargoError, EnvError, PathsError, PyprojectError, ResolveError, SandboxError, Termination,
    UnpackError,
};
use crate::distribution::ValidationError;
use crate::package_settings::PatchError;

/// The step a build failed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildStep {
    Unpack,
    Patch,
    ReadPyproject,
    VendorCrates,
    ResolveRequires,
    Provision,
    GetRequires,
    ResolveExtraRequires,
    PrepareMetadata,
    BuildWheel,
    Repair,
    Validate,
}

impl std::fmt::Display for BuildStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unpack => "unpack sdist",
            Self::Patch => "apply patches",
            Self::ReadPyproject => "read pyproject.toml",
            Self::VendorCrates => "fetch and vendor Rust crates",
            Self::ResolveRequires => "resolve build requirements",
            Self::Provision => "provision build environment",
            Self::GetRequires => "get_requires_for_build_wheel",
            Self::ResolveExtraRequires => "resolve extra build requirements",
            Self::PrepareMetadata => "prepare_metadata_for_build_wheel",
            Self::BuildWheel => "build_wheel",
            Self::Repair => "repair command",
            Self::Validate => "validate wheel",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{project} {version}: {step}: {source}")]
    Unpack {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: Box<UnpackError>,
    },
    /// A `patches` entry of the package's settings that does not apply (the hunk is named).
    #[error("{project} {version}: {step}: {source}")]
    Patch {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: Box<PatchError>,
    },
    #[error("{project} {version}: {step}: {source}")]
    Pyproject {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: Box<PyprojectError>,
    },
    #[error("{project} {version}: {step}: {source}")]
    Crates {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: Box<CargoError>,
    },
    #[error("{project} {version}: {step}: {source}")]
    Requirements {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: Box<ResolveError>,
    },
    #[error("{project} {version}: {step}: {source}")]
    Env {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: Box<EnvError>,
    },
    #[error("{project} {version}: {step}: {source}")]
    Sandbox {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: SandboxError,
    },
    #[error(
        "{project} {version}: {step} failed ({}){}{}",
        describe(termination),
        decisive.as_deref().map(|l| format!(": {l}")).unwrap_or_default(),
        missing_in_log(log_tail).map(|m| format!("; {m}")).unwrap_or_default()
    )]
    HookFailed {
        project: PackageName,
        version: Version,
        step: BuildStep,
        termination: Termination,
        /// The log line that explains the failure (see `decisive`), else the last line of
        /// the traceback the shim caught. The traceback itself is in the log.
        decisive: Option<String>,
        /// The log's tail, which also says what the build lacked, if it does (a header, a
        /// library, a program: see `missing`).
        log_tail: String,
        log_path: PathBuf,
    },
    /// The back end asked for something that stands for a missing tool (maturin asks for
    /// `puccinialin` when it finds no cargo, to download a Rust compiler).
    #[error("{project} {version}: {step}: the back end asked for `{requested}`; {missing}")]
    Missing {
        project: PackageName,
        version: Version,
        step: BuildStep,
        requested: String,
        missing: Missing,
        log_tail: String,
    },
    #[error("{project} {version}: {step} killed after the build timeout of {timeout:?}")]
    TimedOut {
        project: PackageName,
        version: Version,
        step: BuildStep,
        timeout: Duration,
        log_tail: String,
        log_path: PathBuf,
    },
    #[error("{project} {version}: {step} killed: build directory grew past {limit} bytes")]
    DiskQuota {
        project: PackageName,
        version: Version,
        step: BuildStep,
        limit: u64,
        log_tail: String,
        log_path: PathBuf,
    },
    #[error("{project} {version}: {step}: the backend produced no wheel")]
    NoWheel {
        project: PackageName,
        version: Version,
        step: BuildStep,
        log_tail: String,
    },
    #[error("{project} {version}: {step}: the backend produced more than one wheel: {}", files.join(", "))]
    ExtraWheels {
        project: PackageName,
        version: Version,
        step: BuildStep,
        files: Vec<String>,
        log_tail: String,
    },
    #[error("{project} {version}: {step}: {source}")]
    Invalid {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: Box<ValidationError>,
        log_tail: String,
    },
    #[error("{project} {version}: {step}: {message}")]
    Protocol {
        project: PackageName,
        version: Version,
        step: BuildStep,
        message: String,
        log_tail: String,
    },
    #[error("{project} {version}: {step}: {what}: {source}")]
    Io {
        project: PackageName,
        version: Version,
        step: BuildStep,
        what: String,
        source: std::io::Error,
    },
    /// The fixed-path build dir could not be had.
    #[error("{project} {version}: {step}: build directory: {source}")]
    BuildDir {
        project: PackageName,
        version: Version,
        step: BuildStep,
        source: PathsError,
    },
}

/// The decisive line of a failed hook: from its log, else the last line of the traceback
/// the shim caught.
pub(super) fn decisive(log_tail: &str, traceback: Option<&str>) -> Option<String> {
    super::decisive::decisive_line(log_tail).or_else(|| {
        traceback
            .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()))
            .map(|l| l.trim().to_string())
    })
}

impl BuildError {
    /// Whether the failure is the sdist's own and will happen again with the same sdist,
    /// settings and interpreter (its hooks, archive, `pyproject.toml`, a patch for it, its
    /// crates, a build that runs out of time or disk): worth remembering. Failures of the
    /// machine or the network (sandbox set-up, provisioning, I/O) are not.
    pub fn is_sdist_fault(&self) -> bool {
        matches!(
            self,
            BuildError::Unpack { .. }
                | BuildError::Patch { .. }
                | BuildError::Pyproject { .. }
                | BuildError::HookFailed { .. }
                | BuildError::TimedOut { .. }
                | BuildError::DiskQuota { .. }
                | BuildError::NoWheel { .. }
                | BuildError::ExtraWheels { .. }
                | BuildError::Invalid { .. }
        ) || matches!(self, BuildError::Crates { source, .. } if source.is_sdist_fault())
    }

    pub fn step(&self) -> BuildStep {
        match self {
            Self::Unpack { step, .. }
            | Self::Patch { step, .. }
            | Self::Pyproject { step, .. }
            | Self::Crates { step, .. }
            | Self::Requirements { step, .. }
            | Self::Env { step, .. }
            | Self::Sandbox { step, .. }
            | Self::HookFailed { step, .. }
            | Self::Missing { step, .. }
            | Self::TimedOut { step, .. }
            | Self::DiskQuota { step, .. }
            | Self::NoWheel { step, .. }
            | Self::ExtraWheels { step, .. }
            | Self::Invalid { step, .. }
            | Self::Protocol { step, .. }
            | Self::Io { step, .. }
            | Self::BuildDir { step, .. } => *step,
        }
    }

    /// What the build lacked, when its log (or its back end) said so.
    pub fn missing(&self) -> Option<Missing> {
        match self {
            Self::HookFailed { log_tail, .. } => missing_in_log(log_tail),
            Self::Missing { missing, .. } => Some(missing.clone()),
            _ => None,
        }
    }

    /// The log line that explains a failed hook (see `decisive`), when one was found.
    pub fn decisive(&self) -> Option<&str> {
        match self {
            Self::HookFailed { decisive, .. } => decisive.as_deref(),
            _ => None,
        }
    }

    /// The end of the build log, when the failure came from running something.
    pub fn log_tail(&self) -> Option<&str> {
        match self {
            Self::HookFailed { log_tail, .. }
            | Self::Missing { log_tail, .. }
            | Self::TimedOut { log_tail, .. }
            | Self::DiskQuota { log_tail, .. }
            | Self::NoWheel { log_tail, .. }
            | Self::ExtraWheels { log_tail, .. }
            | Self::Invalid { log_tail, .. }
            | Self::Protocol { log_tail, .. } => Some(log_tail),
            _ => None,
        }
    }
}
