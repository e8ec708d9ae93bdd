//! Snapshot tests (insta, as uv uses it): what a run prints or writes is compared whole with
//! a reviewed `.snap` file under `tests/it/snapshots/`, after what differs from run to run
//! is replaced by a placeholder. Update a snapshot on purpose with `cargo insta review`, or
//! `INSTA_UPDATE=always cargo test --test it <filter>` and a look at the diff;
//! `scripts/test.sh` runs with `INSTA_UPDATE=no`, so a mismatch always fails there.

use std::path::Path;

/// Settings that redact, in this order: each `(text, placeholder)` of `redact` (the test's
/// own temporary paths, devpi user names, server URLs), then what varies in every run:
/// loopback ports, sha256 digests (of freshly built wheels; the fixtures' are stable but
/// read no better in full), timestamps, durations and interpreter patch versions.
pub(crate) fn settings(redact: &[(&str, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    // Longest first, so a path is not cut by a redaction of its prefix.
    let mut exact: Vec<(&str, &str)> = redact.to_vec();
    exact.sort_by_key(|(text, _)| std::cmp::Reverse(text.len()));
    for (text, placeholder) in exact {
        settings.add_filter(&regex_escape(text), placeholder);
    }
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[sha256]");
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
        "[timestamp]",
    );
    settings.add_filter(
        r#""(duration|seconds|time)": \d+(\.\d+)?(e-?\d+)?"#,
        r#""$1": "[duration]""#,
    );
    // The run's clock (Unix seconds) and its build slots (`--jobs` defaults to the cores).
    settings.add_filter(
        r#""(started|finished|queued)": \d+(\.\d+)?"#,
        r#""$1": "[unix-time]""#,
    );
    settings.add_filter(r#""build_slots": \d+"#, r#""build_slots": "[slots]""#);
    settings.add_filter(r#"\btime="\d+(\.\d+)?(e-?\d+)?""#, r#"time="[duration]""#);
    settings.add_filter(r#"("version": "|Python )(3\.\d+)\.\d+"#, "$1$2.[patch]");
    settings
}

/// The project root as the runs print it, for [`settings`].
pub(crate) fn project_root() -> String {
    super::project_root().display().to_string()
}

/// A path as the runs print it, for [`settings`].
pub(crate) fn path(path: &Path) -> String {
    path.display().to_string()
}

/// `text` as a regex matching it literally.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
