//! `--deps` on plan and fill (issue 13): the closure of the `ww-dep-*` fixtures (a diamond
//! with a cap, an extra, a marker for Python < 3.10, a cycle, a clash) resolved over a real
//! pypiserver and a find-links directory, filled into a directory that pip then installs
//! from alone, and checked against pip's own resolution.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{
    Venv, deps_upstream, fill, fixture_dist, fixtures_dir, pip_resolution, plan, pyenv_python, run,
    sha256_of, snapshot, user_with_upstream, wheels, wheelwright_with_home,
};

/// `(project, interpreter) -> (version, action, via)` of a report's jobs.
fn jobs(report: &Value) -> BTreeMap<(String, String), (String, String, Vec<String>)> {
    report["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in {report}"))
        .iter()
        .map(|j| {
            let via = j["via"]
                .as_array()
                .map(|v| v.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (
                (
                    j["project"].as_str().unwrap().to_string(),
                    j["interpreter"].as_str().unwrap().to_string(),
                ),
                (
                    j["version"].as_str().unwrap_or("-").to_string(),
                    j["action"].as_str().unwrap_or_default().to_string(),
                    via,
                ),
            )
        })
        .collect()
}

#[test]
fn fill_deps_fills_the_closure_per_interpreter_and_pip_installs_from_the_target_alone() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let py39 = pyenv_python("3.9");
    let index = format!("{}/simple/", server.url());
    let args = [
        "--deps",
        "--index-url",
        &index,
        "--python",
        "python3",
        "--python",
        py39.to_str().unwrap(),
        "--target",
        wheelhouse.to_str().unwrap(),
    ];
    let requirements = "ww-dep-top[fast]\nww-dep-cycle-a\n";
    let run = fill(home.path(), requirements, &args, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let jobs = jobs(&run.report);
    let labels: std::collections::BTreeSet<&str> = jobs.keys().map(|(_, i)| i.as_str()).collect();
    assert_eq!(labels.len(), 2, "{labels:?}");
    let py311 = labels
        .iter()
        .find(|l| l.contains("311"))
        .unwrap()
        .to_string();
    let py39 = labels
        .iter()
        .find(|l| l.contains("39"))
        .unwrap()
        .to_string();
    for label in [&py311, &py39] {
        let at = |project: &str| jobs.get(&(project.to_string(), label.clone()));
        // The diamond: left wants base >=1.0, right caps it <2: the newest under the cap.
        let base = at("ww-dep-base").unwrap_or_else(|| panic!("no base for {label}: {jobs:?}"));
        assert_eq!(base.0, "1.5");
        assert_eq!(base.2, vec!["ww-dep-left 1.0", "ww-dep-right 1.0"]);
        // The extra pulls its dependency, through the extra's virtual package.
        assert_eq!(at("ww-dep-fast").unwrap().2, vec!["ww-dep-top[fast] 1.0"]);
        // The cycle: each side via the other.
        assert_eq!(at("ww-dep-cycle-b").unwrap().2, vec!["ww-dep-cycle-a 1.0"]);
        assert_eq!(at("ww-dep-cycle-a").unwrap().2, vec!["ww-dep-cycle-b 1.0"]);
        // The root keeps its origin and no via of its own.
        assert!(at("ww-dep-top").unwrap().2.is_empty());
    }
    // The marker `python_version < '3.10'`: true for 3.9, false for 3.11.
    assert_eq!(
        jobs.get(&("ww-dep-oldpy".to_string(), py39.clone()))
            .map(|j| &j.2),
        Some(&vec!["ww-dep-top 1.0".to_string()])
    );
    assert!(!jobs.contains_key(&("ww-dep-oldpy".to_string(), py311.clone())));
    // One wheel per file: base 1.5 serves both interpreters.
    assert_eq!(
        wheels(&wheelhouse),
        [
            "ww_dep_base-1.5-py3-none-any.whl",
            "ww_dep_cycle_a-1.0-py3-none-any.whl",
            "ww_dep_cycle_b-1.0-py3-none-any.whl",
            "ww_dep_fast-1.0-py3-none-any.whl",
            "ww_dep_left-1.0-py3-none-any.whl",
            "ww_dep_oldpy-1.0-py3-none-any.whl",
            "ww_dep_right-1.0-py3-none-any.whl",
            "ww_dep_top-1.0-py3-none-any.whl",
        ]
    );

    // pip installs the roots from the target alone, with their dependencies.
    let venv = Venv::new(home.path());
    let simple = url::Url::from_directory_path(wheelhouse.join("simple")).unwrap();
    venv.pip_install(&[
        "--index-url",
        simple.as_str(),
        "ww-dep-top[fast]",
        "ww-dep-cycle-a",
    ]);
    assert_eq!(
        venv.python(
            "import importlib.metadata as m; print(m.version('ww-dep-base'), m.version('ww-dep-fast'), m.version('ww-dep-cycle-b'))"
        ),
        "1.5 1.0 1.0"
    );

    // A second fill finds everything present; the plan table says why each job is there.
    let again = fill(home.path(), requirements, &args, &[]);
    assert_eq!(again.code(), 0, "{}", again.stderr());
    assert_eq!(again.count("uploaded"), 0, "{:?}", again.outcomes());
    let planned = plan(home.path(), requirements, &args, &[]);
    let home_dir = snapshot::path(home.path());
    snapshot::settings(&[(&home_dir, "[home]")]).bind(|| {
        insta::assert_snapshot!("deps_plan_table", planned.assert_code(0).stdout());
    });
    server.assert_no_tracebacks();
}

#[test]
fn fill_deps_builds_a_dependency_published_only_as_an_sdist() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let index = format!("{}/simple/", server.url());
    let args = [
        "--deps",
        "--index-url",
        &index,
        "--python",
        "python3",
        "--target",
        wheelhouse.to_str().unwrap(),
    ];
    let requirements = "ww-dep-wants-sdonly\n";
    let run = fill(home.path(), requirements, &args, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let jobs = jobs(&run.report);
    let sdonly = jobs
        .iter()
        .find(|((p, _), _)| p == "ww-dep-sdonly")
        .map(|(_, j)| j)
        .unwrap_or_else(|| panic!("no ww-dep-sdonly job: {jobs:?}"));
    // Its metadata (Requires-Dist ww-dep-base>=1.0) came from the sdist, so base is in too.
    assert_eq!(sdonly.0, "1.0");
    assert_eq!(sdonly.2, vec!["ww-dep-wants-sdonly 1.0"]);
    assert!(
        run.outcomes()
            .iter()
            .any(|(p, v, o)| p == "ww-dep-sdonly" && v == "1.0" && o == "built"),
        "{:?}",
        run.outcomes()
    );
    assert_eq!(
        wheels(&wheelhouse),
        [
            "ww_dep_base-2.0-py3-none-any.whl",
            "ww_dep_sdonly-1.0-py3-none-any.whl",
            "ww_dep_wants_sdonly-1.0-py3-none-any.whl",
        ]
    );

    // pip installs the root from the target alone, the built dependency with it.
    let venv = Venv::new(home.path());
    let simple = url::Url::from_directory_path(wheelhouse.join("simple")).unwrap();
    venv.pip_install(&["--index-url", simple.as_str(), "ww-dep-wants-sdonly"]);
    assert_eq!(
        venv.python(
            "import importlib.metadata as m; print(m.version('ww-dep-sdonly'), m.version('ww-dep-base'))"
        ),
        "1.0 2.0"
    );

    // The dry run solves the same closure (the prepared metadata is cached by the sdist's
    // sha256) and finds everything present.
    let planned = plan(home.path(), requirements, &args, &[]);
    let stdout = planned.assert_code(0).stdout();
    let row = stdout
        .lines()
        .find(|l| l.starts_with("ww-dep-sdonly"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("present"), "{row}");
    server.assert_no_tracebacks();
}

#[test]
fn a_constraint_forces_an_older_version_into_the_closure() {
    let home = tempfile::tempdir().unwrap();
    let constraints = home.path().join("constraints.txt");
    std::fs::write(&constraints, "ww-dep-base<1.5\n").unwrap();
    let find_links = fixtures_dir().join("dist");
    let requirements = format!("-c {}\nww-dep-left\nww-dep-right\n", constraints.display());
    let planned = plan(
        home.path(),
        &requirements,
        &[
            "--deps",
            "--no-index",
            "--find-links",
            find_links.to_str().unwrap(),
            "--target",
            home.path().join("wh").to_str().unwrap(),
        ],
        &[],
    );
    planned.assert_code(0);
    let versions: BTreeMap<String, String> = jobs(&planned.report)
        .into_iter()
        .map(|((project, _), (version, _, _))| (project, version))
        .collect();
    assert_eq!(versions["ww-dep-base"], "1.0", "{versions:?}");
    assert_eq!(versions.len(), 3, "{versions:?}");
}

#[test]
fn a_conflict_stops_together_mode_and_fails_only_its_line_per_line() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let find_links = fixtures_dir().join("dist");
    let requirements = "ww-dep-clash\nww-dep-left\n";
    let args = |mode: &'static str| {
        vec![
            "--deps".to_string(),
            mode.to_string(),
            "--no-index".to_string(),
            "--find-links".to_string(),
            find_links.to_str().unwrap().to_string(),
            wheelhouse.to_str().unwrap().to_string(),
        ]
    };
    let together = args("together");
    let together: Vec<&str> = together.iter().map(String::as_str).collect();
    let run = fill(home.path(), requirements, &together, &[]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains("Because ")
            && run
                .stderr()
                .contains("ww-dep-clash ==1.0 depends on ww-dep-base >=2"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        wheels(&wheelhouse),
        Vec::<String>::new(),
        "nothing uploaded"
    );

    let per_line = args("per-line");
    let per_line: Vec<&str> = per_line.iter().map(String::as_str).collect();
    let run = fill(home.path(), requirements, &per_line, &[]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let outcomes = run.outcomes();
    let clash: Vec<_> = outcomes.iter().filter(|o| o.0 == "ww-dep-clash").collect();
    assert_eq!(clash.len(), 1, "{outcomes:?}");
    assert_ne!(clash[0].2, "uploaded");
    let reason = run.report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["project"] == "ww-dep-clash")
        .map(|j| j["reason"].as_str().unwrap_or_default().to_string())
        .unwrap();
    assert!(reason.contains("no dependency closure"), "{reason}");
    for project in ["ww-dep-left", "ww-dep-base"] {
        assert!(
            outcomes.iter().any(|o| o.0 == project && o.2 == "uploaded"),
            "{project}: {outcomes:?}"
        );
    }
    assert!(
        wheelhouse
            .join("ww_dep_base-2.0-py3-none-any.whl")
            .is_file()
    );
}

/// The oracle: pip's resolution (`pip install --dry-run --report`) over the same pypiserver
/// chooses the versions wheelwright's closure has, for the same interpreter.
#[test]
fn deps_choose_the_versions_pips_resolver_installs() {
    let (_packages, server) = deps_upstream();
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let requirements = "ww-dep-top[fast]\nww-dep-cycle-a\nww-dep-left\n";
    let _venv = Venv::new(home.path());
    let python = home.path().join("venv/bin/python");
    let planned = plan(
        home.path(),
        requirements,
        &[
            "--deps",
            "--index-url",
            &index,
            "--python",
            python.to_str().unwrap(),
            "--target",
            home.path().join("wh").to_str().unwrap(),
        ],
        &[],
    );
    planned.assert_code(0);
    let ours: BTreeMap<String, String> = jobs(&planned.report)
        .into_iter()
        .map(|((project, _), (version, _, _))| (project, version))
        .collect();
    let theirs = pip_resolution(home.path(), &index);
    assert_eq!(ours, theirs);
    assert_eq!(ours.len(), 7, "{ours:?}");
}

/// devpi as upstream and as target: the closure lands on the target with a `--hash` pin
/// honoured, and pip installs the root from the target's simple index alone.
#[test]
fn fill_deps_into_devpi_with_a_hash_pinned_root() {
    let (user, upstream) = user_with_upstream("deps");
    let target = user.create_index("target", &[], false);
    let home = tempfile::tempdir().unwrap();
    let left = sha256_of(&fixture_dist("ww_dep_left-1.0-py3-none-any.whl"));
    let requirements = format!("ww-dep-left==1.0 --hash=sha256:{left}\nww-dep-right\n");
    let args = [
        "--deps",
        "--index-url",
        upstream.as_str(),
        target.as_str(),
        "--batch",
    ];
    let run = fill(home.path(), &requirements, &args, &user.env());
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let mut uploaded: Vec<(String, String)> = run
        .outcomes()
        .into_iter()
        .filter(|o| o.2 == "uploaded")
        .map(|o| (o.0, o.1))
        .collect();
    uploaded.sort();
    assert_eq!(
        uploaded,
        [
            ("ww-dep-base".to_string(), "1.5".to_string()),
            ("ww-dep-left".to_string(), "1.0".to_string()),
            ("ww-dep-right".to_string(), "1.0".to_string()),
        ]
    );
    let venv = Venv::new(home.path());
    venv.pip_install(&[
        "--index-url",
        &format!("{target}/+simple/"),
        "ww-dep-left",
        "ww-dep-right",
    ]);
    assert_eq!(
        venv.python("import importlib.metadata as m; print(m.version('ww-dep-base'))"),
        "1.5"
    );

    // A wrong hash on the root fails its job (the pin's hash travels with the closure).
    let wrong = format!("ww-dep-left==1.0 --hash=sha256:{}\n", "0".repeat(64));
    let target2 = user.create_index("target2", &[], false);
    let args = [
        "--deps",
        "--index-url",
        upstream.as_str(),
        target2.as_str(),
        "--batch",
    ];
    let run = fill(home.path(), &wrong, &args, &user.env());
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    let left_outcome = run
        .outcomes()
        .into_iter()
        .find(|o| o.0 == "ww-dep-left")
        .unwrap();
    assert_ne!(left_outcome.2, "uploaded", "{:?}", run.outcomes());
}

/// Together mode solves each requirements file as its own environment: two files that pip
/// installs one at a time (base 1.5 under ww-dep-right's cap, base 2.0 alone) both get
/// their versions, where one environment would have no solution.
#[test]
fn together_mode_solves_each_requirements_file_alone() {
    let home = tempfile::tempdir().unwrap();
    let capped = home.path().join("capped.txt");
    let newest = home.path().join("newest.txt");
    std::fs::write(&capped, "ww-dep-right\n").unwrap();
    std::fs::write(&newest, "ww-dep-base>=2\n").unwrap();
    let find_links = fixtures_dir().join("dist");
    let report = home.path().join("plan.json");
    let planned = run(wheelwright_with_home(home.path())
        .arg("plan")
        .arg(&capped)
        .arg(&newest)
        .args(["--deps", "--no-index", "--find-links"])
        .arg(&find_links)
        .arg("--target")
        .arg(home.path().join("wh"))
        .arg("--report-json")
        .arg(&report))
    .with_report(&report);
    planned.assert_code(0);
    let mut bases: Vec<(String, Vec<String>)> = planned
        .jobs()
        .iter()
        .filter(|j| j["project"] == "ww-dep-base")
        .map(|j| {
            let via = j["via"]
                .as_array()
                .map(|v| v.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (j["version"].as_str().unwrap().to_string(), via)
        })
        .collect();
    bases.sort();
    assert_eq!(
        bases,
        [
            ("1.5".to_string(), vec!["ww-dep-right 1.0".to_string()]),
            ("2.0".to_string(), Vec::new()),
        ]
    );
}

/// `fill --deps --lock`: the lock holds the closure with hashes, split by interpreter where
/// the marker differs, and each interpreter's pip installs it with `--require-hashes
/// --no-deps` from the target alone.
#[test]
fn fill_deps_lock_installs_the_closure_with_hashes_on_each_interpreter() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let lock = home.path().join("lock.txt");
    let find_links = fixtures_dir().join("dist");
    let (py39, py311) = (pyenv_python("3.9"), pyenv_python("3.11"));
    let args = [
        "--deps",
        "--no-index",
        "--find-links",
        find_links.to_str().unwrap(),
        "--python",
        py39.to_str().unwrap(),
        "--python",
        py311.to_str().unwrap(),
        "--lock",
        lock.to_str().unwrap(),
        "--target",
        wheelhouse.to_str().unwrap(),
    ];
    let run = fill(home.path(), "ww-dep-top[fast]\n", &args, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    for (python, oldpy) in [(&py39, true), (&py311, false)] {
        let dir = home.path().join(format!("site-{}", oldpy));
        let out = std::process::Command::new(python)
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--no-cache-dir", "--require-hashes", "--no-deps", "-r"])
            .arg(&lock)
            .arg("--target")
            .arg(&dir)
            .arg("--no-index")
            .arg("--find-links")
            .arg(&wheelhouse)
            .env("PIP_CONFIG_FILE", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&lock).unwrap()
        );
        let mut installed: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".dist-info")
                    .map(String::from)
            })
            .collect();
        installed.sort();
        let mut expected = vec![
            "ww_dep_base-1.5",
            "ww_dep_fast-1.0",
            "ww_dep_left-1.0",
            "ww_dep_right-1.0",
            "ww_dep_top-1.0",
        ];
        if oldpy {
            expected.insert(2, "ww_dep_oldpy-1.0");
        }
        expected.sort();
        assert_eq!(installed, expected, "{}", python.display());
    }
}

/// Under `--shard K/N` every shard solves the same closure and plans only its own projects:
/// the shards' jobs together are the unsharded plan's, none twice.
#[test]
fn deps_shards_split_the_closure_without_overlap() {
    let home = tempfile::tempdir().unwrap();
    let find_links = fixtures_dir().join("dist");
    let base = |shard: Option<&'static str>| {
        let mut args = vec![
            "--deps".to_string(),
            "--no-index".to_string(),
            "--find-links".to_string(),
            find_links.to_str().unwrap().to_string(),
            "--target".to_string(),
            home.path().join("wh").to_str().unwrap().to_string(),
        ];
        if let Some(shard) = shard {
            args.extend(["--shard".to_string(), shard.to_string()]);
        }
        args
    };
    let planned = |shard| {
        let args = base(shard);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let planned = plan(
            home.path(),
            "ww-dep-top[fast]\nww-dep-cycle-a\n",
            &args,
            &[],
        );
        let mut jobs: Vec<(String, String)> = planned
            .assert_code(0)
            .jobs()
            .iter()
            .map(|j| {
                (
                    j["project"].as_str().unwrap().to_string(),
                    j["version"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        jobs.sort();
        jobs
    };
    let whole = planned(None);
    assert_eq!(whole.len(), 7, "{whole:?}");
    let mut shards: Vec<(String, String)> = planned(Some("0/2"));
    let other = planned(Some("1/2"));
    assert!(!shards.is_empty() && !other.is_empty());
    shards.extend(other);
    shards.sort();
    assert_eq!(shards, whole);
}

/// Per-line mode for a backfill list: two pins of one project each get their closure, and
/// the union holds both versions.
#[test]
fn per_line_mode_fills_several_versions_of_one_project() {
    let home = tempfile::tempdir().unwrap();
    let find_links = fixtures_dir().join("dist");
    let planned = plan(
        home.path(),
        "ww-dep-base==1.0\nww-dep-base==2.0\nww-dep-left\n",
        &[
            "--deps",
            "per-line",
            "--no-index",
            "--find-links",
            find_links.to_str().unwrap(),
            "--target",
            home.path().join("wh").to_str().unwrap(),
        ],
        &[],
    );
    let mut jobs: Vec<(String, String, String)> = planned
        .assert_code(0)
        .jobs()
        .iter()
        .map(|j| {
            (
                j["project"].as_str().unwrap().to_string(),
                j["version"].as_str().unwrap().to_string(),
                j["origin"]
                    .as_str()
                    .unwrap()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    jobs.sort();
    let row = |p: &str, v: &str, line: &str| (p.to_string(), v.to_string(), line.to_string());
    assert_eq!(
        jobs,
        [
            row("ww-dep-base", "1.0", "1"),
            row("ww-dep-base", "2.0", "2"),
            row("ww-dep-left", "1.0", "3"),
        ]
    );
}
