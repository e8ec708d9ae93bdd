//! `fill --deps` puts the build requirements its builds used on the target too (issue 13):
//! pip then builds the sdist from the target alone with build isolation on. `--no-build-deps`
//! leaves them out.

use std::path::{Path, PathBuf};

use crate::support::{Pypiserver, Run, fill, fixture_dist, test_venv, upstream_wheels_dir, wheels};

/// A pypiserver serving the ww-hatch sdist and the upstream wheels (hatchling and the rest).
/// The `--deps` pre-pass prepares the sdist's metadata with the fill's own builder
/// (`prepare_metadata_for_build_wheel` in the sandbox), as for any sdist-only project.
fn upstream() -> (tempfile::TempDir, Pypiserver) {
    let packages = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture_dist("ww_hatch-1.0.tar.gz"),
        packages.path().join("ww_hatch-1.0.tar.gz"),
    )
    .unwrap();
    for entry in std::fs::read_dir(upstream_wheels_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, packages.path().join(path.file_name().unwrap())).unwrap();
    }
    let server = Pypiserver::start(packages.path(), None);
    (packages, server)
}

/// `fill --deps ww-hatch==1.0` (an sdist built with hatchling and its dependencies) into a
/// directory target.
fn fill_hatch(home: &Path, server: &Pypiserver, wheelhouse: &Path, extra: &[&str]) -> Run {
    let index = format!("{}/simple/", server.url());
    let python: PathBuf = test_venv().join("bin/python");
    let mut args = vec![
        "--deps",
        "--index-url",
        &index,
        "--python",
        python.to_str().unwrap(),
        "--target",
        wheelhouse.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = fill(home, "ww-hatch==1.0\n", &args, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    run
}

/// `pip wheel --no-deps` of the ww-hatch sdist with build isolation, from the target alone.
fn pip_wheel(wheelhouse: &Path, out_dir: &Path) -> std::process::Output {
    let index = format!("file://{}/simple/", wheelhouse.display());
    std::process::Command::new(test_venv().join("bin/python"))
        .args(["-m", "pip", "wheel", "--disable-pip-version-check"])
        .args(["--no-cache-dir", "--no-deps", "--index-url", &index])
        .arg("--wheel-dir")
        .arg(out_dir)
        .arg(fixture_dist("ww_hatch-1.0.tar.gz"))
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap()
}

/// The build environment of the run's one build, as the report names it.
fn environment(run: &Run) -> Vec<String> {
    let jobs = run.report["jobs"].as_array().unwrap();
    let mut names: Vec<String> = jobs
        .iter()
        .filter_map(|j| j["build"]["environment"].as_array())
        .flatten()
        .map(|w| w["filename"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn fill_deps_puts_the_build_requirements_on_the_target_and_pip_builds_from_it_alone() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let (_packages, server) = upstream();
    let lock = home.path().join("lock.txt");
    let lock_arg = ["--lock", lock.to_str().unwrap()];
    let run = fill_hatch(home.path(), &server, &wheelhouse, &lock_arg);
    let environment = environment(&run);
    assert!(
        environment.iter().any(|n| n.starts_with("hatchling-")),
        "{environment:?}"
    );
    let mut expected = environment.clone();
    expected.push("ww_hatch-1.0-py2.py3-none-any.whl".to_string());
    expected.sort();
    assert_eq!(wheels(&wheelhouse), expected);
    // The lock is the runtime set: the build requirements are not in it.
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(text.contains("ww-hatch==1.0"), "{text}");
    assert!(!text.contains("hatchling"), "{text}");
    // The build's time is kept for the next run's order (longest builds first).
    let times: Vec<serde_json::Value> =
        std::fs::read_dir(home.path().join(".cache/wheelwright/build-times"))
            .unwrap()
            .flatten()
            .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
            .collect();
    assert_eq!(times.len(), 1, "{times:?}");
    assert_eq!(times[0]["project"], "ww-hatch");
    assert!(times[0]["seconds"].as_f64().unwrap() > 0.0, "{times:?}");
    // A second run finds them all present and changes nothing.
    let again = fill_hatch(home.path(), &server, &wheelhouse, &[]);
    assert!(!again.stdout().contains("uploaded "), "{}", again.stdout());
    assert_eq!(wheels(&wheelhouse), expected);

    let out_dir = home.path().join("built");
    let out = pip_wheel(&wheelhouse, &out_dir);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(wheels(&out_dir), ["ww_hatch-1.0-py2.py3-none-any.whl"]);
    server.assert_no_tracebacks();
}

#[test]
fn no_build_deps_leaves_the_build_requirements_out() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let (_packages, server) = upstream();
    fill_hatch(home.path(), &server, &wheelhouse, &["--no-build-deps"]);
    assert_eq!(wheels(&wheelhouse), ["ww_hatch-1.0-py2.py3-none-any.whl"]);
    // Without them pip cannot build the sdist from the target alone.
    let out = pip_wheel(&wheelhouse, &home.path().join("built"));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hatchling"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.assert_no_tracebacks();
}
