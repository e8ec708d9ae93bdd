//! `jobs[].build` of the JSON report: how a wheel built here came to be (the sdist, every
//! wheel in the build environment, the settings, the sandbox, the interpreter, the
//! `SOURCE_DATE_EPOCH` and the time it took). `--sbom` writes the same facts as SPDX.
//!
//! A failed build keeps what is known: what the build never reached is `null` (or empty).

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::builder::{BuildFacts, InstalledWheel, Missing, Protections, Sandbox};
use crate::distribution::{SafeFilename, Sha256};
use crate::index::SafeUrl;
use crate::interpreter::Interpreter;
use crate::package_settings::BuildSettings;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BuildInfo {
    /// `bwrap`, `builtin` or `off`.
    pub sandbox: String,
    pub protections: Protections,
    /// The sdist the wheel was built from.
    pub sdist: Option<SourceFile>,
    /// Every wheel installed into the build environment (the last one, when
    /// `get_requires_for_build_wheel` asked for more).
    pub environment: Vec<InstalledWheel>,
    /// The per-package build settings that applied (`{}` when none did; each setting is
    /// left out while unset).
    pub settings: BuildSettings,
    pub interpreter: InterpreterInfo,
    /// `null` when the build stopped before the sdist was unpacked.
    pub source_date_epoch: Option<u64>,
    /// Wall time of the build in seconds.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    /// The wheel the build produced (absent when it failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel: Option<WheelFile>,
    /// The Rust crates a Rust extension was built with (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub crates: Vec<CrateInfo>,
    /// What the failed build lacked, when its log said so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingInfo>,
    /// The full build log in the cache directory (the job's `log_tail` is its end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// When the build waited and ran, and in which `--jobs` slot (the HTML report's
    /// timeline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<BuildSchedule>,
}

/// `build.schedule`: `slot` (0 to `--jobs` - 1), and `queued` (the sdist was ready and the
/// build waited for a slot), `started` and `finished` as Unix times in seconds, so the
/// shards of one run (other processes, other machines) share one time axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BuildSchedule {
    pub slot: usize,
    #[serde(serialize_with = "unix_seconds")]
    pub queued: SystemTime,
    #[serde(serialize_with = "unix_seconds")]
    pub started: SystemTime,
    #[serde(serialize_with = "unix_seconds")]
    pub finished: SystemTime,
}

/// Seconds since the Unix epoch, to the millisecond.
pub(crate) fn unix_seconds<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    s.serialize_f64((since.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// The sdist: its file name, the sha256 of the file built, and where it came from
/// (credentials never included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SourceFile {
    pub filename: SafeFilename,
    pub sha256: Sha256,
    pub url: SafeUrl,
}

/// The built wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct WheelFile {
    pub filename: SafeFilename,
    pub sha256: Sha256,
}

/// One crate of a Rust build, as its `Cargo.lock` pins it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CrateInfo {
    pub name: String,
    pub version: String,
    /// sha256 of the `.crate` file (the lock's `checksum`).
    pub sha256: String,
}

impl CrateInfo {
    pub(crate) fn of(locked: &crate::builder::LockedCrate) -> CrateInfo {
        CrateInfo {
            name: locked.name.clone(),
            version: locked.version.clone(),
            sha256: locked.checksum.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct InterpreterInfo {
    /// The label the report uses (`cp311`).
    pub label: String,
    /// `sys.executable`.
    pub path: String,
    /// The full Python version (`3.11.9`).
    pub version: String,
}

impl InterpreterInfo {
    pub(crate) fn of(interpreter: &Interpreter) -> InterpreterInfo {
        InterpreterInfo {
            label: interpreter.label.clone(),
            path: interpreter.executable.display().to_string(),
            version: interpreter.markers.python_full_version().to_string(),
        }
    }
}

/// `build.missing`: what the failed build lacked and who usually provides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct MissingInfo {
    #[serde(flatten)]
    pub missing: Missing,
    /// The Debian package that usually provides it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debian: Option<&'static str>,
    /// The summary in words (`missing header ffi.h (Debian package libffi-dev)`).
    pub summary: String,
}

impl MissingInfo {
    pub(crate) fn of(missing: &Missing) -> MissingInfo {
        MissingInfo {
            missing: missing.clone(),
            debian: missing.debian_package(),
            summary: missing.to_string(),
        }
    }
}

impl BuildInfo {
    /// What is known of a build that ran (or failed) in `sandbox`.
    pub(crate) fn new(
        sandbox: &Sandbox,
        interpreter: &Interpreter,
        sdist: Option<SourceFile>,
        facts: &BuildFacts,
        settings: &BuildSettings,
    ) -> BuildInfo {
        BuildInfo {
            sandbox: sandbox.layer_name().to_string(),
            protections: sandbox.protections(),
            sdist,
            environment: facts.environment.clone(),
            settings: settings.clone(),
            interpreter: InterpreterInfo::of(interpreter),
            source_date_epoch: facts.source_date_epoch,
            duration: facts.duration,
            wheel: None,
            crates: Vec::new(),
            missing: None,
            log: facts.log.as_ref().map(|p| p.display().to_string()),
            schedule: None,
        }
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_serialise_to_an_empty_object() {
        assert_eq!(
            serde_json::to_value(BuildSettings::default()).unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn missing_info_flattens_kind_and_name_with_the_package() {
        let info = MissingInfo::of(&Missing::Header("ffi.h".into()));
        assert_eq!(
            serde_json::to_value(info).unwrap(),
            serde_json::json!({
                "kind": "header",
                "name": "ffi.h",
                "debian": "libffi-dev",
                "summary": "missing header ffi.h (Debian package libffi-dev)",
            })
        );
    }
}
