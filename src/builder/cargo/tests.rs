//! The prepare step with in-memory crates: cache hits need no cargo, mismatches are caught
//! wherever the bytes come from, and the vendored directory is what cargo's `directory`
//! source expects.

use std::path::{Path, PathBuf};

use super::cache::{CrateCache, sha256};
use super::*;

/// A `.crate`: a gzipped tar of `<top>/Cargo.toml`.
fn crate_bytes(top: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let manifest = b"[package]\nname = \"tiny\"\nversion = \"1.0.0\"\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, format!("{top}/Cargo.toml"), &manifest[..])
        .unwrap();
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    gz.finish().unwrap()
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

fn locked(file: &Path) -> LockedCrate {
    LockedCrate {
        name: "tiny".into(),
        version: "1.0.0".into(),
        source: "registry+https://example.invalid/index".into(),
        checksum: sha256(file).unwrap(),
    }
}

#[test]
fn the_cache_stores_verified_bytes_and_refuses_tampered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        &dir.path().join("tiny-1.0.0.crate"),
        &crate_bytes("tiny-1.0.0"),
    );
    let krate = locked(&good);
    let cache = CrateCache::new(&dir.path().join("cache"));
    assert!(cache.get(&krate).unwrap().is_none());
    let bad = write(&dir.path().join("bad.crate"), b"not the locked bytes");
    assert!(matches!(
        cache.insert(&krate, &bad),
        Err(CargoError::ChecksumMismatch(_))
    ));
    assert!(
        cache.get(&krate).unwrap().is_none(),
        "a refused file was stored"
    );
    let stored = cache.insert(&krate, &good).unwrap();
    assert_eq!(
        stored.file_name().unwrap().to_string_lossy(),
        format!("{}.crate", krate.checksum.hex())
    );
    assert_eq!(cache.get(&krate).unwrap(), Some(stored.clone()));
    std::fs::write(&stored, b"tampered").unwrap();
    let err = cache.get(&krate).unwrap_err().to_string();
    assert!(
        err.contains("crate tiny 1.0.0") && err.contains(&krate.checksum.hex()),
        "{err}"
    );
}

#[test]
fn fetched_crates_are_found_in_the_download_cache_or_a_local_registry_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("cargo-home");
    let mirror = dir.path().join("mirror");
    let bytes = crate_bytes("tiny-1.0.0");
    let real = write(&mirror.join("tiny-1.0.0.crate"), &bytes);
    write(
        &home.join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"m\"\n[source.m]\nlocal-registry = {}\n",
            toml::Value::String(mirror.display().to_string())
        )
        .as_bytes(),
    );
    // An older download of other bytes under the same name, in cargo's download cache.
    write(
        &home.join("registry/cache/some-registry/tiny-1.0.0.crate"),
        b"other bytes",
    );
    let krate = locked(&real);
    let dirs = fetch::candidate_dirs(&home);
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    assert_eq!(fetch::find_fetched(&krate, &dirs).unwrap(), real);
    // Only the wrong file: a mismatch naming it; no file at all: not fetched.
    let only_wrong = &dirs[..1];
    assert!(matches!(
        fetch::find_fetched(&krate, only_wrong),
        Err(CargoError::ChecksumMismatch(m)) if m.path.starts_with(&home)
    ));
    assert!(matches!(
        fetch::find_fetched(&krate, &[]),
        Err(CargoError::NotFetched { .. })
    ));
}

#[test]
fn vendoring_unpacks_each_crate_with_the_lock_checksum_and_checks_its_layout() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir.path().join("tiny.crate"), &crate_bytes("tiny-1.0.0"));
    let krate = locked(&file);
    let vendor_dir = dir.path().join("vendor");
    vendor::vendor(
        &[(krate.clone(), file)],
        &vendor_dir,
        UnpackLimits::default(),
    )
    .unwrap();
    let checksum: serde_json::Value = serde_json::from_slice(
        &std::fs::read(vendor_dir.join("tiny-1.0.0/.cargo-checksum.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(checksum["package"], krate.checksum.hex());
    assert!(vendor_dir.join("tiny-1.0.0/Cargo.toml").is_file());
    let config: toml::Table = toml::from_str(&vendor::config_toml(&vendor_dir)).unwrap();
    assert_eq!(
        config["source"]["crates-io"]["replace-with"].as_str(),
        Some("wheelwright-vendored")
    );
    assert_eq!(
        config["source"]["wheelwright-vendored"]["directory"].as_str(),
        vendor_dir.to_str()
    );
    assert_eq!(config["net"]["offline"].as_bool(), Some(true));
    // A crate whose archive holds another name is refused.
    let odd = write(&dir.path().join("odd.crate"), &crate_bytes("other-9.9.9"));
    let err = vendor::vendor(
        &[(locked(&odd), odd)],
        &dir.path().join("vendor2"),
        UnpackLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, CargoError::CrateLayout { .. }), "{err}");
}

/// An unpacked sdist with a Rust manifest and, when `lock` is given, a `Cargo.lock`.
fn sdist_tree(dir: &Path, lock: Option<String>) -> PathBuf {
    let root = dir.join("ww_x-1.0");
    write(&root.join("Cargo.toml"), b"[package]\nname = \"ww-x\"\n");
    if let Some(lock) = lock {
        write(&root.join("Cargo.lock"), lock.as_bytes());
    }
    root
}

#[tokio::test]
async fn a_build_whose_crates_are_all_cached_runs_no_cargo_and_a_missing_lock_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir.path().join("tiny.crate"), &crate_bytes("tiny-1.0.0"));
    let krate = locked(&file);
    let cache_dir = dir.path().join("cache");
    CrateCache::new(&cache_dir).insert(&krate, &file).unwrap();
    let lock = format!(
        "version = 4\n[[package]]\nname = \"tiny\"\nversion = \"1.0.0\"\nsource = \"{}\"\n\
         checksum = \"{}\"\n[[package]]\nname = \"ww-x\"\nversion = \"1.0.0\"\n",
        krate.source, krate.checksum
    );
    let root = sdist_tree(&dir.path().join("a"), Some(lock));
    let build_dir = dir.path().join("build");
    std::fs::create_dir_all(build_dir.join("cargo-home")).unwrap();
    let options = PrepareOptions {
        sdist: "ww_x-1.0.tar.gz",
        cache_dir: &cache_dir,
        build_dir: &build_dir,
        // cargo fetch would fail on this manifest (it has no version): a cache hit runs none.
        build_path: &[],
        unpack: UnpackLimits::default(),
        fetch_timeout: std::time::Duration::from_secs(60),
    };
    let vendored = prepare(&root, &options).await.unwrap().unwrap();
    assert_eq!(vendored.crates, vec![krate]);
    assert_eq!(vendored.fetched, 0);
    assert!(vendored.vendor_dir.join("tiny-1.0.0/Cargo.toml").is_file());
    assert!(build_dir.join("cargo-home/config.toml").is_file());

    let root = sdist_tree(&dir.path().join("b"), None);
    let err = prepare(&root, &options).await.unwrap_err().to_string();
    assert!(
        err.contains("offline builds need a Cargo.lock")
            && err.contains("ww_x-1.0.tar.gz has Cargo.toml"),
        "{err}"
    );
    let plain = dir.path().join("c");
    std::fs::create_dir_all(&plain).unwrap();
    assert!(prepare(&plain, &options).await.unwrap().is_none());
}
