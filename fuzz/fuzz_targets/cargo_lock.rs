//! A hostile sdist's `Cargo.lock`: parse or fail, never panic; every accepted crate's directory name is one plain path component and its checksum is 64 hex digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wheelwright::builder::parse_lock;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(crates) = parse_lock(text) {
        for locked in crates {
            let dir = locked.dir_name();
            assert!(!dir.is_empty() && !dir.starts_with('.'), "{dir:?}");
            assert!(
                !dir.contains(['/', '\\', '\0']) && !dir.contains(".."),
                "{dir:?}"
            );
            let hex = locked.checksum.hex();
            assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
});
