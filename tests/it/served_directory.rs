//! The directory target is a served index: filled by root, published by a real nginx whose
//! workers run as an unprivileged user, and installed from by pip over HTTP, from
//! `file://…/simple/` and with `--find-links`. Files are 0644 and directories 0755 within
//! the user's umask; a 0600 wheel or page makes nginx answer 403 and this test fail.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{
    Run, StaticNginx, WORKER_USER, fixtures_dir, run, temp_prefix, test_venv, uid_of,
    wheelwright_with_home,
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
    let requirements = home.join("requirements.txt");
    std::fs::write(&requirements, REQUIREMENTS).unwrap();
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
