//! `wheelwright plan` end to end against a real devpi-server: an upstream index holding the
//! project's fixture dists, a base index, and a target that inherits from it.

use std::path::Path;

use serde_json::Value;

use crate::support::{DevpiUser, devpi, fixture_dist, wheelwright};

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
    for dist in std::fs::read_dir(crate::support::fixtures_dir().join("dist")).unwrap() {
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

/// Runs plan and returns (exit code, stdout, stderr, report).
fn plan(layout: &Layout, extra: &[&str]) -> (i32, String, String, Value) {
    let reqs = write(layout.dir.path(), "requirements.txt", REQUIREMENTS);
    let exclude = write(
        layout.dir.path(),
        "exclude.txt",
        "# never build this one\nww-hotel\n",
    );
    let report = layout.dir.path().join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut cmd = wheelwright();
    cmd.arg("plan")
        .arg(&reqs)
        .args([
            "--target",
            &layout.target,
            "--index-url",
            &layout.upstream_simple,
        ])
        .arg("--exclude")
        .arg(&exclude)
        .arg("--report-json")
        .arg(&report)
        .args(extra);
    let output = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let json = std::fs::read_to_string(&report)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), stdout, stderr, json)
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
    let (code, stdout, stderr, report) = plan(&layout, &[]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let jobs = jobs(&report);
    let expect = [
        ("ww-alpha", "1.0", "present", "on the target"),
        ("ww-bravo", "1.0", "present", "inherited from"),
        ("ww-echo-pkg", "1.0", "present", "inherited from"),
        ("ww-alpha", "2.0", "fetch", "compatible wheel"),
        ("ww-delta", "1.0", "build", "cannot use"),
        ("ww-charlie", "1.0", "build", "only an sdist"),
        ("ww-foxtrot", "1.0", "unavailable", "no sdist"),
        ("ww-golf", "1.0", "skipped", "python_version < \"3\""),
        ("ww-hotel", "1.0", "excluded", "exclude.txt:2"),
        ("ww-alpha", "9.9", "unavailable", "not on upstream"),
        ("ww-alpha", "2.0", "fetch", "compatible wheel"),
    ];
    assert_eq!(jobs.len(), expect.len(), "{jobs:#?}");
    for (job, (project, version, action, reason)) in jobs.iter().zip(expect) {
        assert_eq!(
            (job.0.as_str(), job.1.as_str(), job.2.as_str()),
            (project, version, action),
            "{job:?}"
        );
        assert!(
            job.3.contains(reason),
            "reason of {job:?} should mention `{reason}`"
        );
    }
    // The range passed over the pre-release and says so.
    assert!(
        jobs[10].3.contains("pre-release 3.0rc1 held back"),
        "{:?}",
        jobs[10]
    );
    // The JSON report's shape is what scripts rely on.
    assert_eq!(report["schema"], 1);
    assert_eq!(report["target"], layout.target.as_str());
    let fetch = &report["jobs"][3];
    assert_eq!(
        fetch["origin"]
            .as_str()
            .unwrap()
            .rsplit_once(':')
            .unwrap()
            .1,
        "4"
    );
    assert_eq!(fetch["file"]["filename"], "ww_alpha-2.0-py3-none-any.whl");
    assert_eq!(fetch["file"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(fetch["requirement"], "ww-alpha==2.0");
    let summary = &report["summary"];
    assert_eq!(
        (
            summary["present"].as_u64(),
            summary["fetch"].as_u64(),
            summary["build"].as_u64()
        ),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(
        (
            summary["skipped"].as_u64(),
            summary["excluded"].as_u64(),
            summary["unavailable"].as_u64()
        ),
        (Some(1), Some(1), Some(2))
    );
    // The table and the summary line go to stdout.
    assert!(
        stdout
            .contains("11 jobs: 3 present, 2 fetch, 2 build, 1 skipped, 1 excluded, 2 unavailable"),
        "{stdout}"
    );
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
    let (code, _, stderr, report) = plan(&layout, &["--present-in", "own"]);
    assert_eq!(code, 0, "{stderr}");
    let jobs = jobs(&report);
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
    let (code, _, stderr, report) = plan(&layout, &["--versions", "all"]);
    assert_eq!(code, 0, "{stderr}");
    let range: Vec<_> = jobs(&report)
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
    let (code, _, stderr, report) = plan(&layout, &["--pre"]);
    assert_eq!(code, 0, "{stderr}");
    let last = jobs(&report).pop().unwrap();
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
    let (code, _, stderr, report) = plan(
        &layout,
        &["--python", "python3", "--python", other.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    let interpreters: std::collections::BTreeSet<String> = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["interpreter"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(report["jobs"].as_array().unwrap().len(), 22);
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
    let output = wheelwright()
        .arg("plan")
        .arg(&reqs)
        .args(["--target", "http://127.0.0.1:9/u/i"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("requirements.txt:2:"),
        "error names file:line:column: {stderr}"
    );
}

#[test]
fn unreachable_target_exits_3_naming_the_url_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let reqs = write(dir.path(), "requirements.txt", "ww-alpha==1.0\n");
    let output = wheelwright()
        .arg("plan")
        .arg(&reqs)
        .args([
            "--target",
            "http://alice:s3cret-pw@127.0.0.1:9/alice/dev",
            "--retries",
            "0",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
    assert!(
        !stderr.contains("s3cret-pw"),
        "the password leaked: {stderr}"
    );
}

#[test]
fn wrong_password_exits_3() {
    let layout = layout();
    let (code, _, stderr, _) = plan(
        &layout,
        &[
            "--user",
            &layout.user.name,
            "--password",
            "wrong-password-x",
        ],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(!stderr.contains("wrong-password-x"), "{stderr}");
}

#[test]
fn a_simple_url_as_target_is_refused_with_the_index_url() {
    let layout = layout();
    let simple = format!("{}/+simple/", layout.target);
    let dir = tempfile::tempdir().unwrap();
    let reqs = write(dir.path(), "requirements.txt", "ww-alpha==1.0\n");
    let output = wheelwright()
        .arg("plan")
        .arg(&reqs)
        .args(["--target", &simple])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
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
    let output = wheelwright()
        .arg("plan")
        .arg(&reqs)
        .args(["--target"])
        .arg(dir.path().join("wheelhouse"))
        .arg("--find-links")
        .arg(crate::support::fixtures_dir().join("dist"))
        .arg("--report-json")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let everything = format!(
        "{}{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
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
    let output = wheelwright().arg("plan").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.txt:1"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
}
