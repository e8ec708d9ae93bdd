//! The shapes real requirement sets showed (issue 20), over the in-memory index: backtracking
//! on the right package, extras following their project, unusable candidates, pip's
//! pre-release rule, and why a project has no usable version.

use super::memory::{Memory, lines, py312};
use crate::resolve::{Conflict, Options, ResolveError, resolve};

fn pins(index: &Memory, roots: &[&str]) -> Vec<String> {
    match resolve(index, &py312(), &lines(roots), &[], Options::default()) {
        Ok(resolution) => resolution.pins(),
        Err(e) => panic!("expected a solution for {roots:?}, got: {e}"),
    }
}

fn conflict(index: &Memory, roots: &[&str]) -> Box<Conflict> {
    match resolve(index, &py312(), &lines(roots), &[], Options::default()) {
        Err(ResolveError::Conflict(conflict)) => conflict,
        other => panic!("expected a conflict for {roots:?}, got {other:?}"),
    }
}

/// `flower` (which needs `celery[redis]`) with `black`: the shared dependency (`packaging`)
/// is nearer the root, so it is decided first, at its newest; every recent `kombu` pins an
/// older one. Without the learnt order the solver walks `kombu` back to its oldest release
/// (an sdist whose metadata cannot be had); pip takes the older `packaging`.
fn kombu_index() -> Memory {
    let mut index = Memory::default();
    index
        .add("flower", "2.0", &["celery[redis]>=5"])
        .add("black", "24.1", &["packaging>=22"])
        .add(
            "celery",
            "5.5",
            &["kombu>=5,<6", "kombu[redis]>=5,<6; extra == 'redis'"],
        )
        .add("packaging", "26.3", &[])
        .add("packaging", "26.4", &[]);
    for minor in 0..=7 {
        let pin = format!("packaging==26.{}", minor.min(3));
        index.add(
            "kombu",
            &format!("5.{minor}.0"),
            &[&pin, "redis; extra == 'redis'"],
        );
    }
    index.add("redis", "5.0", &[]).add_broken(
        "kombu",
        "2.5.16",
        "get_requires_for_build_wheel failed",
    );
    index
}

#[test]
fn the_culprit_is_decided_last_so_the_package_it_rejected_keeps_its_newest_version() {
    let index = kombu_index();
    assert_eq!(
        pins(&index, &["flower", "black"]),
        [
            "black 24.1",
            "celery 5.5",
            "flower 2.0",
            "kombu 5.7.0",
            "packaging 26.3",
            "redis 5.0"
        ]
    );
    // No walk: neither the ancient release nor any kombu but the newest was asked about.
    for v in ["2.5.16", "5.6.0", "5.5.0"] {
        assert_eq!(
            index.metadata_asked("kombu", v),
            0,
            "kombu {v}: {:?}",
            index.asked
        );
    }
}

/// The old-release walk: a dependency of another root takes the newest `urllib3` first (it
/// is nearer the root than `boto3`), and every recent `botocore` caps it; the oldest `botocore` has no cap, so without the learnt
/// order the solve succeeds silently with 2018's `boto3`.
#[test]
fn an_old_release_without_the_cap_is_not_taken_over_the_culprits_older_version() {
    let mut index = Memory::default();
    index
        .add("tool", "1.0", &["awscli"])
        .add("awscli", "1.0", &["boto3"])
        .add("requests", "2.32", &["urllib3>=1.21,<3"])
        .add("urllib3", "1.26.20", &[])
        .add("urllib3", "2.2.3", &[]);
    for n in 1..=9 {
        let core = format!("botocore>={n}.0,<{}", n + 1);
        index.add("boto3", &format!("{n}.0"), &[&core]);
        let deps: &[&str] = if n == 1 { &[] } else { &["urllib3<1.27"] };
        index.add("botocore", &format!("{n}.0"), deps);
    }
    assert_eq!(
        pins(&index, &["tool", "requests"]),
        [
            "awscli 1.0",
            "boto3 9.0",
            "botocore 9.0",
            "requests 2.32",
            "tool 1.0",
            "urllib3 1.26.20"
        ]
    );
}

/// `pandas[all]==3.1.2`: a dependency asks for another extra of pandas, whose added
/// requirements conflict with an earlier decision. The extra's version follows pandas's:
/// no other version of pandas has its metadata read.
#[test]
fn an_extra_never_reads_the_metadata_of_a_version_its_project_rules_out() {
    let mut index = Memory::default();
    for v in ["1.4.4", "2.0", "3.0", "3.1.1", "3.1.2"] {
        index.add(
            "pandas",
            v,
            &["plot; extra == 'all'", "numba>=2; extra == 'perf'"],
        );
    }
    index
        .add("plot", "1.0", &["pandas[perf]>=1"])
        .add("lib", "1.0", &[])
        .add("lib", "2.0", &["numba==1.0"])
        .add("numba", "1.0", &[])
        .add("numba", "2.0", &[]);
    assert_eq!(
        pins(&index, &["pandas[all]==3.1.2", "lib"]),
        ["lib 1.0", "numba 2.0", "pandas 3.1.2", "plot 1.0"]
    );
    for v in ["1.4.4", "2.0", "3.0", "3.1.1"] {
        assert_eq!(index.metadata_asked("pandas", v), 0, "pandas {v}");
    }
}

/// A version whose metadata cannot be had is skipped for the next one; when none is left
/// the derivation says why.
#[test]
fn a_version_whose_metadata_fails_is_unusable_not_fatal() {
    let mut index = Memory::default();
    index.add("a", "1.0", &[]).add_broken(
        "a",
        "2.0",
        "prepare_metadata_for_build_wheel failed: No module named 'pkg_resources'",
    );
    assert_eq!(pins(&index, &["a"]), ["a 1.0"]);
    let conflict = conflict(&index, &["a>=2"]);
    assert!(
        conflict.report().contains(
            "a ==2.0 cannot be used (its metadata cannot be had: prepare_metadata_for_build_wheel failed: No module named 'pkg_resources')"
        ),
        "{}",
        conflict.report()
    );
}

/// notebook 7.0.7 asks for `jupyterlab>=4.0.2,<5`, which admits no pre-release; a later
/// notebook's `>=4.4.0rc0` (rejected for another reason) must not let `4.4.0a0` in for it.
#[test]
fn a_prerelease_is_a_candidate_only_for_the_requirement_that_allows_one() {
    let mut index = Memory::default();
    index
        .add("notebook", "7.0.7", &["jupyterlab>=4.0.2,<5"])
        .add(
            "notebook",
            "7.4.0",
            &["jupyterlab>=4.4.0rc0,<4.5", "missing>=1"],
        )
        .add("jupyterlab", "4.3.8", &[])
        .add("jupyterlab", "4.4.0a0", &[]);
    assert_eq!(
        pins(&index, &["notebook"]),
        ["jupyterlab 4.3.8", "notebook 7.0.7"]
    );
    // A requirement that names a pre-release admits them; so does one no final release fits.
    assert_eq!(
        pins(&index, &["jupyterlab>=4.4.0a0"]),
        ["jupyterlab 4.4.0a0"]
    );
    assert_eq!(pins(&index, &["jupyterlab>4.3.8"]), ["jupyterlab 4.4.0a0"]);
}

/// A project the index cannot list has no usable version, and the derivation says why.
#[test]
fn an_unlisted_project_is_named_with_the_reason() {
    let mut index = Memory::default();
    index.add("app", "1.0", &["gone"]).add_unlisted(
        "gone",
        "no source lists gone: http://index.invalid/simple/gone/ answered 404",
    );
    let conflict = conflict(&index, &["app"]);
    assert!(
        conflict.report().contains(
            "there is no usable version of gone (no source lists gone: http://index.invalid/simple/gone/ answered 404)"
        ),
        "{}",
        conflict.report()
    );
    let unlisted: Vec<String> = conflict
        .unlisted()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(unlisted, ["gone"]);
}

#[test]
fn every_version_yanked_is_said() {
    let mut index = Memory::default();
    index
        .add_yanked("a", "1.0", &[])
        .add_yanked("a", "2.0", &[]);
    let conflict = conflict(&index, &["a"]);
    assert!(
        conflict.report().contains("yanked"),
        "{}",
        conflict.report()
    );
}
