//! What counts as present: the target's own files, files a devpi stage inherits (unless
//! `--present-in own`), the pure index; and the jobs that need no index at all (excluded,
//! marker false).

use super::memory::*;
use crate::plan::{Policy, PresentIn};

fn upstream() -> Memory {
    Memory::with_upstream(vec![file("ww_a-1.0-py3-none-any.whl")])
}

#[tokio::test]
async fn a_pin_on_the_target_is_present_without_asking_upstream() {
    let mut listing = upstream();
    listing.target = vec![file("ww_a-1.0-py3-none-any.whl")];
    let (plan, listing) = plan_with(
        listing,
        &requirements("ww-a==1.0"),
        &[],
        &[cpython(8), cpython(11)],
        &policy(),
    )
    .await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 present 1.0 ww_a-1.0-py3-none-any.whl",
            "cp311 present 1.0 ww_a-1.0-py3-none-any.whl",
        ]
    );
    assert_eq!(reasons(&plan), ["on the target", "on the target"]);
    assert_eq!(listing.asked(), ["target ww-a", "pure ww-a"]);
    assert_eq!(plan.target, "memory");
}

#[tokio::test]
async fn inherited_files_count_unless_present_in_own() {
    let listing = || {
        let mut listing = upstream();
        listing.stage = Some("alice/dev".into());
        listing.target = vec![staged("root/pypi", file("ww_a-1.0-py3-none-any.whl"))];
        listing
    };
    let cp311 = [cpython(11)];
    let reqs = requirements("ww-a==1.0");
    let (plan, _) = plan_with(listing(), &reqs, &[], &cp311, &policy()).await;
    assert_eq!(rows(&plan), ["cp311 present 1.0 ww_a-1.0-py3-none-any.whl"]);
    assert_eq!(reasons(&plan), ["on the target, inherited from root/pypi"]);

    let own = Policy {
        present_in: PresentIn::Own,
        ..policy()
    };
    let (plan, _) = plan_with(listing(), &reqs, &[], &cp311, &own).await;
    assert_eq!(rows(&plan), ["cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl"]);

    // The stage's own file reads as plain "on the target".
    let mut mine = listing();
    mine.target = vec![staged("alice/dev", file("ww_a-1.0-py3-none-any.whl"))];
    let (plan, _) = plan_with(mine, &reqs, &[], &cp311, &own).await;
    assert_eq!(reasons(&plan), ["on the target"]);
}

#[tokio::test]
async fn the_pure_index_serves_pure_wheels() {
    let mut listing = upstream();
    listing.pure = vec![file("ww_a-1.0-py3-none-any.whl")];
    let plan = plan(listing, "ww-a>=1", &[cpython(11)]).await;
    assert_eq!(rows(&plan), ["cp311 present 1.0 ww_a-1.0-py3-none-any.whl"]);
    assert_eq!(reasons(&plan), ["on the pure index"]);
}

#[tokio::test]
async fn an_exclusion_wins_over_presence_and_upstream() {
    let table = [
        ("ww-a==1.0", "cp311 excluded 1.0 -"),
        ("ww-a", "cp311 excluded 1.0 -"),
        ("ww-a<1", "cp311 present 1.0 ww_a-1.0-py3-none-any.whl"),
        ("ww-b", "cp311 present 1.0 ww_a-1.0-py3-none-any.whl"),
    ];
    for (exclusion, expected) in table {
        let mut listing = upstream();
        listing.target = vec![file("ww_a-1.0-py3-none-any.whl")];
        let (plan, _) = plan_with(
            listing,
            &requirements("ww-a==1.0"),
            &exclusions(exclusion),
            &[cpython(11)],
            &policy(),
        )
        .await;
        assert_eq!(rows(&plan), [expected], "{exclusion}");
        if expected.contains("excluded") {
            assert_eq!(
                reasons(&plan),
                [format!("excluded by exclude.txt:1 (`{exclusion}`)")]
            );
        }
    }
}

#[tokio::test]
async fn a_false_marker_skips_the_interpreter() {
    let text = "ww-a==1.0; python_version < \"3.9\"";
    let (plan, listing) = plan_with(
        upstream(),
        &requirements(text),
        &[],
        &[cpython(8), cpython(11)],
        &policy(),
    )
    .await;
    // Skipped jobs come first among a line's jobs.
    assert_eq!(
        rows(&plan),
        [
            "cp311 skipped 1.0 -",
            "cp38 fetch 1.0 ww_a-1.0-py3-none-any.whl",
        ]
    );
    assert_eq!(
        plan.jobs[0].reason,
        "marker `python_version < \"3.9\"` is false for cp311"
    );
    assert_eq!(
        listing.asked(),
        ["target ww-a", "pure ww-a", "upstream ww-a"]
    );

    // False everywhere: no index is asked; a range has no version to show.
    let (plan, listing) = plan_with(
        upstream(),
        &requirements("ww-a>=1; sys_platform == \"win32\""),
        &[],
        &[cpython(8), cpython(11)],
        &policy(),
    )
    .await;
    assert_eq!(rows(&plan), ["cp38 skipped - -", "cp311 skipped - -"]);
    assert!(listing.asked().is_empty(), "{:?}", listing.asked());
}

#[tokio::test]
async fn lines_keep_their_order_and_projects_are_asked_once() {
    let listing = Memory::with_upstream(vec![
        file("ww_a-1.0-py3-none-any.whl"),
        file("ww_a-2.0-py3-none-any.whl"),
        file("ww_b-1.0.tar.gz"),
    ]);
    let (plan, listing) = plan_with(
        listing,
        &requirements("ww-b==1.0\nww-a==1.0\nww-a>=1"),
        &[],
        &[cpython(11)],
        &policy(),
    )
    .await;
    assert_eq!(
        rows(&plan),
        [
            "cp311 build 1.0 ww_b-1.0.tar.gz",
            "cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl",
            "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl",
        ]
    );
    let mut asked = listing.asked();
    asked.sort();
    assert_eq!(
        asked,
        [
            "pure ww-a",
            "pure ww-b",
            "target ww-a",
            "target ww-b",
            "upstream ww-a",
            "upstream ww-b",
        ]
    );
}

#[tokio::test]
async fn an_index_that_does_not_answer_fails_the_plan_only_when_it_is_needed() {
    let cp311 = [cpython(11)];
    let mut listing = upstream();
    listing.target = vec![file("ww_a-1.0-py3-none-any.whl")];
    listing.down = vec!["upstream"];
    let planner = crate::plan::Planner {
        listings: listing,
        interpreters: &[std::sync::Arc::new(cp311[0].clone())],
        policy: &policy(),
        concurrency: 1,
        shard: None,
        packages: &crate::package_settings::PackageSettings::default(),
        covered: None,
    };
    // A present pin never asks upstream.
    let plan = planner.plan(&requirements("ww-a==1.0"), &[]).await.unwrap();
    assert_eq!(rows(&plan), ["cp311 present 1.0 ww_a-1.0-py3-none-any.whl"]);
    // A range does, and the error names the index.
    let error = planner
        .plan(&requirements("ww-a>=1"), &[])
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot reach https://upstream.test/simple/ww-a/: connection refused"
    );
    let mut down = upstream();
    down.down = vec!["target"];
    let planner = crate::plan::Planner {
        listings: down,
        ..planner
    };
    assert!(planner.plan(&requirements("ww-a==1.0"), &[]).await.is_err());
}

#[tokio::test]
async fn a_page_that_times_out_fails_only_its_projects_jobs() {
    let cp311 = [cpython(11)];
    for index in ["target", "pure", "upstream"] {
        let mut listing = Memory::with_upstream(vec![
            file("ww_a-1.0-py3-none-any.whl"),
            file("ww_b-1.0-py3-none-any.whl"),
        ]);
        listing.timing_out = vec![(index, "ww-a")];
        let (plan, _) = plan_with(
            listing,
            &requirements("ww-a==1.0\nww-b>=1"),
            &[],
            &cp311,
            &policy(),
        )
        .await;
        assert_eq!(
            rows(&plan),
            [
                "cp311 unavailable 1.0 -",
                "cp311 fetch 1.0 ww_b-1.0-py3-none-any.whl"
            ],
            "{index}"
        );
        let role = match index {
            "target" => "the target",
            "pure" => "the pure index",
            _ => "upstream",
        };
        assert_eq!(
            reasons(&plan)[0],
            format!(
                "{role} could not be asked about this project: \
                 cannot reach https://{index}.test/simple/ww-a/: timed out"
            )
        );
    }
}
