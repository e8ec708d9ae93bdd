//! devpi index configurations (`?no_projects`: `type`, `bases` as a list or CSV, `mirror_cache_expiry`): parse or fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wheelwright::index::devpi::parse_index_config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = parse_index_config(text) {
        // What the upstream-state walk does with a base: `user/index` on the same server.
        for base in &config.bases {
            let _ = base.split_once('/');
        }
        let _ = format!("{config:?}");
    }
});
