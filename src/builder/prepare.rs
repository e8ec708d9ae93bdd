//! An sdist's core metadata without building it (PEP 517 `prepare_metadata_for_build_wheel`),
//! for a resolver that needs the `Requires-Dist` of a project that publishes no wheel. The
//! hook runs in the sandbox like every other, in the same build environment `build_wheel`
//! would get (a Rust build's crates vendored, `requires`, then
//! `get_requires_for_build_wheel`). A back end without the hook
//! gets what pip and `build` do then: the wheel is built and its METADATA read.

use std::path::PathBuf;

use super::hooks::{call_hook, read_regular_limited};
use super::{BuildError, BuildErrorKind, BuildJob, BuildRequest, BuildStep, Builder};
use crate::distribution::{MAX_METADATA_BYTES, read_wheel_metadata_bytes};

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
        let mut job = BuildJob::new(&self.options, &self.sandbox, &request, mounted)?;
        let prepared = self.prepare_in(&mut job, &request).await;
        if !self.options.keep_build_dir {
            let _ = std::fs::remove_dir_all(&job.dir);
        }
        if let Some(placeholder) = &job.placeholder {
            let _ = std::fs::remove_dir(placeholder);
        }
        let log_path = job.log_path.clone();
        // The build below takes a uid (and a build dir) of its own: this one's go back first.
        drop(job);
        if let Some(metadata) = prepared? {
            return Ok(PreparedMetadata {
                metadata,
                from: PreparedFrom::Hook,
                log_path,
            });
        }
        let built = self.build(request.clone()).await?;
        let metadata = read_wheel_metadata_bytes(&built.path).map_err(|e| {
            let kind = BuildErrorKind::Protocol {
                message: e.to_string(),
                log_tail: built.log_tail.clone(),
            };
            BuildError::new(&request.name, &request.version, BuildStep::Validate, kind)
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
        job: &mut BuildJob,
        request: &BuildRequest,
    ) -> Result<Option<Vec<u8>>, BuildError> {
        // The same preparation as `build_wheel`'s: patches, vendored crates, `requires`,
        // `extra-build-requires` and `get_requires_for_build_wheel`.
        let ready = self.make_ready(job, request).await?;
        let config = ready.config.clone();
        let ctx = ready.context(self, job, request);
        let out = job.dir.join("out");
        let step = BuildStep::PrepareMetadata;
        let result = call_hook(
            &job.sandbox,
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
                    && crate::distribution::SafeFilename::new(name).is_ok()
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
