//! Files the tests look at: sha256 digests, the wheels in a directory target, a wheel's
//! members.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The hex sha256 of a file's bytes.
pub(crate) fn sha256_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    hex::encode(Sha256::digest(bytes))
}

/// The wheel filenames in `dir`, sorted; a missing directory has none.
pub(crate) fn wheels(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".whl"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The one wheel in `dir`.
pub(crate) fn only_wheel(dir: &Path) -> PathBuf {
    let wheels = wheels(dir);
    assert_eq!(wheels.len(), 1, "{}: {wheels:?}", dir.display());
    dir.join(&wheels[0])
}

/// The bytes of the first member of `wheel` whose name ends with `suffix`.
pub(crate) fn wheel_member(wheel: &Path, suffix: &str) -> Vec<u8> {
    let file = std::fs::File::open(wheel).unwrap_or_else(|e| panic!("{}: {e}", wheel.display()));
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let name = archive
        .file_names()
        .flatten()
        .find(|n| n.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} in {}", wheel.display()))
        .to_string();
    let mut bytes = Vec::new();
    archive
        .by_name(&name)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}
