//! The vendored source the sandboxed build sees: every locked crate unpacked from the crate
//! cache into `<build dir>/cargo-vendor/NAME-VERSION/`, with the `.cargo-checksum.json` a
//! cargo `directory` source needs (`package` is the lock's checksum; `files` is empty, as the
//! bytes were verified as a whole before unpacking), and a `config.toml` in the build's own
//! `CARGO_HOME` that replaces the registry with it and turns the network off.

use std::path::{Path, PathBuf};

use super::CargoError;
use super::lock::LockedCrate;
use crate::builder::{UnpackLimits, unpack_sdist};

/// The name of the replacement source in the generated configuration.
const VENDORED: &str = "wheelwright-vendored";

/// Unpack `crates` (each with its verified `.crate` file) into `vendor`.
pub(super) fn vendor(
    crates: &[(LockedCrate, PathBuf)],
    vendor: &Path,
    limits: UnpackLimits,
) -> Result<(), CargoError> {
    let io = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| CargoError::Io { what, path, source }
    };
    std::fs::create_dir_all(vendor).map_err(io("create the vendor directory", vendor))?;
    for (krate, file) in crates {
        let dest = vendor.join(krate.dir_name());
        if dest.exists() {
            return Err(CargoError::DuplicateCrate {
                name: krate.name.clone(),
                version: krate.version.clone(),
            });
        }
        let scratch = tempfile::tempdir_in(vendor).map_err(io("create a scratch dir", vendor))?;
        let unpacked =
            unpack_sdist(file, scratch.path(), limits).map_err(|source| CargoError::Unpack {
                name: krate.name.clone(),
                version: krate.version.clone(),
                source: Box::new(source),
            })?;
        if unpacked.root.file_name() != Some(std::ffi::OsStr::new(&krate.dir_name())) {
            return Err(CargoError::CrateLayout {
                name: krate.name.clone(),
                version: krate.version.clone(),
            });
        }
        std::fs::rename(&unpacked.root, &dest).map_err(io("move a crate into place", &dest))?;
        let checksum = serde_json::json!({ "files": {}, "package": krate.checksum.hex() });
        std::fs::write(dest.join(".cargo-checksum.json"), checksum.to_string())
            .map_err(io("write .cargo-checksum.json", &dest))?;
    }
    Ok(())
}

/// The build's `CARGO_HOME/config.toml`: cargo's default registry (`crates-io`) replaced by
/// the vendored directory, and offline. The lock's registry is the default one whenever the
/// sdist's crates came from a public release; a crate from another registry is not found
/// and the build fails without network (see the module docs of `super`).
pub(super) fn config_toml(vendor: &Path) -> String {
    let dir = toml::Value::String(vendor.display().to_string());
    format!(
        "# Written by wheelwright: the crates of Cargo.lock, verified and vendored; no network.\n\
         [source.crates-io]\nreplace-with = \"{VENDORED}\"\n\n\
         [source.{VENDORED}]\ndirectory = {dir}\n\n\
         [net]\noffline = true\n"
    )
}
