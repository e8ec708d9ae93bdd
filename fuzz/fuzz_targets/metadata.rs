//! METADATA / PKG-INFO: parse or fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wheelwright::distribution::CoreMetadata;

fuzz_target!(|data: &[u8]| {
    if let Ok(meta) = CoreMetadata::parse(data) {
        let _ = meta.package_name();
        let _ = meta.parsed_version();
        let _ = meta.upload_fields();
    }
});
