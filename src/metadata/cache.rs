//! Raw METADATA bytes in the cache dir, keyed by the sha256 of the file they came from:
//! `<cache>/metadata/wheel/<hh>/<sha256>` for wheels, `<cache>/metadata/sdist/<hh>/<sha256>`
//! for what an sdist's `prepare_metadata_for_build_wheel` (or its built wheel) gave. A file's
//! content never changes under its hash, so an entry never goes stale; a second run asks the
//! index nothing for it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::dist::{MAX_METADATA_BYTES, Sha256};

/// Which file a cached METADATA describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    Wheel,
    Sdist,
}

impl CacheKind {
    fn dir(self) -> &'static str {
        match self {
            CacheKind::Wheel => "wheel",
            CacheKind::Sdist => "sdist",
        }
    }
}

#[derive(Debug, Clone)]
pub struct MetadataCache {
    root: PathBuf,
}

impl MetadataCache {
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            root: cache_dir.join("metadata"),
        }
    }

    /// Only a typed digest makes a path.
    pub fn path_for(&self, kind: CacheKind, sha256: &Sha256) -> PathBuf {
        self.root
            .join(kind.dir())
            .join(sha256.prefix())
            .join(sha256.as_str())
    }

    /// The cached bytes, if an earlier run left them (a file larger than any METADATA is
    /// no entry of ours and is ignored).
    pub fn get(&self, kind: CacheKind, sha256: &Sha256) -> Option<Vec<u8>> {
        let file = std::fs::File::open(self.path_for(kind, sha256)).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        (bytes.len() as u64 <= MAX_METADATA_BYTES).then_some(bytes)
    }

    /// Stores `bytes` atomically (a temp file renamed into place). A cache that cannot be
    /// written only costs the next run a fetch, so the error is the caller's to ignore.
    pub fn put(&self, kind: CacheKind, sha256: &Sha256, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path_for(kind, sha256);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_by_kind_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        let cache = MetadataCache::new(dir.path());
        let sha = Sha256::new(&"ab".repeat(32)).unwrap();
        assert_eq!(cache.get(CacheKind::Wheel, &sha), None);
        cache
            .put(CacheKind::Wheel, &sha, b"Metadata-Version: 2.1\n")
            .unwrap();
        assert_eq!(
            cache.get(CacheKind::Wheel, &sha).as_deref(),
            Some(&b"Metadata-Version: 2.1\n"[..])
        );
        assert_eq!(cache.get(CacheKind::Sdist, &sha), None);
        assert!(
            cache
                .path_for(CacheKind::Sdist, &sha)
                .starts_with(dir.path().join("metadata/sdist/ab"))
        );
    }
}
