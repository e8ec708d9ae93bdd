//! Why a build failed, and at which step: every error names the project, version and step,
//! and failures from running something carry the log tail.

use std::path::PathBuf;
use std::time::Duration;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::hooks::describe;
use super::missing::{Missing, missing_in_log};
use super::{
    BuildRequiresError, CargoError, EnvError, PathsError, PyprojectError, SandboxError,
    Termination, UnpackError,
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
    EmbedSbom,
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
            Self::EmbedSbom => "embed the SBOM (PEP 770)",
            Self::Validate => "validate wheel",
        })
    }
}

/// A failed build: which project, version and step (the context every failure shares, as
/// uv's publish errors keep theirs in one outer value), and what went wrong (the kind).
#[derive(Debug)]
pub struct BuildError {
    pub project: PackageName,
    pub version: Version,
    pub step: BuildStep,
    /// Boxed: a build's `Result` stays small on the happy path.
    pub kind: Box<BuildErrorKind>,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The kind's text continues the sentence: `: cause`, or ` failed (…)`.
        write!(
            f,
            "{} {}: {}{}",
            self.project, self.version, self.step, self.kind
        )
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.kind.source()
    }
}

/// What went wrong in a build step. Each text continues "`project version: step`".
#[derive(Debug, thiserror::Error)]
pub enum BuildErrorKind {
    #[error(": {0}")]
    Unpack(#[source] Box<UnpackError>),
    /// A `patches` entry of the package's settings that does not apply (the hunk is named).
    #[error(": {0}")]
    Patch(#[source] Box<PatchError>),
    #[error(": {0}")]
    Pyproject(#[source] Box<PyprojectError>),
    #[error(": {0}")]
    Crates(#[source] Box<CargoError>),
    #[error(": {0}")]
    Requirements(#[source] Box<BuildRequiresError>),
    #[error(": {0}")]
    Env(#[source] Box<EnvError>),
    #[error(": {0}")]
    Sandbox(#[source] SandboxError),
    #[error(
        " failed ({}){}{}",
        describe(termination),
        decisive.as_deref().map(|l| format!(": {l}")).unwrap_or_default(),
        missing_in_log(log_tail).map(|m| format!("; {m}")).unwrap_or_default()
    )]
    HookFailed {
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
    #[error(": the back end asked for `{requested}`; {missing}")]
    Missing {
        requested: String,
        missing: Missing,
        log_tail: String,
    },
    #[error(" killed after the build timeout of {timeout:?}")]
    TimedOut {
        timeout: Duration,
        log_tail: String,
        log_path: PathBuf,
    },
    #[error(" killed: build directory grew past {limit} bytes")]
    DiskQuota {
        limit: u64,
        log_tail: String,
        log_path: PathBuf,
    },
    #[error(": the backend produced no wheel")]
    NoWheel { log_tail: String },
    #[error(": the backend produced more than one wheel: {}", files.join(", "))]
    ExtraWheels {
        files: Vec<String>,
        log_tail: String,
    },
    #[error(": {source}")]
    Invalid {
        source: Box<ValidationError>,
        log_tail: String,
    },
    #[error(": {message}")]
    Protocol { message: String, log_tail: String },
    #[error(": {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// The fixed-path build dir could not be had.
    #[error(": build directory: {0}")]
    BuildDir(#[source] PathsError),
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
    pub fn new(
        project: &PackageName,
        version: &Version,
        step: BuildStep,
        kind: BuildErrorKind,
    ) -> BuildError {
        BuildError {
            project: project.clone(),
            version: version.clone(),
            step,
            kind: Box::new(kind),
        }
    }

    /// Whether the failure is the sdist's own and will happen again with the same sdist,
    /// settings and interpreter (its hooks, archive, `pyproject.toml`, a patch for it, its
    /// crates, a build that runs out of time or disk): worth remembering. Failures of the
    /// machine or the network (sandbox set-up, provisioning, I/O) are not.
    pub fn is_sdist_fault(&self) -> bool {
        use BuildErrorKind as K;
        matches!(
            self.kind.as_ref(),
            K::Unpack(_)
                | K::Patch(_)
                | K::Pyproject(_)
                | K::HookFailed { .. }
                | K::TimedOut { .. }
                | K::DiskQuota { .. }
                | K::NoWheel { .. }
                | K::ExtraWheels { .. }
                | K::Invalid { .. }
        ) || matches!(self.kind.as_ref(), K::Crates(source) if source.is_sdist_fault())
    }

    pub fn step(&self) -> BuildStep {
        self.step
    }

    /// What the build lacked, when its log (or its back end) said so.
    pub fn missing(&self) -> Option<Missing> {
        match self.kind.as_ref() {
            BuildErrorKind::HookFailed { log_tail, .. } => missing_in_log(log_tail),
            BuildErrorKind::Missing { missing, .. } => Some(missing.clone()),
            _ => None,
        }
    }

    /// The log line that explains a failed hook (see `decisive`), when one was found.
    pub fn decisive(&self) -> Option<&str> {
        match self.kind.as_ref() {
            BuildErrorKind::HookFailed { decisive, .. } => decisive.as_deref(),
            _ => None,
        }
    }

    /// The end of the build log, when the failure came from running something.
    pub fn log_tail(&self) -> Option<&str> {
        use BuildErrorKind as K;
        match self.kind.as_ref() {
            K::HookFailed { log_tail, .. }
            | K::Missing { log_tail, .. }
            | K::TimedOut { log_tail, .. }
            | K::DiskQuota { log_tail, .. }
            | K::NoWheel { log_tail }
            | K::ExtraWheels { log_tail, .. }
            | K::Invalid { log_tail, .. }
            | K::Protocol { log_tail, .. } => Some(log_tail),
            _ => None,
        }
    }
}
