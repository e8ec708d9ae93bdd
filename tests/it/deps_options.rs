//! `--deps` honours the per-project options of a run, as pip does for every project it
//! resolves: `--only-binary` / `--no-binary` (dependencies included), `[package.NAME]`
//! settings in the preparation of an sdist's metadata (a patch that edits dependencies
//! changes the closure), and `--versions all` (one closure per version in per-line mode,
//! refused in together mode). Over a real pypiserver with the `ww-dep-*` fixtures.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Venv, deps_upstream, fill, fixture_dist, plan, sha256_of, wheels};

/// `(project, version, action, via)` of a report's jobs, sorted.
fn rows(report: &Value) -> Vec<(String, String, String, Vec<String>)> {
    let mut rows: Vec<_> = report["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in {report}"))
        .iter()
        .map(|j| {
            let via = j["via"]
                .as_array()
                .map(|v| v.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (
                j["project"].as_str().unwrap().to_string(),
                j["version"].as_str().unwrap_or("-").to_string(),
                j["action"].as_str().unwrap_or_default().to_string(),
                via,
            )
        })
        .collect();
    rows.sort();
    rows
}

/// `(project, version)` of a report's jobs, sorted.
fn versions(report: &Value) -> Vec<(String, String)> {
    rows(report)
        .into_iter()
        .map(|(project, version, _, _)| (project, version))
        .collect()
}

fn pair(project: &str, version: &str) -> (String, String) {
    (project.to_string(), version.to_string())
}

/// The prepared-metadata cache of a test home.
fn sdist_cache(home: &Path) -> PathBuf {
    home.join(".cache/wheelwright/metadata/sdist")
}

/// The cache files under `dir` whose name starts with `sha256` (the plain entry and any
/// entry prepared under settings, `<sha256>.<settings>`).
fn entries_of(dir: &Path, sha256: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(&sha256[..2]))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with(sha256))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `--only-binary :all:` reaches the dependencies: `ww-dep-sdonly` (only an sdist) is no
/// candidate, so the root has no closure, exactly where pip's resolver finds no version.
#[test]
fn only_binary_all_leaves_an_sdist_only_dependency_out_as_pip_does() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let target = home.path().join("wh");
    let requirements = "--only-binary :all:\nww-dep-wants-sdonly\n";
    let args = [
        "--deps",
        "--index-url",
        &index,
        "--target",
        target.to_str().unwrap(),
    ];
    let planned = plan(home.path(), requirements, &args, &[]);
    let stderr = planned.assert_code(2).stderr();
    assert!(
        stderr.contains("Because ")
            && stderr.contains("ww-dep-sdonly")
            && stderr.contains("--only-binary :all: applies to dependencies too"),
        "{stderr}"
    );
    // Nothing was prepared: the sdist was never a candidate.
    assert!(
        entries_of(
            &sdist_cache(home.path()),
            &sha256_of(&fixture_dist("ww_dep_sdonly-1.0.tar.gz"))
        )
        .is_empty()
    );

    // Per line, the line fails with the derivation and the plan goes on.
    let per_line = [
        "--deps",
        "per-line",
        "--index-url",
        &index,
        "--target",
        target.to_str().unwrap(),
    ];
    let planned = plan(home.path(), requirements, &per_line, &[]);
    planned.assert_code(0);
    let report = &planned.report;
    let job = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["project"] == "ww-dep-wants-sdonly")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(job["action"], "unavailable", "{job}");
    let reason = job["reason"].as_str().unwrap();
    assert!(
        reason.contains("no dependency closure") && reason.contains("ww-dep-sdonly"),
        "{reason}"
    );

    // pip's resolver, asked the same over the same index, fails too, on the same project.
    let _venv = Venv::new(home.path());
    let out = std::process::Command::new(home.path().join("venv/bin/pip"))
        .args([
            "install",
            "--disable-pip-version-check",
            "--dry-run",
            "--ignore-installed",
            "--only-binary",
            ":all:",
            "--index-url",
            &index,
            "ww-dep-wants-sdonly",
        ])
        .output()
        .unwrap();
    let pip_stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "pip resolved it: {pip_stderr}");
    assert!(pip_stderr.contains("ww-dep-sdonly"), "{pip_stderr}");
    // Without the option both resolve it (the sdist's metadata prepared).
    let planned = plan(home.path(), "ww-dep-wants-sdonly\n", &args, &[]);
    planned.assert_code(0);
    let report = &planned.report;
    assert!(
        versions(report).contains(&pair("ww-dep-sdonly", "1.0")),
        "{report}"
    );
    server.assert_no_tracebacks();
}

/// `--no-binary PROJECT` on a dependency: only its sdists count, so its metadata is the
/// prepare hook's (the sdist's entry in the metadata cache, none for its wheel) and the
/// fill builds it instead of fetching the wheel upstream has.
#[test]
fn no_binary_on_a_dependency_takes_its_metadata_from_the_prepare_hook() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let wheelhouse = home.path().join("wheelhouse");
    let args = [
        "--deps",
        "--index-url",
        &index,
        "--python",
        "python3",
        "--target",
        wheelhouse.to_str().unwrap(),
    ];
    let run = fill(
        home.path(),
        "--no-binary ww-dep-twice\nww-dep-wants-twice\n",
        &args,
        &[],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let rows = rows(&run.report);
    assert!(
        rows.iter()
            .any(|(p, v, _, via)| p == "ww-dep-base" && v == "2.0" && via == &["ww-dep-twice 2.0"]),
        "{rows:?}"
    );
    let outcomes = run.outcomes();
    assert!(
        outcomes.contains(&(
            "ww-dep-twice".to_string(),
            "2.0".to_string(),
            "built".to_string()
        )),
        "{outcomes:?}"
    );
    let sdist = sha256_of(&fixture_dist("ww_dep_twice-2.0.tar.gz"));
    let wheel = sha256_of(&fixture_dist("ww_dep_twice-2.0-py3-none-any.whl"));
    assert_eq!(entries_of(&sdist_cache(home.path()), &sdist), [sdist]);
    let wheel_cache = home.path().join(".cache/wheelwright/metadata/wheel");
    assert!(entries_of(&wheel_cache, &wheel).is_empty());
    // The root's own metadata came from its wheel, as usual.
    let root = sha256_of(&fixture_dist("ww_dep_wants_twice-1.0-py3-none-any.whl"));
    assert_eq!(entries_of(&wheel_cache, &root), [root]);
    server.assert_no_tracebacks();
}

/// A patch in `[package.ww-dep-sdonly]` that adds a dependency to the sdist's
/// `pyproject.toml`: the prepared metadata is the patched build's, so the closure gains
/// that dependency; without the table the closure is the old one. Each has its own cache
/// entry (the plain one keyed by the sdist alone, the patched one by sdist and settings).
#[test]
fn a_package_patch_that_edits_dependencies_changes_the_closure() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let target = home.path().join("wh");
    let patch = home.path().join("sdonly-fast.diff");
    std::fs::write(
        &patch,
        "--- a/pyproject.toml\n\
         +++ b/pyproject.toml\n\
         @@ -10 +10 @@\n\
         -dependencies = [\"ww-dep-base>=1.0\"]\n\
         +dependencies = [\"ww-dep-base>=1.0\", \"ww-dep-fast\"]\n",
    )
    .unwrap();
    let config = home.path().join("wheelwright.toml");
    std::fs::write(
        &config,
        "[package.ww-dep-sdonly]\npatches = [\"sdonly-fast.diff\"]\n",
    )
    .unwrap();
    let args = [
        "--deps",
        "--index-url",
        &index,
        "--target",
        target.to_str().unwrap(),
    ];
    let with_config = [&args[..], &["--config", config.to_str().unwrap()]].concat();
    let requirements = "ww-dep-wants-sdonly\n";
    let before = [
        pair("ww-dep-base", "2.0"),
        pair("ww-dep-sdonly", "1.0"),
        pair("ww-dep-wants-sdonly", "1.0"),
    ];

    let planned = plan(home.path(), requirements, &args, &[]);
    planned.assert_code(0);
    let report = &planned.report;
    assert_eq!(versions(report), before);

    let planned = plan(home.path(), requirements, &with_config, &[]);
    planned.assert_code(0);
    let report = &planned.report;
    let rows = rows(report);
    assert!(
        rows.iter().any(|(p, v, _, via)| p == "ww-dep-fast"
            && v == "1.0"
            && via == &["ww-dep-sdonly 1.0"]),
        "{rows:?}"
    );
    assert_eq!(rows.len(), 4, "{rows:?}");

    // The plain entry stays what the unpatched sdist gives: the old closure again.
    let planned = plan(home.path(), requirements, &args, &[]);
    planned.assert_code(0);
    let report = &planned.report;
    assert_eq!(versions(report), before);
    let sha = sha256_of(&fixture_dist("ww_dep_sdonly-1.0.tar.gz"));
    let entries = entries_of(&sdist_cache(home.path()), &sha);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        entries[0] == sha && entries[1].starts_with(&format!("{sha}.")),
        "{entries:?}"
    );
    server.assert_no_tracebacks();
}

/// `build = false` for a project: its sdists are never built, so an sdist-only version is
/// no candidate (it is not installable from the target); the root has no closure.
#[test]
fn build_false_leaves_an_sdist_only_dependency_out_of_the_closure() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let config = home.path().join("wheelwright.toml");
    std::fs::write(
        &config,
        "[package.ww-dep-sdonly]\nbuild = false\nreason = \"never built here\"\n",
    )
    .unwrap();
    let planned = plan(
        home.path(),
        "ww-dep-wants-sdonly\n",
        &[
            "--deps",
            "--index-url",
            &index,
            "--config",
            config.to_str().unwrap(),
            "--target",
            home.path().join("wh").to_str().unwrap(),
        ],
        &[],
    );
    let stderr = planned.assert_code(2).stderr();
    assert!(
        stderr.contains("Because ") && stderr.contains("ww-dep-sdonly"),
        "{stderr}"
    );
    let sha = sha256_of(&fixture_dist("ww_dep_sdonly-1.0.tar.gz"));
    assert!(entries_of(&sdist_cache(home.path()), &sha).is_empty());
    server.assert_no_tracebacks();
}

/// `--versions all --deps per-line`: each version the root's range allows gets its own
/// closure (ww-dep-twice 1.0 on ww-dep-base 1.0, 2.0 on 2.0, which no one environment
/// holds), the union is planned with `via` naming the version; a version whose closure
/// fails (a constraint against its dependency) fails alone.
#[test]
fn versions_all_per_line_gives_each_version_its_own_closure() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let target = home.path().join("wh");
    let args = [
        "--deps",
        "per-line",
        "--versions",
        "all",
        "--index-url",
        &index,
        "--target",
        target.to_str().unwrap(),
    ];
    let planned = plan(home.path(), "ww-dep-twice\n", &args, &[]);
    planned.assert_code(0);
    let report = &planned.report;
    let row = |p: &str, v: &str, via: &[&str]| {
        (
            p.to_string(),
            v.to_string(),
            "fetch".to_string(),
            via.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        rows(report),
        [
            row("ww-dep-base", "1.0", &["ww-dep-twice 1.0"]),
            row("ww-dep-base", "2.0", &["ww-dep-twice 2.0"]),
            row("ww-dep-twice", "1.0", &[]),
            row("ww-dep-twice", "2.0", &[]),
        ]
    );

    // A constraint that 2.0's dependency breaks: 1.0's closure stands, 2.0 fails alone.
    let constraints = home.path().join("constraints.txt");
    std::fs::write(&constraints, "ww-dep-base<2\n").unwrap();
    let requirements = format!("-c {}\nww-dep-twice\n", constraints.display());
    let planned = plan(home.path(), &requirements, &args, &[]);
    planned.assert_code(0);
    let report = &planned.report;
    let rows = rows(report);
    assert_eq!(
        rows.iter()
            .map(|(p, v, a, _)| (p.as_str(), v.as_str(), a.as_str()))
            .collect::<Vec<_>>(),
        [
            ("ww-dep-base", "1.0", "fetch"),
            ("ww-dep-twice", "1.0", "fetch"),
            ("ww-dep-twice", "2.0", "unavailable"),
        ]
    );
    let reason = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["project"] == "ww-dep-twice" && j["version"] == "2.0")
        .map(|j| j["reason"].as_str().unwrap().to_string())
        .unwrap();
    assert!(
        reason.contains("no dependency closure of ww-dep-twice 2.0"),
        "{reason}"
    );
    server.assert_no_tracebacks();
}

/// `--versions all --deps together` is refused before anything is asked: exit 2, the
/// message says why and what to use, and nothing reaches the target.
#[test]
fn versions_all_with_deps_together_is_refused() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let wheelhouse = home.path().join("wheelhouse");
    let args = [
        "--deps",
        "together",
        "--versions",
        "all",
        "--index-url",
        &index,
        "--target",
        wheelhouse.to_str().unwrap(),
    ];
    let run = fill(home.path(), "ww-dep-twice\n", &args, &[]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains("one environment holds one version")
            && run.stderr().contains("--deps per-line"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        wheels(&wheelhouse),
        Vec::<String>::new(),
        "nothing uploaded"
    );
    server.assert_no_tracebacks();
}
