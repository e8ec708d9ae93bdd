//! Which version a requirement gets: pins, ranges, `--versions all`, pre-releases, yanked
//! files (PEP 592), constraints, `--only-binary` / `--no-binary`, and why nothing fits.

use super::memory::*;
use crate::index::Listing;
use crate::plan::VersionPolicy;

fn upstream() -> Memory {
    Memory::with_upstream(vec![
        file("ww_a-1.0-py3-none-any.whl"),
        file("ww_a-1.5-py3-none-any.whl"),
        file("ww_a-2.0-py3-none-any.whl"),
        file("ww_a-2.0.tar.gz"),
    ])
}

#[tokio::test]
async fn pins_and_ranges_choose_their_version() {
    let cp311 = [cpython(11)];
    let table = [
        ("ww-a==1.0", "cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl"),
        ("ww-a===1.5", "cp311 fetch 1.5 ww_a-1.5-py3-none-any.whl"),
        ("ww-a>=1,<2", "cp311 fetch 1.5 ww_a-1.5-py3-none-any.whl"),
        ("ww-a", "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl"),
        ("ww-a~=1.0", "cp311 fetch 1.5 ww_a-1.5-py3-none-any.whl"),
        ("ww-a==1.*", "cp311 fetch 1.5 ww_a-1.5-py3-none-any.whl"),
        ("ww-a!=2.0", "cp311 fetch 1.5 ww_a-1.5-py3-none-any.whl"),
    ];
    for (requirement, expected) in table {
        let plan = plan(upstream(), requirement, &cp311).await;
        assert_eq!(rows(&plan), [expected], "{requirement}");
        assert_eq!(
            reasons(&plan),
            ["upstream publishes a compatible wheel"],
            "{requirement}"
        );
        assert_eq!(plan.jobs[0].requirement, requirement);
        assert_eq!(plan.jobs[0].origin, "reqs.txt:1");
    }
}

#[tokio::test]
async fn versions_all_plans_every_match_newest_first() {
    let policy = crate::plan::Policy {
        versions: VersionPolicy::All,
        ..policy()
    };
    let interpreters = [cpython(8), cpython(11)];
    let (plan, _) = plan_with(
        upstream(),
        &requirements("ww-a>=1.5"),
        &[],
        &interpreters,
        &policy,
    )
    .await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 fetch 2.0 ww_a-2.0-py3-none-any.whl",
            "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl",
            "cp38 fetch 1.5 ww_a-1.5-py3-none-any.whl",
            "cp311 fetch 1.5 ww_a-1.5-py3-none-any.whl",
        ]
    );
}

fn with_prerelease() -> Memory {
    Memory::with_upstream(vec![
        file("ww_a-1.0-py3-none-any.whl"),
        file("ww_a-2.0rc1-py3-none-any.whl"),
    ])
}

#[tokio::test]
async fn prereleases_are_held_back_unless_asked_for() {
    let cp311 = [cpython(11)];
    let plan_ = plan(with_prerelease(), "ww-a>=1", &cp311).await;
    assert_eq!(rows(&plan_), ["cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl"]);
    assert_eq!(
        reasons(&plan_),
        ["upstream publishes a compatible wheel; pre-release 2.0rc1 held back (--pre takes it)"]
    );
    // A specifier that names a pre-release admits pre-releases (PEP 440).
    let plan_ = plan(with_prerelease(), "ww-a>=2.0rc1", &cp311).await;
    assert_eq!(
        rows(&plan_),
        ["cp311 fetch 2.0rc1 ww_a-2.0rc1-py3-none-any.whl"]
    );
    // `--pre`.
    let pre = crate::plan::Policy {
        pre: true,
        ..policy()
    };
    let (plan_, _) = plan_with(
        with_prerelease(),
        &requirements("ww-a>=1"),
        &[],
        &cp311,
        &pre,
    )
    .await;
    assert_eq!(
        rows(&plan_),
        ["cp311 fetch 2.0rc1 ww_a-2.0rc1-py3-none-any.whl"]
    );
    assert_eq!(reasons(&plan_), ["upstream publishes a compatible wheel"]);
    // Only pre-releases: a range without --pre finds nothing.
    let only_pre = Memory::with_upstream(vec![file("ww_a-2.0rc1-py3-none-any.whl")]);
    let plan_ = plan(only_pre, "ww-a>=1", &cp311).await;
    assert_eq!(rows(&plan_), ["cp311 unavailable - -"]);
    assert_eq!(
        reasons(&plan_),
        ["no version matching `>=1` on upstream (it has 2.0rc1)"]
    );
}

#[tokio::test]
async fn a_yanked_version_is_chosen_only_by_an_exact_pin() {
    let cp311 = [cpython(11)];
    let listing = || {
        Memory::with_upstream(vec![
            file("ww_a-1.0-py3-none-any.whl"),
            yanked(file("ww_a-2.0-py3-none-any.whl")),
        ])
    };
    let table = [
        ("ww-a>=1", "cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl"),
        ("ww-a", "cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl"),
        ("ww-a==2.0", "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl"),
        ("ww-a>=2", "cp311 unavailable - -"),
    ];
    for (requirement, expected) in table {
        let plan = plan(listing(), requirement, &cp311).await;
        assert_eq!(rows(&plan), [expected], "{requirement}");
    }
    let plan = plan(listing(), "ww-a>=2", &cp311).await;
    assert_eq!(
        reasons(&plan),
        ["no version matching `>=2` on upstream (it has 2.0, 1.0)"]
    );
}

#[tokio::test]
async fn constraints_narrow_a_range() {
    let cp311 = [cpython(11)];
    let mut reqs = requirements("ww-a>=1\nww-b>=1.6");
    reqs.constraints = requirements("ww-a<2\nww-b<2").requirements;
    let mut listing = upstream();
    if let Some(upstream) = &mut listing.upstream {
        upstream.files.extend([
            file("ww_b-1.5-py3-none-any.whl"),
            file("ww_b-2.0-py3-none-any.whl"),
        ]);
    }
    let (plan, _) = plan_with(listing, &reqs, &[], &cp311, &policy()).await;
    assert_eq!(
        rows(&plan),
        [
            "cp311 fetch 1.5 ww_a-1.5-py3-none-any.whl",
            "cp311 unavailable - -",
        ]
    );
    assert_eq!(
        plan.jobs[1].reason,
        "no version matching `>=1.6` and constraints `<2` on upstream (it has 2.0, 1.5)"
    );
    assert_eq!(plan.jobs[1].label(), "ww-b>=1.6");
}

#[tokio::test]
async fn wheels_sdists_and_format_options_decide_fetch_or_build() {
    let cp311 = [cpython(11)];
    let sdist_only = || Memory::with_upstream(vec![file("ww_a-1.0.tar.gz")]);
    let both = || {
        Memory::with_upstream(vec![
            file("ww_a-1.0-py3-none-any.whl"),
            file("ww_a-1.0.tar.gz"),
        ])
    };
    let foreign = || {
        Memory::with_upstream(vec![
            file("ww_a-1.0-cp38-cp38-manylinux_2_17_x86_64.whl"),
            file("ww_a-1.0.tar.gz"),
        ])
    };
    let wheel_only = || Memory::with_upstream(vec![file("ww_a-1.0-py3-none-any.whl")]);
    let table: [(&str, Memory, &str, &str); 6] = [
        (
            "ww-a==1.0",
            sdist_only(),
            "cp311 build 1.0 ww_a-1.0.tar.gz",
            "upstream has only an sdist",
        ),
        (
            "ww-a==1.0",
            foreign(),
            "cp311 build 1.0 ww_a-1.0.tar.gz",
            "upstream has only wheels cp311 cannot use; build from the sdist",
        ),
        (
            // The wheel is passed over, and the reason says so in the words of a wheel
            // that does not fit.
            "--no-binary :all:\nww-a==1.0",
            both(),
            "cp311 build 1.0 ww_a-1.0.tar.gz",
            "upstream has only wheels cp311 cannot use; build from the sdist",
        ),
        (
            "--only-binary :all:\nww-a==1.0",
            sdist_only(),
            "cp311 unavailable 1.0 -",
            "--only-binary is set and no wheel of 1.0 fits cp311",
        ),
        (
            "--no-binary ww-a\nww-a==1.0",
            wheel_only(),
            "cp311 unavailable 1.0 -",
            "--no-binary is set and version 1.0 has no sdist",
        ),
        (
            "--only-binary ww-b\nww-a==1.0",
            sdist_only(),
            "cp311 build 1.0 ww_a-1.0.tar.gz",
            "upstream has only an sdist",
        ),
    ];
    for (text, listing, expected, reason) in table {
        let plan = plan(listing, text, &cp311).await;
        assert_eq!(rows(&plan), [expected], "{text}");
        assert_eq!(reasons(&plan), [reason], "{text}");
    }
}

#[tokio::test]
async fn unavailable_jobs_say_why() {
    let cp311 = [cpython(11)];
    let empty = || Memory::with_upstream(Vec::new());
    let foreign =
        || Memory::with_upstream(vec![file("ww_a-1.0-cp38-cp38-manylinux_2_17_x86_64.whl")]);
    let table: [(&str, Memory, &str, &str); 5] = [
        (
            "ww-a>=1",
            empty(),
            "cp311 unavailable - -",
            "the project is not on upstream",
        ),
        (
            "ww-a==3.0",
            upstream(),
            "cp311 unavailable 3.0 -",
            "version 3.0 is not on upstream",
        ),
        (
            "ww-a>=1",
            Memory::default(),
            "cp311 unavailable - -",
            "no upstream index is configured to resolve the range",
        ),
        (
            "ww-a==1.0",
            Memory::default(),
            "cp311 unavailable 1.0 -",
            "not on the target, and no upstream index is configured",
        ),
        (
            "ww-a==1.0",
            foreign(),
            "cp311 unavailable 1.0 -",
            "no sdist, and only wheels cp311 cannot use: \
             ww_a-1.0-cp38-cp38-manylinux_2_17_x86_64.whl (ABI tag `cp38` is not supported)",
        ),
    ];
    for (text, listing, expected, reason) in table {
        let plan = plan(listing, text, &cp311).await;
        assert_eq!(rows(&plan), [expected], "{text}");
        assert_eq!(reasons(&plan), [reason], "{text}");
    }
}

#[tokio::test]
async fn an_entry_refused_at_the_index_boundary_fails_the_version_it_claims() {
    let cp311 = [cpython(11)];
    let listing = || Memory {
        upstream: Some(Listing {
            files: vec![
                file("ww_a-1.0-py3-none-any.whl"),
                file("ww_a-2.0-py3-none-any.whl"),
            ],
            rejected: vec![rejected("ww_a-2.0-py3-none-any.whl")],
        }),
        ..Memory::default()
    };
    let refused = "unusable upstream entries: https://upstream.test/simple/ww-a/ lists \
                   \"ww_a-2.0-py3-none-any.whl\": sha256 \"ab\": a sha256 must be 64 hex \
                   digits, not 2 characters";
    let plan_ = plan(listing(), "ww-a==2.0", &cp311).await;
    assert_eq!(rows(&plan_), ["cp311 unavailable 2.0 -"]);
    assert_eq!(reasons(&plan_), [refused]);
    // Its neighbours are served.
    let plan_ = plan(listing(), "ww-a==1.0", &cp311).await;
    assert_eq!(rows(&plan_), ["cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl"]);
    // A job that found nothing also names the entries that claim no version at all.
    let mut nameless = listing();
    if let Some(upstream) = &mut nameless.upstream {
        upstream.rejected = vec![rejected("evil")];
    }
    let plan_ = plan(nameless, "ww-a==3.0", &cp311).await;
    assert_eq!(rows(&plan_), ["cp311 unavailable 3.0 -"]);
    assert_eq!(
        reasons(&plan_),
        [
            "version 3.0 is not on upstream; unusable upstream entries: \
          https://upstream.test/simple/ww-a/ lists \"evil\": sha256 \"ab\": a sha256 must \
          be 64 hex digits, not 2 characters"
        ]
    );
}
