//! The directory target's pages when two runs fill one directory at once, and when wheels
//! come and go by hand: every project page lists exactly the project's wheels with their
//! sha256, the root page lists every project, and pip installs from the tree.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use crate::support::{test_venv, wheelwright_with_home};

/// Wheels of `ww-many` 1.0 .. 1.(N-1) and of `ww-solo-I` 1.0, in `dir`.
const GENERATE: &str = r#"
import os, sys, zipfile
out, n = sys.argv[1], int(sys.argv[2])

def wheel(name, version):
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(os.path.join(out, f"{dist}-{version}-py3-none-any.whl"), "w") as z:
        z.writestr(f"{dist}/__init__.py", f"VERSION = {version!r}\n")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", f"{dist}/__init__.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")

for i in range(n):
    wheel("ww-many", f"1.{i}")
    wheel(f"ww-solo-{i}", "1.0")
"#;

const RELEASES: usize = 40;

fn generate(dir: &Path) {
    let status = std::process::Command::new(test_venv().join("bin/python"))
        .arg("-c")
        .arg(GENERATE)
        .arg(dir)
        .arg(RELEASES.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn sha256(path: &Path) -> String {
    crate::support::sha256_of(path)
}

/// Each page of the simple tree: project → {file name → sha256}, read with pip's own parser
/// would be the oracle, but the links are ours: `<a href="../../NAME#sha256=HASH">NAME</a>`.
fn pages(target: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut pages = BTreeMap::new();
    for entry in std::fs::read_dir(target.join("simple")).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let page = std::fs::read_to_string(entry.path().join("index.html")).unwrap();
        let links = page
            .split("<a href=\"../../")
            .skip(1)
            .map(|rest| {
                let (href, _) = rest.split_once('"').unwrap();
                let (name, hash) = href.split_once("#sha256=").unwrap();
                (name.to_string(), hash.to_string())
            })
            .collect();
        pages.insert(entry.file_name().to_string_lossy().into_owned(), links);
    }
    pages
}

/// What the pages should say: every wheel in the directory under its project.
fn expected(target: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut want: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for entry in std::fs::read_dir(target).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(dist) = name.strip_suffix(".whl") {
            let project = dist.split('-').next().unwrap().replace('_', "-");
            want.entry(project)
                .or_default()
                .insert(name.clone(), sha256(&target.join(&name)));
        }
    }
    want
}

fn root_links(target: &Path) -> Vec<String> {
    let root = std::fs::read_to_string(target.join("simple/index.html")).unwrap();
    root.split("<a href=\"")
        .skip(1)
        .map(|rest| rest.split_once("/\"").unwrap().0.to_string())
        .collect()
}

fn fill_command(
    home: &Path,
    requirements: &str,
    upstream: &Path,
    target: &Path,
) -> std::process::Command {
    std::fs::create_dir_all(home).unwrap();
    let reqs = home.join("requirements.txt");
    std::fs::write(&reqs, requirements).unwrap();
    let mut cmd = wheelwright_with_home(home);
    cmd.arg("fill")
        .arg(&reqs)
        .arg("--find-links")
        .arg(upstream)
        .arg("--target")
        .arg(target)
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn two_fills_at_once_leave_every_page_complete() {
    let work = tempfile::tempdir().unwrap();
    let upstream = work.path().join("upstream");
    std::fs::create_dir(&upstream).unwrap();
    generate(&upstream);
    let target = work.path().join("wheelhouse");
    // Both runs place releases of ww-many (one page, written by both) and projects of
    // their own (the root page, written by both).
    let half = |parity: usize| -> String {
        (0..RELEASES)
            .filter(|i| i % 2 == parity)
            .map(|i| format!("ww-many==1.{i}\nww-solo-{i}==1.0\n"))
            .collect()
    };
    let runs: Vec<_> = (0..2)
        .map(|k| {
            fill_command(
                &work.path().join(format!("home{k}")),
                &half(k),
                &upstream,
                &target,
            )
            .spawn()
            .unwrap()
        })
        .collect();
    for (k, run) in runs.into_iter().enumerate() {
        let output = run.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "run {k}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let want = expected(&target);
    assert_eq!(want["ww-many"].len(), RELEASES);
    assert_eq!(pages(&target), want);
    let mut projects: Vec<String> = want.keys().cloned().collect();
    projects.sort();
    assert_eq!(root_links(&target), projects);
    // pip installs from the tree: the newest release of one run and the oldest of the other.
    let simple = url::Url::from_directory_path(target.join("simple")).unwrap();
    for pin in [
        format!("ww-many==1.{}", RELEASES - 1),
        "ww-many==1.0".into(),
    ] {
        let dest = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(test_venv().join("bin/python"))
            .args(["-m", "pip", "download", "--no-deps", "--no-cache-dir"])
            .args([
                "--disable-pip-version-check",
                "--index-url",
                simple.as_str(),
            ])
            .arg("--dest")
            .arg(dest.path())
            .arg(&pin)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "pip download {pin}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn wheels_added_or_removed_by_hand_are_on_the_page_after_the_next_fill_of_the_project() {
    let work = tempfile::tempdir().unwrap();
    let upstream = work.path().join("upstream");
    std::fs::create_dir(&upstream).unwrap();
    generate(&upstream);
    let target = work.path().join("wheelhouse");
    let home = work.path().join("home");
    let run = |requirements: &str| {
        let output = fill_command(&home, requirements, &upstream, &target)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run("ww-many==1.0\nww-many==1.1\n");
    // An admin copies one wheel in and deletes another.
    std::fs::copy(
        upstream.join("ww_many-1.5-py3-none-any.whl"),
        target.join("ww_many-1.5-py3-none-any.whl"),
    )
    .unwrap();
    std::fs::remove_file(target.join("ww_many-1.1-py3-none-any.whl")).unwrap();
    run("ww-many==1.2\n");
    let listed: Vec<String> = pages(&target)["ww-many"].keys().cloned().collect();
    assert_eq!(
        listed,
        [
            "ww_many-1.0-py3-none-any.whl",
            "ww_many-1.2-py3-none-any.whl",
            "ww_many-1.5-py3-none-any.whl"
        ]
    );
    assert_eq!(pages(&target), expected(&target));
}
