//! `wheelwright report merge` on the reports of real `fill` and `plan` runs into a directory
//! target: every job exactly once, the summary recomputed, the JUnit counters right; and
//! inputs that do not belong together refused (exit 2) with nothing written.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Run, fill, fixtures_dir, run, wheelwright_with_home};

/// Runs `fill` with `requirements` into `target`, keeping its reports as `shard-K.*`.
fn fill_shard(home: &Path, k: usize, requirements: &str, target: &Path) -> (PathBuf, PathBuf) {
    fill_shard_with(home, k, requirements, target, &[])
}

fn fill_shard_with(
    home: &Path,
    k: usize,
    requirements: &str,
    target: &Path,
    extra: &[&str],
) -> (PathBuf, PathBuf) {
    let junit = home.join(format!("shard-{k}.xml"));
    let find_links = fixtures_dir().join("dist");
    let mut args = vec![
        "--find-links",
        find_links.to_str().unwrap(),
        target.to_str().unwrap(),
        "--junit-xml",
        junit.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = fill(home, requirements, &args, &[]);
    assert!(
        matches!(run.code(), 0 | 1),
        "fill shard {k}: exit {}\n{}",
        run.code(),
        run.stderr()
    );
    let json = home.join(format!("shard-{k}.json"));
    std::fs::rename(home.join("report.json"), &json).unwrap();
    (json, junit)
}

/// `wheelwright report merge ARGS` in `home`.
fn merge(home: &Path, args: &[&Path]) -> Run {
    run(wheelwright_with_home(home)
        .current_dir(home)
        .args(["report", "merge"])
        .args(args))
}

#[test]
fn merge_joins_two_fills_with_every_job_once_and_a_recomputed_summary() {
    let home = tempfile::tempdir().unwrap();
    let target = home.path().join("wheelhouse");
    let (json0, junit0) = fill_shard(home.path(), 0, "ww-bravo==1.0\nww-alpha==1.0\n", &target);
    let (json1, junit1) = fill_shard(
        home.path(),
        1,
        "ww-alpha==2.0\nWW_ECHO.PKG==1.0\nww-nope==1.0\n",
        &target,
    );
    let merged_json = home.path().join("merged.json");
    let merged_xml = home.path().join("merged.xml");
    let out = merge(
        home.path(),
        &[
            Path::new("--report-json"),
            &merged_json,
            Path::new("--junit-xml"),
            &merged_xml,
            &json1,
            &junit1,
            &json0,
            &junit0,
        ],
    );
    let stdout = out.assert_code(0).stdout();
    assert!(
        stdout.contains("merged 2 JSON reports")
            && stdout.contains("5 jobs (1 failed, 4 uploaded)"),
        "{stdout}"
    );

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&merged_json).unwrap())
        .expect("the merged report is JSON");
    assert_eq!(report["schema"], 1);
    assert_eq!(report["target"], target.to_str().unwrap());
    let jobs: Vec<(&str, &str, &str)> = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["project"].as_str().unwrap(),
                j["version"].as_str().unwrap(),
                j["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    // Sorted by project and version, whatever order the inputs came in.
    assert_eq!(
        jobs,
        [
            ("ww-alpha", "1.0", "uploaded"),
            ("ww-alpha", "2.0", "uploaded"),
            ("ww-bravo", "1.0", "uploaded"),
            ("ww-echo-pkg", "1.0", "uploaded"),
            ("ww-nope", "1.0", "failed"),
        ]
    );
    let summary = report["summary"].as_object().unwrap();
    for (outcome, n) in summary {
        let expected = match outcome.as_str() {
            "uploaded" => 4,
            "failed" => 1,
            _ => 0,
        };
        assert_eq!(
            n.as_u64(),
            Some(expected),
            "summary[{outcome}]: {summary:?}"
        );
    }
    assert!(summary.contains_key("not-run"), "{summary:?}");
    assert_eq!(report["stopped"], Value::Null);

    // An independent reader (quick-junit's) sees one suite with every job once.
    let xml = std::fs::read_to_string(&merged_xml).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).expect("merged JUnit parses");
    assert_eq!(
        (junit.tests, junit.failures, junit.errors),
        (5, 1, 0),
        "{xml}"
    );
    assert_eq!(junit.test_suites.len(), 1, "{xml}");
    let mut names: Vec<String> = junit.test_suites[0]
        .test_cases
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    names.sort();
    let label = report["jobs"][0]["interpreter"].as_str().unwrap();
    let expected: Vec<String> = jobs
        .iter()
        .map(|(project, version, _)| format!("{project}=={version} ({label})"))
        .collect();
    assert_eq!(names, expected, "{xml}");

    // The same shard given twice (overlapping globs) counts once.
    let again = home.path().join("again.json");
    let out = merge(
        home.path(),
        &[Path::new("--json"), &again, &json0, &json0, &json1],
    );
    out.assert_code(0);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    assert_eq!(report["jobs"].as_array().unwrap().len(), 5);
}

#[test]
fn merged_shards_of_one_requirements_file_hold_every_job_once() {
    let home = tempfile::tempdir().unwrap();
    let target = home.path().join("wheelhouse");
    let requirements = "ww-alpha==1.0\nww-alpha==2.0\nww-bravo==1.0\nWW_ECHO.PKG==1.0\n";
    let shards: Vec<(PathBuf, PathBuf)> = (0..3)
        .map(|k| {
            let shard = format!("{k}/3");
            fill_shard_with(home.path(), k, requirements, &target, &["--shard", &shard])
        })
        .collect();
    // The split must be real for the test to mean something (with these names it is 3, 1
    // and 0 jobs: an empty shard's report merges too).
    let per_shard: Vec<usize> = shards
        .iter()
        .map(|(json, _)| {
            let report: Value =
                serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
            report["jobs"].as_array().unwrap().len()
        })
        .collect();
    assert!(
        per_shard.iter().filter(|n| **n > 0).count() >= 2,
        "{per_shard:?}"
    );
    let merged = home.path().join("merged.json");
    let mut args: Vec<&Path> = vec![Path::new("--report-json"), &merged];
    args.extend(shards.iter().map(|(json, _)| json.as_path()));
    let out = merge(home.path(), &args);
    out.assert_code(0);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    let jobs: Vec<(&str, &str)> = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["project"].as_str().unwrap(),
                j["version"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        jobs,
        [
            ("ww-alpha", "1.0"),
            ("ww-alpha", "2.0"),
            ("ww-bravo", "1.0"),
            ("ww-echo-pkg", "1.0"),
        ],
        "{report:#}"
    );
    assert_eq!(report["summary"]["uploaded"], 4, "{report:#}");
}

#[test]
fn merge_counts_plan_reports_by_action() {
    let home = tempfile::tempdir().unwrap();
    let target = home.path().join("wheelhouse");
    let find_links = fixtures_dir().join("dist");
    let mut reports = Vec::new();
    for (k, requirements) in ["ww-alpha==1.0\n", "ww-alpha==2.0\nww-charlie==1.0\n"]
        .iter()
        .enumerate()
    {
        // Each its own requirements file, as each shard of a matrix has.
        let reqs = home.path().join(format!("r{k}.txt"));
        std::fs::write(&reqs, requirements).unwrap();
        let report = home.path().join(format!("plan-{k}.json"));
        run(wheelwright_with_home(home.path())
            .arg("plan")
            .arg(&reqs)
            .args(["--find-links", find_links.to_str().unwrap(), "--target"])
            .arg(&target)
            .arg("--report-json")
            .arg(&report))
        .assert_code(0);
        reports.push(report);
    }
    let merged = home.path().join("plan.json");
    let out = merge(
        home.path(),
        &[
            Path::new("--report-json"),
            &merged,
            &reports[0],
            &reports[1],
        ],
    );
    out.assert_code(0);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(report["summary"]["fetch"], 2, "{report:#}");
    assert_eq!(report["summary"]["build"], 1, "{report:#}");
    assert_eq!(report["summary"]["present"], 0, "{report:#}");
    assert!(
        report.get("stopped").is_none(),
        "plan reports have no `stopped`"
    );
    assert_eq!(report["jobs"].as_array().unwrap().len(), 3);
}

#[test]
fn merge_refuses_inputs_that_do_not_belong_together_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (json0, junit0) = fill_shard(h, 0, "ww-alpha==1.0\n", &h.join("wheelhouse"));
    let (other_target, _) = fill_shard(h, 1, "ww-bravo==1.0\n", &h.join("elsewhere"));
    let out_json = h.join("out.json");
    let out_xml = h.join("out.xml");
    let refused = |args: &[&Path], expected: &[&str]| {
        let out = merge(h, args);
        let stderr = out.stderr();
        assert_eq!(out.code(), 2, "{args:?}: {stderr}");
        for part in expected {
            assert!(
                stderr.contains(part),
                "{args:?}: expected `{part}` in:\n{stderr}"
            );
        }
        assert!(
            !out_json.exists() && !out_xml.exists(),
            "{args:?} wrote output"
        );
    };
    let flag = |f: &'static str| Path::new(f);

    // Different targets: both files and both targets named.
    refused(
        &[flag("--report-json"), &out_json, &json0, &other_target],
        &[
            "different targets",
            &format!("{} has", json0.display()),
            &format!("{} has", other_target.display()),
        ],
    );
    // Not a schema-1 report.
    let schema2 = h.join("schema2.json");
    std::fs::write(&schema2, r#"{"schema": 2, "target": "x", "jobs": []}"#).unwrap();
    refused(
        &[flag("--report-json"), &out_json, &json0, &schema2],
        &[
            &format!("{}: not a wheelwright JSON report", schema2.display()),
            "`schema` is 2",
        ],
    );
    // Neither JSON nor XML (a requirements file given by mistake).
    let reqs = h.join("requirements.txt");
    refused(
        &[flag("--report-json"), &out_json, &json0, &reqs],
        &[&reqs.display().to_string(), "expected a JSON report"],
    );
    // Malformed JUnit, with where; the JSON output is not written either.
    let broken = h.join("broken.xml");
    std::fs::write(
        &broken,
        "<testsuites>\n  <testsuite name=\"x\">\n</testsuites>\n",
    )
    .unwrap();
    refused(
        &[
            flag("--report-json"),
            &out_json,
            flag("--junit-xml"),
            &out_xml,
            &json0,
            &junit0,
            &broken,
        ],
        &[&format!("{}:3:", broken.display()), "malformed XML"],
    );
    // XML that is not JUnit.
    let html = h.join("page.xml");
    std::fs::write(&html, "<html><body/></html>").unwrap();
    refused(
        &[flag("--junit-xml"), &out_xml, &junit0, &html],
        &["not a JUnit XML report", "<html>"],
    );
    // A JSON input without --report-json, an output without inputs of its kind.
    refused(
        &[flag("--junit-xml"), &out_xml, &junit0, &json0],
        &["give --report-json FILE"],
    );
    refused(
        &[
            flag("--report-json"),
            &out_json,
            flag("--junit-xml"),
            &out_xml,
            &junit0,
        ],
        &["--report-json was given but no input is a JSON report"],
    );
    // The output among the inputs (a re-run in the same workspace with a broad glob).
    let out = merge(h, &[flag("--report-json"), &json0, &json0]);
    let stderr = out.assert_code(2).stderr();
    assert!(stderr.contains("both an input and the --report-json output"));
}
