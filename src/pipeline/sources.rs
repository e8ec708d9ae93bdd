//! The upstream as a source of build requirements: listings from the configured indexes,
//! files through the content-addressed store (hash-verified, reused across builds).

use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use pep508_rs::PackageName;

use crate::builder::{WheelSource, WheelSourceError};
use crate::index::{HttpClient, IndexFile, Upstream};
use crate::store::{Expected, Store};

pub(crate) struct UpstreamWheels {
    pub client: HttpClient,
    pub upstream: Arc<Upstream>,
    pub store: Store,
}

impl WheelSource for UpstreamWheels {
    fn list<'a>(
        &'a self,
        project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, WheelSourceError>> {
        Box::pin(async move {
            self.upstream
                .project_files(&self.client, project)
                .await
                .map(Option::unwrap_or_default)
                .map_err(WheelSourceError::from)
        })
    }

    fn fetch<'a>(
        &'a self,
        file: &'a IndexFile,
    ) -> BoxFuture<'a, Result<PathBuf, WheelSourceError>> {
        Box::pin(async move {
            let expected = Expected {
                index_sha256: file.sha256.clone(),
                size: file.size,
                ..Expected::default()
            };
            self.store
                .fetch(&self.client, &file.url, &file.filename, &expected)
                .await
                .map(|stored| stored.path)
                .map_err(WheelSourceError::from)
        })
    }
}
