//! PEP 440 questions that every stage asks of a specifier set: the planner, the `--deps`
//! resolver, the build-requirement resolver, the per-package settings and the builder's
//! constraints. They live below all of them so that none has to reach sideways for them.

use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifiers};

/// `==X` (no wildcard) or `===X`: the version it names.
pub fn pinned_version(specifiers: &VersionSpecifiers) -> Option<Version> {
    let mut iter = specifiers.iter();
    let first = iter.next()?;
    if iter.next().is_some() {
        return None;
    }
    matches!(first.operator(), Operator::Equal | Operator::ExactEqual)
        .then(|| first.version().clone())
}

/// Whether a Requires-Python value admits `python`. pip ignores a value it cannot parse
/// (with a warning) rather than rejecting the file, and so does this.
pub fn python_admitted(requires_python: &str, python: &Version) -> bool {
    VersionSpecifiers::from_str(requires_python).map_or(true, |specs| specs.contains(python))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(text: &str) -> VersionSpecifiers {
        VersionSpecifiers::from_str(text).unwrap()
    }

    #[test]
    fn a_pin_is_one_equal_or_arbitrary_equality_clause() {
        assert_eq!(
            pinned_version(&specs("==1.2")),
            Some(Version::from_str("1.2").unwrap())
        );
        assert_eq!(
            pinned_version(&specs("===1.2")),
            Some(Version::from_str("1.2").unwrap())
        );
        assert_eq!(pinned_version(&specs("==1.*")), None);
        assert_eq!(pinned_version(&specs("==1.2,<2")), None);
        assert_eq!(pinned_version(&specs(">=1.2")), None);
    }

    #[test]
    fn an_unparsable_requires_python_admits_as_pip_does() {
        let py = Version::from_str("3.11.4").unwrap();
        assert!(python_admitted(">=3.8", &py));
        assert!(!python_admitted("<3.11", &py));
        assert!(python_admitted("not a specifier", &py));
    }
}
