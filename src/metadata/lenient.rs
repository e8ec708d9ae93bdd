//! `Requires-Dist` lines published before PEP 440 was enforced, read as pip read them.
//!
//! pip up to 24.0 (its vendored `packaging` 21.3) accepted legacy specifiers in metadata;
//! celery 4.4.7's wheel still says `pytz (>dev)`. Refusing the line made every such release
//! unusable, and the solver walked celery back to 2.0.3 where pip installs 4.4.7. uv rewrites
//! the same shapes before parsing; so does this, only for a line that does not parse as it
//! is, and only where the meaning is not in doubt:
//!
//! - `>dev`: in `packaging` 21.3 every PEP 440 version sorts above the legacy version `dev`,
//!   so the specifier admits every release: `>0.dev0`;
//! - a trailing comma after the last specifier (`>=3.6,`): dropped.

/// The line with the fixes above, when any applies.
pub(super) fn fixed(line: &str) -> Option<String> {
    let (requirement, marker) = match line.find(';') {
        Some(at) => line.split_at(at),
        None => (line, ""),
    };
    let mut fixed = requirement.replace(">dev", ">0.dev0");
    let trimmed = fixed.trim_end();
    if let Some(head) = trimmed.strip_suffix(',') {
        fixed = head.to_string();
    } else if let Some(inner) = trimmed.strip_suffix(')')
        && let Some(head) = inner.trim_end().strip_suffix(',')
    {
        fixed = format!("{head})");
    }
    (fixed != requirement).then(|| format!("{fixed}{marker}"))
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn legacy_shapes_pip_accepted_become_pep_440() {
        assert_eq!(fixed("pytz (>dev)").as_deref(), Some("pytz (>0.dev0)"));
        assert_eq!(fixed("pytz>dev").as_deref(), Some("pytz>0.dev0"));
        assert_eq!(
            fixed("six>=1.0, ; python_version < \"3\"").as_deref(),
            Some("six>=1.0; python_version < \"3\"")
        );
        assert_eq!(fixed("six (>=1.0,)").as_deref(), Some("six (>=1.0)"));
        // A marker is left alone, and a line with nothing to fix gives nothing.
        assert_eq!(fixed("six; extra == \"dev\""), None);
        assert_eq!(fixed("six>=1.0"), None);
    }
}
