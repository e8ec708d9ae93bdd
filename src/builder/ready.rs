//! What `build_wheel` and `prepare_metadata_for_build_wheel` both need first, done once for
//! either: the sdist unpacked and patched, `[build-system]` read, a Rust build's crates
//! vendored, the source placed where the sandbox sees it, and the build environment
//! provisioned over `requires`, `extra-build-requires` and what
//! `get_requires_for_build_wheel` adds (PEP 517's order, as pip and `build` follow it).

use std::path::{Path, PathBuf};
use std::time::Duration;

use pep508_rs::Requirement;

use super::hooks::HookContext;
use super::{
    BuildEnv, BuildError, BuildErrorKind, BuildJob, BuildRequest, BuildStep, BuildSystem, Builder,
    DEFAULT_SOURCE_DATE_EPOCH, LogSummary, VendoredCrates, apply_patches, missing, paths,
    read_build_system, unpack_sdist,
};

/// A build dir ready for its last hook.
pub(super) struct Ready {
    pub(super) env: BuildEnv,
    /// The source tree as the hooks see it (a fixed mount point under bubblewrap).
    pub(super) source: PathBuf,
    pub(super) system: BuildSystem,
    pub(super) backend_path: Vec<PathBuf>,
    pub(super) epoch: u64,
    /// `config_settings` as the hooks receive them.
    pub(super) config: serde_json::Value,
    pub(super) vendored: Option<VendoredCrates>,
    /// Time spent in `get_requires_for_build_wheel` (back end CPU, its own wall time, the
    /// sandboxed process's wall time).
    pub(super) backend_cpu: Duration,
    pub(super) backend_wall: Duration,
    pub(super) sandbox_wall: Duration,
}

impl Ready {
    /// The hook context for the last hook.
    pub(super) fn context(
        &self,
        builder: &Builder,
        job: &BuildJob,
        request: &BuildRequest,
    ) -> HookContext {
        builder.context(
            job,
            &request.interpreter,
            &self.env,
            &self.source,
            &self.system,
            &self.backend_path,
            self.epoch,
        )
    }
}

impl Builder {
    pub(super) async fn make_ready(
        &self,
        job: &mut BuildJob,
        request: &BuildRequest,
    ) -> Result<Ready, BuildError> {
        let interpreter = &request.interpreter;
        let unpacked = unpack_sdist(&request.sdist, &job.dir.join("src"), self.options.unpack)
            .map_err(|source| job.err_unpack(source))?;
        // The package's `patches`, before anything reads the tree.
        apply_patches(job, request, &unpacked.root)?;
        let mut system = read_build_system(&unpacked.root).map_err(|source| {
            job.fail(
                BuildStep::ReadPyproject,
                BuildErrorKind::Pyproject(Box::new(source)),
            )
        })?;
        // A Rust build's crates: fetched and verified outside the sandbox, vendored inside the
        // build dir (see `cargo`); the metadata hook may run cargo too (`cargo metadata`).
        let vendored = self.vendor_crates(job, request, &unpacked.root).await?;
        // Where the build sees its source: a fixed mount point under bubblewrap, otherwise the
        // (already fixed, keyed) host path.
        let source = if job.mounted() {
            let top = unpacked
                .root
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_default();
            job.source_mount = Some((job.dir.join("src"), PathBuf::from(paths::MOUNT_ROOT)));
            Path::new(paths::MOUNT_ROOT).join(top)
        } else {
            unpacked.root.clone()
        };
        // `extra-build-requires` join `requires` before resolution.
        system
            .requires
            .extend(request.settings.extra_build_requires.iter().cloned());
        let origin = format!("{} {}", request.name, request.version);
        let constraints = self.constraints(&request.settings);
        let wheels = self
            .resolve(
                job,
                &constraints,
                &system.requires,
                &origin,
                BuildStep::ResolveRequires,
            )
            .await?;
        let epoch = request
            .source_date_epoch
            .or(unpacked.newest_mtime)
            .unwrap_or(DEFAULT_SOURCE_DATE_EPOCH)
            .max(DEFAULT_SOURCE_DATE_EPOCH);
        job.facts.source_date_epoch = Some(epoch);
        let mut env = self.provision(job, interpreter, &wheels).await?;
        job.facts.environment = env.installed.clone();
        let backend_path: Vec<PathBuf> =
            system.backend_path.iter().map(|p| source.join(p)).collect();
        let config = serde_json::to_value(&request.config_settings).expect("serializable");
        let ctx = self.context(
            job,
            interpreter,
            &env,
            &source,
            &system,
            &backend_path,
            epoch,
        );
        let result = self
            .hook(
                job,
                &ctx,
                BuildStep::GetRequires,
                serde_json::json!({ "config_settings": config }),
            )
            .await?;
        let extra = match result.value {
            None => Vec::new(),
            Some(value) => extra_requires(job, value, &result.log)?,
        };
        // maturin asks for `puccinialin` (a compiler download) when no cargo is on PATH: the
        // sandbox has no network, so say what is missing instead of failing to resolve it.
        if let Some(missing) = missing::missing_in_requires(&extra) {
            return Err(job.fail(
                BuildStep::GetRequires,
                BuildErrorKind::Missing {
                    requested: "puccinialin".to_string(),
                    missing,
                    log_tail: result.log.report_tail(),
                },
            ));
        }
        // A second environment over the union.
        if !extra.is_empty() {
            let mut all = system.requires.clone();
            all.extend(extra);
            let wheels = self
                .resolve(
                    job,
                    &constraints,
                    &all,
                    &origin,
                    BuildStep::ResolveExtraRequires,
                )
                .await?;
            env = self.provision(job, interpreter, &wheels).await?;
            job.facts.environment = env.installed.clone();
        }
        Ok(Ready {
            env,
            source,
            system,
            backend_path,
            epoch,
            config,
            vendored,
            backend_cpu: result.hook_cpu,
            backend_wall: result.hook_wall,
            sandbox_wall: result.process_wall,
        })
    }
}

/// `get_requires_for_build_wheel`'s answer: a list of PEP 508 strings.
fn extra_requires(
    job: &BuildJob,
    value: serde_json::Value,
    log: &LogSummary,
) -> Result<Vec<Requirement>, BuildError> {
    let step = BuildStep::GetRequires;
    let list: Vec<String> = serde_json::from_value(value).map_err(|e| {
        job.protocol(
            step,
            format!("get_requires_for_build_wheel must return a list of strings: {e}"),
            log,
        )
    })?;
    list.iter()
        .map(|s| {
            crate::requirements::parse_requirement(s).map_err(|e| {
                job.protocol(
                    step,
                    format!("get_requires_for_build_wheel returned `{s}`: {}", e.message),
                    log,
                )
            })
        })
        .collect()
}
