//! requirements.txt: parse or fail with a located error, never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = wheelwright::requirements::parse_str(text, Path::new("/nonexistent/r.txt"), &|_| None);
});
