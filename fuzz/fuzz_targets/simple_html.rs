//! PEP 503 HTML project pages: parse or fail, never panic; accepted names are safe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wheelwright::index::simple::parse_html;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let page = url::Url::parse("http://127.0.0.1/simple/x/").expect("static URL");
    if let Ok(listing) = parse_html(text, &page) {
        for file in listing.files {
            assert!(!file.filename.contains(['/', '\\']) && !file.filename.contains(".."));
        }
    }
});
