//! Property tests of what is read from distribution files and their names: filenames,
//! METADATA and WHEEL. Arbitrary input parses or fails with an error, never a panic; parsed
//! filenames print back as they were written.

use std::io::{Cursor, Write};
use std::path::Path;
use std::str::FromStr;

use pep508_rs::PackageName;
use proptest::prelude::*;
use zip::write::SimpleFileOptions;

use super::metadata::read_archive;
use super::{CoreMetadata, DistFilename, SafeFilename, Sha256, WheelFilename};

/// Filename-shaped text: wheel and sdist parts, dashes, dots, separators, digits.
fn filename_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("-".to_string()),
            Just(".".to_string()),
            Just("..".to_string()),
            Just("/".to_string()),
            Just("\\".to_string()),
            Just("_".to_string()),
            Just(".whl".to_string()),
            Just(".tar.gz".to_string()),
            Just(".zip".to_string()),
            Just("py3-none-any".to_string()),
            "[a-zA-Z]{1,5}",
            "[0-9]{1,25}",
            "\\PC{0,3}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

/// A wheel archive in memory with the given METADATA and WHEEL contents.
fn archive(metadata: &[u8], wheel: &[u8]) -> zip::ZipArchive<Cursor<Vec<u8>>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    for (name, content) in [
        ("x-1.0.dist-info/METADATA", metadata),
        ("x-1.0.dist-info/WHEEL", wheel),
    ] {
        zip.start_file(name, options).expect("start member");
        zip.write_all(content).expect("write member");
    }
    let bytes = zip.finish().expect("finish zip").into_inner();
    zip::ZipArchive::new(Cursor::new(bytes)).expect("read back zip")
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    #[test]
    fn wheel_filenames_print_back_as_written(text in filename_text()) {
        if let Ok(wheel) = WheelFilename::from_str(&text) {
            prop_assert_eq!(wheel.to_string(), text.clone());
            let _ = wheel.build_number();
        }
    }

    #[test]
    fn dist_filenames_never_panic(text in filename_text(), project in "[a-z]{1,3}") {
        let name = PackageName::from_str(&project).expect("valid name");
        if let Ok(Some(dist)) = DistFilename::try_parse(&text, &name) {
            prop_assert_eq!(dist.to_string(), text.clone());
            prop_assert_eq!(dist.name(), &name);
        }
    }

    #[test]
    fn accepted_filenames_are_one_safe_component(text in filename_text()) {
        if let Ok(safe) = SafeFilename::new(&text) {
            prop_assert_eq!(safe.as_str(), text.as_str());
            prop_assert!(!text.contains(['/', '\\']) && !text.contains(".."));
            prop_assert!(!text.starts_with('.') && !text.is_empty() && text.len() <= 255);
            prop_assert_eq!(safe.as_path().components().count(), 1);
            let json = serde_json::to_string(&safe).expect("serialise");
            prop_assert_eq!(serde_json::from_str::<SafeFilename>(&json).expect("deserialise"), safe);
        }
    }

    #[test]
    fn sha256_accepts_exactly_64_hex_digits(text in "[0-9a-fA-F]{0,70}|\\PC{0,70}") {
        let valid = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
        match Sha256::new(&text) {
            Ok(hash) => {
                prop_assert!(valid);
                prop_assert_eq!(hash.as_str(), text.to_ascii_lowercase());
                prop_assert_eq!(hash.prefix().len(), 2);
            }
            Err(_) => prop_assert!(!valid),
        }
    }

    #[test]
    fn metadata_never_panics(content in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = CoreMetadata::parse(&content);
    }

    #[test]
    fn metadata_headers_never_panic(lines in proptest::collection::vec("[A-Za-z-]{0,12}:?[ \\PC]{0,20}", 0..12)) {
        let text = lines.join("\n");
        if let Ok(meta) = CoreMetadata::parse(text.as_bytes()) {
            let _ = meta.package_name();
            let _ = meta.parsed_version();
            let _ = meta.upload_fields();
        }
    }

    #[test]
    fn wheel_files_never_panic(metadata in "\\PC{0,80}", wheel in "[A-Za-z:. \\n0-9-]{0,120}") {
        let filename = WheelFilename::from_str("x-1.0-py3-none-any.whl").expect("valid name");
        let mut zip = archive(
            format!("Metadata-Version: 2.1\nName: x\nVersion: 1.0\n{metadata}").as_bytes(),
            wheel.as_bytes(),
        );
        let _ = read_archive(Path::new("x-1.0-py3-none-any.whl"), filename, &mut zip);
    }
}
