//! A local directory of dists as a [`WheelSource`] (`--find-links DIR`, test fixtures).

use std::path::PathBuf;

use futures::future::BoxFuture;
use pep508_rs::PackageName;

use super::{WheelSource, WheelSourceError};
use crate::distribution::{DistFilename, sha256_file};
use crate::index::IndexFile;

/// A local directory of dists (`--find-links DIR`, test fixtures).
#[derive(Debug, Clone)]
pub struct FindLinksDir {
    pub dir: PathBuf,
}

impl FindLinksDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

impl WheelSource for FindLinksDir {
    fn list<'a>(
        &'a self,
        project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, WheelSourceError>> {
        Box::pin(async move {
            let all = crate::index::read_directory(&self.dir)
                .await
                .map_err(WheelSourceError::from)?;
            Ok(all
                .into_iter()
                .filter(|file| DistFilename::parse(&file.filename, project).is_some())
                .collect())
        })
    }

    fn fetch<'a>(
        &'a self,
        file: &'a IndexFile,
    ) -> BoxFuture<'a, Result<PathBuf, WheelSourceError>> {
        Box::pin(async move {
            let path = file
                .url
                .to_file_path()
                .map_err(|_| WheelSourceError::NotLocal {
                    url: crate::index::SafeUrl::new(&file.url),
                })?;
            if let Some(expected) = &file.sha256 {
                let actual = sha256_file(&path).map_err(|source| WheelSourceError::Io {
                    what: format!("hash {}", path.display()),
                    source,
                })?;
                if !actual.eq_ignore_ascii_case(expected) {
                    return Err(WheelSourceError::HashMismatch {
                        path,
                        actual,
                        expected: expected.to_string(),
                    });
                }
            }
            Ok(path)
        })
    }
}
