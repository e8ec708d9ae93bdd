//! Validation against wheels written here with the zip crate.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use zip::write::SimpleFileOptions;

use super::*;
use crate::distribution::hash::{record_hash, sha256_reader};
use crate::distribution::{TagSet, WheelError};

type Row = [String; 3];

/// Writes a wheel with the given members plus a RECORD computed from them, after `tweak`
/// had its way with the rows.
fn write_wheel(
    dir: &Path,
    filename: &str,
    dist_info: &str,
    members: &[(&str, &[u8])],
    tweak: impl FnOnce(&mut Vec<Row>),
) -> PathBuf {
    let path = dir.join(filename);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = SimpleFileOptions::default();
    let mut rows: Vec<Row> = Vec::new();
    for (name, content) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
        let (digest, len) = sha256_reader(*content).unwrap();
        rows.push([name.to_string(), record_hash(&digest), len.to_string()]);
    }
    tweak(&mut rows);
    let record_name = format!("{dist_info}/RECORD");
    let mut record = String::new();
    for [a, b, c] in &rows {
        record.push_str(&format!("{a},{b},{c}\n"));
    }
    record.push_str(&format!("{record_name},,\n"));
    zip.start_file(record_name, options).unwrap();
    zip.write_all(record.as_bytes()).unwrap();
    zip.finish().unwrap();
    path
}

fn metadata(name: &str, version: &str) -> Vec<u8> {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\n\nBody\n")
        .into_bytes()
}

fn wheel_file(purelib: bool, tags: &[&str]) -> Vec<u8> {
    let mut s = format!("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {purelib}\n");
    for tag in tags {
        s.push_str(&format!("Tag: {tag}\n"));
    }
    s.into_bytes()
}

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A good pure wheel `foo_bar-1.0-py3-none-any.whl`, with per-case replacements.
    fn pure(
        &self,
        meta: &[u8],
        extra: &[(&str, &[u8])],
        tweak: impl FnOnce(&mut Vec<Row>),
    ) -> PathBuf {
        let wheel = wheel_file(true, &["py3-none-any"]);
        let mut members: Vec<(&str, &[u8])> = vec![
            ("foo_bar/__init__.py", b"print('hi')\n"),
            ("foo_bar-1.0.dist-info/METADATA", meta),
            ("foo_bar-1.0.dist-info/WHEEL", &wheel),
        ];
        members.extend_from_slice(extra);
        write_wheel(
            self.dir.path(),
            "foo_bar-1.0-py3-none-any.whl",
            "foo_bar-1.0.dist-info",
            &members,
            tweak,
        )
    }
}

fn tags() -> TagSet {
    TagSet::from_strings([
        "cp311-cp311-manylinux_2_17_x86_64",
        "cp311-abi3-manylinux_2_17_x86_64",
        "py3-none-any",
    ])
    .unwrap()
}

fn validate(path: &Path) -> Result<crate::distribution::WheelInfo, ValidationError> {
    validate_built_wheel(
        path,
        &PackageName::from_str("Foo.Bar").unwrap(),
        &Version::from_str("1.0.0").unwrap(),
        &tags(),
        &WheelLimits::default(),
    )
}

#[test]
fn good_wheel_passes_and_is_read() {
    let case = Case::new();
    let path = case.pure(&metadata("Foo_Bar", "1.0"), &[], |_| {});
    let info = validate(&path).unwrap();
    assert_eq!(info.metadata.summary.as_deref(), Some("test"));
    assert!(info.root_is_purelib);
    assert_eq!(info.wheel_tags, ["py3-none-any"]);
    assert_eq!(crate::distribution::read_wheel(&path).unwrap(), info);
}

#[test]
fn bad_record_hash() {
    let case = Case::new();
    let path = case.pure(&metadata("foo-bar", "1.0"), &[], |rows| {
        rows[0][1] = "sha256=AAAA".into();
    });
    let err = validate(&path).unwrap_err();
    assert!(matches!(err, ValidationError::HashMismatch { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("foo_bar-1.0-py3-none-any.whl: `foo_bar/__init__.py` has hash"),
        "{err}"
    );
}

#[test]
fn weak_hash_and_wrong_size() {
    let case = Case::new();
    let path = case.pure(&metadata("foo-bar", "1.0"), &[], |rows| {
        rows[0][1] = "md5=abc".into()
    });
    assert!(matches!(
        validate(&path),
        Err(ValidationError::UnsupportedRecordHash { .. })
    ));
    let case = Case::new();
    let path = case.pure(&metadata("foo-bar", "1.0"), &[], |rows| {
        rows[0][2] = "99".into()
    });
    let err = validate(&path).unwrap_err();
    assert!(
        err.to_string().contains("is 12 bytes but RECORD says 99"),
        "{err}"
    );
}

#[test]
fn file_missing_from_record_and_record_listing_a_missing_file() {
    let case = Case::new();
    let path = case.pure(&metadata("foo-bar", "1.0"), &[], |rows| {
        rows.remove(0);
    });
    let err = validate(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("`foo_bar/__init__.py` is not listed in RECORD"),
        "{err}"
    );
    let case = Case::new();
    let path = case.pure(&metadata("foo-bar", "1.0"), &[], |rows| {
        rows.push(["foo_bar/gone.py".into(), "sha256=x".into(), "1".into()]);
    });
    let err = validate(&path).unwrap_err();
    assert!(
        matches!(err, ValidationError::MissingFromArchive { ref member, .. } if member == "foo_bar/gone.py"),
        "{err}"
    );
}

#[test]
fn wrong_version_in_metadata() {
    let case = Case::new();
    let path = case.pure(&metadata("foo-bar", "2.0"), &[], |_| {});
    let err = validate(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wheel foo_bar-1.0-py3-none-any.whl: METADATA has Version `2.0` but the job is foo-bar 1.0.0"
    );
}

#[test]
fn wrong_version_or_name_in_filename() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_wheel(
        dir.path(),
        "foo_bar-2.0-py3-none-any.whl",
        "foo_bar-2.0.dist-info",
        &[],
        |_| {},
    );
    let err = validate(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wheel foo_bar-2.0-py3-none-any.whl has version 2.0 but the job is foo-bar 1.0.0"
    );
    let path = write_wheel(
        dir.path(),
        "other-1.0-py3-none-any.whl",
        "other-1.0.dist-info",
        &[],
        |_| {},
    );
    let err = validate(&path).unwrap_err();
    assert!(matches!(err, ValidationError::NameMismatch { .. }), "{err}");
}

#[test]
fn wrong_name_in_metadata() {
    let case = Case::new();
    let path = case.pure(&metadata("bar", "1.0"), &[], |_| {});
    let err = validate(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("METADATA has Name `bar` but the job is foo-bar 1.0.0"),
        "{err}"
    );
}

#[test]
fn purelib_and_tags_must_agree() {
    let dir = tempfile::tempdir().unwrap();
    let meta = metadata("foo-bar", "1.0");
    let tag = "cp311-cp311-manylinux_2_17_x86_64";
    let wheel = wheel_file(true, &[tag]);
    let path = write_wheel(
        dir.path(),
        &format!("foo_bar-1.0-{tag}.whl"),
        "foo_bar-1.0.dist-info",
        &[
            ("foo_bar-1.0.dist-info/METADATA", &meta),
            ("foo_bar-1.0.dist-info/WHEEL", &wheel),
        ],
        |_| {},
    );
    let err = validate(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("Root-Is-Purelib: true, which contradicts its tags"),
        "{err}"
    );
    // The same wheel with platlib passes.
    let wheel = wheel_file(false, &[tag]);
    let path = write_wheel(
        dir.path(),
        &format!("foo_bar-1.0-{tag}.whl"),
        "foo_bar-1.0.dist-info",
        &[
            ("foo_bar-1.0.dist-info/METADATA", &meta),
            ("foo_bar-1.0.dist-info/WHEEL", &wheel),
        ],
        |_| {},
    );
    validate(&path).unwrap();
    // A pure wheel in platlib is refused.
    let wheel = wheel_file(false, &["py3-none-any"]);
    let case = Case::new();
    let path = write_wheel(
        case.dir.path(),
        "foo_bar-1.0-py3-none-any.whl",
        "foo_bar-1.0.dist-info",
        &[
            ("foo_bar-1.0.dist-info/METADATA", &meta),
            ("foo_bar-1.0.dist-info/WHEEL", &wheel),
        ],
        |_| {},
    );
    assert!(matches!(
        validate(&path),
        Err(ValidationError::PurelibMismatch { purelib: false, .. })
    ));
}

#[test]
fn wheel_tags_must_match_filename_and_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let meta = metadata("foo-bar", "1.0");
    let wheel = wheel_file(true, &["py2-none-any"]);
    let path = write_wheel(
        dir.path(),
        "foo_bar-1.0-py3-none-any.whl",
        "foo_bar-1.0.dist-info",
        &[
            ("foo_bar-1.0.dist-info/METADATA", &meta),
            ("foo_bar-1.0.dist-info/WHEEL", &wheel),
        ],
        |_| {},
    );
    let err = validate(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("WHEEL lists tags [py2-none-any] but the filename has [py3-none-any]"),
        "{err}"
    );
    let wheel = wheel_file(false, &["cp311-cp311-win_amd64"]);
    let path = write_wheel(
        dir.path(),
        "foo_bar-1.0-cp311-cp311-win_amd64.whl",
        "foo_bar-1.0.dist-info",
        &[
            ("foo_bar-1.0.dist-info/METADATA", &meta),
            ("foo_bar-1.0.dist-info/WHEEL", &wheel),
        ],
        |_| {},
    );
    let err = validate(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wheel foo_bar-1.0-cp311-cp311-win_amd64.whl does not fit the target interpreter: \
         platform tag `win_amd64` is not supported"
    );
}

#[test]
fn dotdot_member_is_refused() {
    let case = Case::new();
    let path = case.pure(&metadata("foo-bar", "1.0"), &[("../evil.py", b"x")], |_| {});
    let err = validate(&path).unwrap_err();
    assert!(
        matches!(err, ValidationError::UnsafePath { ref member, .. } if member == "../evil.py"),
        "{err}"
    );
    assert!(super::is_unsafe_path("/etc/passwd"));
    assert!(super::is_unsafe_path("C:/x"));
    assert!(super::is_unsafe_path("a\\b"));
    assert!(!super::is_unsafe_path("foo_bar-1.0.data/scripts/x"));
}

#[test]
fn two_dist_info_dirs_are_refused() {
    let case = Case::new();
    let path = case.pure(
        &metadata("foo-bar", "1.0"),
        &[("other-1.0.dist-info/METADATA", b"x")],
        |_| {},
    );
    let err = validate(&path).unwrap_err();
    assert!(
        matches!(
            err,
            ValidationError::Read(WheelError::MultipleDistInfo { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "has 2 `.dist-info` directories (foo_bar-1.0.dist-info, other-1.0.dist-info)"
        ),
        "{err}"
    );
}

#[test]
fn dist_info_must_match_filename() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_wheel(
        dir.path(),
        "foo_bar-1.0-py3-none-any.whl",
        "foo_bar-1.1.dist-info",
        &[("foo_bar-1.1.dist-info/METADATA", b"")],
        |_| {},
    );
    let err = validate(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("has directory `foo_bar-1.1.dist-info`, but its filename says foo-bar 1.0"),
        "{err}"
    );
}

#[test]
fn limits_are_enforced() {
    let case = Case::new();
    let path = case.pure(&metadata("foo-bar", "1.0"), &[], |_| {});
    let check = |limits: WheelLimits| {
        validate_built_wheel(
            &path,
            &PackageName::from_str("foo-bar").unwrap(),
            &Version::from_str("1.0").unwrap(),
            &tags(),
            &limits,
        )
    };
    let small = WheelLimits {
        max_file_size: 10,
        ..WheelLimits::default()
    };
    assert!(matches!(
        check(small),
        Err(ValidationError::FileTooLarge { .. })
    ));
    let few = WheelLimits {
        max_members: 2,
        ..WheelLimits::default()
    };
    assert!(matches!(
        check(few),
        Err(ValidationError::TooManyMembers { count: 4, .. })
    ));
    let tiny = WheelLimits {
        max_uncompressed_size: 20,
        ..WheelLimits::default()
    };
    assert!(matches!(
        check(tiny),
        Err(ValidationError::UncompressedTooLarge { .. })
    ));
}

#[test]
fn csv_quoting() {
    let rows = super::parse_csv("a,b,c\r\n\"x,y\",\"q\"\"q\",3\n\n").unwrap();
    assert_eq!(rows[0], (1, vec!["a".to_string(), "b".into(), "c".into()]));
    assert_eq!(
        rows[1],
        (2, vec!["x,y".to_string(), "q\"q".into(), "3".into()])
    );
    assert_eq!(rows.len(), 2);
    assert!(super::parse_csv("\"open").is_err());
}
