//! Requires-Python decides which file serves an interpreter, as pip decides it: from the
//! listing's `data-requires-python` when there is one, else from the file's own METADATA
//! (a find-links directory never lists it; devpi lists it only when the upload form gave it).
//! pyenv's 3.8 is the interpreter `ww-rp-only 2.0` (`Requires-Python: >=3.9`) excludes.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{
    devpi, fill, fixture_dist, fixtures_dir, plan, pyenv_python, upstream_wheels_dir,
};

/// `wheelwright plan` for `requirements` with the 3.8 and 3.11 interpreters; the report.
fn plan_38_311(requirements: &str, args: &[&str]) -> Value {
    let home = tempfile::tempdir().unwrap();
    let (py38, py311) = (pyenv_python("3.8"), pyenv_python("3.11"));
    let mut all = args.to_vec();
    all.extend(["--python", py38.to_str().unwrap()]);
    all.extend(["--python", py311.to_str().unwrap()]);
    let run = plan(home.path(), requirements, &all, &[]);
    run.assert_code(0);
    run.report
}

/// `(version, interpreter, action, reason)` per job, sorted (`cp311` sorts before `cp38`).
fn actions(report: &Value) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let s = |k: &str| j[k].as_str().unwrap_or("-").to_string();
            (s("version"), s("interpreter"), s("action"), s("reason"))
        })
        .collect();
    out.sort();
    out
}

fn assert_excluded_for_38(job: &(String, String, String, String)) {
    assert_eq!(job.1, "cp38", "{job:?}");
    assert_eq!(job.2, "unavailable", "not present and not a fetch: {job:?}");
    assert!(
        job.3.contains("requires-python `>=3.9` excludes cp38"),
        "{job:?}"
    );
}

#[test]
fn find_links_and_directory_target_files_are_judged_by_their_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let wheelhouse = dir.path().join("wheelhouse");
    std::fs::create_dir(&wheelhouse).unwrap();
    let wheel = "ww_rp_only-2.0-py3-none-any.whl";
    std::fs::copy(fixture_dist(wheel), wheelhouse.join(wheel)).unwrap();
    let dists = fixtures_dir().join("dist");
    let report = plan_38_311(
        "ww-rp-only==2.0\nww-rp-only==1.0\nww-rp-only>=1.0\n",
        &[
            "--target",
            wheelhouse.to_str().unwrap(),
            "--find-links",
            dists.to_str().unwrap(),
        ],
    );
    let (pins, range): (Vec<Value>, Vec<Value>) = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .partition(|j| j["requirement"] != "ww-rp-only>=1.0");
    // A range resolves per interpreter as pip resolves it: 3.8 gets the newest version whose
    // Requires-Python admits it.
    let range = actions(&serde_json::json!({ "jobs": range }));
    let [range_38, range_311] = range.as_slice() else {
        panic!("{range:?}")
    };
    assert_eq!(
        (range_311.0.as_str(), range_311.2.as_str()),
        ("2.0", "present")
    );
    assert_eq!((range_38.0.as_str(), range_38.2.as_str()), ("1.0", "fetch"));
    assert!(
        range_38
            .3
            .contains("the newest match 2.0 is not for Python 3.8"),
        "{range_38:?}"
    );
    // And that is what pip itself picks from the same directory on each interpreter.
    assert_eq!(
        pip_download("3.8", &dists, "ww-rp-only>=1.0"),
        ["ww_rp_only-1.0-py3-none-any.whl"]
    );
    assert_eq!(
        pip_download("3.11", &dists, "ww-rp-only>=1.0"),
        ["ww_rp_only-2.0-py3-none-any.whl"]
    );
    let jobs = actions(&serde_json::json!({ "jobs": pins }));
    let [one_311, one_38, two_311, two_38] = jobs.as_slice() else {
        panic!("{jobs:?}")
    };
    // 1.0 says nothing about Python: both fetch it.
    assert_eq!((one_38.2.as_str(), one_311.2.as_str()), ("fetch", "fetch"));
    // The target's 2.0 wheel serves 3.11; for 3.8 neither it nor upstream's 2.0 files count.
    assert_eq!(two_311.2, "present", "{two_311:?}");
    assert_excluded_for_38(two_38);
}

/// What `pip download --no-index --find-links DIR --only-binary :all:` on pyenv's `minor`
/// picks for `requirement`: the reference for "a file pip would skip".
fn pip_download(minor: &str, find_links: &Path, requirement: &str) -> Vec<String> {
    let dest = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(pyenv_python(minor))
        .args([
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-index",
        ])
        .arg("--find-links")
        .arg(find_links)
        .arg("--dest")
        .arg(dest.path())
        .args(["--only-binary", ":all:", "--no-deps", requirement])
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pip download on {minor}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(dest.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Upload `path` with devpi's legacy upload form, giving `requires_python` as a form field
/// (what twine sends from the file's metadata), so devpi lists `data-requires-python`.
fn upload_declaring(user: &crate::support::DevpiUser, index: &str, path: &Path, rp: &str) {
    let filename = path.file_name().unwrap().to_string_lossy().to_string();
    let (name, version) = crate::support::name_version_from_filename(&filename);
    let part = reqwest::blocking::multipart::Part::bytes(std::fs::read(path).unwrap())
        .file_name(filename.clone())
        .mime_str("application/octet-stream")
        .unwrap();
    let form = reqwest::blocking::multipart::Form::new()
        .text(":action", "file_upload")
        .text("protocol_version", "1")
        .text("name", name)
        .text("version", version)
        .text("requires_python", rp.to_string())
        .part("content", part);
    let (key, value) = user.auth_header();
    let response = crate::support::http_client()
        .post(format!("{}/", user.index_url(index)))
        .header(key, value)
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "upload {filename}");
}

fn simple_page(url: &str) -> String {
    crate::support::http_client()
        .get(url)
        .send()
        .unwrap()
        .text()
        .unwrap()
}

#[test]
fn devpi_files_are_judged_with_or_without_data_requires_python() {
    let user = devpi().new_user("rp");
    let plain = user.create_index("plain", &[], false);
    let declared = user.create_index("declared", &[], false);
    let target = user.create_index("target", &[], false);
    let empty = user.create_index("empty", &[], false);
    for file in [
        "ww_rp_only-1.0-py3-none-any.whl",
        "ww_rp_only-1.0.tar.gz",
        "ww_rp_only-2.0-py3-none-any.whl",
        "ww_rp_only-2.0.tar.gz",
    ] {
        user.upload("plain", &fixture_dist(file));
        if file.contains("2.0") {
            upload_declaring(&user, "declared", &fixture_dist(file), ">=3.9");
        } else {
            user.upload("declared", &fixture_dist(file));
        }
    }
    upload_declaring(
        &user,
        "target",
        &fixture_dist("ww_rp_only-2.0-py3-none-any.whl"),
        ">=3.9",
    );
    // The two paths really differ: only one listing carries a value (devpi writes an empty
    // `data-requires-python=""` when the upload form gave none; that is no value).
    let plain_simple = format!("{plain}/+simple/");
    let declared_simple = format!("{declared}/+simple/");
    let has_value = |url: &str| simple_page(url).contains("data-requires-python=\"&gt;=3.9\"");
    assert!(!has_value(&format!("{plain_simple}ww-rp-only/")));
    assert!(has_value(&format!("{declared_simple}ww-rp-only/")));
    assert!(has_value(&format!("{target}/+simple/ww-rp-only/")));

    for upstream in [&plain_simple, &declared_simple] {
        let jobs = actions(&plan_38_311(
            "ww-rp-only==2.0\n",
            &["--target", &empty, "--index-url", upstream],
        ));
        let [two_311, two_38] = jobs.as_slice() else {
            panic!("{jobs:?}")
        };
        assert_eq!(two_311.2, "fetch", "{upstream}: {two_311:?}");
        assert_excluded_for_38(two_38);
    }
    // A target wheel whose listed Requires-Python excludes 3.8 is not present for it (a
    // remote target file listed without one is trusted: see the README).
    let jobs = actions(&plan_38_311(
        "ww-rp-only==2.0\n",
        &["--target", &target, "--index-url", &plain_simple],
    ));
    let [two_311, two_38] = jobs.as_slice() else {
        panic!("{jobs:?}")
    };
    assert_eq!(two_311.2, "present", "{two_311:?}");
    assert_excluded_for_38(two_38);
    devpi().assert_no_tracebacks();
}

/// The case: a find-links directory whose only setuptools is 84.2.1
/// (`Requires-Python: >=3.9` in METADATA only) cannot provision a 3.8 build environment; with
/// an older setuptools beside it, that one is chosen.
#[test]
fn a_build_environment_for_38_skips_setuptools_that_excludes_it() {
    let upstream = upstream_wheels_dir();
    let dists = fixtures_dir().join("dist");
    let py38 = pyenv_python("3.8");
    let only_new = tempfile::tempdir().unwrap();
    let setuptools = "setuptools-84.2.1-py3-none-any.whl";
    std::fs::copy(upstream.join(setuptools), only_new.path().join(setuptools)).unwrap();

    let run_with = |setuptools_dir: &Path| {
        let home = tempfile::tempdir().unwrap();
        let wheelhouse = home.path().join("wheelhouse");
        let run = fill(
            home.path(),
            "ww-legacy==1.0\n",
            &[
                "--find-links",
                dists.to_str().unwrap(),
                "--find-links",
                setuptools_dir.to_str().unwrap(),
                "--python",
                py38.to_str().unwrap(),
                "--sandbox",
                "required",
                wheelhouse.to_str().unwrap(),
            ],
            &[],
        );
        (home, run)
    };

    let (_home, run) = run_with(only_new.path());
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let job = &run.report["jobs"][0];
    assert_eq!(job["outcome"], "failed", "{job}");
    let detail = job["detail"].as_str().unwrap();
    assert!(
        detail.contains("build requirement `setuptools>=40.8.0`")
            && detail.contains("no wheel is for Python 3.8")
            && detail.contains("setuptools-84.2.1-py3-none-any.whl (Requires-Python"),
        "{detail}"
    );

    let (home, run) = run_with(&upstream);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.report["jobs"][0]["outcome"], "built");
    let envs = home.path().join(".cache/wheelwright/build-envs");
    let mut dist_infos = Vec::new();
    for entry in walk(&envs) {
        let name = entry.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("setuptools-") && name.ends_with(".dist-info") {
            dist_infos.push(name);
        }
    }
    assert_eq!(dist_infos, ["setuptools-75.3.4.dist-info"]);
}

/// Every directory under `root` (bounded depth: environments are shallow).
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(path.clone());
                if depth < 6 {
                    stack.push((path, depth + 1));
                }
            }
        }
    }
    out
}
