//! Per-package build settings (`[package.NAME]` in `wheelwright.toml`), through the binary and
//! real sandboxed builds: each kind changes the build as it says. The `ww-settings` fixture's
//! backend writes what its build saw (`WW_*` variables, `config_settings`, the distributions
//! of the build environment) into the wheel as `ww_settings/_build_facts.json`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Run, fill, fixtures_dir, job, plan, upstream_wheels_dir, wheel_member};

/// The patch every test starts from: `PATCHED = False` becomes `True`.
const FLIP: &str = "\
--- a/ww_settings/__init__.py
+++ b/ww_settings/__init__.py
@@ -1,3 +1,3 @@
 \"\"\"wheelwright fixture: a patch in the per-package settings changes this value.\"\"\"
 
-PATCHED = False
+PATCHED = True
";

/// Does not apply: the line it removes is not in the file.
const STALE: &str = "\
--- a/ww_settings/__init__.py
+++ b/ww_settings/__init__.py
@@ -3 +3 @@
-PATCHED = Maybe
+PATCHED = True
";

fn write_config(home: &Path, text: &str) -> PathBuf {
    let path = home.join("wheelwright.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn fill_with(home: &Path, config: &Path, requirements: &str, extra: &[&str]) -> Run {
    let dists = fixtures_dir().join("dist");
    let upstream = upstream_wheels_dir();
    let wheelhouse = home.join("wheelhouse");
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "--find-links",
        dists.to_str().unwrap(),
        "--find-links",
        upstream.to_str().unwrap(),
        "--sandbox",
        "required",
    ];
    args.extend_from_slice(extra);
    let owned: Vec<String> = args
        .iter()
        .map(|s| s.to_string())
        .chain([wheelhouse.display().to_string()])
        .collect();
    let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
    fill(home, requirements, &borrowed, &[])
}

fn plan_with(home: &Path, config: &Path, requirements: &str) -> Run {
    let dists = fixtures_dir().join("dist");
    let wheelhouse = home.join("wheelhouse");
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--find-links",
        dists.to_str().unwrap(),
        "--target",
        wheelhouse.to_str().unwrap(),
    ];
    plan(home, requirements, &args, &[])
}

/// A text member of a wheel.
fn member_text(wheel: &Path, member: &str) -> String {
    String::from_utf8(wheel_member(wheel, member)).unwrap()
}

#[test]
fn env_config_settings_build_requirements_constraints_and_patches_change_the_build() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("flip.diff"), FLIP).unwrap();
    let config = write_config(
        home.path(),
        "[package.ww-settings]\n\
         env = { WW_GREETING = \"from the package\", WW_BOTH = \"package wins\" }\n\
         config-settings = { mode = \"fast\", flags = [\"-a\", \"-b\"] }\n\
         extra-build-requires = [\"hatchling\"]\n\
         build-constraints = [\"hatchling==1.27.0\"]\n\
         patches = [\"flip.diff\"]\n",
    );
    let run = fill_with(
        home.path(),
        &config,
        "ww-settings==1.0 --config-settings=line=1\n",
        &[
            "--build-env",
            "WW_FLAG=from --build-env",
            "--build-env",
            "WW_BOTH=flag",
        ],
    );
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let job = job(&run, "ww-settings");
    assert_eq!(job["outcome"], "built", "{job:#}");
    let wheel = home
        .path()
        .join("wheelhouse")
        .join("ww_settings-1.0-py3-none-any.whl");
    let facts: Value =
        serde_json::from_str(&member_text(&wheel, "ww_settings/_build_facts.json")).unwrap();

    // env: after --build-env, and winning over it.
    assert_eq!(facts["env"]["WW_GREETING"], "from the package", "{facts:#}");
    assert_eq!(facts["env"]["WW_FLAG"], "from --build-env", "{facts:#}");
    assert_eq!(facts["env"]["WW_BOTH"], "package wins", "{facts:#}");
    // config-settings: merged with the requirement line's.
    assert_eq!(
        facts["config_settings"],
        serde_json::json!({"line": "1", "mode": "fast", "flags": ["-a", "-b"]}),
        "{facts:#}"
    );
    // extra-build-requires installed, at the version build-constraints pins (1.33.0 is
    // newer and would be chosen otherwise).
    let installed: Vec<&str> = facts["installed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(installed.contains(&"hatchling==1.27.0"), "{installed:?}");
    assert!(
        installed.iter().any(|d| d.starts_with("pluggy==")),
        "{installed:?}"
    );
    // The patch was applied to the unpacked sdist.
    assert!(
        member_text(&wheel, "ww_settings/__init__.py").contains("PATCHED = True"),
        "the patch did not reach the build"
    );

    // The report records what applied.
    let settings = &job["build"]["settings"];
    assert_eq!(
        settings["env"]["WW_GREETING"], "from the package",
        "{settings:#}"
    );
    assert_eq!(
        settings["config-settings"]["mode"],
        serde_json::json!(["fast"])
    );
    assert_eq!(
        settings["extra-build-requires"],
        serde_json::json!(["hatchling"])
    );
    assert_eq!(
        settings["build-constraints"],
        serde_json::json!(["hatchling==1.27.0"])
    );
    let patch = home.path().join("flip.diff");
    assert_eq!(
        settings["patches"],
        serde_json::json!([std::path::absolute(&patch).unwrap()]),
        "{settings:#}"
    );
    let from = format!("{}:1", config.display());
    assert_eq!(settings["from"], serde_json::json!([from]), "{settings:#}");
    let environment: Vec<&str> = job["build"]["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["filename"].as_str().unwrap())
        .collect();
    assert!(
        environment.contains(&"hatchling-1.27.0-py3-none-any.whl"),
        "{environment:?}"
    );

    // Built once, the wheel is on the target: the plan says present, without settings.
    let planned = plan_with(home.path(), &config, "ww-settings==1.0\n");
    let plan = &planned.assert_code(0).report;
    assert_eq!(plan["jobs"][0]["action"], "present", "{plan:#}");
    assert!(plan["jobs"][0].get("settings").is_none(), "{plan:#}");
    // On an empty target it is a build, and the plan shows its settings: the table's
    // summary and `settings` in the JSON.
    std::fs::remove_dir_all(home.path().join("wheelhouse")).unwrap();
    let planned = plan_with(home.path(), &config, "ww-settings==1.0\n");
    let stdout = planned.assert_code(0).stdout();
    let plan = &planned.report;
    let planned = &plan["jobs"][0];
    assert_eq!(planned["action"], "build", "{planned:#}");
    assert_eq!(planned["settings"], *settings, "{planned:#}");
    assert!(
        stdout.contains(&format!(
            "settings from {from} (env, config-settings, extra-build-requires, \
             build-constraints, patches)"
        )),
        "{stdout}"
    );
}

#[test]
fn a_patch_that_does_not_apply_fails_naming_the_hunk_and_a_fixed_patch_is_retried() {
    let home = tempfile::tempdir().unwrap();
    let patch = home.path().join("fix.diff");
    std::fs::write(&patch, STALE).unwrap();
    let config = write_config(
        home.path(),
        "[package.ww-settings]\npatches = [\"fix.diff\"]\n",
    );
    let failed = fill_with(home.path(), &config, "ww-settings==1.0\n", &[]);
    assert_eq!(failed.code(), 1, "{}", failed.stderr());
    let failure = job(&failed, "ww-settings");
    assert_eq!(failure["outcome"], "failed", "{failure:#}");
    let detail = failure["detail"].as_str().unwrap();
    assert!(detail.contains("apply patches"), "{detail}");
    assert!(detail.contains("@@ -3 +3 @@"), "{detail}");
    assert!(detail.contains("-PATCHED = Maybe"), "{detail}");

    // Same sdist, same settings: a known failure.
    let again = fill_with(home.path(), &config, "ww-settings==1.0\n", &[]);
    let detail = job_detail(&again);
    assert!(detail.starts_with("known failure"), "{detail}");

    // The patch file fixed in place: another build, not the known failure.
    std::fs::write(&patch, FLIP).unwrap();
    let fixed = fill_with(home.path(), &config, "ww-settings==1.0\n", &[]);
    assert_eq!(fixed.code(), 0, "{}", fixed.stderr());
    assert_eq!(job(&fixed, "ww-settings")["outcome"], "built");
    let wheel = home
        .path()
        .join("wheelhouse")
        .join("ww_settings-1.0-py3-none-any.whl");
    assert!(member_text(&wheel, "ww_settings/__init__.py").contains("PATCHED = True"));
}

fn job_detail(run: &Run) -> String {
    job(run, "ww-settings")["detail"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_exclusive_build_runs_with_no_other_build_beside_it() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), "[package.ww-settings]\njobs = 1\n");
    let run = fill_with(
        home.path(),
        &config,
        "ww-charlie==1.0\nww-settings==1.0\nww-golf==1.0\nww-hotel==1.0\n",
        &["--jobs", "2"],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    // The plain log's `building` and `ended building` lines come while a build holds its
    // slots: the exclusive build's pair encloses no other build's line, and every build that
    // started before it had ended.
    let events: Vec<(bool, String)> = run
        .stderr()
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("] ")?;
            if let Some(what) = rest.strip_prefix("ended    building ") {
                Some((false, what.to_string()))
            } else {
                rest.strip_prefix("building ")
                    .map(|what| (true, what.to_string()))
            }
        })
        .collect();
    assert_eq!(events.len(), 8, "four builds: {events:?}");
    let alone = |what: &str| what.contains("(alone: jobs = 1)");
    let start = events.iter().position(|(s, w)| *s && alone(w)).unwrap();
    assert_eq!(
        events[start + 1],
        (false, events[start].1.clone()),
        "{events:?}"
    );
    let mut running = 0i32;
    for (started, _) in &events[..start] {
        running += if *started { 1 } else { -1 };
    }
    assert_eq!(
        running, 0,
        "builds were running when it started: {events:?}"
    );
}

#[test]
fn build_false_fetches_a_wheel_when_there_is_one_and_is_unavailable_otherwise() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(
        home.path(),
        "[package.ww-charlie]\nbuild = false\nreason = \"too heavy for the nightly\"\n\n\
         [package.ww-alpha]\nbuild = false\nreason = \"wheels only\"\n",
    );
    let planned = plan_with(home.path(), &config, "ww-charlie==1.0\nww-alpha==1.0\n");
    let jobs = planned.assert_code(0).jobs();
    let charlie = jobs.iter().find(|j| j["project"] == "ww-charlie").unwrap();
    assert_eq!(charlie["action"], "unavailable", "{charlie:#}");
    let reason = charlie["reason"].as_str().unwrap();
    assert!(reason.contains("too heavy for the nightly"), "{reason}");
    assert!(
        reason.contains(&format!("{}:1", config.display())),
        "{reason}"
    );
    assert_eq!(
        charlie["settings"]["no-build"]["reason"],
        "too heavy for the nightly"
    );
    let alpha = jobs.iter().find(|j| j["project"] == "ww-alpha").unwrap();
    assert_eq!(alpha["action"], "fetch", "{alpha:#}");

    // fill: nothing is built; the wheel is fetched, the other job fails with the reason.
    let run = fill_with(
        home.path(),
        &config,
        "ww-charlie==1.0\nww-alpha==1.0\n",
        &[],
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(!run.stderr().contains("building"), "{}", run.stderr());
    assert_eq!(
        job(&run, "ww-alpha")["outcome"],
        "uploaded",
        "{:#}",
        run.report
    );
    let charlie = job(&run, "ww-charlie");
    assert_eq!(charlie["outcome"], "failed", "{charlie:#}");
    assert!(
        charlie["detail"]
            .as_str()
            .unwrap()
            .contains("too heavy for the nightly"),
        "{charlie:#}"
    );
}

#[test]
fn an_unknown_key_is_bad_input_naming_the_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(
        home.path(),
        "retries = 1\n\n[package.ww-settings]\nenvv = { A = \"1\" }\n",
    );
    let planned = plan_with(home.path(), &config, "ww-settings==1.0\n");
    let stderr = planned.assert_code(2).stderr();
    assert!(
        stderr.contains(&format!("{}:3", config.display())),
        "{stderr}"
    );
    assert!(stderr.contains("envv"), "{stderr}");
}
