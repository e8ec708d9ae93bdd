//! The content-addressed store: every downloaded or built file lives under its sha256, so a
//! retry re-sends the exact same bytes and a re-run reuses what an earlier run fetched.
//!
//! Layout: `<cache>/store/sha256/<hh>/<sha256>/<filename>`. A file enters the store only
//! complete and verified: it is streamed into `<cache>/store/tmp/`, hashed on the way, checked
//! against every expected digest, then renamed into place (atomic on one filesystem).

use std::path::{Path, PathBuf};

use futures::StreamExt;
use sha2::{Digest, Sha384, Sha512};
use thiserror::Error;
use tokio::io::AsyncWriteExt;
use url::Url;

use crate::distribution::{SafeFilename, Sha256};
use crate::index::http::{status_error, transport_error};
use crate::index::{HttpClient, redact};
use crate::requirements::{HashAlgorithm, HashDigest};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot download {url}: {detail}")]
    Download {
        url: String,
        detail: String,
        transient: bool,
        /// The server's `Retry-After`, when it answered a transient status with one.
        retry_after: Option<std::time::Duration>,
    },
    #[error("{filename}: sha256 {actual} does not match {expected_from} ({expected})")]
    HashMismatch {
        filename: String,
        actual: String,
        expected: String,
        expected_from: String,
    },
    #[error("cannot download {url}: {limit}; the partial file was discarded")]
    TooLong { url: String, limit: SizeLimit },
    #[error("store I/O at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The size a download must not exceed, and who set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLimit {
    /// PEP 700 `size` in the listing.
    Listed(u64),
    /// The response's `Content-Length`.
    ContentLength(u64),
    /// `--max-download-size`.
    Max(u64),
}

impl SizeLimit {
    pub fn bytes(self) -> u64 {
        match self {
            SizeLimit::Listed(n) | SizeLimit::ContentLength(n) | SizeLimit::Max(n) => n,
        }
    }

    /// The tightest of the limits that apply.
    fn tightest(limits: impl IntoIterator<Item = SizeLimit>) -> Option<SizeLimit> {
        limits.into_iter().min_by_key(|l| l.bytes())
    }
}

impl std::fmt::Display for SizeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SizeLimit::Listed(n) => {
                write!(f, "the body is longer than the listed size ({n} bytes)")
            }
            SizeLimit::ContentLength(n) => {
                write!(f, "the body is longer than its Content-Length ({n} bytes)")
            }
            SizeLimit::Max(n) => {
                write!(f, "the body is longer than --max-download-size ({n} bytes)")
            }
        }
    }
}

/// `--max-download-size` when not given: large enough for any real wheel (accelerator
/// wheels of several GiB exist), small enough to stop an endless body before the disk fills.
pub const DEFAULT_MAX_DOWNLOAD_SIZE: u64 = 20 << 30;

/// A size `--max-download-size` does not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("{0:?}: expected a size such as 500M or 20G")]
    Malformed(String),
    #[error("{0:?}: must be at least 1 byte and at most 16 EiB")]
    OutOfRange(String),
}

/// A size as `--max-download-size` takes it: a number of bytes, optionally with a K, M, G or
/// T suffix (powers of 1024; `KiB`, `MB` and friends are read the same way).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let trimmed = text.trim();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let (number, suffix) = trimmed.split_at(digits);
    let malformed = || SizeError::Malformed(text.to_string());
    let number: u64 = number.parse().map_err(|_| malformed())?;
    let shift = match suffix.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(malformed()),
    };
    number
        .checked_mul(1u64 << shift)
        .filter(|n| *n > 0)
        .ok_or_else(|| SizeError::OutOfRange(text.to_string()))
}

impl crate::retry::Transient for StoreError {
    fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Download {
                transient: true,
                ..
            }
        )
    }

    /// The server's `Retry-After` of a transient failure.
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            StoreError::Download { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A verified file in the store.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub path: PathBuf,
    pub filename: SafeFilename,
    pub sha256: Sha256,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    max_download_size: u64,
}

/// What a download must hash to: the index's sha256 and the requirement's `--hash`es.
#[derive(Debug, Default, Clone)]
pub struct Expected {
    pub index_sha256: Option<Sha256>,
    /// PEP 700 `size` from the listing: a longer body is cut off.
    pub size: Option<u64>,
    /// pip's hash-checking semantics: the file must match one of these (any algorithm).
    pub requirement_hashes: Vec<HashDigest>,
    /// Where the requirement hashes come from (`file:line`), for the error message.
    pub requirement_origin: String,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Store {
    pub fn new(cache_dir: &Path) -> Store {
        Store {
            root: cache_dir.join("store"),
            max_download_size: DEFAULT_MAX_DOWNLOAD_SIZE,
        }
    }

    /// Downloads longer than `bytes` are cut off and fail.
    pub fn with_max_download_size(mut self, bytes: u64) -> Store {
        self.max_download_size = bytes;
        self
    }

    /// Only typed values make a store path: a digest of 64 hex digits and a file name that
    /// is one safe path component.
    pub fn path_for(&self, sha256: &Sha256, filename: &SafeFilename) -> PathBuf {
        self.root
            .join("sha256")
            .join(sha256.prefix())
            .join(sha256.as_str())
            .join(filename.as_path())
    }

    /// The stored file with that hash and name, if an earlier run left it.
    pub fn lookup(&self, sha256: &Sha256, filename: &SafeFilename) -> Option<StoredFile> {
        let path = self.path_for(sha256, filename);
        let size = std::fs::metadata(&path).ok()?.len();
        Some(StoredFile {
            path,
            filename: filename.clone(),
            sha256: sha256.clone(),
            size,
        })
    }

    /// Downloads (or copies, for `file:` URLs) into the store, unless it is there already.
    /// Streams to disk: memory use does not depend on the file's size.
    pub async fn fetch(
        &self,
        client: &HttpClient,
        url: &Url,
        filename: &SafeFilename,
        expected: &Expected,
    ) -> Result<StoredFile, StoreError> {
        if let Some(sha) = &expected.index_sha256
            && let Some(found) = self.lookup(sha, filename)
        {
            // Verified on entry; the requirement's hashes may still differ.
            check_requirement_hashes(&found.path, filename, expected).await?;
            return Ok(found);
        }
        if url.scheme() == "file" {
            let source = url.to_file_path().map_err(|_| StoreError::Download {
                url: url.to_string(),
                detail: "not a local path".into(),
                transient: false,
                retry_after: None,
            })?;
            return self.copy_in(&source, filename, expected).await;
        }
        let response = client
            .reqwest()
            .get(url.clone())
            .headers(client.auth_headers(url))
            .send()
            .await
            .map_err(|e| download_error(url, &e))?;
        self.fetch_response(url, response, filename, expected).await
    }

    /// Streams an answer already received for `url` into the store (a server that ignored a
    /// range request sends the whole file: it is read once, here).
    pub async fn fetch_response(
        &self,
        url: &Url,
        response: reqwest::Response,
        filename: &SafeFilename,
        expected: &Expected,
    ) -> Result<StoredFile, StoreError> {
        if !response.status().is_success() {
            let transient = crate::retry::is_transient_status(response.status().as_u16());
            let retry_after = crate::retry::retry_after(&response);
            let detail = status_error(url, response).await.to_string();
            return Err(StoreError::Download {
                url: redact(url),
                detail,
                transient,
                retry_after,
            });
        }
        let limit = SizeLimit::tightest(
            [
                expected.size.map(SizeLimit::Listed),
                response.content_length().map(SizeLimit::ContentLength),
                Some(SizeLimit::Max(self.max_download_size)),
            ]
            .into_iter()
            .flatten(),
        );
        let too_long = |limit| StoreError::TooLong {
            url: redact(url),
            limit,
        };
        if let Some(limit @ (SizeLimit::Listed(_) | SizeLimit::Max(_))) = limit
            && response.content_length().is_some_and(|n| n > limit.bytes())
        {
            return Err(too_long(limit));
        }
        let mut incoming = self.incoming(expected).await?;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| download_error(url, &e))?;
            // Cut off at the limit: the temp file is removed when `incoming` is dropped.
            if let Some(limit) = limit
                && incoming.size.saturating_add(chunk.len() as u64) > limit.bytes()
            {
                return Err(too_long(limit));
            }
            incoming.write(&chunk).await?;
        }
        if let Some(listed) = expected.size
            && incoming.size != listed
        {
            return Err(StoreError::Download {
                url: redact(url),
                detail: format!(
                    "the body has {} bytes, the listing says {listed} (PEP 700 size)",
                    incoming.size
                ),
                transient: false,
                retry_after: None,
            });
        }
        incoming.finish(self, filename, expected).await
    }

    /// Puts a local file (a built wheel, a find-links file) into the store by content.
    pub async fn copy_in(
        &self,
        source: &Path,
        filename: &SafeFilename,
        expected: &Expected,
    ) -> Result<StoredFile, StoreError> {
        let mut input = tokio::fs::File::open(source)
            .await
            .map_err(io_err(source))?;
        let mut incoming = self.incoming(expected).await?;
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = tokio::io::AsyncReadExt::read(&mut input, &mut buffer)
                .await
                .map_err(io_err(source))?;
            if n == 0 {
                break;
            }
            incoming.write(&buffer[..n]).await?;
        }
        incoming.finish(self, filename, expected).await
    }

    async fn incoming(&self, expected: &Expected) -> Result<Incoming, StoreError> {
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(io_err(&tmp_dir))?;
        let tmp = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(&tmp_dir)
            .map_err(io_err(&tmp_dir))?;
        let (std_file, path) = tmp.into_parts();
        Ok(Incoming {
            file: tokio::fs::File::from_std(std_file),
            path,
            hashers: Hashers::new(expected),
            size: 0,
        })
    }
}

/// A file on its way into the store: written to a temp file and hashed as it streams.
struct Incoming {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    hashers: Hashers,
    size: u64,
}

impl Incoming {
    async fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.hashers.update(data);
        self.size += data.len() as u64;
        self.file.write_all(data).await.map_err(io_err(&self.path))
    }

    async fn finish(
        mut self,
        store: &Store,
        filename: &SafeFilename,
        expected: &Expected,
    ) -> Result<StoredFile, StoreError> {
        self.file.flush().await.map_err(io_err(&self.path))?;
        self.file.sync_all().await.map_err(io_err(&self.path))?;
        drop(self.file);
        let sha256 = self.hashers.verify(filename, expected)?;
        let dest = store.path_for(&sha256, filename);
        let parent = store
            .root
            .join("sha256")
            .join(sha256.prefix())
            .join(sha256.as_str());
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(io_err(&parent))?;
        self.path.persist(&dest).map_err(|e| StoreError::Io {
            path: dest.display().to_string(),
            source: e.error,
        })?;
        Ok(StoredFile {
            path: dest,
            filename: filename.clone(),
            sha256,
            size: self.size,
        })
    }
}

fn download_error(url: &Url, error: &reqwest::Error) -> StoreError {
    StoreError::Download {
        url: redact(url),
        detail: transport_error(url, error).to_string(),
        transient: crate::retry::TransportFailure::of(error).is_transient(),
        retry_after: None,
    }
}

pub async fn check_requirement_hashes(
    path: &Path,
    filename: &str,
    expected: &Expected,
) -> Result<(), StoreError> {
    if expected.requirement_hashes.is_empty() {
        return Ok(());
    }
    let mut hashers = Hashers::new(expected);
    let mut input = tokio::fs::File::open(path).await.map_err(io_err(path))?;
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = tokio::io::AsyncReadExt::read(&mut input, &mut buffer)
            .await
            .map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hashers.update(&buffer[..n]);
    }
    hashers.verify(filename, expected).map(|_| ())
}

/// sha256 always; sha384/sha512 only when a requirement's `--hash` asks for them.
struct Hashers {
    sha256: sha2::Sha256,
    sha384: Option<Sha384>,
    sha512: Option<Sha512>,
}

impl Hashers {
    fn new(expected: &Expected) -> Hashers {
        let wants = |algo: HashAlgorithm| {
            expected
                .requirement_hashes
                .iter()
                .any(|h| h.algorithm == algo)
        };
        Hashers {
            sha256: sha2::Sha256::new(),
            sha384: wants(HashAlgorithm::Sha384).then(Sha384::new),
            sha512: wants(HashAlgorithm::Sha512).then(Sha512::new),
        }
    }

    fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        if let Some(h) = &mut self.sha384 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(data);
        }
    }

    /// Returns the sha256 if every expectation holds.
    fn verify(self, filename: &str, expected: &Expected) -> Result<Sha256, StoreError> {
        let sha256 = Sha256::from_digest(&self.sha256.finalize().into());
        let sha384 = self.sha384.map(|h| hex::encode(h.finalize()));
        let sha512 = self.sha512.map(|h| hex::encode(h.finalize()));
        if let Some(index) = &expected.index_sha256
            && *index != sha256
        {
            return Err(StoreError::HashMismatch {
                filename: filename.to_string(),
                actual: sha256.to_string(),
                expected: index.to_string(),
                expected_from: "the index's sha256".into(),
            });
        }
        if !expected.requirement_hashes.is_empty() {
            // pip: the archive must match one of the listed hashes.
            let matches = expected.requirement_hashes.iter().any(|h| {
                let actual = match h.algorithm {
                    HashAlgorithm::Sha256 => Some(sha256.as_str()),
                    HashAlgorithm::Sha384 => sha384.as_deref(),
                    HashAlgorithm::Sha512 => sha512.as_deref(),
                };
                actual.is_some_and(|a| a.eq_ignore_ascii_case(&h.hex))
            });
            if !matches {
                let listed: Vec<String> = expected
                    .requirement_hashes
                    .iter()
                    .map(|h| h.to_string())
                    .collect();
                return Err(StoreError::HashMismatch {
                    filename: filename.to_string(),
                    actual: sha256.to_string(),
                    expected: listed.join(", "),
                    expected_from: format!("--hash in {}", expected.requirement_origin),
                });
            }
        }
        Ok(sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("20G"), Ok(20 << 30));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size(" 2k "), Ok(2048));
        for bad in ["", "G", "1.5G", "-1", "0", "20X", "99999999999T"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
        assert_eq!(DEFAULT_MAX_DOWNLOAD_SIZE, parse_size("20G").unwrap());
    }

    #[test]
    fn the_tightest_limit_wins() {
        let limit = SizeLimit::tightest([
            SizeLimit::Max(100),
            SizeLimit::Listed(10),
            SizeLimit::ContentLength(50),
        ]);
        assert_eq!(limit, Some(SizeLimit::Listed(10)));
    }

    #[test]
    fn store_paths_stay_under_the_store() {
        let store = Store::new(Path::new("/cache"));
        let sha = Sha256::new(&"ab".repeat(32)).unwrap();
        let name = SafeFilename::new("x-1.0-py3-none-any.whl").unwrap();
        assert_eq!(
            store.path_for(&sha, &name),
            Path::new("/cache/store/sha256/ab")
                .join("ab".repeat(32))
                .join("x-1.0-py3-none-any.whl")
        );
    }
}
