//! Property tests of the requirements parser: any file content (text in any encoding pip
//! reads, arbitrary bytes) parses or fails with a located error, never a panic.

use std::path::Path;

use proptest::prelude::*;

use super::{lines, parse_str};

/// requirements.txt-shaped text: names, specifiers, markers, options, continuations,
/// comments, environment variables, URLs and hashes.
fn requirements_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\n".to_string()),
            Just("\\\n".to_string()),
            Just(" ".to_string()),
            Just("#".to_string()),
            Just("==".to_string()),
            Just(">=1.0,<2".to_string()),
            Just("; python_version < \"3.9\"".to_string()),
            Just("[extra]".to_string()),
            Just("--hash=sha256:".to_string()),
            Just("--index-url ".to_string()),
            Just("--no-binary :all: ".to_string()),
            Just("-e ".to_string()),
            Just("${HOME}".to_string()),
            Just("${".to_string()),
            Just("@ https://u:p@h/x-1.0.tar.gz#egg=x".to_string()),
            Just("-r other.txt".to_string()),
            "[a-zA-Z0-9_.-]{1,8}",
            "\\PC{0,4}",
        ],
        0..16,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    #[test]
    fn requirements_never_panic(text in requirements_text()) {
        let env = |key: &str| (key == "HOME").then(|| "/home/u".to_string());
        let _ = parse_str(&text, Path::new("/nonexistent/requirements.txt"), &env);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse_str(&text, Path::new("/nonexistent/requirements.txt"), &|_| None);
    }

    #[test]
    fn any_bytes_decode_or_fail(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = lines::decode(&bytes, Path::new("requirements.txt"));
    }

    #[test]
    fn encoded_files_decode_or_fail(bom in prop_oneof![
        Just(&b"\xef\xbb\xbf"[..]), Just(&b"\xff\xfe\x00\x00"[..]), Just(&b"\x00\x00\xfe\xff"[..]),
        Just(&b"\xff\xfe"[..]), Just(&b"\xfe\xff"[..]), Just(&b"# -*- coding: latin-1 -*-\n"[..])],
        rest in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = bom.to_vec();
        bytes.extend(rest);
        let _ = lines::decode(&bytes, Path::new("requirements.txt"));
    }
}

/// Found by `arbitrary_text_never_panics`: pep508_rs panicked on `a_#` and `A-:0`.
#[test]
fn a_name_ending_in_punctuation_is_a_located_error() {
    for (text, column) in [("a_#", 2), ("A-:0", 2), ("  x.[e]==1", 4)] {
        let err = parse_str(text, Path::new("r.txt"), &|_| None).expect_err(text);
        let shown = err.to_string();
        assert!(shown.contains(&format!("r.txt:1:{column}")), "{shown}");
        assert!(shown.contains("must end with a letter or digit"), "{shown}");
    }
}

/// Found by `requirements_never_panic` with 5,000 cases: pep508_rs sliced inside `𑎋`.
#[test]
fn non_ascii_after_a_marker_is_a_located_error() {
    let err = parse_str(
        "a; python_version < \"3.9\"𑎋${",
        Path::new("r.txt"),
        &|_| None,
    )
    .expect_err("non-ASCII outside quotes");
    assert!(err.to_string().contains("r.txt:1:26"), "{err}");
    // Inside a quoted marker value anything goes.
    let ok = parse_str(
        "a; platform_release == \"5.€\"",
        Path::new("r.txt"),
        &|_| None,
    );
    assert!(ok.is_ok(), "{ok:?}");
}
