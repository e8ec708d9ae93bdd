//! The directory target's pages: both forms, the PEP 658 metadata files, the backfill of
//! wheels an older wheelwright placed, and no rewrite when nothing changed.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::str::FromStr;

use pep508_rs::PackageName;
use url::Url;

use super::{place, write_root_page};
use crate::distribution::{SafeFilename, Sha256, sha256_file};
use crate::index::MetadataFile;
use crate::index::simple::{parse_html, parse_json};
use crate::store::StoredFile;

fn metadata(version: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: {version}\nRequires-Python: >=3.8, <4\n\nLong\r\ntext\n"
    )
}

/// A wheel of `demo-pkg` in `dir`, whose METADATA is [`metadata`].
fn wheel(dir: &Path, version: &str) -> StoredFile {
    let filename = format!("demo_pkg-{version}-py3-none-any.whl");
    let path = dir.join(&filename);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let info = format!("demo_pkg-{version}.dist-info");
    zip.start_file(format!("{info}/METADATA"), options).unwrap();
    zip.write_all(metadata(version).as_bytes()).unwrap();
    zip.start_file(format!("{info}/WHEEL"), options).unwrap();
    zip.write_all(b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        .unwrap();
    zip.finish().unwrap();
    StoredFile {
        sha256: Sha256::new(&sha256_file(&path).unwrap()).unwrap(),
        size: std::fs::metadata(&path).unwrap().len(),
        filename: SafeFilename::new(&filename).unwrap(),
        path,
    }
}

fn project() -> PackageName {
    PackageName::from_str("demo-pkg").unwrap()
}

fn page(target: &Path, name: &str) -> (String, Url) {
    let path = target.join("simple/demo-pkg").join(name);
    (
        std::fs::read_to_string(&path).unwrap(),
        Url::from_file_path(&path).unwrap(),
    )
}

fn sha256_of(bytes: &[u8]) -> Sha256 {
    use sha2::Digest;
    Sha256::from_digest(&sha2::Sha256::digest(bytes).into())
}

#[test]
fn a_placed_wheel_gets_its_metadata_file_and_both_page_forms_name_it() {
    let store = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let stored = wheel(store.path(), "1.0");
    let before = crate::timestamp::Timestamp::now();
    place(target.path(), &project(), &stored, &[]).unwrap();
    write_root_page(target.path()).unwrap();

    let metadata_file = target.path().join("demo_pkg-1.0-py3-none-any.whl.metadata");
    let bytes = std::fs::read(&metadata_file).unwrap();
    assert_eq!(bytes, metadata("1.0").as_bytes(), "METADATA exactly");
    let metadata_sha = sha256_of(&bytes);

    let (json, url) = page(target.path(), "index.json");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["meta"]["api-version"], "1.1");
    assert_eq!(value["name"], "demo-pkg");
    assert_eq!(value["versions"], serde_json::json!(["1.0"]));
    assert!(value["files"][0].get("dist-info-metadata").is_none());
    let files = parse_json(&json, &url).unwrap().files;
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(
        file.url,
        Url::from_file_path(target.path().join("demo_pkg-1.0-py3-none-any.whl")).unwrap()
    );
    assert_eq!(file.sha256.as_ref(), Some(&stored.sha256));
    assert_eq!(file.size, Some(stored.size));
    assert_eq!(file.requires_python.as_deref(), Some(">=3.8, <4"));
    assert_eq!(
        file.metadata_file,
        MetadataFile::Offered {
            sha256: Some(metadata_sha.clone())
        }
    );
    let placed_at = file.upload_time.expect("upload-time");
    assert!(
        placed_at.unix_micros() + 2_000_000 >= before.unix_micros(),
        "{placed_at}"
    );
    assert!(json.contains("Z\""), "RFC 3339 with Z: {json}");

    let (html, url) = page(target.path(), "index.html");
    assert!(
        html.contains(&format!(
            "data-dist-info-metadata=\"sha256={metadata_sha}\""
        )),
        "{html}"
    );
    let files = parse_html(&html, &url).unwrap().files;
    assert_eq!(
        files[0].metadata_file,
        MetadataFile::Offered {
            sha256: Some(metadata_sha)
        }
    );
    assert_eq!(files[0].requires_python.as_deref(), Some(">=3.8, <4"));

    let root: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(target.path().join("simple/index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(root["projects"], serde_json::json!([{"name": "demo-pkg"}]));
}

/// An older wheelwright wrote the HTML page alone, with hashes only: the next placement into
/// the project completes every entry, the old wheel's metadata file included.
#[test]
fn wheels_an_older_version_placed_are_backfilled_when_their_page_is_written() {
    let store = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let old = wheel(store.path(), "1.0");
    std::fs::copy(&old.path, target.path().join(old.filename.as_path())).unwrap();
    let project_dir = target.path().join("simple/demo-pkg");
    std::fs::create_dir_all(&project_dir).unwrap();
    std::fs::write(
        project_dir.join("index.html"),
        format!(
            "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"></head><body>\n<a href=\"../../{0}#sha256={1}\">{0}</a><br>\n</body></html>\n",
            old.filename, old.sha256
        ),
    )
    .unwrap();

    place(target.path(), &project(), &wheel(store.path(), "2.0"), &[]).unwrap();

    let backfilled = target.path().join("demo_pkg-1.0-py3-none-any.whl.metadata");
    assert_eq!(
        std::fs::read(&backfilled).unwrap(),
        metadata("1.0").as_bytes()
    );
    let (json, url) = page(target.path(), "index.json");
    let files = parse_json(&json, &url).unwrap().files;
    assert_eq!(files.len(), 2);
    for file in &files {
        assert!(file.metadata_file.is_offered(), "{file:?}");
        assert!(
            file.size.is_some() && file.upload_time.is_some(),
            "{file:?}"
        );
    }
    assert_eq!(
        files[0].sha256.as_ref(),
        Some(&old.sha256),
        "the page's hash is kept"
    );
}

/// A placement that changes nothing rewrites no page; a wheel removed by hand leaves both
/// pages with its metadata file at the next placement.
#[test]
fn pages_are_rewritten_only_when_they_change_and_removed_wheels_take_their_metadata() {
    let store = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let one = wheel(store.path(), "1.0");
    let two = wheel(store.path(), "2.0");
    place(target.path(), &project(), &one, &[]).unwrap();
    place(target.path(), &project(), &two, &[]).unwrap();
    let inode = |name: &str| {
        std::fs::metadata(target.path().join("simple/demo-pkg").join(name))
            .unwrap()
            .ino()
    };
    let (json_before, html_before) = (inode("index.json"), inode("index.html"));
    place(target.path(), &project(), &two, &[]).unwrap();
    assert_eq!(
        (inode("index.json"), inode("index.html")),
        (json_before, html_before)
    );

    std::fs::remove_file(target.path().join(one.filename.as_path())).unwrap();
    place(target.path(), &project(), &two, &[]).unwrap();
    let (json, url) = page(target.path(), "index.json");
    let names: Vec<String> = parse_json(&json, &url)
        .unwrap()
        .files
        .iter()
        .map(|f| f.filename.to_string())
        .collect();
    assert_eq!(names, ["demo_pkg-2.0-py3-none-any.whl"]);
    assert!(
        !target
            .path()
            .join("demo_pkg-1.0-py3-none-any.whl.metadata")
            .exists()
    );
}
