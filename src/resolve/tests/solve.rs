//! The solver against an in-memory index: the shapes issue 13 lists.

use std::collections::BTreeSet;
use std::str::FromStr;

use super::memory::{Memory, lines, name, py38, py312, req, version};
use crate::requirements::HashDigest;
use crate::resolve::{Line, Options, ResolveError, Via, resolve, resolve_per_line};

fn solve(index: &Memory, roots: &[&str]) -> Result<crate::resolve::Resolution, ResolveError> {
    resolve(index, &py312(), &lines(roots), &[], Options::default())
}

fn pins(index: &Memory, roots: &[&str]) -> Vec<String> {
    match solve(index, roots) {
        Ok(resolution) => resolution.pins(),
        Err(e) => panic!("expected a solution for {roots:?}, got: {e}"),
    }
}

fn conflict(result: Result<crate::resolve::Resolution, ResolveError>) -> String {
    match result {
        Err(ResolveError::Conflict(c)) => c.report().to_string(),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn via(index: &Memory, roots: &[&str], project: &str) -> Vec<String> {
    let resolution = solve(index, roots).expect("solvable");
    resolution.packages[&name(project)]
        .via
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn diamond_picks_the_newest_version_both_sides_accept() {
    let mut index = Memory::default();
    index
        .add("app", "1.0", &["left", "right"])
        .add("left", "1.0", &["base>=1.2"])
        .add("right", "1.0", &["base<2"])
        .add("base", "1.0", &[])
        .add("base", "1.5", &[])
        .add("base", "2.0", &[]);
    assert_eq!(
        pins(&index, &["app"]),
        ["app 1.0", "base 1.5", "left 1.0", "right 1.0"]
    );
    assert_eq!(via(&index, &["app"], "base"), ["left 1.0", "right 1.0"]);
    assert_eq!(via(&index, &["app"], "app"), ["requirements.txt:1"]);
}

#[test]
fn each_question_is_asked_once() {
    let mut index = Memory::default();
    index
        .add("app", "1.0", &["left", "right"])
        .add("left", "1.0", &["base"])
        .add("right", "1.0", &["base"])
        .add("base", "1.0", &[]);
    solve(&index, &["app"]).expect("solvable");
    let asked = index.asked.borrow();
    assert!(asked.values().all(|n| *n == 1), "{asked:?}");
    assert_eq!(asked.get("metadata base 1.0"), Some(&1));
    // Listings are hinted before they are asked for, each once.
    assert_eq!(*index.prefetched.borrow(), ["app", "left right", "base"]);
}

#[test]
fn an_extra_pulls_its_dependency_and_only_with_the_extra() {
    let mut index = Memory::default();
    index
        .add(
            "requests",
            "2.31.0",
            &["idna", "PySocks!=1.5.7,>=1.5.6; extra == 'socks'"],
        )
        .add("idna", "3.6", &[])
        .add("pysocks", "1.7.1", &[]);
    assert_eq!(pins(&index, &["requests"]), ["idna 3.6", "requests 2.31.0"]);
    let with = solve(&index, &["requests[socks]"]).expect("solvable");
    assert_eq!(
        with.pins(),
        ["idna 3.6", "pysocks 1.7.1", "requests 2.31.0"]
    );
    let requests = &with.packages[&name("requests")];
    assert_eq!(
        requests
            .extras
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["socks"]
    );
    assert_eq!(
        via(&index, &["requests[socks]"], "pysocks"),
        ["requests[socks] 2.31.0"]
    );
    // The base dependency comes from the project, not the extra.
    assert_eq!(
        via(&index, &["requests[socks]"], "idna"),
        ["requests 2.31.0"]
    );
}

#[test]
fn an_extra_of_a_dependency_with_markers_combining_extra_and_python() {
    let mut index = Memory::default();
    index
        .add("app", "1.0", &["lib[fast]"])
        .add(
            "lib",
            "1.0",
            &["speedup; extra == 'fast' and python_version >= '3.10'"],
        )
        .add("speedup", "1.0", &[]);
    let new = resolve(&index, &py312(), &lines(&["app"]), &[], Options::default()).expect("ok");
    let old = resolve(&index, &py38(), &lines(&["app"]), &[], Options::default()).expect("ok");
    assert!(new.version(&name("speedup")).is_some());
    assert!(old.version(&name("speedup")).is_none());
}

#[test]
fn a_marker_holds_for_one_interpreter_and_not_the_other() {
    let mut index = Memory::default();
    index
        .add(
            "app",
            "1.0",
            &[
                "backport; python_version < '3.10'",
                "modern>=2; python_version >= '3.10'",
            ],
        )
        .add("backport", "1.0", &[])
        .add("modern", "2.0", &[]);
    let old = resolve(&index, &py38(), &lines(&["app"]), &[], Options::default()).expect("ok");
    let new = resolve(&index, &py312(), &lines(&["app"]), &[], Options::default()).expect("ok");
    assert_eq!(old.pins(), ["app 1.0", "backport 1.0"]);
    assert_eq!(new.pins(), ["app 1.0", "modern 2.0"]);
    // Root lines are evaluated too.
    let roots = lines(&["app", "extra-tool; python_version < '3.9'"]);
    let new = resolve(&index, &py312(), &roots, &[], Options::default()).expect("ok");
    assert_eq!(new.pins(), ["app 1.0", "modern 2.0"]);
}

#[test]
fn a_constraint_forces_an_older_version_without_adding_projects() {
    let mut index = Memory::default();
    index
        .add("app", "1.0", &["lib"])
        .add("lib", "1.0", &[])
        .add("lib", "2.0", &[])
        .add("unrelated", "1.0", &[]);
    let constraints = lines(&["lib<2", "unrelated==1.0"]);
    let r = resolve(
        &index,
        &py312(),
        &lines(&["app"]),
        &constraints,
        Options::default(),
    )
    .expect("solvable");
    assert_eq!(r.pins(), ["app 1.0", "lib 1.0"]);
    // A constraint that no version meets is a conflict naming it.
    let constraints = [Line::new(req("lib>=3"), "constraints.txt:1")];
    let err = resolve(
        &index,
        &py312(),
        &lines(&["app"]),
        &constraints,
        Options::default(),
    );
    let report = conflict(err);
    assert!(
        report.contains("there is no usable version of lib >=3"),
        "{report}"
    );
    assert!(
        report.ends_with("Note: lib is constrained to >=3 by constraints.txt:1."),
        "{report}"
    );
    let err = resolve(
        &index,
        &py312(),
        &lines(&["app"]),
        &lines(&["lib[x]<2"]),
        Options::default(),
    );
    assert!(
        matches!(err, Err(ResolveError::ConstraintExtras { .. })),
        "{err:?}"
    );
}

#[test]
fn a_conflict_names_both_sides() {
    let mut index = Memory::default();
    index
        .add("a", "1.0", &["c<2"])
        .add("b", "1.0", &["c>=2"])
        .add("c", "1.0", &[])
        .add("c", "2.0", &[]);
    let report = conflict(solve(&index, &["a==1.0", "b==1.0"]));
    assert!(report.contains("a ==1.0 depends on c <2"), "{report}");
    assert!(report.contains("b ==1.0 depends on c >=2"), "{report}");
    assert!(report.contains("the requirements"), "{report}");
    assert!(report.starts_with("Because "), "{report}");
}

#[test]
fn backtracks_from_the_newest_version_that_conflicts() {
    let mut index = Memory::default();
    index
        .add("a", "1.0", &["b"])
        .add("a", "2.0", &["b>=2"])
        .add("b", "1.0", &[])
        .add("b", "2.0", &[]);
    assert_eq!(pins(&index, &["a", "b<2"]), ["a 1.0", "b 1.0"]);
    assert_eq!(pins(&index, &["a", "b"]), ["a 2.0", "b 2.0"]);
}

#[test]
fn backtracks_through_a_transitive_conflict() {
    let mut index = Memory::default();
    index
        .add("app", "1.0", &["x", "y"])
        .add("x", "2.0", &["z==2.0"])
        .add("x", "1.0", &["z"])
        .add("y", "1.0", &["z<2"])
        .add("z", "1.0", &[])
        .add("z", "2.0", &[]);
    assert_eq!(
        pins(&index, &["app"]),
        ["app 1.0", "x 1.0", "y 1.0", "z 1.0"]
    );
}

#[test]
fn a_cycle_in_runtime_dependencies_resolves() {
    let mut index = Memory::default();
    index
        .add("a", "1.0", &["b"])
        .add("b", "1.0", &["c"])
        .add("c", "1.0", &["a>=1"]);
    assert_eq!(pins(&index, &["a"]), ["a 1.0", "b 1.0", "c 1.0"]);
    assert_eq!(via(&index, &["a"], "a"), ["requirements.txt:1", "c 1.0"]);
}

#[test]
fn prereleases_only_when_asked_or_named() {
    let mut index = Memory::default();
    index
        .add("a", "1.0", &[])
        .add("a", "2.0b1", &[])
        .add("only-pre", "1.0rc1", &[])
        .add("wants-pre", "1.0", &["a>=2.0b1"]);
    assert_eq!(pins(&index, &["a"]), ["a 1.0"]);
    assert_eq!(pins(&index, &["a>=2.0b1"]), ["a 2.0b1"]);
    let pre = Options { pre: true };
    let r = resolve(&index, &py312(), &lines(&["a"]), &[], pre).expect("ok");
    assert_eq!(r.pins(), ["a 2.0b1"]);
    // Named deeper, by a dependency's specifier (pip combines every specifier on a project).
    assert_eq!(pins(&index, &["wants-pre"]), ["a 2.0b1", "wants-pre 1.0"]);
    // A constraint naming a pre-release counts too.
    let c = lines(&["a>=2.0b1"]);
    let r = resolve(&index, &py312(), &lines(&["a"]), &c, Options::default()).expect("ok");
    assert_eq!(r.pins(), ["a 2.0b1"]);
    // pip's fallback: a requirement no final release satisfies admits pre-releases.
    assert_eq!(pins(&index, &["only-pre"]), ["only-pre 1.0rc1"]);
    assert_eq!(pins(&index, &["only-pre==1.0rc1"]), ["only-pre 1.0rc1"]);
}

#[test]
fn compatible_release_and_prefix_match() {
    let mut index = Memory::default();
    for v in ["1.3", "1.4", "1.4.2", "1.5", "1.9", "2.0", "2.1"] {
        index.add("a", v, &[]);
    }
    assert_eq!(pins(&index, &["a~=1.4"]), ["a 1.9"]);
    assert_eq!(pins(&index, &["a~=1.4.0"]), ["a 1.4.2"]);
    assert_eq!(pins(&index, &["a==1.*"]), ["a 1.9"]);
    assert_eq!(pins(&index, &["a==1.4.*"]), ["a 1.4.2"]);
    assert_eq!(pins(&index, &["a!=2.*"]), ["a 1.9"]);
    assert_eq!(pins(&index, &["a!=2.1,<3"]), ["a 2.0"]);
    assert_eq!(pins(&index, &["a===1.5"]), ["a 1.5"]);
}

#[test]
fn local_versions_match_a_public_pin() {
    let mut index = Memory::default();
    index
        .add("torch", "2.1.0+cpu", &[])
        .add("torch", "2.0.0", &[]);
    assert_eq!(pins(&index, &["torch==2.1.0"]), ["torch 2.1.0+cpu"]);
    assert_eq!(pins(&index, &["torch<=2.1.0"]), ["torch 2.1.0+cpu"]);
    // `>V` never admits a local version of V itself.
    let report = conflict(solve(&index, &["torch>2.1.0"]));
    assert!(report.contains("torch >2.1.0"), "{report}");
}

#[test]
fn yanked_versions_only_for_an_exact_pin() {
    let mut index = Memory::default();
    index.add("a", "1.0", &[]).add_yanked("a", "2.0", &[]);
    assert_eq!(pins(&index, &["a"]), ["a 1.0"]);
    assert_eq!(pins(&index, &["a==2.0"]), ["a 2.0"]);
    let report = conflict(solve(&index, &["a>=1.5"]));
    assert!(report.contains("a >=1.5"), "{report}");
}

#[test]
fn hash_lines_must_pin_and_their_hashes_are_passed_on() {
    let mut index = Memory::default();
    index.add("a", "1.0", &[]).add("a", "2.0", &[]);
    let digest = HashDigest::from_str(&format!("sha256:{}", "ab".repeat(32))).expect("valid");
    let mut line = Line::new(req("a==1.0"), "requirements.txt:1");
    line.hashes.push(digest.clone());
    let r = resolve(&index, &py312(), &[line.clone()], &[], Options::default()).expect("ok");
    assert_eq!(r.pins(), ["a 1.0"]);
    assert_eq!(r.packages[&name("a")].hashes, std::slice::from_ref(&digest));
    // The pin is exact: a local variant of 1.0 is other files than the hashes name.
    index.add("a", "1.0+patched", &[]);
    let r = resolve(&index, &py312(), &[line.clone()], &[], Options::default()).expect("ok");
    assert_eq!(r.pins(), ["a 1.0"]);
    line.requirement = req("a>=1.0");
    let err = resolve(&index, &py312(), &[line], &[], Options::default()).unwrap_err();
    assert!(matches!(err, ResolveError::HashWithoutPin { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("requirements.txt:1: `a>=1.0` has --hash"),
        "{err}"
    );
}

#[test]
fn a_url_dependency_makes_that_version_unusable() {
    let mut index = Memory::default();
    index
        .add("a", "2.0", &["b @ https://example.invalid/b-1.0.tar.gz"])
        .add("a", "1.0", &["b"])
        .add("b", "1.0", &[]);
    assert_eq!(pins(&index, &["a"]), ["a 1.0", "b 1.0"]);
    let report = conflict(solve(&index, &["a==2.0"]));
    assert!(report.contains("direct URL"), "{report}");
    let err = solve(&index, &["b @ https://example.invalid/b-1.0.tar.gz"]).unwrap_err();
    assert!(matches!(err, ResolveError::Url { .. }), "{err}");
}

#[test]
fn a_source_error_names_the_project_and_version() {
    let mut index = Memory::default();
    index.add("a", "1.0", &[]);
    // The table lists a version whose metadata is missing: the source fails.
    struct Broken(Memory);
    impl crate::resolve::MetadataSource for Broken {
        fn candidates(
            &self,
            n: &pep508_rs::PackageName,
        ) -> Result<Vec<crate::resolve::Candidate>, crate::resolve::Fault> {
            self.0.candidates(n)
        }
        fn requires_dist(
            &self,
            _: &pep508_rs::PackageName,
            _: &pep440_rs::Version,
        ) -> Result<Vec<pep508_rs::Requirement>, crate::resolve::Fault> {
            Err(crate::resolve::Fault::Fatal("connection reset".into()))
        }
    }
    let err = resolve(
        &Broken(index),
        &py312(),
        &lines(&["a"]),
        &[],
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ResolveError::Source(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "reading the metadata of a 1.0: connection reset"
    );
}

#[test]
fn per_line_mode_solves_each_line_alone() {
    let mut index = Memory::default();
    index
        .add("a", "1.0", &["c<2"])
        .add("a", "2.0", &["c>=2"])
        .add("b", "1.0", &["c>=5"])
        .add("c", "1.0", &[])
        .add("c", "2.0", &[]);
    let roots = lines(&["a==1.0", "a==2.0", "b"]);
    // Together these conflict (two versions of a).
    assert!(matches!(
        resolve(&index, &py312(), &roots, &[], Options::default()),
        Err(ResolveError::Conflict(_))
    ));
    let per_line = resolve_per_line(&index, &py312(), &roots, &[], Options::default());
    let ok: Vec<Vec<String>> = per_line
        .lines
        .iter()
        .filter_map(|l| l.result.as_ref().ok().map(|r| r.pins()))
        .collect();
    assert_eq!(ok, [vec!["a 1.0", "c 1.0"], vec!["a 2.0", "c 2.0"]]);
    let failed: Vec<&str> = per_line
        .lines
        .iter()
        .filter(|l| l.result.is_err())
        .map(|l| l.line.origin.0.as_str())
        .collect();
    assert_eq!(failed, ["requirements.txt:3"]);
    let union: BTreeSet<String> = per_line
        .union()
        .keys()
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
    assert_eq!(
        union.into_iter().collect::<Vec<_>>(),
        ["a 1.0", "a 2.0", "c 1.0", "c 2.0"]
    );
    let via_c1 = &per_line.union()[&(name("c"), version("1.0"))];
    assert!(via_c1.contains(&Via::Package {
        name: name("a"),
        version: version("1.0"),
        extra: None
    }));
}

#[test]
fn per_line_mode_asks_each_question_once_across_lines() {
    let mut index = Memory::default();
    index
        .add("a", "1.0", &["common"])
        .add("a", "2.0", &["common"])
        .add("common", "1.0", &[]);
    let roots = lines(&["a==1.0", "a==2.0"]);
    let per_line = resolve_per_line(&index, &py312(), &roots, &[], Options::default());
    assert!(per_line.lines.iter().all(|l| l.result.is_ok()));
    let asked = index.asked.borrow();
    assert_eq!(asked.get("list common"), Some(&1), "{asked:?}");
    assert_eq!(asked.get("metadata common 1.0"), Some(&1), "{asked:?}");
}

#[test]
fn a_version_its_metadata_excludes_is_skipped_and_named_in_a_conflict() {
    let mut index = Memory::default();
    index
        .add("a", "1.0", &[])
        .add("a", "2.0", &[])
        .add("b", "1.0", &["a>=2"]);
    // What a source learns from METADATA alone: a 2.0 says Requires-Python `<3`.
    struct Excluding(Memory);
    impl crate::resolve::MetadataSource for Excluding {
        fn candidates(
            &self,
            n: &pep508_rs::PackageName,
        ) -> Result<Vec<crate::resolve::Candidate>, crate::resolve::Fault> {
            self.0.candidates(n)
        }
        fn requires_dist(
            &self,
            n: &pep508_rs::PackageName,
            v: &pep440_rs::Version,
        ) -> Result<Vec<pep508_rs::Requirement>, crate::resolve::Fault> {
            self.0.requires_dist(n, v)
        }
        fn unusable(&self, n: &pep508_rs::PackageName, v: &pep440_rs::Version) -> Option<String> {
            (n.as_ref() == "a" && *v == version("2.0"))
                .then(|| "Requires-Python `<3` excludes cp312".to_string())
        }
    }
    let index = Excluding(index);
    let solved = resolve(&index, &py312(), &lines(&["a"]), &[], Options::default());
    assert_eq!(solved.expect("a 1.0 fits").pins(), ["a 1.0"]);
    let text = conflict(resolve(
        &index,
        &py312(),
        &lines(&["b"]),
        &[],
        Options::default(),
    ));
    assert!(
        text.contains("Requires-Python `<3` excludes cp312"),
        "{text}"
    );
}
