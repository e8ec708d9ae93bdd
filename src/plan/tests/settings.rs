//! `[package.NAME]` settings in the plan: build jobs carry them, `build = false` never builds.

use super::memory::*;
use crate::package_settings::PackageSettings;
use crate::plan::Planner;

async fn plan_with_settings(listings: Memory, text: &str, settings: &str) -> crate::plan::Plan {
    let dir = tempfile::tempdir().unwrap();
    let packages = PackageSettings::parse(settings, &dir.path().join("wheelwright.toml")).unwrap();
    let interpreters = [std::sync::Arc::new(cpython(11))];
    let planner = Planner {
        listings,
        interpreters: &interpreters,
        policy: &policy(),
        concurrency: 1,
        shard: None,
        packages: &packages,
        covered: None,
    };
    planner.plan(&requirements(text), &[]).await.unwrap()
}

fn upstream() -> Memory {
    Memory::with_upstream(vec![
        file("ww_a-1.0-py3-none-any.whl"),
        file("ww_a-1.0.tar.gz"),
        file("ww_b-1.0.tar.gz"),
    ])
}

#[tokio::test]
async fn build_false_fetches_a_wheel_and_is_unavailable_without_one() {
    let settings = "[package.ww-a]\nbuild = false\nreason = \"wheels only\"\n\n\
                    [package.ww-b]\nbuild = false\nreason = \"too heavy\"\n";
    let plan = plan_with_settings(upstream(), "ww-a==1.0\nww-b==1.0\n", settings).await;
    assert_eq!(
        rows(&plan),
        [
            "cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl",
            "cp311 unavailable 1.0 -"
        ]
    );
    let reason = &plan.jobs[1].reason;
    assert!(
        reason.ends_with("wheelwright.toml:5): too heavy"),
        "{reason}"
    );
    assert!(plan.jobs[1].settings.no_build.is_some());
    // A fetch job uses no build settings.
    assert!(plan.jobs[0].settings.is_empty());
}

#[tokio::test]
async fn a_build_job_carries_the_settings_that_apply_to_its_version() {
    let settings = "[[package.ww-b]]\nversions = \"<1\"\njobs = 1\n\n\
                    [[package.ww-b]]\nversions = \">=1\"\nenv = { A = \"1\" }\n";
    let plan = plan_with_settings(upstream(), "ww-b==1.0\n", settings).await;
    assert_eq!(rows(&plan), ["cp311 build 1.0 ww_b-1.0.tar.gz"]);
    let applied = &plan.jobs[0].settings;
    assert_eq!(applied.env.get("A").map(String::as_str), Some("1"));
    assert!(!applied.exclusive, "the <1 table does not apply to 1.0");
    let json = serde_json::to_value(&plan.jobs[0]).unwrap();
    assert_eq!(json["settings"]["env"]["A"], "1", "{json}");
}
