//! One PEP 508 parse for every requirement string from outside (requirements files,
//! `Requires-Dist` of remote METADATA, an sdist's `build-system.requires`, settings).
//!
//! pep508_rs 0.9's parser accepts a name or an extra ending in `-`, `_` or `.` when more
//! text follows (`x_ >=1`, `x[a_]`), then panics in `PackageName::new(..).expect(..)` /
//! `ExtraName::new(..).expect(..)`. PEP 508 names end with a letter or digit, so those
//! inputs are refused here, before the parser sees them. Found by the `requirements` fuzz
//! target (`j[j_`).

use std::str::FromStr;

use pep508_rs::{Pep508Error, Pep508ErrorSource, Requirement};

/// `Requirement::from_str`, except that the inputs the parser panics on are an error.
pub(crate) fn parse_requirement(text: &str) -> Result<Requirement, Pep508Error> {
    if let Some((start, name, what)) = bad_identifier_end(text) {
        return Err(Pep508Error {
            message: Pep508ErrorSource::String(format!(
                "{what} `{name}` must end with a letter or digit"
            )),
            start,
            len: name.len(),
            input: text.to_string(),
        });
    }
    Requirement::from_str(text)
}

/// The name, or one of the extras right after it, ending in `-`, `_` or `.`: its start, the
/// identifier and what it is.
fn bad_identifier_end(text: &str) -> Option<(usize, &str, &'static str)> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let bad_end = |s: &str| s.ends_with(['.', '-', '_']);
    let name_start = text.len() - text.trim_start().len();
    let name_len = text[name_start..]
        .find(|c: char| !is_name_char(c))
        .unwrap_or(text.len() - name_start);
    let name = &text[name_start..name_start + name_len];
    if bad_end(name) {
        return Some((name_start, name, "the project name"));
    }
    let after_name = &text[name_start + name_len..];
    let open = name_start + name_len + (after_name.len() - after_name.trim_start().len());
    if name.is_empty() || !text[open..].starts_with('[') {
        return None;
    }
    // The parser reads `identifier wsp*` then wants `,` or `]`; an unclosed list still
    // reaches the `expect` for its last extra.
    let close = text[open..].find(']').map_or(text.len(), |c| open + c);
    let mut at = open + 1;
    for part in text[open + 1..close].split(',') {
        // The identifier is the run of name characters: `[a- b` panics on `a-` too.
        let lead = part.len() - part.trim_start().len();
        let run = part[lead..]
            .find(|c: char| !is_name_char(c))
            .unwrap_or(part.len() - lead);
        let extra = &part[lead..lead + run];
        if bad_end(extra) {
            return Some((at + lead, extra, "the extra"));
        }
        at += part.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_extras_ending_in_punctuation_are_errors_not_panics() {
        for (text, expected) in [
            ("j[j_", "the extra `j_`"),
            ("x[a, b-] >=1", "the extra `b-`"),
            ("x[ c. ]", "the extra `c.`"),
            ("a[a- a", "the extra `a-`"),
            ("jN[00_@\0", "the extra `00_`"),
            ("x_ >=1", "the project name `x_`"),
            ("  y. [a]", "the project name `y.`"),
            ("x_", "the project name `x_`"),
        ] {
            let error = parse_requirement(text).unwrap_err();
            assert!(
                error.message.to_string().contains(expected),
                "{text}: {error}"
            );
            assert_eq!(
                &text[error.start..error.start + error.len],
                expected.split('`').nth(1).unwrap(),
                "{text}"
            );
        }
    }

    /// Both fuzz findings, through the requirements-file parser (`name[extras] @ target` is
    /// read by its own branch, which parsed `jN[00_` directly).
    #[test]
    fn requirements_lines_with_such_extras_are_located_errors() {
        for line in ["j[j_\n", "jN[00_@\0\n"] {
            let error = super::super::parse_str(line, std::path::Path::new("r.txt"), &|_| None)
                .unwrap_err();
            assert!(error.to_string().contains("r.txt:1"), "{line:?}: {error}");
        }
    }

    #[test]
    fn ordinary_requirements_still_parse() {
        let req = parse_requirement("foo_bar[x-y, z] >=1.0 ; python_version >= '3.8'").unwrap();
        assert_eq!(req.name.as_ref(), "foo-bar");
        assert_eq!(req.extras.len(), 2);
        assert!(parse_requirement("x @ https://example.invalid/a_[b_].whl").is_ok());
        assert!(parse_requirement("[a_]").is_err());
    }

    proptest::proptest! {
        #![proptest_config(crate::proptest_config())]
        /// Whatever the text, parsing fails or succeeds, never panics.
        #[test]
        fn requirement_strings_never_panic(text in "[a-z_.\\- ]{0,4}(\\[[a-z_.\\-, ]{0,8}\\]?)?[ <>=0-9.;a-z'\"]{0,12}") {
            let _ = parse_requirement(&text);
        }
    }
}
