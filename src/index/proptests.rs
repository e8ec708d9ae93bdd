//! Property tests of the listing parsers: any page, however hostile, parses or fails with an
//! error; it never panics, and every file it accepts has a name that is one safe path
//! component and, if any, a sha256 of 64 lowercase hex digits.

use proptest::prelude::*;
use url::Url;

use super::devpi::parse_project;
use super::file::{Listing, percent_decoded};
use super::simple::{parse_html, parse_json, unescape};

fn page() -> Url {
    Url::parse("http://127.0.0.1:3141/root/pypi/+simple/x/").expect("static URL")
}

/// Names and hrefs from the alphabet that matters: separators, dots, percent signs, control
/// and non-ASCII characters, hash fragments and wheel-like parts.
fn hostile_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("/".to_string()),
            Just("\\".to_string()),
            Just("..".to_string()),
            Just(".".to_string()),
            Just("%2F".to_string()),
            Just("%2e".to_string()),
            Just("%".to_string()),
            Just("#sha256=".to_string()),
            Just("&amp;".to_string()),
            Just("&#x2F;".to_string()),
            Just("x-1.0-py3-none-any.whl".to_string()),
            Just("-".to_string()),
            "[a-f0-9]{1,70}",
            "\\PC{0,4}",
            "[\\x00-\\x1f]",
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

fn assert_typed(listing: &Listing) {
    for file in &listing.files {
        let name = file.filename.as_str();
        assert!(!name.is_empty() && name.len() <= 255, "{name:?}");
        assert!(!name.contains(['/', '\\']), "{name:?}");
        assert!(!name.contains(".."), "{name:?}");
        assert!(!name.starts_with('.'), "{name:?}");
        assert!(!name.chars().any(char::is_control), "{name:?}");
        if let Some(hash) = &file.sha256 {
            assert_eq!(hash.len(), 64);
            assert!(
                hash.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
    }
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    #[test]
    fn html_pages_never_panic(body in "\\PC{0,400}") {
        if let Ok(listing) = parse_html(&body, &page()) {
            assert_typed(&listing);
        }
    }

    #[test]
    fn html_anchors_are_typed(anchors in proptest::collection::vec((hostile_text(), hostile_text()), 0..6)) {
        let mut body = String::from("<html><body>");
        for (href, text) in &anchors {
            body.push_str(&format!("<a href=\"{href}\">{text}</a>"));
        }
        if let Ok(listing) = parse_html(&body, &page()) {
            assert_typed(&listing);
        }
    }

    #[test]
    fn json_pages_never_panic(body in "\\PC{0,400}") {
        if let Ok(listing) = parse_json(&body, &page()) {
            assert_typed(&listing);
        }
    }

    #[test]
    fn json_files_are_typed(files in proptest::collection::vec((hostile_text(), hostile_text(), hostile_text(), any::<i64>()), 0..6)) {
        let files: Vec<serde_json::Value> = files
            .iter()
            .map(|(name, url, hash, size)| serde_json::json!({
                "filename": name, "url": url, "hashes": {"sha256": hash}, "size": size,
            }))
            .collect();
        let body = serde_json::json!({"meta": {"api-version": "1.1"}, "name": "x", "files": files});
        if let Ok(listing) = parse_json(&body.to_string(), &page()) {
            assert_typed(&listing);
        }
    }

    #[test]
    fn devpi_pages_never_panic(body in "\\PC{0,400}") {
        if let Ok(listing) = parse_project(&body, &page()) {
            assert_typed(&listing);
        }
    }

    #[test]
    fn devpi_links_are_typed(links in proptest::collection::vec((hostile_text(), hostile_text()), 0..6)) {
        let links: Vec<serde_json::Value> = links
            .iter()
            .map(|(href, hash)| serde_json::json!({
                "rel": "releasefile", "href": href, "hashes": {"sha256": hash},
            }))
            .collect();
        let body = serde_json::json!({"result": {"1.0": {"+links": links}}});
        if let Ok(listing) = parse_project(&body.to_string(), &page()) {
            assert_typed(&listing);
        }
    }

    #[test]
    fn unescape_never_panics_and_keeps_plain_text(text in "\\PC{0,60}") {
        let out = unescape(&text);
        if !text.contains('&') {
            prop_assert_eq!(out, text);
        }
    }

    #[test]
    fn percent_decoding_round_trips(text in "\\PC{0,40}") {
        let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
        prop_assert_eq!(percent_decoded(&encoded), text.clone());
        // Text without `%` is left as it is.
        if !text.contains('%') {
            prop_assert_eq!(percent_decoded(&text), text);
        }
    }

    /// A base named by a (hostile) devpi configuration either is refused or names a stage
    /// on the same server, below its root, two path segments deep: never another host, never
    /// a path outside the server root.
    #[test]
    fn devpi_bases_stay_on_the_server(name in hostile_text()) {
        let stage = crate::index::DevpiIndex::from_url(
            &Url::parse("http://127.0.0.1:3141/prefix/team/dev").unwrap(),
        )
        .unwrap();
        if let Ok(base) = stage.base(&name) {
            let url = base.url();
            prop_assert_eq!(url.host_str(), Some("127.0.0.1"));
            prop_assert_eq!(url.port(), Some(3141));
            let rest = url.path().strip_prefix("/prefix/");
            prop_assert!(rest.is_some(), "{}", url);
            prop_assert_eq!(rest.unwrap().split('/').count(), 2, "{}", url);
            prop_assert_eq!(base.stage(), name);
        }
    }
}
