//! The resolver's [`MetadataSource`] over a real upstream: listings from the index sources
//! (fetched concurrently on the solver's `prefetch` hint), the file pip would install for
//! each (version, interpreter) chosen by the planner's own selection, and its metadata
//! through [`MetadataFetcher`].
//!
//! The trait is synchronous (pubgrub's provider is): the solve runs on a blocking thread
//! (`spawn_blocking`) and each answer is awaited there with the runtime's `Handle`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use super::{FetchError, MetadataFetcher};
use crate::index::{HttpClient, IndexError, IndexFile, Upstream};
use crate::interpreter::Interpreter;
use crate::plan::select::{Interp, UpstreamChoice, choose_upstream, dists};
use crate::resolve::listing::{Fit, candidates};
use crate::resolve::{Candidate, MetadataSource, SourceError};

/// pip's `--only-binary` / `--no-binary` as they bear on which file's metadata counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceOptions {
    pub binary_allowed: bool,
    pub source_allowed: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            binary_allowed: true,
            source_allowed: true,
        }
    }
}

/// Why the source could not answer.
#[derive(Debug, thiserror::Error)]
pub(super) enum SourceFailure {
    #[error("listing {name}: {source}")]
    Listing {
        name: PackageName,
        #[source]
        source: Arc<IndexError>,
    },
    #[error("{name} {version}: {why}")]
    NoFile {
        name: PackageName,
        version: Version,
        why: String,
    },
    #[error("{name} {version}: {source}")]
    Fetch {
        name: PackageName,
        version: Version,
        #[source]
        source: Box<FetchError>,
    },
    #[error("{name} {version}: {file} has Requires-Dist `{line}`, which is not PEP 508: {message}")]
    BadRequirement {
        name: PackageName,
        version: Version,
        file: String,
        line: String,
        message: String,
    },
}

type Files = Result<Arc<Vec<IndexFile>>, Arc<IndexError>>;

/// Listings and metadata for one interpreter.
pub struct IndexMetadataSource {
    handle: Handle,
    upstream: Arc<Upstream>,
    client: HttpClient,
    fetcher: MetadataFetcher,
    interpreter: Arc<Interpreter>,
    options: SourceOptions,
    listings: Mutex<HashMap<PackageName, Arc<OnceCell<Files>>>>,
    /// Versions whose METADATA Requires-Python excludes the interpreter, with why.
    excluded: Mutex<HashMap<(PackageName, Version), String>>,
    /// The tasks `prefetch` started.
    prefetching: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl IndexMetadataSource {
    pub fn new(
        handle: Handle,
        upstream: Arc<Upstream>,
        client: HttpClient,
        fetcher: MetadataFetcher,
        interpreter: Arc<Interpreter>,
        options: SourceOptions,
    ) -> Self {
        Self {
            handle,
            upstream,
            client,
            fetcher,
            interpreter,
            options,
            listings: Mutex::default(),
            excluded: Mutex::default(),
            prefetching: Mutex::default(),
        }
    }

    /// Waits until every task `prefetch` started has finished (tests; a caller that wants
    /// the warm cache before it reports).
    pub fn wait_for_prefetch(&self) {
        let tasks =
            std::mem::take(&mut *self.prefetching.lock().unwrap_or_else(|e| e.into_inner()));
        for task in tasks {
            let _ = self.handle.block_on(task);
        }
    }

    fn cell(&self, name: &PackageName) -> Arc<OnceCell<Files>> {
        let mut listings = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(listings.entry(name.clone()).or_default())
    }

    fn listing_task(
        &self,
        name: &PackageName,
    ) -> impl Future<Output = Files> + Send + 'static + use<> {
        let (upstream, client, name) = (
            Arc::clone(&self.upstream),
            self.client.clone(),
            name.clone(),
        );
        async move {
            match upstream.project_files(&client, &name).await {
                Ok(files) => Ok(Arc::new(files.unwrap_or_default())),
                Err(e) => Err(Arc::new(e)),
            }
        }
    }

    fn files(&self, name: &PackageName) -> Result<Arc<Vec<IndexFile>>, SourceFailure> {
        let cell = self.cell(name);
        let task = self.listing_task(name);
        self.handle
            .block_on(cell.get_or_init(|| task))
            .clone()
            .map_err(|source| SourceFailure::Listing {
                name: name.clone(),
                source,
            })
    }

    async fn requires(
        &self,
        name: &PackageName,
        version: &Version,
        files: &[IndexFile],
    ) -> Result<Vec<Requirement>, SourceFailure> {
        let listed = dists(files, name);
        let interp = Interp {
            label: &self.interpreter.label,
            tags: &self.interpreter.tags,
            python_full_version: &self.interpreter.markers.python_full_version().version,
        };
        let fetch = |source| SourceFailure::Fetch {
            name: name.clone(),
            version: version.clone(),
            source: Box::new(source),
        };
        // The solver offers a yanked version only for an exact pin, so its files count.
        let (file, metadata) = match choose_upstream(
            &listed,
            version,
            &interp,
            true,
            self.options.binary_allowed,
            self.options.source_allowed,
        ) {
            UpstreamChoice::Wheel(d) => (
                d.file,
                self.fetcher
                    .wheel(name, version, d.file)
                    .await
                    .map_err(fetch)?,
            ),
            UpstreamChoice::Sdist(d) => (
                d.file,
                self.fetcher
                    .sdist(name, version, d.file, &self.interpreter)
                    .await
                    .map_err(fetch)?,
            ),
            UpstreamChoice::Nothing(why) => {
                return Err(SourceFailure::NoFile {
                    name: name.clone(),
                    version: version.clone(),
                    why,
                });
            }
        };
        let python = &self.interpreter.markers.python_full_version().version;
        if let Some(rp) = &metadata.metadata.requires_python
            && !crate::build::python_admitted(rp, python)
        {
            let why = format!(
                "{} says Requires-Python `{rp}`, which excludes {} (Python {python})",
                file.filename, self.interpreter.label
            );
            self.excluded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((name.clone(), version.clone()), why);
        }
        metadata
            .metadata
            .requires_dist
            .iter()
            .map(|line| {
                Requirement::from_str(line).map_err(|e| SourceFailure::BadRequirement {
                    name: name.clone(),
                    version: version.clone(),
                    file: file.filename.to_string(),
                    line: line.clone(),
                    message: e.message.to_string(),
                })
            })
            .collect()
    }
}

impl MetadataSource for IndexMetadataSource {
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        let files = self.files(name)?;
        let fit = Fit {
            tags: &self.interpreter.tags,
            python_full_version: &self.interpreter.markers.python_full_version().version,
            sdists: self.options.source_allowed,
        };
        Ok(candidates(&files, name, &fit))
    }

    fn requires_dist(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, SourceError> {
        let files = self.files(name)?;
        Ok(self.handle.block_on(self.requires(name, version, &files))?)
    }

    fn unusable(&self, name: &PackageName, version: &Version) -> Option<String> {
        let excluded = self.excluded.lock().unwrap_or_else(|e| e.into_inner());
        excluded.get(&(name.clone(), version.clone())).cloned()
    }

    /// Starts the listings of `names` on the runtime; `candidates` later awaits the same
    /// cells, so each listing is fetched once. Then the METADATA of each project's newest
    /// wheel (the version the solver tries first) goes into the metadata cache, so that its
    /// `requires_dist` finds it there (uv guesses the same way).
    fn prefetch(&self, names: &[PackageName]) {
        for name in names {
            let cell = self.cell(name);
            if cell.initialized() {
                continue;
            }
            let task = self.listing_task(name);
            let warm = Warm {
                fetcher: self.fetcher.clone(),
                interpreter: Arc::clone(&self.interpreter),
                options: self.options,
                name: name.clone(),
            };
            let handle = self.handle.spawn(async move {
                if let Ok(files) = cell.get_or_init(|| task).await {
                    warm.newest(files).await;
                }
            });
            self.prefetching
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle);
        }
    }
}

/// What a prefetch task needs to warm the metadata cache for one project.
struct Warm {
    fetcher: MetadataFetcher,
    interpreter: Arc<Interpreter>,
    options: SourceOptions,
    name: PackageName,
}

impl Warm {
    /// The newest final release with a wheel that fits, when the listing gives its sha256
    /// (the cache key). Errors are left for the solver's own question to report.
    async fn newest(&self, files: &[IndexFile]) {
        let python = &self.interpreter.markers.python_full_version().version;
        let fit = Fit {
            tags: &self.interpreter.tags,
            python_full_version: python,
            sdists: false,
        };
        let Some(newest) = candidates(files, &self.name, &fit)
            .into_iter()
            .filter(|c| !c.yanked && !c.version.any_prerelease())
            .map(|c| c.version)
            .max()
        else {
            return;
        };
        let listed = dists(files, &self.name);
        let interp = Interp {
            label: &self.interpreter.label,
            tags: &self.interpreter.tags,
            python_full_version: python,
        };
        if let UpstreamChoice::Wheel(d) = choose_upstream(
            &listed,
            &newest,
            &interp,
            false,
            self.options.binary_allowed,
            false,
        ) && d.file.sha256.is_some()
        {
            let _ = self.fetcher.wheel(&self.name, &newest, d.file).await;
        }
    }
}
