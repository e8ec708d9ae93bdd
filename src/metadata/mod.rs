//! Core metadata of distributions the resolver considers, read as cheaply as the index
//! allows (see `docs/metadata.md`):
//!
//! 1. the cache, by the file's sha256;
//! 2. the file itself when it is local already (a `file:` URL, or in the store);
//! 3. a PEP 658/714 metadata file (`<url>.metadata`), hash-checked when the index gives one;
//! 4. HTTP range requests into the wheel's central directory ([`range`]);
//! 5. the whole file, downloaded into the store (a later fetch then costs nothing).
//!
//! sdists go through the store and `prepare_metadata_for_build_wheel` in the sandbox
//! ([`crate::builder::Builder::prepare_metadata`]), with the settings the sdist's build would get
//! ([`PrepareSettings`]: a `[package.NAME]` patch may edit its dependencies), cached by the
//! sdist's sha256 and those settings. Whatever the way, the metadata must name the project
//! and version asked for (pip's `MetadataInconsistent` check).

mod cache;
mod failure;
mod index_source;
mod lenient;
pub mod range;
pub mod zip;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;
use url::Url;

use crate::builder::{BuildError, BuildRequest, Builder, ConfigSettings};
use crate::distribution::{
    CoreMetadata, MAX_METADATA_BYTES, MetadataError, Sha256, WheelError, read_wheel_metadata_bytes,
};
use crate::index::http::{status_error, transport_error};
use crate::index::{HttpClient, IndexFile, MetadataFile, redact};
use crate::interpreter::Interpreter;
use crate::package_settings::BuildSettings;
use crate::store::{Expected, Store, StoreError};

pub use cache::{CacheKind, MetadataCache, SettingsKey};
pub use index_source::{IndexMetadataSource, ProjectOptions, ResolutionCounts, SourceOptions};
pub use range::{RangeFailure, RangeRead};
pub use zip::{ZipLimits, ZipProblem};

/// How a METADATA was obtained (for logs, and for tests that prove the cheap way was taken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Obtained {
    /// From the metadata cache: nothing was asked.
    Cache,
    /// A PEP 658 metadata file.
    MetadataFile,
    /// Range requests into the wheel: how many, and the body bytes received.
    Range { requests: u32, received: u64 },
    /// The whole file, into the store; `why` the range path was not enough.
    Download { why: String },
    /// A `file:` URL (a find-links directory) or a file already in the store, read in place.
    Local,
    /// An sdist's `prepare_metadata_for_build_wheel`, or the METADATA of its built wheel.
    Prepared(crate::builder::PreparedFrom),
}

/// The metadata of one distribution file.
#[derive(Debug, Clone)]
pub struct FileMetadata {
    pub metadata: CoreMetadata,
    pub obtained: Obtained,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: the metadata file has sha256 {actual}, the index says {expected}")]
    HashMismatch {
        url: String,
        expected: Sha256,
        actual: Sha256,
    },
    #[error("{url}: {detail}")]
    MetadataFile { url: String, detail: String },
    #[error("{file}: invalid METADATA: {source}")]
    Invalid {
        file: String,
        #[source]
        source: MetadataError,
    },
    #[error("{file}: METADATA says {field} `{found}`, expected {expected} (inconsistent metadata)")]
    Inconsistent {
        file: String,
        field: &'static str,
        found: String,
        expected: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Wheel(#[from] WheelError),
    #[error(transparent)]
    Build(Box<BuildError>),
    #[error("{url} is not a local path")]
    NotLocal { url: String },
    /// An sdist whose metadata needs a build and no builder is available; `why` says why
    /// (none was set up, or no sandbox layer works).
    #[error("{file} is an sdist and its metadata cannot be prepared: {why}")]
    NoBuilder { file: String, why: NoBuilder },
    /// An earlier run's preparation of this sdist failed with the same settings for the
    /// same interpreter; it is not tried again (the cache entry says why).
    #[error("{file}: preparing its metadata failed in an earlier run: {why}")]
    Remembered { file: String, why: String },
}

/// Why there is no builder to prepare an sdist's metadata with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NoBuilder {
    #[error("no builder is set up")]
    NotSetUp,
    #[error("no sandbox to prepare it in: {0}")]
    NoSandbox(Arc<crate::builder::SandboxError>),
}

/// How long a failed preparation of an sdist's metadata is trusted, and whether to trust it
/// at all: `fill`'s `--failure-ttl` and `--retry-failed`, as for failed builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailurePolicy {
    pub ttl: std::time::Duration,
    pub retry: bool,
}

impl Default for FailurePolicy {
    /// `--failure-ttl`'s default, 7 days.
    fn default() -> Self {
        Self {
            ttl: std::time::Duration::from_secs(7 * 86_400),
            retry: false,
        }
    }
}

/// How an sdist's metadata is prepared: what its build would get, so that the metadata is
/// the built wheel's (pip prepares metadata in the same build environment it builds in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrepareSettings {
    /// The requirement line's `-C` then the package's `config-settings`, as the pipeline
    /// passes them to `build_wheel`.
    pub config_settings: ConfigSettings,
    /// The package's `[package.NAME]` settings (env, extra build requirements, build
    /// constraints, patches).
    pub settings: BuildSettings,
}

impl PrepareSettings {
    /// The cache key of these settings: empty when nothing applies (the sdist alone, as
    /// before settings counted), else over the settings' fingerprint (patch contents
    /// included) and the `config_settings`.
    pub fn key(&self) -> SettingsKey {
        if self.settings.is_empty() && self.config_settings.is_empty() {
            return SettingsKey::default();
        }
        let mut identity = self.settings.fingerprint().into_bytes();
        identity.push(0);
        identity.extend(serde_json::to_vec(&self.config_settings).unwrap_or_default());
        SettingsKey::of(Some(&identity))
    }

    /// The key of a failed preparation: these settings and the interpreter it was for.
    pub fn failure_key(&self, interpreter: &Interpreter) -> SettingsKey {
        let mut identity = self.settings.fingerprint().into_bytes();
        identity.push(0);
        identity.extend(serde_json::to_vec(&self.config_settings).unwrap_or_default());
        identity.push(0);
        identity.extend(interpreter.label.as_bytes());
        identity.push(0);
        identity.extend(
            interpreter
                .markers
                .python_full_version()
                .version
                .to_string()
                .as_bytes(),
        );
        SettingsKey::of(Some(&identity))
    }
}

/// Fetches and caches core metadata. Cheap to clone.
#[derive(Clone)]
pub struct MetadataFetcher {
    client: HttpClient,
    store: Store,
    cache: MetadataCache,
    limits: ZipLimits,
    /// The builder that prepares sdists' metadata, or why there is none.
    builder: Result<Arc<Builder>, NoBuilder>,
    config_settings: ConfigSettings,
    failures: FailurePolicy,
}

impl MetadataFetcher {
    pub fn new(client: HttpClient, store: Store, cache_dir: &std::path::Path) -> Self {
        Self {
            client,
            store,
            cache: MetadataCache::new(cache_dir),
            limits: ZipLimits::default(),
            builder: Err(NoBuilder::NotSetUp),
            config_settings: ConfigSettings::new(),
            failures: FailurePolicy::default(),
        }
    }

    /// How remembered failures of sdist preparations are trusted.
    pub fn with_failure_policy(mut self, failures: FailurePolicy) -> Self {
        self.failures = failures;
        self
    }

    /// sdists are prepared with this builder (and these `-C` settings).
    pub fn with_builder(mut self, builder: Arc<Builder>, config_settings: ConfigSettings) -> Self {
        self.builder = Ok(builder);
        self.config_settings = config_settings;
        self
    }

    /// sdists' metadata cannot be prepared, for this reason (e.g. no sandbox layer works).
    pub fn without_builder(mut self, why: NoBuilder) -> Self {
        self.builder = Err(why);
        self
    }

    pub fn with_limits(mut self, limits: ZipLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn cache(&self) -> &MetadataCache {
        &self.cache
    }

    /// The METADATA of `file`, a wheel of `name` `version`.
    pub async fn wheel(
        &self,
        name: &PackageName,
        version: &Version,
        file: &IndexFile,
    ) -> Result<FileMetadata, FetchError> {
        if let Some(found) = self.cached(CacheKind::Wheel, file.sha256.as_ref(), name, version) {
            return Ok(found);
        }
        let (bytes, obtained, sha256) = self.fetch_wheel(file).await?;
        let metadata = checked(&bytes, &file.filename, name, version)?;
        if let Some(sha) = sha256.as_ref().or(file.sha256.as_ref()) {
            // A cache that cannot be written costs the next run a fetch, nothing else.
            let _ = self.cache.put(CacheKind::Wheel, sha, &bytes);
        }
        Ok(FileMetadata { metadata, obtained })
    }

    /// The METADATA an sdist gives for `interpreter`'s wheel, from the cache (by the sdist's
    /// sha256) or prepared in the sandbox with the builder's `-C` settings and no package
    /// settings.
    pub async fn sdist(
        &self,
        name: &PackageName,
        version: &Version,
        file: &IndexFile,
        interpreter: &Arc<Interpreter>,
    ) -> Result<FileMetadata, FetchError> {
        let prepare = PrepareSettings {
            config_settings: self.config_settings.clone(),
            settings: BuildSettings::default(),
        };
        self.sdist_with(name, version, file, interpreter, &prepare)
            .await
    }

    /// [`Self::sdist`] prepared with `prepare` (the settings its build will use), cached by
    /// the sdist's sha256 and [`PrepareSettings::key`].
    pub async fn sdist_with(
        &self,
        name: &PackageName,
        version: &Version,
        file: &IndexFile,
        interpreter: &Arc<Interpreter>,
        prepare: &PrepareSettings,
    ) -> Result<FileMetadata, FetchError> {
        let key = prepare.key();
        if let Some(found) = self.cached_sdist(file.sha256.as_ref(), &key, name, version) {
            return Ok(found);
        }
        let failure_key = prepare.failure_key(interpreter);
        let remembered_failure = |sha256: Option<&Sha256>| {
            if self.failures.retry {
                return None;
            }
            let why = self.cache.get_fresh(
                CacheKind::SdistFailure,
                sha256?,
                &failure_key,
                self.failures.ttl,
            )?;
            Some(FetchError::Remembered {
                file: file.filename.to_string(),
                why: String::from_utf8_lossy(&why).into_owned(),
            })
        };
        if let Some(failed) = remembered_failure(file.sha256.as_ref()) {
            return Err(failed);
        }
        let builder = match &self.builder {
            Ok(builder) => builder,
            Err(why) => {
                return Err(FetchError::NoBuilder {
                    file: file.filename.to_string(),
                    why: why.clone(),
                });
            }
        };
        let stored = self.download(file).await?;
        if let Some(found) = self.cached_sdist(Some(&stored.sha256), &key, name, version) {
            return Ok(found);
        }
        if let Some(failed) = remembered_failure(Some(&stored.sha256)) {
            return Err(failed);
        }
        let prepared = builder
            .prepare_metadata(BuildRequest {
                sdist: stored.path.clone(),
                name: name.clone(),
                version: version.clone(),
                interpreter: Arc::clone(interpreter),
                config_settings: prepare.config_settings.clone(),
                source_date_epoch: None,
                settings: prepare.settings.clone(),
                sbom: None,
            })
            .await
            .map_err(|e| {
                if e.is_sdist_fault() {
                    // Not written: the next run tries again, nothing worse.
                    let _ = self.cache.put_keyed(
                        CacheKind::SdistFailure,
                        &stored.sha256,
                        &failure_key,
                        e.to_string().as_bytes(),
                    );
                }
                FetchError::Build(Box::new(e))
            })?;
        let metadata = checked(&prepared.metadata, &file.filename, name, version)?;
        let _ = self
            .cache
            .put_keyed(CacheKind::Sdist, &stored.sha256, &key, &prepared.metadata);
        Ok(FileMetadata {
            metadata,
            obtained: Obtained::Prepared(prepared.from),
        })
    }

    fn cached_sdist(
        &self,
        sha256: Option<&Sha256>,
        key: &SettingsKey,
        name: &PackageName,
        version: &Version,
    ) -> Option<FileMetadata> {
        let bytes = self.cache.get_keyed(CacheKind::Sdist, sha256?, key)?;
        parsed_entry(&bytes, name, version)
    }

    fn cached(
        &self,
        kind: CacheKind,
        sha256: Option<&Sha256>,
        name: &PackageName,
        version: &Version,
    ) -> Option<FileMetadata> {
        let bytes = self.cache.get(kind, sha256?)?;
        parsed_entry(&bytes, name, version)
    }

    /// The raw METADATA, how, and the file's sha256 when it was downloaded.
    async fn fetch_wheel(
        &self,
        file: &IndexFile,
    ) -> Result<(Vec<u8>, Obtained, Option<Sha256>), FetchError> {
        if file.url.scheme() == "file" {
            // A local file is read in place: nothing to save by cleverness.
            let path = file.url.to_file_path().map_err(|()| FetchError::NotLocal {
                url: file.url.to_string(),
            })?;
            let bytes = read_wheel_metadata_bytes(&path)?;
            return Ok((bytes, Obtained::Local, None));
        }
        if let Some(sha) = &file.sha256
            && let Some(stored) = self.store.lookup(sha, &file.filename)
        {
            // An earlier fetch left the file: reading it costs no request.
            let bytes = read_wheel_metadata_bytes(&stored.path)?;
            return Ok((bytes, Obtained::Local, None));
        }
        if let MetadataFile::Offered { sha256 } = &file.metadata_file
            && let Some(bytes) = self.metadata_file(&file.url, sha256.as_ref()).await?
        {
            return Ok((bytes, Obtained::MetadataFile, None));
        }
        let (stored, why) = match range::read_remote_metadata(
            &self.client,
            &file.url,
            file.size,
            self.limits,
        )
        .await
        {
            RangeRead::Metadata {
                bytes,
                requests,
                received,
            } => return Ok((bytes, Obtained::Range { requests, received }, None)),
            RangeRead::WholeFile(response) => {
                let stored = self
                    .store
                    .fetch_response(&file.url, response, &file.filename, &expected(file))
                    .await?;
                (stored, "the server ignores Range".to_string())
            }
            RangeRead::Unusable(failure) => (self.download(file).await?, failure.to_string()),
        };
        let bytes = read_wheel_metadata_bytes(&stored.path)?;
        Ok((bytes, Obtained::Download { why }, Some(stored.sha256)))
    }

    async fn download(&self, file: &IndexFile) -> Result<crate::store::StoredFile, StoreError> {
        self.store
            .fetch(&self.client, &file.url, &file.filename, &expected(file))
            .await
    }

    /// `<url>.metadata` (PEP 658). `None` when the index does not serve it after all (404),
    /// so the next way is tried; a body that does not match the listed hash is an error.
    async fn metadata_file(
        &self,
        url: &Url,
        sha256: Option<&Sha256>,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let mut metadata_url = url.clone();
        metadata_url.set_path(&format!("{}.metadata", url.path()));
        let shown = redact(&metadata_url);
        let fail = |detail: String| FetchError::MetadataFile {
            url: shown.clone(),
            detail,
        };
        let response = self
            .client
            .get(&metadata_url, "*/*")
            .await
            .map_err(|e| fail(e.to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(fail(
                status_error(&metadata_url, response).await.to_string(),
            ));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_METADATA_BYTES)
        {
            return Err(fail(format!("longer than {MAX_METADATA_BYTES} bytes")));
        }
        let mut bytes = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|e| fail(transport_error(&metadata_url, &e).to_string()))?;
            if (bytes.len() as u64).saturating_add(chunk.len() as u64) > MAX_METADATA_BYTES {
                return Err(fail(format!("longer than {MAX_METADATA_BYTES} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        if let Some(expected) = sha256 {
            use sha2::Digest;
            let actual = Sha256::from_digest(&sha2::Sha256::digest(&bytes).into());
            if actual != *expected {
                return Err(FetchError::HashMismatch {
                    url: shown,
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        Ok(Some(bytes))
    }
}

/// A cache entry as an answer: one that does not parse or names another release is none
/// (it is fetched or prepared again).
fn parsed_entry(bytes: &[u8], name: &PackageName, version: &Version) -> Option<FileMetadata> {
    let metadata = CoreMetadata::parse(bytes).ok()?;
    let same = metadata.package_name().ok().as_ref() == Some(name)
        && metadata.parsed_version().ok().as_ref() == Some(version);
    same.then_some(FileMetadata {
        metadata,
        obtained: Obtained::Cache,
    })
}

fn expected(file: &IndexFile) -> Expected {
    Expected {
        index_sha256: file.sha256.clone(),
        size: file.size,
        ..Expected::default()
    }
}

/// Parses METADATA and checks it names the release asked for.
fn checked(
    bytes: &[u8],
    filename: &crate::distribution::SafeFilename,
    name: &PackageName,
    version: &Version,
) -> Result<CoreMetadata, FetchError> {
    let file = filename.to_string();
    let invalid = |source| FetchError::Invalid {
        file: file.clone(),
        source,
    };
    let metadata = CoreMetadata::parse(bytes).map_err(invalid)?;
    let inconsistent = |field, found: &str, expected: String| FetchError::Inconsistent {
        file: file.clone(),
        field,
        found: found.to_string(),
        expected,
    };
    if metadata.package_name().map_err(invalid)? != *name {
        return Err(inconsistent("Name", &metadata.name, name.to_string()));
    }
    if metadata.parsed_version().map_err(invalid)? != *version {
        return Err(inconsistent(
            "Version",
            &metadata.version,
            version.to_string(),
        ));
    }
    Ok(metadata)
}
