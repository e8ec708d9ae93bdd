//! Requires-Python read from a distribution file itself, for listings that do not give it
//! (a find-links directory has no `data-requires-python`; an index may not record it). pip
//! then judges a candidate by the metadata inside the file, and so does wheelwright.
//!
//! Cheap by design: a wheel's zip central directory and its `*.dist-info/METADATA` only; an
//! sdist's `PKG-INFO` at the top of the archive (tar members are read in order until it).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::metadata::{
    MAX_METADATA_BYTES, find_dist_info, open_archive, read_member, wheel_filename,
};
use super::{CoreMetadata, MetadataError, WheelError};

/// PKG-INFO carries the long description; bounded like METADATA.
const MAX_PKG_INFO_BYTES: u64 = MAX_METADATA_BYTES;
/// Members looked at before giving up on finding `PKG-INFO` in an sdist.
const MAX_SDIST_MEMBERS: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum RequiresPythonError {
    #[error(transparent)]
    Wheel(#[from] WheelError),
    #[error("cannot read sdist {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("sdist {} has no top-level `PKG-INFO`", path.display())]
    NoPkgInfo { path: PathBuf },
    #[error("sdist {}: invalid `PKG-INFO`: {source}", path.display())]
    PkgInfo {
        path: PathBuf,
        #[source]
        source: MetadataError,
    },
    #[error("{} is neither a wheel nor a .tar.gz / .zip sdist", path.display())]
    Unknown { path: PathBuf },
}

/// The Requires-Python of the wheel or sdist at `path` (`None`: the file sets none).
pub fn requires_python_of(path: &Path) -> Result<Option<String>, RequiresPythonError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let metadata = if name.ends_with(".whl") {
        let filename = wheel_filename(path)?;
        let mut archive = open_archive(path)?;
        let member = format!("{}/METADATA", find_dist_info(path, &filename, &archive)?);
        let bytes = read_member(path, &mut archive, &member, MAX_METADATA_BYTES)?;
        CoreMetadata::parse(&bytes).map_err(|source| WheelError::Metadata {
            path: path.to_path_buf(),
            member,
            source,
        })?
    } else if name.ends_with(".tar.gz") {
        sdist_tar_pkg_info(path)?
    } else if name.ends_with(".zip") {
        sdist_zip_pkg_info(path)?
    } else {
        return Err(RequiresPythonError::Unknown {
            path: path.to_path_buf(),
        });
    };
    Ok(metadata
        .requires_python
        .map(|rp| rp.trim().to_string())
        .filter(|rp| !rp.is_empty()))
}

/// `{top}/PKG-INFO`: exactly one directory above it (PEP 517 sdist layout).
fn is_top_pkg_info(member: &str) -> bool {
    let mut parts = member.trim_start_matches("./").split('/');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(top), Some("PKG-INFO"), None) if !top.is_empty()
    )
}

fn parse_pkg_info(path: &Path, bytes: &[u8]) -> Result<CoreMetadata, RequiresPythonError> {
    CoreMetadata::parse(bytes).map_err(|source| RequiresPythonError::PkgInfo {
        path: path.to_path_buf(),
        source,
    })
}

fn sdist_tar_pkg_info(path: &Path) -> Result<CoreMetadata, RequiresPythonError> {
    let io = |source| RequiresPythonError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    for entry in archive.entries().map_err(io)?.take(MAX_SDIST_MEMBERS) {
        let entry = entry.map_err(io)?;
        let member = entry.path().map_err(io)?.to_string_lossy().into_owned();
        if !is_top_pkg_info(&member) || !entry.header().entry_type().is_file() {
            continue;
        }
        let mut bytes = Vec::new();
        entry
            .take(MAX_PKG_INFO_BYTES)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        return parse_pkg_info(path, &bytes);
    }
    Err(RequiresPythonError::NoPkgInfo {
        path: path.to_path_buf(),
    })
}

fn sdist_zip_pkg_info(path: &Path) -> Result<CoreMetadata, RequiresPythonError> {
    let mut archive = open_archive(path)?;
    let member = archive
        .file_names_raw()
        .filter_map(|name| std::str::from_utf8(name).ok())
        .find(|name| is_top_pkg_info(name))
        .map(str::to_string)
        .ok_or_else(|| RequiresPythonError::NoPkgInfo {
            path: path.to_path_buf(),
        })?;
    let bytes = read_member(path, &mut archive, &member, MAX_PKG_INFO_BYTES)?;
    parse_pkg_info(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/dist")
            .join(name)
    }

    #[test]
    fn reads_a_wheels_metadata_and_an_sdists_pkg_info() {
        let rp = |n: &str| requires_python_of(&fixture(n)).unwrap();
        assert_eq!(
            rp("ww_rp_only-2.0-py3-none-any.whl").as_deref(),
            Some(">=3.9")
        );
        assert_eq!(rp("ww_rp_only-2.0.tar.gz").as_deref(), Some(">=3.9"));
        assert_eq!(rp("ww_rp_only-1.0-py3-none-any.whl"), None);
        assert_eq!(rp("ww_rp_only-1.0.tar.gz"), None);
    }

    #[test]
    fn unreadable_files_are_errors_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("x-1.0-py3-none-any.whl");
        std::fs::write(&bad, b"not a zip").unwrap();
        let e = requires_python_of(&bad).unwrap_err();
        assert!(e.to_string().contains("x-1.0-py3-none-any.whl"), "{e}");
        let other = dir.path().join("x-1.0.exe");
        std::fs::write(&other, b"").unwrap();
        assert!(matches!(
            requires_python_of(&other),
            Err(RequiresPythonError::Unknown { .. })
        ));
        assert!(is_top_pkg_info("x-1.0/PKG-INFO"));
        assert!(!is_top_pkg_info("x-1.0/sub/PKG-INFO"));
        assert!(!is_top_pkg_info("PKG-INFO"));
    }
}
