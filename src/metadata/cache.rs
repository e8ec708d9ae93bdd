//! Raw METADATA bytes in the cache dir, keyed by the sha256 of the file they came from:
//! `<cache>/metadata/wheel/<hh>/<sha256>` for wheels, `<cache>/metadata/sdist/<hh>/<sha256>`
//! for what an sdist's `prepare_metadata_for_build_wheel` (or its built wheel) gave. A file's
//! content never changes under its hash, so an entry never goes stale; a second run asks the
//! index nothing for it.
//!
//! Prepared metadata also depends on how the sdist is built (a `[package.NAME]` patch can
//! edit its dependencies): such entries are `<sha256>.<settings>` beside the plain one, where
//! `<settings>` is a [`SettingsKey`]. No settings, no suffix: the entries written before the
//! key existed stay valid.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::distribution::{MAX_METADATA_BYTES, Sha256};

/// Which file a cached METADATA describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    Wheel,
    Sdist,
    /// Why an sdist's metadata could not be prepared (a failed hook is no less a fact of
    /// the file than its metadata): `sdist-failed/<hh>/<sha256>.<key>`, the key over the
    /// settings and the interpreter (a hook may fail for one Python and not another).
    SdistFailure,
}

impl CacheKind {
    fn dir(self) -> &'static str {
        match self {
            CacheKind::Wheel => "wheel",
            CacheKind::Sdist => "sdist",
            CacheKind::SdistFailure => "sdist-failed",
        }
    }
}

/// What a prepared METADATA depends on besides the sdist (the build's settings), as 64 hex
/// digits; empty when nothing applies. Only hex makes a path component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsKey(Option<String>);

impl SettingsKey {
    /// The key of `identity`, which names the settings (e.g. their fingerprint); `None` or
    /// an empty identity is the sdist alone.
    pub fn of(identity: Option<&[u8]>) -> Self {
        use sha2::{Digest, Sha256};
        match identity {
            Some(bytes) if !bytes.is_empty() => {
                SettingsKey(Some(hex::encode(Sha256::digest(bytes))))
            }
            _ => SettingsKey(None),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
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
        self.path_for_keyed(kind, sha256, &SettingsKey::default())
    }

    /// The entry of `sha256` prepared under `key` (the plain path when the key is empty).
    pub fn path_for_keyed(&self, kind: CacheKind, sha256: &Sha256, key: &SettingsKey) -> PathBuf {
        let dir = self.root.join(kind.dir()).join(sha256.prefix());
        match &key.0 {
            None => dir.join(sha256.as_str()),
            Some(settings) => dir.join(format!("{}.{settings}", sha256.as_str())),
        }
    }

    /// The cached bytes, if an earlier run left them (a file larger than any METADATA is
    /// no entry of ours and is ignored).
    pub fn get(&self, kind: CacheKind, sha256: &Sha256) -> Option<Vec<u8>> {
        self.get_keyed(kind, sha256, &SettingsKey::default())
    }

    /// [`Self::get`] of the entry prepared under `key`.
    pub fn get_keyed(
        &self,
        kind: CacheKind,
        sha256: &Sha256,
        key: &SettingsKey,
    ) -> Option<Vec<u8>> {
        let file = std::fs::File::open(self.path_for_keyed(kind, sha256, key)).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        (bytes.len() as u64 <= MAX_METADATA_BYTES).then_some(bytes)
    }

    /// [`Self::get_keyed`] of an entry written less than `ttl` ago (remembered failures:
    /// unlike metadata, they may stop being true, e.g. once the machine has a toolchain).
    pub fn get_fresh(
        &self,
        kind: CacheKind,
        sha256: &Sha256,
        key: &SettingsKey,
        ttl: std::time::Duration,
    ) -> Option<Vec<u8>> {
        let path = self.path_for_keyed(kind, sha256, key);
        let age = std::fs::metadata(&path)
            .ok()?
            .modified()
            .ok()?
            .elapsed()
            .ok()?;
        (age < ttl).then(|| self.get_keyed(kind, sha256, key))?
    }

    /// Stores `bytes` atomically (a temp file renamed into place). A cache that cannot be
    /// written only costs the next run a fetch, so the error is the caller's to ignore.
    pub fn put(&self, kind: CacheKind, sha256: &Sha256, bytes: &[u8]) -> std::io::Result<()> {
        self.put_keyed(kind, sha256, &SettingsKey::default(), bytes)
    }

    /// [`Self::put`] of the entry prepared under `key`.
    pub fn put_keyed(
        &self,
        kind: CacheKind,
        sha256: &Sha256,
        key: &SettingsKey,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let path = self.path_for_keyed(kind, sha256, key);
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

    #[test]
    fn a_remembered_failure_is_fresh_only_within_its_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let cache = MetadataCache::new(dir.path());
        let sha = Sha256::new(&"ef".repeat(32)).unwrap();
        let key = SettingsKey::of(Some(b"cp311"));
        let day = std::time::Duration::from_secs(86_400);
        assert_eq!(
            cache.get_fresh(CacheKind::SdistFailure, &sha, &key, day),
            None
        );
        cache
            .put_keyed(CacheKind::SdistFailure, &sha, &key, b"hook failed")
            .unwrap();
        assert_eq!(
            cache
                .get_fresh(CacheKind::SdistFailure, &sha, &key, day)
                .as_deref(),
            Some(&b"hook failed"[..])
        );
        assert_eq!(
            cache.get_fresh(
                CacheKind::SdistFailure,
                &sha,
                &key,
                std::time::Duration::ZERO
            ),
            None
        );
        // Failures live beside the metadata, never in its place.
        assert_eq!(cache.get_keyed(CacheKind::Sdist, &sha, &key), None);
    }

    #[test]
    fn a_settings_key_is_its_own_entry_and_no_settings_is_the_plain_one() {
        let dir = tempfile::tempdir().unwrap();
        let cache = MetadataCache::new(dir.path());
        let sha = Sha256::new(&"cd".repeat(32)).unwrap();
        let plain = SettingsKey::of(None);
        assert_eq!(plain, SettingsKey::of(Some(b"")));
        assert_eq!(
            cache.path_for_keyed(CacheKind::Sdist, &sha, &plain),
            cache.path_for(CacheKind::Sdist, &sha)
        );
        cache.put(CacheKind::Sdist, &sha, b"plain").unwrap();
        let patched = SettingsKey::of(Some(b"fingerprint"));
        assert!(!patched.is_empty());
        assert_eq!(cache.get_keyed(CacheKind::Sdist, &sha, &patched), None);
        cache
            .put_keyed(CacheKind::Sdist, &sha, &patched, b"patched")
            .unwrap();
        assert_eq!(
            cache.get_keyed(CacheKind::Sdist, &sha, &patched).as_deref(),
            Some(&b"patched"[..])
        );
        assert_eq!(
            cache.get(CacheKind::Sdist, &sha).as_deref(),
            Some(&b"plain"[..])
        );
        let name = cache
            .path_for_keyed(CacheKind::Sdist, &sha, &patched)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let (digest, settings) = name.split_once('.').unwrap();
        assert_eq!(digest, sha.as_str());
        assert!(settings.len() == 64 && settings.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
