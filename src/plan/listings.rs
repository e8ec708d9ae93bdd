//! What the planner asks of the indexes, behind one trait: the target's files of a project,
//! the pure index's, the upstream listing, and a file's Requires-Python read from its
//! content. [`IndexListings`] answers from the real indexes (with the serial-snapshot cache
//! and the store); the planner's unit tests answer from memory.

use std::future::Future;

use pep508_rs::PackageName;

use crate::distribution::requires_python_of;
use crate::index::snapshot::ListingCache;
use crate::index::{HttpClient, IndexError, IndexFile, Listing, Target, Upstream};
use crate::store::{Expected, Store};

/// The planner's view of the indexes. A project an index does not know reads as no files.
pub(crate) trait Listings: Sync {
    /// The target's files of `name`: the stage's own only (`own_only`), or with those a
    /// devpi stage inherits from its bases.
    fn target_files(
        &self,
        name: &PackageName,
        own_only: bool,
    ) -> impl Future<Output = Result<Vec<IndexFile>, IndexError>> + Send;

    /// The pure index's files of `name` (none when no pure index is configured).
    fn pure_files(
        &self,
        name: &PackageName,
        own_only: bool,
    ) -> impl Future<Output = Result<Vec<IndexFile>, IndexError>> + Send;

    /// Whether any upstream source is configured.
    fn has_upstream(&self) -> bool;

    /// Upstream's files of `name`, merged over the sources, with the entries refused at the
    /// index boundary.
    fn upstream_listing(
        &self,
        name: &PackageName,
    ) -> impl Future<Output = Result<Listing, IndexError>> + Send;

    /// Whether the content of remote files can be read (a store to download them into).
    fn reads_remote_files(&self) -> bool;

    /// The Requires-Python in the file's own metadata (wheel METADATA, sdist PKG-INFO);
    /// `None` when it has none or cannot be read (acquisition validates the file later).
    fn requires_python(&self, file: &IndexFile) -> impl Future<Output = Option<String>> + Send;

    /// How reports name the target.
    fn target_description(&self) -> String;

    /// The devpi stage (`user/index`) of the target, to tell inherited files from its own.
    fn target_stage(&self) -> Option<String>;
}

/// The real indexes: the target (its listings remembered while the devpi serial holds),
/// the pure index, upstream, and the store that remote files are read through.
pub(crate) struct IndexListings<'a> {
    pub client: &'a HttpClient,
    pub target: &'a Target,
    pub pure_index: Option<&'a Target>,
    pub upstream: &'a Upstream,
    /// Remembered target listings (devpi serial unchanged); see [`crate::index::snapshot`].
    pub cache: Option<&'a ListingCache>,
    /// Where remote files are downloaded to read a Requires-Python their listing lacks;
    /// `None` accepts such files as listed.
    pub store: Option<&'a Store>,
}

impl Listings for IndexListings<'_> {
    async fn target_files(
        &self,
        name: &PackageName,
        own_only: bool,
    ) -> Result<Vec<IndexFile>, IndexError> {
        let files = match self.cache.and_then(|cache| cache.get(name)) {
            Some(files) => files,
            None => {
                let files = self
                    .target
                    .project_files(self.client, name, own_only)
                    .await?;
                if let Some(cache) = self.cache {
                    cache.record(name, &files);
                }
                files
            }
        };
        Ok(files.unwrap_or_default())
    }

    async fn pure_files(
        &self,
        name: &PackageName,
        own_only: bool,
    ) -> Result<Vec<IndexFile>, IndexError> {
        match self.pure_index {
            Some(pure) => Ok(pure
                .project_files(self.client, name, own_only)
                .await?
                .unwrap_or_default()),
            None => Ok(Vec::new()),
        }
    }

    fn has_upstream(&self) -> bool {
        !self.upstream.is_empty()
    }

    async fn upstream_listing(&self, name: &PackageName) -> Result<Listing, IndexError> {
        Ok(self
            .upstream
            .project_listing(self.client, name)
            .await?
            .unwrap_or_default())
    }

    fn reads_remote_files(&self) -> bool {
        self.store.is_some()
    }

    async fn requires_python(&self, file: &IndexFile) -> Option<String> {
        let path = if file.url.scheme() == "file" {
            file.url.to_file_path().ok()?
        } else {
            let expected = Expected {
                index_sha256: file.sha256.clone(),
                ..Expected::default()
            };
            let stored = self
                .store?
                .fetch(self.client, &file.url, &file.filename, &expected)
                .await
                .ok()?;
            stored.path
        };
        tokio::task::spawn_blocking(move || requires_python_of(&path))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten()
    }

    fn target_description(&self) -> String {
        self.target.describe()
    }

    fn target_stage(&self) -> Option<String> {
        match self.target {
            Target::Devpi(index) => Some(index.stage()),
            _ => None,
        }
    }
}
