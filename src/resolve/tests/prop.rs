//! Property tests: the PEP 440 mapping against a checker written from `packaging`'s rules,
//! and solutions against every root, constraint and requirement of every chosen package
//! (with a brute-force search when the solver reports a conflict).

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};
use pep508_rs::{PackageName, VersionOrUrl};
use proptest::prelude::*;
use pubgrub::VersionSet;

use super::memory::{Memory, lines, name, py312};
use crate::resolve::{MetadataSource, Options, Range, ResolveError, resolve};

/// `packaging.specifiers.Specifier` semantics (what pip evaluates), written independently
/// of the range mapping. Pre-release admission is the solver's policy, not tested here.
fn packaging_contains(spec: &VersionSpecifier, v: &Version) -> bool {
    let s = spec.version();
    let public = v.clone().without_local();
    let base = |x: &Version| Version::new(x.release().iter().copied()).with_epoch(x.epoch());
    let prefix = |p: &[u64]| {
        v.epoch() == s.epoch()
            && p.iter()
                .enumerate()
                .all(|(i, n)| v.release().get(i).copied().unwrap_or(0) == *n)
    };
    match spec.operator() {
        Operator::Equal if s.local().is_empty() => public == *s,
        Operator::Equal | Operator::ExactEqual => v == s && v.local() == s.local(),
        Operator::NotEqual if s.local().is_empty() => public != *s,
        Operator::NotEqual => !(v == s && v.local() == s.local()),
        Operator::EqualStar => prefix(s.release()),
        Operator::NotEqualStar => !prefix(s.release()),
        Operator::TildeEqual => {
            let (_, rest) = s.release().split_last().expect("~= has two segments");
            public >= *s && prefix(rest)
        }
        Operator::GreaterThanEqual => public >= *s,
        Operator::LessThanEqual => public <= *s,
        Operator::LessThan => {
            public < *s && !(!s.any_prerelease() && v.any_prerelease() && base(v) == base(s))
        }
        Operator::GreaterThan => {
            v > s
                && !(!s.is_post() && v.is_post() && base(v) == base(s))
                && !(v.is_local() && base(v) == base(s))
        }
    }
}

/// The corners `docs/resolver.md` lists, where the mapping admits what `packaging` refuses.
fn documented_corner(spec: &VersionSpecifier, v: &Version) -> bool {
    let s = spec.version();
    let same_base = v.epoch() == s.epoch()
        && Version::new(v.release().iter().copied()) == Version::new(s.release().iter().copied());
    match spec.operator() {
        Operator::LessThan => !s.any_prerelease() && v.is_post() && v.is_dev() && same_base,
        Operator::GreaterThan => {
            (s.any_prerelease() || s.is_post())
                && same_base
                && (v.is_local() || (v.is_post() && v.is_pre()))
        }
        _ => false,
    }
}

fn version_text() -> impl Strategy<Value = String> {
    (
        prop_oneof![9 => Just(0u64), 1 => Just(1u64)],
        proptest::collection::vec(0u64..3, 1..4),
        proptest::option::of((prop_oneof![Just("a"), Just("b"), Just("rc")], 0u64..2)),
        proptest::option::of(0u64..2),
        proptest::option::of(0u64..2),
        proptest::option::of(prop_oneof![Just("local"), Just("7")]),
    )
        .prop_map(|(epoch, release, pre, post, dev, local)| {
            let mut s = String::new();
            if epoch > 0 {
                s.push_str(&format!("{epoch}!"));
            }
            let release: Vec<String> = release.iter().map(ToString::to_string).collect();
            s.push_str(&release.join("."));
            if let Some((kind, n)) = pre {
                s.push_str(&format!("{kind}{n}"));
            }
            if let Some(n) = post {
                s.push_str(&format!(".post{n}"));
            }
            if let Some(n) = dev {
                s.push_str(&format!(".dev{n}"));
            }
            if let Some(l) = local {
                s.push_str(&format!("+{l}"));
            }
            s
        })
}

fn specifier_text() -> impl Strategy<Value = String> {
    let op = prop_oneof![
        Just("=="),
        Just("!="),
        Just("<"),
        Just("<="),
        Just(">"),
        Just(">="),
        Just("~="),
        Just("==*"),
        Just("!=*"),
        Just("==="),
    ];
    (op, version_text(), proptest::collection::vec(0u64..3, 1..4)).prop_map(|(op, v, release)| {
        let release: Vec<String> = release.iter().map(ToString::to_string).collect();
        match op {
            "==*" => format!("=={}.*", release.join(".")),
            "!=*" => format!("!={}.*", release.join(".")),
            op => format!("{op}{v}"),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn ranges_admit_what_packaging_admits(spec in specifier_text(), v in version_text()) {
        // Texts pep440_rs refuses (local labels on ordered operators, one-segment `~=`)
        // are not specifiers.
        let Ok(spec) = VersionSpecifier::from_str(&spec) else { return Ok(()) };
        let v = Version::from_str(&v).expect("generated versions are valid");
        prop_assume!(!documented_corner(&spec, &v));
        let range = Range::from_specifier(&spec);
        prop_assert_eq!(range.contains(&v), packaging_contains(&spec, &v), "{} vs {}", spec, v);
    }
}

/// One published version: (project index, major version, dependencies as (project, spec)).
type Published = (usize, usize, Vec<(usize, usize)>);

/// A random index: projects p0..p4, versions 1.0..4.0, dependencies with small specifiers.
fn index_strategy() -> impl Strategy<Value = Vec<Published>> {
    let dep = (0usize..5, 0usize..SPECS.len());
    let version = (0usize..5, 1usize..5, proptest::collection::vec(dep, 0..3));
    proptest::collection::vec(version, 1..14)
}

const SPECS: &[&str] = &[
    "", ">=2", "<3", "==1.*", "!=2.0", "~=2.0", "==3.0", ">1.0,<4",
];

fn build(table: &[Published]) -> Memory {
    let mut index = Memory::default();
    for (project, major, deps) in table {
        let deps: Vec<String> = deps
            .iter()
            .filter(|(d, _)| d != project)
            .map(|(d, s)| format!("p{d}{}", SPECS[*s]))
            .collect();
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        index.add(&format!("p{project}"), &format!("{major}.0"), &deps);
    }
    index
}

/// Whether `chosen` satisfies the roots and every chosen package's requirements, by
/// pep440_rs's own `contains` (the versions here have no pre, post or local parts).
fn satisfies(
    index: &Memory,
    roots: &[pep508_rs::Requirement],
    constraints: &[pep508_rs::Requirement],
    chosen: &BTreeMap<PackageName, Version>,
) -> bool {
    let within = |c: &pep508_rs::Requirement| {
        chosen.get(&c.name).is_none_or(|v| match &c.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(s)) => s.contains(v),
            _ => true,
        })
    };
    let ok = |req: &pep508_rs::Requirement| {
        chosen
            .get(&req.name)
            .is_some_and(|v| match &req.version_or_url {
                Some(VersionOrUrl::VersionSpecifier(s)) => s.contains(v),
                _ => true,
            })
    };
    roots.iter().all(ok)
        && constraints.iter().all(within)
        && chosen.iter().all(|(n, v)| {
            index
                .requires_dist(n, v)
                .is_ok_and(|deps| deps.iter().all(ok))
        })
}

/// Every assignment of (absent or one version) to each project: is any a solution?
fn brute_force(
    index: &Memory,
    roots: &[pep508_rs::Requirement],
    constraints: &[pep508_rs::Requirement],
) -> bool {
    let projects: Vec<(PackageName, Vec<Version>)> = (0..5)
        .map(|i| {
            let n = name(&format!("p{i}"));
            let versions = index
                .candidates(&n)
                .expect("memory lists")
                .into_iter()
                .map(|c| c.version)
                .collect();
            (n, versions)
        })
        .collect();
    let mut choice = vec![0usize; projects.len()];
    loop {
        let chosen: BTreeMap<PackageName, Version> = projects
            .iter()
            .zip(&choice)
            .filter(|(_, c)| **c > 0)
            .map(|((n, vs), c)| (n.clone(), vs[*c - 1].clone()))
            .collect();
        if satisfies(index, roots, constraints, &chosen) {
            return true;
        }
        // Next assignment (odometer).
        let mut i = 0;
        loop {
            if i == projects.len() {
                return false;
            }
            choice[i] += 1;
            if choice[i] <= projects[i].1.len() {
                break;
            }
            choice[i] = 0;
            i += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn solutions_satisfy_every_requirement(
        table in index_strategy(),
        roots in proptest::collection::vec((0usize..5, 0usize..SPECS.len()), 1..3),
        constraints in proptest::collection::vec((0usize..5, 1usize..SPECS.len()), 0..2),
    ) {
        let index = build(&table);
        let texts: Vec<String> = roots.iter().map(|(p, s)| format!("p{p}{}", SPECS[*s])).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let roots = lines(&texts);
        let reqs: Vec<_> = roots.iter().map(|l| l.requirement.clone()).collect();
        let texts: Vec<String> =
            constraints.iter().map(|(p, s)| format!("p{p}{}", SPECS[*s])).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let constraints = lines(&texts);
        let limits: Vec<_> = constraints.iter().map(|l| l.requirement.clone()).collect();
        match resolve(&index, &py312(), &roots, &constraints, Options::default()) {
            Ok(resolution) => {
                let chosen = resolution
                    .packages
                    .values()
                    .map(|r| (r.name.clone(), r.version.clone()))
                    .collect();
                prop_assert!(satisfies(&index, &reqs, &limits, &chosen), "{:?}", resolution.pins());
                // Nothing is there without a reason: constraints never add a project.
                for r in resolution.packages.values() {
                    prop_assert!(!r.via.is_empty(), "{} has no via", r.name);
                }
            }
            Err(ResolveError::Conflict(c)) => {
                prop_assert!(!brute_force(&index, &reqs, &limits), "solver gave up but a solution exists:\n{}", c);
            }
            Err(other) => prop_assert!(false, "unexpected error: {}", other),
        }
    }
}

#[test]
fn specifiers_parse_as_the_property_test_assumes() {
    for s in SPECS {
        assert!(VersionSpecifiers::from_str(s).is_ok(), "{s}");
    }
}
