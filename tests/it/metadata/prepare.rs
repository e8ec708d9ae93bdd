//! sdists: `prepare_metadata_for_build_wheel` in the sandbox, and the built wheel's
//! METADATA for a back end without the hook.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wheelwright::index::{Source, Upstream};
use wheelwright::metadata::Obtained;

use super::{client, fetcher, file_named, name, python, runtime, version};
use crate::support::fixture_dist;

#[test]
fn an_sdist_only_project_gets_its_metadata_from_the_prepare_hook_once() {
    use wheelwright::builder::{Builder, BuilderOptions, FindLinksDir, PreparedFrom};
    wheelwright::builder::set_sandbox_launcher(env!("CARGO_BIN_EXE_wheelwright").into());
    let rt = runtime();
    let interpreter = Arc::new(
        rt.block_on(wheelwright::interpreter::probe(&python()))
            .expect("probe python3"),
    );
    let cache = tempfile::tempdir().unwrap();
    let builder = Arc::new(
        Builder::new(
            BuilderOptions::new(cache.path()),
            Arc::new(FindLinksDir::new(
                fixture_dist("ww_charlie-1.0.tar.gz").parent().unwrap(),
            )),
        )
        .expect("builder"),
    );
    let dist = crate::support::fixtures_dir().join("dist");
    let upstream = Upstream::new(vec![Source::directory(&dist)]);
    let files = rt
        .block_on(upstream.project_files(&client(), &name("ww-charlie")))
        .unwrap()
        .unwrap();
    let sdist = file_named(&files, "ww_charlie-1.0.tar.gz");
    let fetcher = fetcher(cache.path()).with_builder(builder, Default::default());
    let found = rt
        .block_on(fetcher.sdist(&name("ww-charlie"), &version("1.0"), sdist, &interpreter))
        .expect("prepared metadata");
    assert_eq!(found.obtained, Obtained::Prepared(PreparedFrom::Hook));
    assert_eq!(found.metadata.name, "ww-charlie");
    let again = rt
        .block_on(fetcher.sdist(&name("ww-charlie"), &version("1.0"), sdist, &interpreter))
        .expect("cached metadata");
    assert_eq!(again.obtained, Obtained::Cache);
    assert_eq!(again.metadata, found.metadata);
}

/// `ww_charlie-1.0.tar.gz` rebuilt with an in-tree back end that wraps the fixture back end
/// but has no `prepare_metadata_for_build_wheel`.
fn charlie_without_prepare_hook(dir: &Path) -> PathBuf {
    let original = std::fs::File::open(fixture_dist("ww_charlie-1.0.tar.gz")).unwrap();
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(original));
    let path = dir.join("ww_charlie-1.0.tar.gz");
    let out = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    let mut output = tar::Builder::new(out);
    let mut add = |name: &str, content: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        output.append_data(&mut header, name, content).unwrap();
    };
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        if name.ends_with("pyproject.toml") {
            content = String::from_utf8(content)
                .unwrap()
                .replace(
                    "build-backend = \"wheelwright_fixture_backend\"",
                    "build-backend = \"ww_nohook\"",
                )
                .into_bytes();
        }
        add(&name, &content);
    }
    add(
        "ww_charlie-1.0/_backend/ww_nohook.py",
        b"from wheelwright_fixture_backend import build_wheel, get_requires_for_build_wheel\n",
    );
    output.into_inner().unwrap().finish().unwrap();
    path
}

#[test]
fn a_back_end_without_the_prepare_hook_gets_its_metadata_from_the_built_wheel() {
    use wheelwright::builder::{Builder, BuilderOptions, FindLinksDir, PreparedFrom};
    wheelwright::builder::set_sandbox_launcher(env!("CARGO_BIN_EXE_wheelwright").into());
    let rt = runtime();
    let interpreter = Arc::new(
        rt.block_on(wheelwright::interpreter::probe(&python()))
            .expect("probe python3"),
    );
    let dists = tempfile::tempdir().unwrap();
    charlie_without_prepare_hook(dists.path());
    let cache = tempfile::tempdir().unwrap();
    let builder = Arc::new(
        Builder::new(
            BuilderOptions::new(cache.path()),
            Arc::new(FindLinksDir::new(dists.path())),
        )
        .expect("builder"),
    );
    let upstream = Upstream::new(vec![Source::directory(dists.path())]);
    let files = rt
        .block_on(upstream.project_files(&client(), &name("ww-charlie")))
        .unwrap()
        .unwrap();
    let fetcher = fetcher(cache.path()).with_builder(builder, Default::default());
    let found = rt
        .block_on(fetcher.sdist(
            &name("ww-charlie"),
            &version("1.0"),
            &files[0],
            &interpreter,
        ))
        .expect("metadata of the built wheel");
    assert_eq!(found.obtained, Obtained::Prepared(PreparedFrom::BuiltWheel));
    assert_eq!(found.metadata.name, "ww-charlie");
    assert_eq!(found.metadata.version, "1.0");
}
