//! `wheelwright plan` end to end against a real devpi-server: an upstream index holding the
//! project's fixture dists, a base index, and a target that inherits from it.

use std::path::Path;

use serde_json::Value;

use crate::support::{
    DevpiUser, Run, devpi, fixture_dist, fixtures_dir, plan, run, snapshot, wheelwright,
};

/// The layout every plan test starts from.
struct Layout {
    user: DevpiUser,
    upstream_simple: String,
    target: String,
    dir: tempfile::TempDir,
}

fn layout() -> Layout {
    let server = devpi();
    let user = server.new_user("plan");
    let upstream = user.create_index("upstream", &[], false);
    user.create_index("base", &[], false);
    let target = user.create_index("target", &["base"], false);
    for dist in std::fs::read_dir(fixtures_dir().join("dist")).unwrap() {
        let path = dist.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("ww_big") {
            user.upload("upstream", &path);
        }
    }
    // Own wheel, inherited wheels (one under an un-normalised name, one as 1.0.0), and an
    // incompatible wheel on the target itself.
    user.upload("target", &fixture_dist("ww_alpha-1.0-py3-none-any.whl"));
    user.upload("base", &fixture_dist("ww_bravo-1.0.0-py3-none-any.whl"));
    user.upload("base", &fixture_dist("ww_echo_pkg-1.0-py3-none-any.whl"));
    user.upload("target", &fixture_dist("ww_delta-1.0-cp27-cp27m-win32.whl"));
    Layout {
        upstream_simple: format!("{upstream}/+simple/"),
        target,
        user,
        dir: tempfile::tempdir().unwrap(),
    }
}

const REQUIREMENTS: &str = "\
ww-alpha==1.0
ww-bravo==1.0
WW_ECHO.PKG==1.0
ww-alpha==2.0
ww-delta==1.0
ww-charlie==1.0
ww-foxtrot==1.0
ww-golf==1.0 ; python_version < \"3\"
ww-hotel==1.0
ww-alpha==9.9
ww-alpha>=1.0,<4
";

fn write(dir: &Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Plans [`REQUIREMENTS`] for the layout's target (ww-hotel excluded), in its directory.
fn plan_layout(layout: &Layout, extra: &[&str]) -> Run {
    let exclude = write(
        layout.dir.path(),
        "exclude.txt",
        "# never build this one\nww-hotel\n",
    );
    let mut args = vec![
        "--target",
        &layout.target,
        "--index-url",
        &layout.upstream_simple,
        "--exclude",
        exclude.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    plan(layout.dir.path(), REQUIREMENTS, &args, &[])
}

/// `(project, version, action, reason)` of each job, in order.
fn jobs(report: &Value) -> Vec<(String, String, String, String)> {
    report["jobs"]
        .as_array()
        .expect("jobs array")
        .iter()
        .map(|j| {
            (
                j["project"].as_str().unwrap().to_string(),
                j["version"].as_str().unwrap_or("-").to_string(),
                j["action"].as_str().unwrap().to_string(),
                j["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn plan_decides_every_case_against_a_real_devpi() {
    let layout = layout();
    let before: Vec<_> = ["ww-alpha", "ww-charlie"]
        .iter()
        .map(|p| layout.user.files("target", p, true))
        .collect();
    let planned = plan_layout(&layout, &[]);
    planned.assert_code(0);
    // Every case in one table on stdout: present on the target and inherited (under an
    // un-normalised name, as 1.0.0), fetch, build (an incompatible wheel, only an sdist),
    // unavailable, skipped by a marker, excluded (file:line), not on upstream, and a range
    // that passes over a pre-release and says so; then the summary line.
    let dir = snapshot::path(layout.dir.path());
    snapshot::settings(&[(&layout.user.name, "[user]"), (&dir, "[dir]")]).bind(|| {
        insta::assert_snapshot!("plan_table", planned.stdout());
        // The JSON report's shape is what scripts rely on.
        insta::assert_json_snapshot!("plan_report", planned.report);
    });
    // plan never writes to the target.
    let after: Vec<_> = ["ww-alpha", "ww-charlie"]
        .iter()
        .map(|p| layout.user.files("target", p, true))
        .collect();
    assert_eq!(before, after);
    devpi().assert_no_tracebacks();
}

#[test]
fn plan_present_in_own_ignores_inherited_wheels() {
    let layout = layout();
    let planned = plan_layout(&layout, &["--present-in", "own"]);
    let jobs = jobs(&planned.assert_code(0).report);
    assert_eq!(jobs[0].2, "present", "own wheel still counts");
    assert_eq!(
        jobs[1].2, "fetch",
        "inherited ww-bravo no longer counts: {:?}",
        jobs[1]
    );
    assert_eq!(jobs[2].2, "fetch", "inherited echo-pkg no longer counts");
}

#[test]
fn plan_versions_all_takes_every_match_of_a_range() {
    let layout = layout();
    let planned = plan_layout(&layout, &["--versions", "all"]);
    let range: Vec<_> = jobs(&planned.assert_code(0).report)
        .into_iter()
        .skip(10)
        .map(|j| (j.1, j.2))
        .collect();
    assert_eq!(
        range,
        [
            ("2.0".to_string(), "fetch".to_string()),
            ("1.0".to_string(), "present".to_string())
        ]
    );
}

#[test]
fn plan_pre_admits_prereleases_for_ranges() {
    let layout = layout();
    let planned = plan_layout(&layout, &["--pre"]);
    let last = jobs(&planned.assert_code(0).report).pop().unwrap();
    assert_eq!((last.1.as_str(), last.2.as_str()), ("3.0rc1", "fetch"));
}

#[test]
fn plan_with_two_interpreters_evaluates_each() {
    let layout = layout();
    let others: Vec<_> = std::fs::read_dir(crate::support::pyenv_versions())
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("bin/python3"))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    let other = others
        .iter()
        .find(|p| p.to_string_lossy().contains("/3.8") || p.to_string_lossy().contains("/3.12"))
        .cloned()
        .unwrap_or_else(|| "python3".into());
    let planned = plan_layout(
        &layout,
        &["--python", "python3", "--python", other.to_str().unwrap()],
    );
    let interpreters: std::collections::BTreeSet<String> = planned
        .assert_code(0)
        .jobs()
        .iter()
        .map(|j| j["interpreter"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(planned.jobs().len(), 22);
    assert!(!interpreters.is_empty());
}

#[test]
fn bad_requirements_stop_before_any_index_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let reqs = write(
        dir.path(),
        "requirements.txt",
        "ww-alpha==1.0\nww-bravo>=1.0+local\n",
    );
    // The target is unreachable: had wheelwright asked it, the exit code would be 3.
    let planned = run(wheelwright()
        .arg("plan")
        .arg(&reqs)
        .args(["--target", "http://127.0.0.1:9/u/i"]));
    let stderr = planned.assert_code(2).stderr();
    assert!(
        stderr.contains("requirements.txt:2:"),
        "error names file:line:column: {stderr}"
    );
}

#[test]
fn unreachable_target_exits_3_naming_the_url_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let reqs = write(dir.path(), "requirements.txt", "ww-alpha==1.0\n");
    let planned = run(wheelwright().arg("plan").arg(&reqs).args([
        "--target",
        "http://alice:s3cret-pw@127.0.0.1:9/alice/dev",
        "--retries",
        "0",
    ]));
    let stderr = planned.assert_code(3).stderr();
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
    assert!(
        !stderr.contains("s3cret-pw"),
        "the password leaked: {stderr}"
    );
}

#[test]
fn wrong_password_exits_3() {
    let layout = layout();
    let planned = plan_layout(
        &layout,
        &[
            "--user",
            &layout.user.name,
            "--password",
            "wrong-password-x",
        ],
    );
    let stderr = planned.assert_code(3).stderr();
    assert!(!stderr.contains("wrong-password-x"), "{stderr}");
}

#[test]
fn a_simple_url_as_target_is_refused_with_the_index_url() {
    let layout = layout();
    let simple = format!("{}/+simple/", layout.target);
    let dir = tempfile::tempdir().unwrap();
    let reqs = write(dir.path(), "requirements.txt", "ww-alpha==1.0\n");
    let planned = run(wheelwright()
        .arg("plan")
        .arg(&reqs)
        .args(["--target", &simple]));
    let stderr = planned.assert_code(2).stderr();
    assert!(
        stderr.contains(&format!("use {} instead", layout.target)),
        "{stderr}"
    );
}

#[test]
fn credentials_written_into_requirements_never_reach_output_or_reports() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "s3cret-token-77";
    let reqs = write(
        dir.path(),
        "requirements.txt",
        &format!(
            "ww-alpha==1.0\nprivate @ https://ci:{secret}@files.example.internal/private-1.0-py3-none-any.whl\n"
        ),
    );
    let report = dir.path().join("report.json");
    let planned = run(wheelwright()
        .arg("plan")
        .arg(&reqs)
        .args(["--target"])
        .arg(dir.path().join("wheelhouse"))
        .arg("--find-links")
        .arg(fixtures_dir().join("dist"))
        .arg("--report-json")
        .arg(&report));
    planned.assert_code(0);
    let everything = format!(
        "{}{}{}",
        planned.stdout(),
        planned.stderr(),
        std::fs::read_to_string(&report).unwrap()
    );
    assert!(
        everything.contains("files.example.internal"),
        "the unsupported line is reported: {everything}"
    );
    assert!(!everything.contains(secret), "{everything}");

    // A line that does not parse is quoted in the error, without its credentials.
    let bad = write(
        dir.path(),
        "bad.txt",
        &format!("foo ==1.0; python_version >> \"https://ci:{secret}@h.example.internal\"\n"),
    );
    let planned = run(wheelwright().arg("plan").arg(&bad));
    let stderr = planned.assert_code(2).stderr();
    assert!(stderr.contains("bad.txt:1"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
}
