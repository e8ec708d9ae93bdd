//! The directory target is a served index: filled by root, published by a real nginx whose
//! workers run as an unprivileged user, and installed from by pip over HTTP, from
//! `file://…/simple/` and with `--find-links`. Files are 0644 and directories 0755 within
//! the user's umask; a 0600 wheel or page makes nginx answer 403 and this test fail.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{
    Run, StaticNginx, WORKER_USER, fixtures_dir, http_client, project_root, run, temp_prefix,
    test_venv, uid_of, wheelwright_with_home,
};

const REQUIREMENTS: &str = "ww-alpha==1.0\nww-alpha==2.0\nww-bravo==1.0\nWW_ECHO.PKG==1.0\n";

/// This process's umask, which the wheelwright it starts inherits (Linux: `/proc/self/status`;
/// reading it with umask(2) would have to change it for every thread).
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .expect("/proc/self/status has Umask");
    u32::from_str_radix(mask.trim(), 8).expect("Umask is octal")
}

/// `wheelwright fill` of [`REQUIREMENTS`] from `fixtures/dist` into `wheelhouse`, run by
/// `sh` after `umask MASK`.
fn fill(home: &Path, wheelhouse: &Path, mask: u32) -> Run {
    fill_with(home, wheelhouse, mask, REQUIREMENTS)
}

/// [`fill`] of `lines`.
fn fill_with(home: &Path, wheelhouse: &Path, mask: u32, lines: &str) -> Run {
    let requirements = home.join("requirements.txt");
    std::fs::write(&requirements, lines).unwrap();
    let report = home.join("report.json");
    let _ = std::fs::remove_file(&report);
    let wheelwright = wheelwright_with_home(home);
    let mut cmd = Command::new("/bin/sh");
    cmd.env_clear();
    for (key, value) in wheelwright.get_envs() {
        if let Some(value) = value {
            cmd.env(key, value);
        }
    }
    cmd.arg("-c")
        .arg(format!("umask {mask:03o} && exec \"$0\" \"$@\""))
        .arg(wheelwright.get_program())
        .arg("fill")
        .arg(&requirements)
        .arg("--find-links")
        .arg(fixtures_dir().join("dist"))
        .arg(wheelhouse)
        .arg("--report-json")
        .arg(&report);
    run(&mut cmd).with_report(&report)
}

/// Every entry under `dir` (and `dir` itself), with its permission bits.
fn modes(dir: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        found.push((
            path.clone(),
            meta.is_dir(),
            meta.permissions().mode() & 0o7777,
        ));
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        }
    }
    found
}

/// Asserts the modes of a filled wheelhouse: files `file_mode`, directories `dir_mode`, and
/// no temp file left behind (wheels and pages are linked or renamed into place).
fn assert_modes(wheelhouse: &Path, file_mode: u32, dir_mode: u32) {
    let entries = modes(wheelhouse);
    for name in [
        "ww_alpha-1.0-py3-none-any.whl",
        "ww_alpha-2.0-py3-none-any.whl",
        "ww_bravo-1.0.0-py3-none-any.whl",
        "ww_echo_pkg-1.0-py3-none-any.whl",
        "simple/index.html",
        "simple/ww-alpha/index.html",
        "simple/ww-echo-pkg/index.html",
    ] {
        let path = wheelhouse.join(name);
        assert!(
            entries.iter().any(|(p, is_dir, _)| *p == path && !is_dir),
            "{name} was not written: {entries:?}"
        );
    }
    for (path, is_dir, mode) in &entries {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            !name.starts_with(".incoming-") && !name.starts_with(".page-"),
            "temp file left behind: {}",
            path.display()
        );
        let want = if *is_dir { dir_mode } else { file_mode };
        assert_eq!(
            *mode,
            want,
            "{} has mode {mode:04o}, expected {want:04o}",
            path.display()
        );
    }
}

/// `python -m pip ARGS` from the test venv, with no configuration, cache or version check,
/// which must succeed.
fn pip(home: &Path, args: &[&str]) {
    let out = Command::new(test_venv().join("bin/python"))
        .args(["-m", "pip"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pip install --target TARGET ARGS`.
fn pip_install(home: &Path, target: &Path, args: &[&str]) {
    let target = target.to_str().unwrap();
    let mut all = vec!["install", "--no-cache-dir", "--target", target];
    all.extend_from_slice(args);
    pip(home, &all);
}

/// The versions installed under `target`, as `importlib.metadata` finds them.
fn installed(target: &Path, projects: &[&str]) -> String {
    let code = format!(
        "import sys; sys.path.insert(0, {target:?}); import importlib.metadata as m; \
         print(' '.join(m.version(p) for p in {projects:?}))",
        target = target.to_str().unwrap(),
    );
    let out = Command::new(test_venv().join("bin/python"))
        .args(["-I", "-c", &code])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn nginx_as_www_data_serves_the_directory_target_to_pip() {
    let mask = umask();
    // nginx's workers must traverse every parent: /tmp is 1777, this directory 0755. The
    // cache (HOME) is elsewhere and stays private.
    let served = tempfile::Builder::new()
        .prefix(&temp_prefix("served"))
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(served.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let wheelhouse = served.path().join("wheelhouse");
    let home = tempfile::tempdir().unwrap();

    let filled = fill(home.path(), &wheelhouse, mask);
    assert_eq!(
        filled.assert_code(0).count("uploaded"),
        4,
        "{}",
        filled.report
    );
    assert_modes(&wheelhouse, 0o644 & !mask, 0o755 & !mask);

    let nginx = StaticNginx::serve(&wheelhouse);
    let workers = nginx.worker_uids();
    assert!(!workers.is_empty(), "nginx has no worker processes");
    let unprivileged = uid_of(WORKER_USER);
    assert!(
        workers.iter().all(|uid| *uid == unprivileged),
        "nginx workers run as uids {workers:?}, not {WORKER_USER} ({unprivileged})"
    );

    // Over HTTP, through nginx's workers.
    let over_http = home.path().join("over-http");
    let index = format!("{}/simple/", nginx.url);
    pip_install(
        home.path(),
        &over_http,
        &["--index-url", &index, "ww-alpha==2.0", "ww-echo-pkg==1.0"],
    );
    assert_eq!(
        installed(&over_http, &["ww-alpha", "ww-echo-pkg"]),
        "2.0 1.0"
    );
    let log = nginx.access_log_text();
    for request in [
        "GET /simple/ww-alpha/ HTTP/1.1\" 200",
        "GET /ww_alpha-2.0-py3-none-any.whl HTTP/1.1\" 200",
        "GET /ww_echo_pkg-1.0-py3-none-any.whl HTTP/1.1\" 200",
    ] {
        assert!(
            log.contains(request),
            "nginx did not log {request}:\n{log}\n{}",
            nginx.error_log_tail()
        );
    }

    // From the simple tree on disk, and from the flat directory.
    let from_file = home.path().join("from-file");
    let simple_url = url::Url::from_directory_path(wheelhouse.join("simple")).unwrap();
    pip_install(
        home.path(),
        &from_file,
        &["--index-url", simple_url.as_str(), "ww-bravo==1.0"],
    );
    assert_eq!(installed(&from_file, &["ww-bravo"]), "1.0.0");
    let find_links = home.path().join("find-links");
    pip_install(
        home.path(),
        &find_links,
        &[
            "--no-index",
            "--find-links",
            wheelhouse.to_str().unwrap(),
            "ww-alpha==1.0",
        ],
    );
    assert_eq!(installed(&find_links, &["ww-alpha"]), "1.0");
}

#[test]
fn the_directory_target_honours_a_stricter_umask() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let filled = fill(home.path(), &wheelhouse, 0o027);
    assert_eq!(
        filled.assert_code(0).count("uploaded"),
        4,
        "{}",
        filled.report
    );
    assert_modes(&wheelhouse, 0o640, 0o750);
}

/// A wheelhouse filled by an earlier wheelwright holds `0600` wheels. A re-run finds them
/// present and widens exactly those to what a new wheel gets, so nginx can serve them.
#[test]
fn wheels_left_0600_by_an_earlier_version_are_widened_on_a_rerun() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    fill(home.path(), &wheelhouse, 0o022).assert_code(0);
    let wheels: Vec<PathBuf> = std::fs::read_dir(&wheelhouse)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert!(!wheels.is_empty());
    for wheel in &wheels {
        std::fs::set_permissions(wheel, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let filled = fill(home.path(), &wheelhouse, 0o022);
    assert_eq!(
        filled.assert_code(0).count("uploaded"),
        0,
        "{}",
        filled.report
    );
    assert_modes(&wheelhouse, 0o644, 0o755);
}

/// The `--deps` diamond of the fixtures: `ww-dep-top` on `ww-dep-left` (`ww-dep-base>=1.0`)
/// and `ww-dep-right` (`ww-dep-base<2`), with three versions of `ww-dep-base` to choose from.
const DIAMOND: &str = "ww-dep-top==1.0\nww-dep-left==1.0\nww-dep-right==1.0\nww-dep-base==1.0\n\
    ww-dep-base==1.5\nww-dep-base==2.0\nww-dep-fast==1.0\nww-dep-oldpy==1.0\n";

/// The `nginx` blocks of docs/directory-target.md, in order: the `http` block's `map` and
/// the `server` block's `location`.
fn documented_nginx_blocks() -> (String, String) {
    let doc = std::fs::read_to_string(project_root().join("docs/directory-target.md")).unwrap();
    let blocks: Vec<String> = doc
        .split("```nginx\n")
        .skip(1)
        .map(|rest| rest.split_once("```").unwrap().0.to_string())
        .collect();
    assert_eq!(
        blocks.len(),
        2,
        "docs/directory-target.md has two nginx blocks"
    );
    (blocks[0].clone(), blocks[1].clone())
}

/// Access-log lines after `from` bytes (one tool's requests).
fn log_since(nginx: &StaticNginx, from: usize) -> Vec<String> {
    nginx.access_log_text()[from..]
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every project page a tool asked for was answered with the JSON page, and it read no
/// wheel: each distribution request is for a PEP 658 `.metadata` file.
fn assert_json_pages_and_metadata_only(tool: &str, log: &[String], projects: &[&str]) {
    for project in projects {
        let request = format!("\"GET /simple/{project}/ HTTP/1.1\" 200 ");
        let answer =
            format!(" /simple/{project}/index.json \"application/vnd.pypi.simple.v1+json\"");
        assert!(
            log.iter()
                .any(|line| line.starts_with(&request) && line.contains(&answer)),
            "{tool} did not get the JSON page of {project}:\n{}",
            log.join("\n")
        );
        let metadata = format!("{}-1.", project.replace('-', "_"));
        assert!(
            log.iter()
                .any(|line| line.contains(&metadata) && line.contains(".whl.metadata HTTP")),
            "{tool} read no metadata file of {project}:\n{}",
            log.join("\n")
        );
    }
    // ww-dep-base 2.0 is the newest, refused by ww-dep-right's `<2` once its metadata is read.
    assert!(
        log.iter()
            .any(|line| line.contains("GET /ww_dep_base-2.0-py3-none-any.whl.metadata HTTP")),
        "{tool} did not consider ww-dep-base 2.0:\n{}",
        log.join("\n")
    );
    let wheels: Vec<&String> = log
        .iter()
        .filter(|line| line.contains(".whl HTTP") || line.contains(".tar.gz HTTP"))
        .collect();
    assert!(
        wheels.is_empty(),
        "{tool} downloaded distributions it did not install: {wheels:#?}"
    );
}

/// What `tool` resolved, as `name==version` lines, sorted.
fn sorted(mut pins: Vec<String>) -> Vec<String> {
    pins.sort();
    pins
}

#[test]
fn nginx_serves_json_pages_by_accept_and_pip_and_uv_resolve_from_metadata_files() {
    let served = tempfile::Builder::new()
        .prefix(&temp_prefix("served-json"))
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(served.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let wheelhouse = served.path().join("wheelhouse");
    let home = tempfile::tempdir().unwrap();
    let filled = fill_with(home.path(), &wheelhouse, 0o022, DIAMOND);
    assert_eq!(
        filled.assert_code(0).count("uploaded"),
        8,
        "{}",
        filled.stderr()
    );

    let (http, server) = documented_nginx_blocks();
    let nginx = StaticNginx::serve_with(&wheelhouse, &http, &server);
    let index = format!("{}/simple/", nginx.url);

    // Without the JSON media type in Accept: the HTML page, and `Vary: Accept` either way.
    let client = http_client();
    for (accept, content_type) in [
        ("text/html", "text/html"),
        (
            "application/vnd.pypi.simple.v1+json",
            "application/vnd.pypi.simple.v1+json",
        ),
    ] {
        let response = client
            .get(format!("{index}ww-dep-top/"))
            .header("Accept", accept)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], content_type);
        assert_eq!(response.headers()["vary"], "Accept");
    }
    let root: Value = client
        .get(&index)
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(root["projects"].as_array().map(Vec::len), Some(6), "{root}");

    let expected = sorted(
        [
            "ww-dep-base==1.5",
            "ww-dep-left==1.0",
            "ww-dep-right==1.0",
            "ww-dep-top==1.0",
        ]
        .map(String::from)
        .to_vec(),
    );
    let resolved = ["ww-dep-top", "ww-dep-left", "ww-dep-right", "ww-dep-base"];

    // pip: a dry run with a report resolves from the metadata files alone.
    let from = nginx.access_log_text().len();
    let pip_report = home.path().join("pip-report.json");
    pip(
        home.path(),
        &[
            "install",
            "--dry-run",
            "--ignore-installed",
            "--no-cache-dir",
            "--quiet",
            "--report",
            pip_report.to_str().unwrap(),
            "--index-url",
            &index,
            "ww-dep-top",
        ],
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&pip_report).unwrap()).unwrap();
    let pins: Vec<String> = report["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let meta = &item["metadata"];
            format!(
                "{}=={}",
                meta["name"].as_str().unwrap(),
                meta["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(sorted(pins), expected, "{report}");
    assert_json_pages_and_metadata_only("pip", &log_since(&nginx, from), &resolved);

    // uv: `uv pip compile` for the test venv's interpreter, with no cache and no
    // configuration of this machine.
    let from = nginx.access_log_text().len();
    let input = home.path().join("top.in");
    std::fs::write(&input, "ww-dep-top\n").unwrap();
    let out = Command::new(test_venv().join("bin/uv"))
        .args([
            "pip",
            "compile",
            "--no-cache",
            "--no-config",
            "--quiet",
            "--no-header",
        ])
        .args(["--no-annotate", "--python"])
        .arg(test_venv().join("bin/python"))
        .args(["--index-url", &index])
        .arg(&input)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("UV_PYTHON_DOWNLOADS", "never")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "uv pip compile:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pins: Vec<String> = stdout
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(String::from)
        .collect();
    assert_eq!(sorted(pins), expected, "{stdout}");
    assert_json_pages_and_metadata_only("uv", &log_since(&nginx, from), &resolved);
}
