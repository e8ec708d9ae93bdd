use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine;
use pep440_rs::Version;
use pep508_rs::PackageName;
use sha2::Digest;

use super::{SBOM_NAME, embed};
use crate::distribution::{TagSet, WheelLimits, validate_built_wheel};

const DIST_INFO: &str = "demo_pkg-1.0.dist-info";
const DOCUMENT: &[u8] = b"{\"spdxVersion\": \"SPDX-2.3\"}\n";

fn row(name: &str, content: &[u8]) -> String {
    let digest = sha2::Sha256::digest(content);
    let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    format!("{name},sha256={hash},{}", content.len())
}

/// A wheel as a backend writes it: members with their RECORD rows, RECORD last, lines
/// ended by `newline`; `extra` members are added before RECORD.
fn wheel(dir: &Path, newline: &str, extra: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join("demo_pkg-1.0-py3-none-any.whl");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let time = zip::DateTime::from_date_and_time(2020, 2, 3, 4, 5, 6).unwrap();
    let options = zip::write::SimpleFileOptions::default().last_modified_time(time);
    let metadata = b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n";
    let wheel = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let mut members: Vec<(String, &[u8])> = vec![
        ("demo_pkg/__init__.py".into(), b"X = 1\n"),
        (format!("{DIST_INFO}/METADATA"), metadata),
        (format!("{DIST_INFO}/WHEEL"), wheel),
    ];
    members.extend(extra.iter().map(|(n, c)| (n.to_string(), *c)));
    let mut record = String::new();
    for (name, content) in &members {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(content).unwrap();
        record.push_str(&row(name, content));
        record.push_str(newline);
    }
    record.push_str(&format!("{DIST_INFO}/RECORD,,{newline}"));
    zip.start_file(format!("{DIST_INFO}/RECORD"), options)
        .unwrap();
    zip.write_all(record.as_bytes()).unwrap();
    zip.finish().unwrap();
    path
}

fn members(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().unwrap().to_string(), bytes)
        })
        .collect()
}

fn validates(path: &Path) {
    validate_built_wheel(
        path,
        &PackageName::from_str("demo-pkg").unwrap(),
        &Version::from_str("1.0").unwrap(),
        &TagSet::from_strings(["py3-none-any"]).unwrap(),
        &WheelLimits::default(),
    )
    .unwrap();
}

#[test]
fn the_document_is_added_with_its_record_row_and_the_rest_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = wheel(dir.path(), "\n", &[]);
    let before = members(&path);
    embed(&path, DOCUMENT, 315_532_800).unwrap();
    validates(&path);
    let after = members(&path);
    let sbom = format!("{DIST_INFO}/sboms/{SBOM_NAME}");
    let names: Vec<&str> = after.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "demo_pkg/__init__.py",
            &format!("{DIST_INFO}/METADATA"),
            &format!("{DIST_INFO}/WHEEL"),
            &sbom,
            &format!("{DIST_INFO}/RECORD"),
        ],
        "RECORD stays last"
    );
    assert_eq!(
        after[..3],
        before[..3],
        "the backend's members as they were"
    );
    assert_eq!(after[3].1, DOCUMENT);
    let record = String::from_utf8(after[4].1.clone()).unwrap();
    let old = String::from_utf8(before[3].1.clone()).unwrap();
    assert_eq!(record, format!("{old}{}\n", row(&sbom, DOCUMENT)));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let entry = zip.by_name(&sbom).unwrap();
    assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o644));
    let time = entry.last_modified().unwrap();
    assert_eq!((time.year(), time.month(), time.day()), (1980, 1, 1));
}

#[test]
fn the_same_wheel_and_document_give_the_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, second) = (wheel(a.path(), "\n", &[]), wheel(b.path(), "\n", &[]));
    embed(&first, DOCUMENT, 1_700_000_000).unwrap();
    embed(&second, DOCUMENT, 1_700_000_000).unwrap();
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );
}

#[test]
fn sboms_the_backend_wrote_are_kept_and_a_crlf_record_stays_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = format!("{DIST_INFO}/sboms/auditwheel.cdx.json");
    let path = wheel(dir.path(), "\r\n", &[(&theirs, b"{}")]);
    embed(&path, DOCUMENT, 315_532_800).unwrap();
    validates(&path);
    let after = members(&path);
    assert!(after.iter().any(|(n, c)| *n == theirs && c == b"{}"));
    let record = String::from_utf8(after.last().unwrap().1.clone()).unwrap();
    assert!(record.ends_with("\r\n"), "{record:?}");
    assert!(!record.replace("\r\n", "").contains('\n'), "{record:?}");

    // A document of our name already there is the backend's: kept, nothing added.
    let ours = format!("{DIST_INFO}/sboms/{SBOM_NAME}");
    let dir = tempfile::tempdir().unwrap();
    let path = wheel(dir.path(), "\n", &[(&ours, b"theirs")]);
    let before = std::fs::read(&path).unwrap();
    embed(&path, DOCUMENT, 315_532_800).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
