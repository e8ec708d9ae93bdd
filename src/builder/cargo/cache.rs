//! The crate cache, `<cache>/crates/<sha256>.crate`: content-addressed, shared by every build,
//! and read back only after its bytes hash to what the lock says.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::lock::{CrateChecksum, LockedCrate};
use super::{CargoError, ChecksumMismatch};

pub(super) struct CrateCache {
    dir: PathBuf,
}

impl CrateCache {
    pub(super) fn new(cache_dir: &Path) -> Self {
        Self {
            dir: cache_dir.join("crates"),
        }
    }

    fn path(&self, krate: &LockedCrate) -> PathBuf {
        self.dir.join(format!("{}.crate", krate.checksum.hex()))
    }

    /// The cached `.crate`, verified; `None` when not cached. A cached file whose bytes do not
    /// hash to its name is an error (the cache was tampered with or damaged), not a miss.
    pub(super) fn get(&self, krate: &LockedCrate) -> Result<Option<PathBuf>, CargoError> {
        let path = self.path(krate);
        if !path.is_file() {
            return Ok(None);
        }
        verify(krate, &path)?;
        Ok(Some(path))
    }

    /// Copy `from` into the cache after checking it against the lock.
    pub(super) fn insert(&self, krate: &LockedCrate, from: &Path) -> Result<PathBuf, CargoError> {
        verify(krate, from)?;
        let io = |what: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| CargoError::Io { what, path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io("create the crate cache", &self.dir))?;
        let dest = self.path(krate);
        // Whole or absent: copy next to the destination, then rename over it.
        let tmp = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(io("create a file in the crate cache", &self.dir))?;
        std::fs::copy(from, tmp.path()).map_err(io("copy into the crate cache", from))?;
        tmp.persist(&dest)
            .map_err(|e| io("store in the crate cache", &dest)(e.error))?;
        Ok(dest)
    }
}

/// The sha256 of a file.
pub(super) fn sha256(path: &Path) -> std::io::Result<CrateChecksum> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(CrateChecksum(hasher.finalize().into()))
}

/// `path` holds exactly the bytes the lock pins for `krate`.
pub(super) fn verify(krate: &LockedCrate, path: &Path) -> Result<(), CargoError> {
    let actual = sha256(path).map_err(|source| CargoError::Io {
        what: "read a crate",
        path: path.to_path_buf(),
        source,
    })?;
    if actual != krate.checksum {
        return Err(CargoError::ChecksumMismatch(Box::new(ChecksumMismatch {
            name: krate.name.clone(),
            version: krate.version.clone(),
            expected: krate.checksum,
            actual,
            path: path.to_path_buf(),
        })));
    }
    Ok(())
}
