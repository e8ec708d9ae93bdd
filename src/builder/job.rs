//! One build's state: its directory in the cache (or keyed by the sdist where the sandbox
//! cannot mount the source at a fixed path), its log, its own sandbox (as root, the build's
//! uid), and the context every failure names ([`BuildError::new`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::{
    BuildError, BuildErrorKind, BuildFacts, BuildRequest, BuildStep, BuilderOptions, HookError,
    LogSummary, Sandbox, SandboxError, Termination, UnpackError, error, paths,
};
use crate::interpreter::Interpreter;

/// Per-build state: the build dir and what errors need to name.
pub(super) struct BuildJob {
    pub(super) id: String,
    pub(super) dir: PathBuf,
    /// With a keyed build dir: the (empty) dir in `<cache>/builds/` that reserves `id`, and the
    /// lock on the keyed dir.
    pub(super) placeholder: Option<PathBuf>,
    pub(super) _keyed: Option<paths::KeyedDir>,
    /// The build's own sandbox: as root, it holds the build's uid until the job is dropped.
    pub(super) sandbox: Sandbox,
    /// `(host src dir, fixed mount point)` under bubblewrap, once unpacked.
    pub(super) source_mount: Option<(PathBuf, PathBuf)>,
    /// A Rust build's `CARGO_TARGET_DIR`, inside the build dir.
    pub(super) cargo_target: Option<PathBuf>,
    pub(super) log_path: PathBuf,
    pub(super) project: PackageName,
    pub(super) version: Version,
    pub(super) interpreter: Arc<Interpreter>,
    /// The package's `env` (after `--build-env`).
    pub(super) env: std::collections::BTreeMap<String, String>,
    /// Provenance gathered as the build goes.
    pub(super) facts: BuildFacts,
}

impl BuildJob {
    /// `mounted`: the sandbox mounts the source at a fixed path, so the build dir can live in
    /// the cache; otherwise it is placed at a path keyed by the sdist (see [`paths`]).
    pub(super) fn new(
        options: &BuilderOptions,
        sandbox: &Sandbox,
        request: &BuildRequest,
        mounted: bool,
    ) -> Result<Self, BuildError> {
        let project = request.name.clone();
        let version = request.version.clone();
        let sandbox = sandbox.for_build().map_err(|source| {
            let kind = BuildErrorKind::Sandbox(source);
            BuildError::new(&project, &version, BuildStep::Unpack, kind)
        })?;
        let io = |what: &str| {
            let (project, version, what) = (project.clone(), version.clone(), what.to_string());
            move |source| {
                BuildError::new(
                    &project,
                    &version,
                    BuildStep::Unpack,
                    BuildErrorKind::Io { what, source },
                )
            }
        };
        let builds = options.cache_dir.join("builds");
        let logs = options.cache_dir.join("logs");
        std::fs::create_dir_all(&builds).map_err(io("create builds dir"))?;
        std::fs::create_dir_all(&logs).map_err(io("create logs dir"))?;
        // A fresh directory in the cache names the build uniquely (wheels and logs go by it).
        let reserved = tempfile::Builder::new()
            .prefix(&format!("{}-{}-", request.name, request.version))
            .tempdir_in(&builds)
            .map_err(io("create build dir"))?
            .keep();
        let id = reserved
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (dir, placeholder, keyed) = if mounted {
            (reserved, None, None)
        } else {
            let keyed = crate::distribution::hash::sha256_file(&request.sdist)
                .map_err(io("hash sdist"))
                .and_then(|sdist_sha256| {
                    // Other settings (a patch) are another build of the same sdist.
                    let build = format!("{sdist_sha256}{}", request.settings.fingerprint());
                    let key = paths::build_key(&build, &request.interpreter.executable);
                    let stem = format!("{}-{}", request.name, request.version);
                    paths::keyed_build_dir(&options.keyed_build_root, &stem, &key).map_err(
                        |source| {
                            BuildError::new(
                                &project,
                                &version,
                                BuildStep::Unpack,
                                BuildErrorKind::BuildDir(source),
                            )
                        },
                    )
                });
            match keyed {
                Ok(keyed) => (keyed.dir.clone(), Some(reserved), Some(keyed)),
                Err(e) => {
                    let _ = std::fs::remove_dir(&reserved);
                    return Err(e);
                }
            }
        };
        for sub in ["src", "out", "home", "tmp", "cargo-home", "control"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(io("create build dir"))?;
        }
        let log_path = logs.join(format!("{id}-{}.log", request.interpreter.label));
        let _ = std::fs::remove_file(&log_path);
        Ok(Self {
            id,
            dir,
            placeholder,
            _keyed: keyed,
            sandbox,
            source_mount: None,
            cargo_target: None,
            log_path,
            project,
            version,
            interpreter: request.interpreter.clone(),
            env: request.settings.env.clone(),
            facts: BuildFacts::default(),
        })
    }

    /// The source is mounted at the fixed point (the build dir is in the cache, not keyed).
    pub(super) fn mounted(&self) -> bool {
        self.placeholder.is_none()
    }

    /// This build's failure in `step`.
    pub(super) fn fail(&self, step: BuildStep, kind: BuildErrorKind) -> BuildError {
        BuildError::new(&self.project, &self.version, step, kind)
    }

    pub(super) fn err_unpack(&self, source: UnpackError) -> BuildError {
        self.fail(BuildStep::Unpack, BuildErrorKind::Unpack(Box::new(source)))
    }

    pub(super) fn io(&self, step: BuildStep, what: &str, source: std::io::Error) -> BuildError {
        let what = what.to_string();
        self.fail(step, BuildErrorKind::Io { what, source })
    }

    pub(super) fn sandbox(&self, step: BuildStep, source: SandboxError) -> BuildError {
        self.fail(step, BuildErrorKind::Sandbox(source))
    }

    pub(super) fn protocol(
        &self,
        step: BuildStep,
        message: String,
        log: &LogSummary,
    ) -> BuildError {
        let log_tail = log.report_tail();
        self.fail(step, BuildErrorKind::Protocol { message, log_tail })
    }

    pub(super) fn hook_error(
        &self,
        step: BuildStep,
        error: HookError,
        sandbox: &Sandbox,
    ) -> BuildError {
        match error {
            HookError::Setup(source) => self.io(step, "prepare hook call", source),
            HookError::Sandbox(source) => self.sandbox(step, source),
            HookError::BadOutput { message, log, .. } => self.protocol(step, message, &log),
            HookError::Failed {
                termination,
                traceback,
                log,
                ..
            } => {
                let log_tail = log.report_tail();
                let log_path = self.log_path.clone();
                let kind = match termination {
                    Termination::TimedOut => BuildErrorKind::TimedOut {
                        timeout: sandbox.limits().timeout,
                        log_tail,
                        log_path,
                    },
                    Termination::DiskQuota(_) => BuildErrorKind::DiskQuota {
                        limit: sandbox.limits().disk,
                        log_tail,
                        log_path,
                    },
                    termination => BuildErrorKind::HookFailed {
                        termination,
                        decisive: error::decisive(&log_tail, traceback.as_deref()),
                        log_tail,
                        log_path,
                    },
                };
                self.fail(step, kind)
            }
        }
    }

    /// Exactly one `.whl` in `dir`.
    pub(super) fn single_wheel(&self, dir: &Path, log_tail: &str) -> Result<PathBuf, BuildError> {
        // The build could have replaced the directory or the wheel with a symlink to something
        // of ours: only a real directory and regular files count.
        let real_dir = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
        let entries = if real_dir {
            std::fs::read_dir(dir)
                .map_err(|source| self.io(BuildStep::Validate, "list wheel directory", source))?
                .flatten()
                .collect()
        } else {
            Vec::new()
        };
        let mut wheels: Vec<PathBuf> = entries
            .into_iter()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "whl"))
            .collect();
        wheels.sort();
        match wheels.len() {
            0 => Err(self.fail(
                BuildStep::Validate,
                BuildErrorKind::NoWheel {
                    log_tail: log_tail.to_string(),
                },
            )),
            1 => Ok(wheels.remove(0)),
            _ => Err(self.fail(
                BuildStep::Validate,
                BuildErrorKind::ExtraWheels {
                    files: wheels
                        .iter()
                        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                        .collect(),
                    log_tail: log_tail.to_string(),
                },
            )),
        }
    }
}
