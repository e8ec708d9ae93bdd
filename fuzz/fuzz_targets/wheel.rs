//! A wheel archive whose WHEEL and RECORD (and METADATA) come from the input: reading and
//! validating it fails or succeeds, never panics. The input is split at the first two NUL
//! bytes into METADATA, WHEEL and RECORD.
#![no_main]

use std::io::Write;
use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use wheelwright::distribution::{TagSet, WheelLimits, read_wheel, validate_built_wheel};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0);
    let metadata = parts.next().unwrap_or_default();
    let wheel = parts.next().unwrap_or_default();
    let record = parts.next().unwrap_or_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x-1.0-py3-none-any.whl");
    let file = std::fs::File::create(&path).expect("create wheel");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in [
        ("x/__init__.py", &b""[..]),
        ("x-1.0.dist-info/METADATA", metadata),
        ("x-1.0.dist-info/WHEEL", wheel),
        ("x-1.0.dist-info/RECORD", record),
    ] {
        zip.start_file(name, options).expect("start member");
        zip.write_all(content).expect("write member");
    }
    zip.finish().expect("finish zip");
    let _ = read_wheel(&path);
    let name = pep508_rs::PackageName::from_str("x").expect("static name");
    let version = pep440_rs::Version::from_str("1.0").expect("static version");
    let tags = TagSet::from_strings(["py3-none-any"]).expect("static tag");
    let _ = validate_built_wheel(&path, &name, &version, &tags, &WheelLimits::default());
});
