//! Wheel and sdist filenames and the safe path component: parse or fail, never panic;
//! parsed names print back as written.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use wheelwright::distribution::{DistFilename, SafeFilename, Sha256, WheelFilename};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(wheel) = WheelFilename::from_str(text) {
        assert_eq!(wheel.to_string(), text);
        let _ = wheel.build_number();
    }
    let project = pep508_rs::PackageName::from_str("x").expect("static name");
    if let Ok(Some(dist)) = DistFilename::try_parse(text, &project) {
        assert_eq!(dist.to_string(), text);
    }
    if let Ok(safe) = SafeFilename::new(text) {
        assert_eq!(safe.as_path().components().count(), 1);
    }
    if let Ok(hash) = Sha256::new(text) {
        assert_eq!(hash.len(), 64);
    }
});
