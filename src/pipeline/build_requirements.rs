//! Under `--deps`, the wheels of the build requirements a build of this run used go to the
//! target as well: pip builds an sdist with build isolation by installing its build
//! requirements (PEP 517/518) from the index it was given, so a target filled with the
//! dependency closure serves them too. They are in the store already (the build environment
//! was provisioned from it); the lock (`--lock`) does not list them, as pip's hashes cover
//! only the runtime set.

use std::collections::BTreeSet;
use std::str::FromStr;

use crate::distribution::{SafeFilename, Sha256, read_wheel};
use crate::publish::Session;
use crate::report::JobResult;
use crate::store::Store;

/// Why a build requirement's wheel did not reach the target.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BuildRequirementError {
    #[error("build requirement {filename}: the build environment recorded a bad name or sha256")]
    BadRecord { filename: String },
    #[error("build requirement {filename} (sha256 {sha256}) is no longer in the store")]
    NotStored { filename: String, sha256: String },
    #[error("build requirement {filename}: {source}")]
    Read {
        filename: String,
        source: crate::distribution::WheelError,
    },
    #[error("build requirement {filename}: {source}")]
    Publish {
        filename: String,
        source: crate::publish::PublishError,
    },
}

/// Every (file name, sha256) installed into a build environment of this run's builds, once.
fn used_by(results: &[JobResult]) -> BTreeSet<(String, String)> {
    results
        .iter()
        .filter_map(|r| r.build.as_ref())
        .flat_map(|build| build.environment.iter())
        .map(|w| (w.filename.clone(), w.sha256.clone()))
        .collect()
}

impl super::Pipeline<'_> {
    /// Puts the build requirements of `results`' builds on the target (uploaded, or found
    /// there with the same sha256); returns what failed. Nothing under `--no-upload`.
    pub(crate) async fn publish_build_requirements(
        &self,
        results: &[JobResult],
    ) -> Vec<BuildRequirementError> {
        if self.settings.no_upload {
            return Vec::new();
        }
        let mut failed = Vec::new();
        for (filename, sha256) in used_by(results) {
            if let Err(error) = publish_one(&self.session, &self.store, &filename, &sha256).await {
                self.progress.line(&format!("failed   {error}"));
                failed.push(error);
            }
        }
        failed
    }
}

async fn publish_one(
    session: &Session<'_>,
    store: &Store,
    filename: &str,
    sha256: &str,
) -> Result<(), BuildRequirementError> {
    let bad = || BuildRequirementError::BadRecord {
        filename: filename.to_string(),
    };
    let name = SafeFilename::from_str(filename).map_err(|_| bad())?;
    let digest = Sha256::new(sha256).map_err(|_| bad())?;
    let stored = store
        .lookup(&digest, &name)
        .ok_or_else(|| BuildRequirementError::NotStored {
            filename: filename.to_string(),
            sha256: sha256.to_string(),
        })?;
    let path = stored.path.clone();
    let wheel = tokio::task::spawn_blocking(move || read_wheel(&path))
        .await
        .expect("wheel reading does not panic")
        .map_err(|source| BuildRequirementError::Read {
            filename: filename.to_string(),
            source,
        })?;
    session
        .publish(&stored, &wheel)
        .await
        .map(|_| ())
        .map_err(|source| BuildRequirementError::Publish {
            filename: filename.to_string(),
            source,
        })
}
