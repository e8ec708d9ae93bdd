//! An sdist's core metadata without building it (PEP 517 `prepare_metadata_for_build_wheel`),
//! for a resolver that needs the `Requires-Dist` of a project that publishes no wheel. The
//! hook runs in the sandbox like every other, in the same build environment `build_wheel`
//! would get (a Rust build's crates vendored, `requires`, then
//! `get_requires_for_build_wheel`). A back end without the hook
//! gets what pip and `build` do then: the wheel is built and its METADATA read.

use std::path::{Path, PathBuf};

use pep508_rs::Requirement;

use super::hooks::{call_hook, read_regular_limited};
use super::{
    BuildError, BuildRequest, BuildStep, Builder, DEFAULT_SOURCE_DATE_EPOCH, Job, paths,
    read_build_system, unpack_sdist,
};
use crate::dist::{MAX_METADATA_BYTES, read_wheel_metadata_bytes};

/// Where prepared metadata came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreparedFrom {
    /// `prepare_metadata_for_build_wheel`.
    Hook,
    /// The back end lacks the hook: the METADATA of the wheel built.
    BuiltWheel,
}

/// The METADATA bytes of an sdist for one interpreter.
#[derive(Debug, Clone)]
pub struct PreparedMetadata {
    pub metadata: Vec<u8>,
    pub from: PreparedFrom,
    pub log_path: PathBuf,
}

impl Builder {
    /// The core metadata `request`'s sdist would give its wheel.
    pub async fn prepare_metadata(
        &self,
        request: BuildRequest,
    ) -> Result<PreparedMetadata, BuildError> {
        let mounted = self.sandbox.supports_source_mount() && !self.under_mount_root(&request);
        let mut job = Job::new(&self.options, &request, mounted)?;
        let prepared = self.prepare_in(&mut job, &request).await;
        if !self.options.keep_build_dir {
            let _ = std::fs::remove_dir_all(&job.dir);
        }
        if let Some(placeholder) = &job.placeholder {
            let _ = std::fs::remove_dir(placeholder);
        }
        if let Some(metadata) = prepared? {
            return Ok(PreparedMetadata {
                metadata,
                from: PreparedFrom::Hook,
                log_path: job.log_path.clone(),
            });
        }
        let built = self.build(request.clone()).await?;
        let metadata =
            read_wheel_metadata_bytes(&built.path).map_err(|e| BuildError::Protocol {
                project: request.name.clone(),
                version: request.version.clone(),
                step: BuildStep::Validate,
                message: e.to_string(),
                log_tail: built.log_tail.clone(),
            })?;
        Ok(PreparedMetadata {
            metadata,
            from: PreparedFrom::BuiltWheel,
            log_path: built.log_path,
        })
    }

    /// `None` when the back end has no `prepare_metadata_for_build_wheel`.
    async fn prepare_in(
        &self,
        job: &mut Job,
        request: &BuildRequest,
    ) -> Result<Option<Vec<u8>>, BuildError> {
        let interpreter = &request.interpreter;
        let unpacked = unpack_sdist(&request.sdist, &job.dir.join("src"), self.options.unpack)
            .map_err(|source| job.err_unpack(source))?;
        let system = read_build_system(&unpacked.root).map_err(|source| BuildError::Pyproject {
            project: job.project.clone(),
            version: job.version.clone(),
            step: BuildStep::ReadPyproject,
            source: Box::new(source),
        })?;
        // A Rust build's crates, vendored as for `build_wheel`: a back end may run cargo in
        // this hook too (`cargo metadata`).
        self.vendor_crates(job, request, &unpacked.root).await?;
        let source = if job.mounted() {
            let top = unpacked.root.file_name().map(PathBuf::from);
            job.source_mount = Some((job.dir.join("src"), PathBuf::from(paths::MOUNT_ROOT)));
            Path::new(paths::MOUNT_ROOT).join(top.unwrap_or_default())
        } else {
            unpacked.root.clone()
        };
        let origin = format!("{} {}", request.name, request.version);
        let wheels = self
            .resolve(job, &system.requires, &origin, BuildStep::ResolveRequires)
            .await?;
        let mut env = self.provision(job, interpreter, &wheels).await?;
        let epoch = request
            .source_date_epoch
            .or(unpacked.newest_mtime)
            .unwrap_or(DEFAULT_SOURCE_DATE_EPOCH)
            .max(DEFAULT_SOURCE_DATE_EPOCH);
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
        // As in `build_wheel`'s preparation: a compiler download stands for a missing cargo.
        if let Some(missing) = super::missing::missing_in_requires(&extra) {
            return Err(BuildError::Missing {
                project: job.project.clone(),
                version: job.version.clone(),
                step: BuildStep::GetRequires,
                requested: "puccinialin".to_string(),
                missing,
                log_tail: result.log.report_tail(),
            });
        }
        if !extra.is_empty() {
            let mut all = system.requires.clone();
            all.extend(extra);
            let wheels = self
                .resolve(job, &all, &origin, BuildStep::ResolveExtraRequires)
                .await?;
            env = self.provision(job, interpreter, &wheels).await?;
        }
        let ctx = self.context(
            job,
            interpreter,
            &env,
            &source,
            &system,
            &backend_path,
            epoch,
        );
        let out = job.dir.join("out");
        let step = BuildStep::PrepareMetadata;
        let result = call_hook(
            &self.sandbox,
            &ctx,
            "prepare_metadata_for_build_wheel",
            serde_json::json!({ "metadata_directory": out, "config_settings": config }),
            &job.log_path,
        )
        .await
        .map_err(|e| job.hook_error(step, e, &self.sandbox))?;
        let Some(value) = result.value else {
            return Ok(None);
        };
        // PEP 517: the hook returns the basename of the `.dist-info` directory it made.
        let dist_info = value
            .as_str()
            .filter(|name| {
                name.ends_with(".dist-info")
                    && crate::dist::SafeFilename::new(name).is_ok()
                    && std::fs::symlink_metadata(out.join(name)).is_ok_and(|m| m.is_dir())
            })
            .ok_or_else(|| {
                job.protocol(
                    step,
                    format!(
                        "prepare_metadata_for_build_wheel must return the name of a \
                         `.dist-info` directory it made in metadata_directory, not {value}"
                    ),
                    &result.log,
                )
            })?;
        read_regular_limited(&out.join(dist_info).join("METADATA"), MAX_METADATA_BYTES)
            .map(Some)
            .ok_or_else(|| {
                job.protocol(
                    step,
                    format!(
                        "{dist_info}/METADATA is missing, not a regular file, or larger than \
                         {MAX_METADATA_BYTES} bytes"
                    ),
                    &result.log,
                )
            })
    }
}

/// `get_requires_for_build_wheel`'s answer: a list of PEP 508 strings.
fn extra_requires(
    job: &Job,
    value: serde_json::Value,
    log: &super::LogSummary,
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
            s.parse::<Requirement>().map_err(|e| {
                job.protocol(
                    step,
                    format!("get_requires_for_build_wheel returned `{s}`: {}", e.message),
                    log,
                )
            })
        })
        .collect()
}
