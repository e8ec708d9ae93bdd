//! The PEP 440 mapping, operator by operator, and how sets read in reports.

use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use pubgrub::VersionSet;

use super::memory::version;
use crate::resolve::Range;

fn range(spec: &str) -> Range {
    Range::from_specifiers(&VersionSpecifiers::from_str(spec).expect("valid specifiers"))
}

fn admits(spec: &str, v: &str) -> bool {
    range(spec).contains(&version(v))
}

#[test]
fn equal_ignores_local_labels_unless_it_names_one() {
    assert!(admits("==1.0", "1.0"));
    assert!(admits("==1.0", "1.0.0"));
    assert!(admits("==1.0", "1.0+local.7"));
    assert!(!admits("==1.0", "1.0.post0"));
    assert!(!admits("==1.0", "1.0.dev0"));
    assert!(admits("==1.0+cpu", "1.0+cpu"));
    assert!(!admits("==1.0+cpu", "1.0+cu118"));
    assert!(!admits("!=1.0", "1.0+local"));
    assert!(admits("!=1.0", "1.0.post1"));
}

#[test]
fn ordered_comparisons_follow_pep_440_exclusive_rules() {
    // <V refuses pre-releases of V unless V is one.
    assert!(!admits("<2.0", "2.0rc1"));
    assert!(!admits("<2.0", "2.0.dev3"));
    assert!(admits("<2.0", "1.9"));
    assert!(!admits("<2.0", "2.0a1"));
    assert!(admits("<2.0rc1", "2.0a1"));
    assert!(admits("<2.0.post1", "2.0"));
    assert!(admits("<2.0.post1", "2.0.post0"));
    assert!(!admits("<2.0.post1", "2.0b1"));
    // >V refuses post releases and local versions of V unless V is a post release.
    assert!(!admits(">2.0", "2.0.post1"));
    assert!(!admits(">2.0", "2.0+local"));
    assert!(admits(">2.0", "2.0.1"));
    assert!(admits(">2.0", "2.1.dev0"));
    assert!(admits(">2.0.post1", "2.0.post2"));
    assert!(admits(">2.0b1", "2.0b2"));
    assert!(admits(">2.0b1", "2.0"));
    assert!(!admits(">2.0b1", "2.0.post1"));
    // <= and >= include local versions of V.
    assert!(admits("<=2.0", "2.0+local"));
    assert!(!admits("<=2.0", "2.0.post1"));
    assert!(admits(">=2.0", "2.0+local"));
    assert!(!admits(">=2.0", "2.0rc1"));
}

#[test]
fn wildcards_and_compatible_release() {
    assert!(admits("==1.4.*", "1.4"));
    assert!(admits("==1.4.*", "1.4.0.dev1"));
    assert!(admits("==1.4.*", "1.4.9.post2"));
    assert!(!admits("==1.4.*", "1.5.dev0"));
    assert!(!admits("==1.4.*", "1.3.99"));
    assert!(!admits("!=1.4.*", "1.4.2"));
    assert!(admits("!=1.4.*", "1.5"));
    assert!(admits("~=1.4.2", "1.4.5"));
    assert!(!admits("~=1.4.2", "1.5"));
    assert!(!admits("~=1.4.2", "1.4.1"));
    assert!(admits("~=1.4", "1.9"));
    assert!(!admits("~=1.4", "2.0.dev0"));
    assert!(!admits("==1.*", "1!1.0"), "epochs differ");
    assert!(admits("==1!1.*", "1!1.2"));
}

#[test]
fn arbitrary_equality_is_the_exact_version() {
    assert!(admits("===1.0", "1.0"));
    assert!(!admits("===1.0", "1.0+local"));
}

#[test]
fn sets_read_as_specifiers() {
    let shown = |spec: &str| range(spec).to_string();
    assert_eq!(shown("==1.0"), "==1.0");
    assert_eq!(shown("<2"), "<2");
    assert_eq!(shown(">=1.2"), ">=1.2");
    assert_eq!(shown(">2.0"), ">2.0");
    assert_eq!(shown("<=2.0"), "<=2.0");
    assert_eq!(shown("==1.4.*"), "==1.4.*");
    assert_eq!(shown(">=1.0,<2"), ">=1.0, <2");
    assert_eq!(shown("~=1.4"), ">=1.4, <2");
    assert_eq!(shown(""), "*");
    assert_eq!(shown("!=1.0"), "!=1.0");
    assert_eq!(shown("!=1.0+cpu"), "!=1.0+cpu");
    assert_eq!(Range::empty().to_string(), "(no version)");
}
