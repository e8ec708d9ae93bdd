//! wheelwright's own PEP 517 front end: sdist → validated wheel, in a sandbox.
//!
//! Steps (each named in errors, [`BuildStep`]): unpack the sdist into a fresh build dir, read
//! `[build-system]`, fetch and vendor a Rust build's locked crates (outside the sandbox, see
//! [`cargo`]), resolve and provision `requires` as wheels into a cached environment,
//! `get_requires_for_build_wheel` in the sandbox, provision the extra requirements (a second
//! environment over the union), `build_wheel` in the sandbox, an optional repair command, and
//! validation outside the sandbox (exactly one wheel; name, version, RECORD and tags).
//!
//! Build dir layout (`<cache>/builds/<random>/`, or a path keyed by the sdist where the sandbox
//! cannot mount, see [`paths`]): `src/` (unpacked sdist, mounted at `/build/<top>` under
//! bubblewrap), `out/` (wheel directory), `home/`, `tmp/`, `cargo-home/`, `control/` (shim and
//! its JSON), and for Rust builds `cargo-vendor/` and `cargo-target/`. Only this dir is
//! writable inside the sandbox; environments, the interpreter and `--build-path` toolchains are
//! bound read-only.

mod cargo;
mod decisive;
mod env;
mod error;
mod hooks;
mod job;
mod log;
mod missing;
mod paths;
mod prepare;
mod pyproject;
mod ready;
mod resolve;
mod sandbox;
mod sbom;
mod toolchain;
mod unpack;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement};

pub use cargo::{
    CargoError, CargoLockError, ChecksumMismatch, CrateChecksum, EntryProblem, LockedCrate,
    VendoredCrates, parse_lock,
};
pub use env::{BuildEnv, EnvError, EnvWheel, InstalledWheel, env_key, provision_env};
pub use error::{BuildError, BuildErrorKind, BuildStep};
pub use hooks::{ConfigSettings, ConfigValue, HookError, config_settings};
pub use log::{LogLimits, LogSummary};
pub use missing::{Missing, ProvidedBy, missing_in_log};
pub use paths::PathsError;
pub use prepare::{PreparedFrom, PreparedMetadata};
pub use pyproject::{BuildSystem, PyprojectError, read_build_system};
pub use resolve::{
    BuildConstraint, BuildRequiresError, FindLinksDir, ResolvedWheel, WheelSource,
    WheelSourceError, resolve,
};
pub use sandbox::{
    BUILD_UIDS, FilesystemProtection, NetworkProtection, ProcessBudget, Protections, SANDBOX_EXEC,
    Sandbox, SandboxCommand, SandboxError, SandboxLimits, SandboxMode, TEST_JAIL, Termination,
    UidPoolError, exec_main as sandbox_exec_main, jail_main as test_jail_main,
    set_launcher as set_sandbox_launcher,
};
pub use sbom::{EmbedError, SBOM_NAME, SbomSource, embed as embed_sbom};
pub use toolchain::{BuildPathProblem, ToolchainError, Toolchains};
pub use unpack::{UnpackError, UnpackLimits, Unpacked, unpack_sdist};

use crate::distribution::{WheelLimits, validate_built_wheel};
use crate::interpreter::Interpreter;
use crate::package_settings::{BuildSettings, apply_patch};
use hooks::{HookContext, call_hook};
use job::BuildJob;

/// 1980-01-01: the oldest time a zip (and so a wheel) can record.
pub const DEFAULT_SOURCE_DATE_EPOCH: u64 = 315_532_800;

/// Settings shared by every build.
#[derive(Debug, Clone)]
pub struct BuilderOptions {
    pub cache_dir: PathBuf,
    pub sandbox: SandboxMode,
    pub limits: SandboxLimits,
    pub unpack: UnpackLimits,
    pub wheel_limits: WheelLimits,
    /// `--repair-command 'auditwheel repair {wheel} -w {dest_dir}'`.
    pub repair_command: Option<String>,
    pub build_constraints: Vec<BuildConstraint>,
    /// `--build-env KEY=VAL`: the only variables besides the fixed allow-list.
    pub extra_env: Vec<(String, String)>,
    /// Keep the build dir after the build (debugging).
    pub keep_build_dir: bool,
    /// `--build-path`: toolchains bound read-only and put on `PATH`.
    pub toolchains: Toolchains,
    /// Parent of build dirs keyed by the sdist (`$TMPDIR/wheelwright-build-<uid>`), used where the
    /// sandbox cannot mount the source at a fixed path.
    pub keyed_build_root: PathBuf,
}

impl BuilderOptions {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            sandbox: SandboxMode::Auto,
            limits: SandboxLimits::default(),
            unpack: UnpackLimits::default(),
            wheel_limits: WheelLimits::default(),
            repair_command: None,
            build_constraints: Vec::new(),
            extra_env: Vec::new(),
            keep_build_dir: false,
            toolchains: Toolchains::default(),
            keyed_build_root: paths::default_base(),
        }
    }
}

/// One sdist to build for one interpreter.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub sdist: PathBuf,
    pub name: PackageName,
    pub version: Version,
    pub interpreter: Arc<Interpreter>,
    pub config_settings: ConfigSettings,
    /// Overrides the sdist's newest mtime.
    pub source_date_epoch: Option<u64>,
    /// This package's `[package.NAME]` settings (`config_settings` above already holds
    /// theirs; env, build requirements, constraints and patches are applied here).
    pub settings: BuildSettings,
    /// PEP 770: the SBOM put into the built wheel before it is validated.
    pub sbom: Option<Arc<dyn SbomSource>>,
}

/// A validated wheel.
#[derive(Debug, Clone)]
pub struct BuiltWheel {
    /// `<cache>/built/<id>/<wheel>`.
    pub path: PathBuf,
    pub log_path: PathBuf,
    pub log_tail: String,
    /// CPU time of the backend hooks (self and waited-for children), as the shim measured it.
    pub backend_cpu: Duration,
    /// Wall time inside the backend hooks themselves.
    pub backend_wall: Duration,
    /// Wall time of the sandboxed hook processes (start-up and teardown included).
    pub sandbox_wall: Duration,
    /// Wall time of the whole `build()`.
    pub duration: Duration,
    /// The environment `build_wheel` ran in.
    pub env: PathBuf,
    /// A Rust build's crates, as its `Cargo.lock` pins them (empty for other builds).
    pub crates: Vec<LockedCrate>,
    /// How many of those cargo had to fetch (the rest came from the crate cache).
    pub crates_fetched: usize,
}

/// What a build did before it ended, for its provenance: kept for failed builds too, as far
/// as the build got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildFacts {
    /// Every wheel installed into the environment the last hook ran in.
    pub environment: Vec<InstalledWheel>,
    /// The `SOURCE_DATE_EPOCH` the hooks saw, once the sdist was unpacked.
    pub source_date_epoch: Option<u64>,
    /// Wall time of the whole build, however it ended.
    pub duration: Duration,
    /// The build's full log in the cache (the reports show its tail and point here).
    pub log: Option<PathBuf>,
}

/// Builds sdists into wheels. Cheap to share (`Arc`) between concurrent builds.
pub struct Builder {
    options: BuilderOptions,
    sandbox: Sandbox,
    source: Arc<dyn WheelSource>,
    /// One lock per build environment key (see `provision`).
    env_locks: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Builder {
    pub fn new(
        options: BuilderOptions,
        source: Arc<dyn WheelSource>,
    ) -> Result<Self, SandboxError> {
        let sandbox = Sandbox::new(options.sandbox, options.limits.clone())?;
        Ok(Self {
            options,
            sandbox,
            source,
            env_locks: Default::default(),
        })
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub async fn build(&self, request: BuildRequest) -> Result<BuiltWheel, BuildError> {
        self.build_recorded(request).await.0
    }

    /// [`Builder::build`], and what the build did (its provenance) however it ended.
    pub async fn build_recorded(
        &self,
        request: BuildRequest,
    ) -> (Result<BuiltWheel, BuildError>, BuildFacts) {
        let started = Instant::now();
        let mounted = self.sandbox.supports_source_mount() && !self.under_mount_root(&request);
        let mut job = match BuildJob::new(&self.options, &self.sandbox, &request, mounted) {
            Ok(job) => job,
            Err(e) => {
                let facts = BuildFacts {
                    duration: started.elapsed(),
                    ..BuildFacts::default()
                };
                return (Err(e), facts);
            }
        };
        let result = self.build_in(&mut job, &request, started).await;
        if !self.options.keep_build_dir {
            let _ = std::fs::remove_dir_all(&job.dir);
        }
        if let Some(placeholder) = &job.placeholder {
            let _ = std::fs::remove_dir(placeholder);
        }
        let mut facts = std::mem::take(&mut job.facts);
        facts.duration = started.elapsed();
        facts.log = job.log_path.is_file().then(|| job.log_path.clone());
        (result, facts)
    }

    /// Whether something the build must see lies under the fixed mount point (a cache dir in
    /// `/build/...`, as some CI systems have): the mount would hide it, so such builds use the
    /// keyed host path instead.
    fn under_mount_root(&self, request: &BuildRequest) -> bool {
        let root = Path::new(paths::MOUNT_ROOT);
        let cache = std::fs::canonicalize(&self.options.cache_dir)
            .unwrap_or_else(|_| self.options.cache_dir.clone());
        std::iter::once(cache)
            .chain(interpreter_paths(&request.interpreter))
            .chain(self.options.toolchains.ro_paths())
            .any(|p| p.starts_with(root))
    }

    async fn build_in(
        &self,
        job: &mut BuildJob,
        request: &BuildRequest,
        started: Instant,
    ) -> Result<BuiltWheel, BuildError> {
        let interpreter = &request.interpreter;
        // 1.–5. Unpack, patch, vendor, provision `requires` and `get_requires_for_build_wheel`.
        let ready = self.make_ready(job, request).await?;
        let (mut backend_cpu, mut backend_wall, mut sandbox_wall) =
            (ready.backend_cpu, ready.backend_wall, ready.sandbox_wall);
        let config = ready.config.clone();
        // 6. build_wheel.
        let ctx = ready.context(self, job, request);
        let out = job.dir.join("out");
        let result = self
            .hook(
                job,
                &ctx,
                BuildStep::BuildWheel,
                serde_json::json!({ "wheel_directory": out, "config_settings": config }),
            )
            .await?;
        backend_cpu += result.hook_cpu;
        backend_wall += result.hook_wall;
        sandbox_wall += result.process_wall;
        let log_tail = result.log.report_tail();
        let returned = result
            .value
            .as_ref()
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let mut wheel = job.single_wheel(&out, &log_tail)?;
        if returned.as_deref() != wheel.file_name().and_then(|n| n.to_str()) {
            return Err(job.protocol(
                BuildStep::BuildWheel,
                format!(
                    "build_wheel returned {returned:?} but wrote {}",
                    wheel.display()
                ),
                &result.log,
            ));
        }
        // 7. Repair.
        if let Some(command) = &self.options.repair_command {
            wheel = self.repair(job, command, &wheel, &log_tail).await?;
        }
        // 7b. PEP 770: the build's SBOM inside the wheel.
        if let Some(sbom) = &request.sbom {
            let name = wheel.file_name().map(|n| n.to_string_lossy().into_owned());
            let crates = ready.vendored.as_ref().map_or(&[][..], |v| &v.crates[..]);
            let document = sbom.document(&name.unwrap_or_default(), &job.facts, crates);
            let epoch = job
                .facts
                .source_date_epoch
                .unwrap_or(DEFAULT_SOURCE_DATE_EPOCH);
            sbom::embed(&wheel, &document, epoch).map_err(|e| {
                job.io(
                    BuildStep::EmbedSbom,
                    "put the SBOM into the wheel",
                    std::io::Error::other(e),
                )
            })?;
        }
        // 8. Validate, then move out of the build dir.
        validate_built_wheel(
            &wheel,
            &request.name,
            &request.version,
            &interpreter.tags,
            &self.options.wheel_limits,
        )
        .map_err(|source| {
            job.fail(
                BuildStep::Validate,
                BuildErrorKind::Invalid {
                    source: Box::new(source),
                    log_tail: log_tail.clone(),
                },
            )
        })?;
        let dest_dir = self.options.cache_dir.join("built").join(&job.id);
        let dest = dest_dir.join(wheel.file_name().expect("wheel has a name"));
        std::fs::create_dir_all(&dest_dir)
            .and_then(|()| {
                std::fs::rename(&wheel, &dest).or_else(|_| std::fs::copy(&wheel, &dest).map(|_| ()))
            })
            .map_err(|source| {
                job.io(
                    BuildStep::Validate,
                    "move wheel out of the build dir",
                    source,
                )
            })?;
        Ok(BuiltWheel {
            path: dest,
            log_path: job.log_path.clone(),
            log_tail,
            backend_cpu,
            backend_wall,
            sandbox_wall,
            duration: started.elapsed(),
            env: ready.env.root,
            crates_fetched: ready.vendored.as_ref().map_or(0, |v| v.fetched),
            crates: ready.vendored.map(|v| v.crates).unwrap_or_default(),
        })
    }

    async fn vendor_crates(
        &self,
        job: &mut BuildJob,
        request: &BuildRequest,
        root: &Path,
    ) -> Result<Option<VendoredCrates>, BuildError> {
        let sdist = request
            .sdist
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let options = cargo::PrepareOptions {
            sdist: &sdist,
            cache_dir: &self.options.cache_dir,
            build_dir: &job.dir,
            build_path: self.options.toolchains.path_entries(),
            unpack: self.options.unpack,
            fetch_timeout: self.options.limits.timeout,
        };
        let vendored = cargo::prepare(root, &options).await.map_err(|source| {
            job.fail(
                BuildStep::VendorCrates,
                BuildErrorKind::Crates(Box::new(source)),
            )
        })?;
        if vendored.is_some() {
            let target = job.dir.join("cargo-target");
            std::fs::create_dir_all(&target).map_err(|source| {
                job.io(BuildStep::VendorCrates, "create CARGO_TARGET_DIR", source)
            })?;
            job.cargo_target = Some(target);
        }
        Ok(vendored)
    }

    /// This package's `build-constraints` first (the resolver takes the first pin of a
    /// name), then `--build-constraints`.
    fn constraints(&self, settings: &BuildSettings) -> Vec<BuildConstraint> {
        let own = settings.build_constraints.iter().filter_map(|r| {
            let Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) = &r.version_or_url else {
                return None;
            };
            Some(BuildConstraint {
                name: r.name.clone(),
                version: crate::version::pinned_version(specs)?,
                sha256: Vec::new(),
            })
        });
        own.chain(self.options.build_constraints.iter().cloned())
            .collect()
    }

    async fn resolve(
        &self,
        job: &BuildJob,
        constraints: &[BuildConstraint],
        requirements: &[Requirement],
        origin: &str,
        step: BuildStep,
    ) -> Result<Vec<ResolvedWheel>, BuildError> {
        resolve(
            self.source.as_ref(),
            &job.interpreter,
            constraints,
            requirements,
            origin,
        )
        .await
        .map_err(|source| job.fail(step, BuildErrorKind::Requirements(Box::new(source))))
    }

    /// Single-flight per environment: concurrent builds that need the same (interpreter,
    /// wheel set) wait for one provisioning instead of unpacking the same wheels twice. The
    /// unpacking itself runs off the async threads.
    async fn provision(
        &self,
        job: &BuildJob,
        interpreter: &Interpreter,
        wheels: &[ResolvedWheel],
    ) -> Result<BuildEnv, BuildError> {
        let wheels: Vec<EnvWheel> = wheels
            .iter()
            .map(|w| EnvWheel {
                path: w.path.clone(),
                sha256: w.sha256.clone(),
            })
            .collect();
        let key = env_key(interpreter, &wheels);
        let lock = Arc::clone(
            self.env_locks
                .lock()
                .expect("env locks")
                .entry(key)
                .or_default(),
        );
        let _guard = lock.lock().await;
        let cache_dir = self.options.cache_dir.clone();
        let interpreter = interpreter.clone();
        let provisioned =
            tokio::task::spawn_blocking(move || provision_env(&cache_dir, &interpreter, &wheels))
                .await
                .expect("provisioning does not panic");
        provisioned
            .map_err(|source| job.fail(BuildStep::Provision, BuildErrorKind::Env(Box::new(source))))
    }

    #[allow(clippy::too_many_arguments)]
    fn context(
        &self,
        job: &BuildJob,
        interpreter: &Interpreter,
        env: &BuildEnv,
        source_dir: &Path,
        system: &BuildSystem,
        backend_path: &[PathBuf],
        epoch: u64,
    ) -> HookContext {
        let home = job.dir.join("home");
        let tmp = job.dir.join("tmp");
        let toolchains = &self.options.toolchains;
        let mut path = vec![env.bin.clone()];
        path.extend(toolchains.path_entries().iter().cloned());
        path.extend([PathBuf::from("/usr/bin"), PathBuf::from("/bin")]);
        let path = std::env::join_paths(path)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| format!("{}:/usr/bin:/bin", env.bin.display()));
        let mut vars: Vec<(String, String)> = vec![
            ("PATH".into(), path),
            ("LANG".into(), "C.UTF-8".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            ("SOURCE_DATE_EPOCH".into(), epoch.to_string()),
            ("HOME".into(), home.display().to_string()),
            ("TMPDIR".into(), tmp.display().to_string()),
            ("PYTHONHASHSEED".into(), "0".into()),
            ("PIP_NO_INDEX".into(), "1".into()),
            ("PIP_NO_INPUT".into(), "1".into()),
            ("PIP_CONFIG_FILE".into(), "/dev/null".into()),
            ("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into()),
            ("GIT_ALLOW_PROTOCOL".into(), "file".into()),
            ("CARGO_NET_OFFLINE".into(), "true".into()),
        ];
        vars.extend(toolchains.env(&job.dir.join("cargo-home")));
        if let Some(target) = &job.cargo_target {
            vars.push(("CARGO_TARGET_DIR".into(), target.display().to_string()));
        }
        // `--build-env` replaces a variable of ours, except the compiler flags, which it extends.
        // The package's `env` comes after, and wins: both are the user's explicit settings.
        let package_env = job.env.iter().map(|(k, v)| (k.clone(), v.clone()));
        let explicit: Vec<(String, String)> = self
            .options
            .extra_env
            .iter()
            .cloned()
            .chain(package_env)
            .collect();
        for (key, value) in &explicit {
            match vars.iter_mut().find(|(k, _)| k == key) {
                Some((_, old)) => *old = value.clone(),
                None => vars.push((key.clone(), value.clone())),
            }
        }
        let prefix_maps =
            paths::prefix_map_flags(&paths::build_maps(&job.dir, &env.root, source_dir));
        for key in ["CFLAGS", "CXXFLAGS"] {
            paths::prepend_flags(&mut vars, key, &prefix_maps);
        }
        HookContext {
            python: env.python.clone(),
            source_dir: source_dir.to_path_buf(),
            control_dir: job.dir.join("control"),
            backend: system.backend.clone(),
            backend_path: backend_path.to_vec(),
            site_dirs: vec![env.site_packages.clone()],
            env: vars,
            ro_paths: interpreter_paths(interpreter)
                .into_iter()
                .chain([env.root.clone()])
                .chain(toolchains.ro_paths())
                .collect(),
            rw_paths: vec![job.dir.clone()],
            source_mount: job.source_mount.clone(),
            watch_dir: job.dir.clone(),
        }
    }

    async fn hook(
        &self,
        job: &BuildJob,
        ctx: &HookContext,
        step: BuildStep,
        kwargs: serde_json::Value,
    ) -> Result<hooks::HookResult, BuildError> {
        let name = match step {
            BuildStep::GetRequires => "get_requires_for_build_wheel",
            _ => "build_wheel",
        };
        call_hook(&job.sandbox, ctx, name, kwargs, &job.log_path)
            .await
            .map_err(|e| job.hook_error(step, e, &self.sandbox))
    }

    /// The repair tool (auditwheel, delocate) is trusted code of the user's choosing, installed
    /// on the host: it runs with the limits and a cleared environment, but outside the
    /// namespaces, so it can be found wherever it is installed.
    async fn repair(
        &self,
        job: &BuildJob,
        command: &str,
        wheel: &Path,
        log_tail: &str,
    ) -> Result<PathBuf, BuildError> {
        let dest_dir = job.dir.join("repaired");
        std::fs::create_dir_all(&dest_dir)
            .map_err(|source| job.io(BuildStep::Repair, "create repair dir", source))?;
        let script = command
            .replace("{wheel}", &shell_quote(&wheel.display().to_string()))
            .replace("{dest_dir}", &shell_quote(&dest_dir.display().to_string()));
        let plain = Sandbox::new(SandboxMode::Off, self.options.limits.clone())
            .map_err(|source| job.sandbox(BuildStep::Repair, source))?;
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        let cmd = SandboxCommand {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            cwd: job.dir.clone(),
            env: vec![
                ("PATH".into(), path),
                ("LC_ALL".into(), "C.UTF-8".into()),
                ("HOME".into(), job.dir.join("home").display().to_string()),
                ("TMPDIR".into(), job.dir.join("tmp").display().to_string()),
            ],
            ro_paths: Vec::new(),
            rw_paths: Vec::new(),
            source_mount: None,
            watch_dir: job.dir.clone(),
            log_path: job.log_path.clone(),
        };
        let outcome = plain
            .run(&cmd)
            .await
            .map_err(|source| job.sandbox(BuildStep::Repair, source))?;
        if outcome.termination != Termination::Exited(0) {
            let log_tail = outcome.log.report_tail();
            return Err(job.fail(
                BuildStep::Repair,
                BuildErrorKind::HookFailed {
                    termination: outcome.termination,
                    decisive: error::decisive(&log_tail, None),
                    log_tail,
                    log_path: job.log_path.clone(),
                },
            ));
        }
        job.single_wheel(
            &dest_dir,
            &format!("{log_tail}\n{}", outcome.log.report_tail()),
        )
    }
}

/// The package's `patches`, in order, outside the sandbox, right after unpacking (the applier
/// refuses paths outside the tree and symlinks on the way).
fn apply_patches(job: &BuildJob, request: &BuildRequest, root: &Path) -> Result<(), BuildError> {
    for patch in &request.settings.patches {
        apply_patch(root, patch).map_err(|source| {
            job.fail(BuildStep::Patch, BuildErrorKind::Patch(Box::new(source)))
        })?;
    }
    Ok(())
}

/// Interpreter directories the sandbox must see (read-only); `/usr` is bound anyway.
fn interpreter_paths(interpreter: &Interpreter) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = Vec::new();
    let exe_prefix = std::fs::canonicalize(&interpreter.executable)
        .ok()
        .and_then(|p| p.parent().and_then(Path::parent).map(Path::to_path_buf));
    for p in [
        Some(interpreter.base_prefix.clone()),
        Some(interpreter.sys_prefix.clone()),
        exe_prefix,
    ]
    .into_iter()
    .flatten()
    {
        let p = std::fs::canonicalize(&p).unwrap_or(p);
        if p.starts_with("/usr") || p == Path::new("/") || !p.exists() {
            continue;
        }
        if paths.iter().any(|q| p.starts_with(q)) {
            continue;
        }
        paths.retain(|q| !q.starts_with(&p));
        paths.push(p);
    }
    paths
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
