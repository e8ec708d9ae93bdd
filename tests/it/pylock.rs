//! `--lock pylock.toml`: the PEP 751 lock of what the target serves validates with
//! `packaging.pylock`, and pip 26 (`pip install -r pylock.toml`) and uv (`uv pip install -r`)
//! install from it, from the target alone, each interpreter its own set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::lock::installed;
use crate::support::{fill, fixtures_dir, pyenv_python, test_venv};

/// The split of tests/it/lock.rs: ww-rp-only 2.0 requires Python >= 3.9, ww-echo-pkg is for
/// Python < 3.9 only.
const SPLIT: &str = "\
ww-alpha==2.0
ww-rp-only>=1.0
ww-echo-pkg==1.0 ; python_version < \"3.9\"
";

/// `packaging.pylock` (the test venv's packaging 26.4) reads the lock: its package count.
fn validated(lock: &Path) -> usize {
    let code = "import sys, tomllib\n\
        from packaging.pylock import Pylock\n\
        with open(sys.argv[1], 'rb') as f:\n    lock = Pylock.from_dict(tomllib.load(f))\n\
        lock.validate()\n\
        print(len(lock.packages))";
    let out = Command::new(test_venv().join("bin/python"))
        .args(["-I", "-c", code])
        .arg(lock)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "packaging.pylock refuses {}:\n{}\n{}",
        lock.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(lock).unwrap_or_default()
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn succeeded(what: &str, out: Output, lock: &Path) {
    assert!(
        out.status.success(),
        "{what}:\n{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(lock).unwrap_or_default()
    );
}

/// pip 26 of the test venv, run for `python` (`pip --python`), installs the lock into `site`.
fn pip_installs(python: &Path, lock: &Path, site: &Path) {
    let out = Command::new(test_venv().join("bin/python"))
        .args(["-m", "pip", "--python"])
        .arg(python)
        .args([
            "install",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "-r",
        ])
        .arg(lock)
        .arg("--target")
        .arg(site)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    succeeded(
        &format!("pip --python {} install -r", python.display()),
        out,
        lock,
    );
}

/// uv of the test venv installs the lock for `python` into `site`, offline unless the lock
/// names URLs.
fn uv_installs(python: &Path, lock: &Path, site: &Path, offline: bool) {
    let mut cmd = Command::new(test_venv().join("bin/uv"));
    cmd.args(["pip", "install", "--no-cache", "--no-config", "--python"])
        .arg(python)
        .arg("--target")
        .arg(site)
        .arg("-r")
        .arg(lock)
        .env("UV_PYTHON_DOWNLOADS", "never");
    if offline {
        cmd.arg("--offline");
    }
    succeeded(
        &format!("uv pip install --python {}", python.display()),
        cmd.output().unwrap(),
        lock,
    );
}

#[test]
fn fill_pylock_of_a_directory_validates_and_pip_and_uv_install_each_interpreters_set() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let locks = home.path().join("locks");
    std::fs::create_dir(&locks).unwrap();
    let lock = locks.join("pylock.toml");
    let find_links = fixtures_dir().join("dist");
    let (py38, py311, py313) = (
        pyenv_python("3.8"),
        pyenv_python("3.11"),
        pyenv_python("3.13"),
    );
    let mut args = vec!["--find-links", find_links.to_str().unwrap()];
    for python in [&py38, &py311, &py313] {
        args.extend(["--python", python.to_str().unwrap()]);
    }
    args.extend([
        "--lock",
        lock.to_str().unwrap(),
        wheelhouse.to_str().unwrap(),
    ]);
    let run = fill(home.path(), SPLIT, &args, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let text = std::fs::read_to_string(&lock).unwrap();
    assert_eq!(validated(&lock), 4, "{text}");
    assert!(
        !text.contains(home.path().to_str().unwrap()),
        "paths relative to the lock, no machine path: {text}"
    );
    assert!(
        text.contains("path = \"../wheelhouse/ww_alpha-2.0-py3-none-any.whl\""),
        "{text}"
    );
    let lock_toml: toml::Table = text.parse().unwrap();
    for package in lock_toml["packages"].as_array().unwrap() {
        let wheel = &package["wheels"][0];
        assert!(
            wheel["size"].as_integer().is_some_and(|s| s > 0),
            "{package}"
        );
        assert!(wheel["upload-time"].as_datetime().is_some(), "{package}");
    }

    // The lock and the wheelhouse move together: installed from a copy elsewhere.
    let moved = tempfile::tempdir().unwrap();
    copy_dir(&wheelhouse, &moved.path().join("wheelhouse"));
    std::fs::create_dir(moved.path().join("locks")).unwrap();
    let moved_lock = moved.path().join("locks/pylock.toml");
    std::fs::copy(&lock, &moved_lock).unwrap();

    let for_38 = ["ww_alpha-2.0", "ww_echo_pkg-1.0", "ww_rp_only-1.0"];
    let for_newer = ["ww_alpha-2.0", "ww_rp_only-2.0"];
    let site = |name: &str| home.path().join(name);
    pip_installs(
        &test_venv().join("bin/python"),
        &moved_lock,
        &site("pip-311"),
    );
    assert_eq!(installed(&site("pip-311")), for_newer);
    pip_installs(&py313, &moved_lock, &site("pip-313"));
    assert_eq!(installed(&site("pip-313")), for_newer);
    for (python, name, want) in [
        (&py38, "uv-38", &for_38[..]),
        (&py311, "uv-311", &for_newer[..]),
        (&py313, "uv-313", &for_newer[..]),
    ] {
        uv_installs(python, &moved_lock, &site(name), true);
        assert_eq!(installed(&site(name)), want, "{name}");
    }

    // An interpreter the lock was not made for is refused, not given part of the set.
    let py39: PathBuf = pyenv_python("3.9");
    let mut cmd = Command::new(test_venv().join("bin/uv"));
    let out = cmd
        .args([
            "pip",
            "install",
            "--no-cache",
            "--no-config",
            "--offline",
            "--python",
        ])
        .arg(&py39)
        .arg("--target")
        .arg(site("uv-39"))
        .arg("-r")
        .arg(&moved_lock)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("not supported by the lockfile"),
        "uv on 3.9, a lock for 3.8, 3.11 and 3.13: {stderr}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// devpi: the lock names the files by the URLs devpi lists (a built wheel's too) and the
/// stage's simple index; pip and uv install from those URLs.
#[test]
fn fill_pylock_of_devpi_names_its_urls_and_installs_the_built_wheel() {
    let home = tempfile::tempdir().unwrap();
    let (user, target, _) =
        crate::lock::fill_devpi_with_lock("pylock", home.path(), "pylock.devpi.toml");
    let lock = home.path().join("pylock.devpi.toml");
    let python: PathBuf = test_venv().join("bin/python");
    let text = std::fs::read_to_string(&lock).unwrap();
    assert_eq!(validated(&lock), 2, "{text}");
    let lock_toml: toml::Table = text.parse().unwrap();
    let built = user.files("target", "ww-charlie", true);
    let [(filename, sha)] = built.as_slice() else {
        panic!("{built:?}")
    };
    let charlie = &lock_toml["packages"][1];
    assert_eq!(charlie["name"].as_str(), Some("ww-charlie"));
    assert_eq!(
        charlie["index"].as_str(),
        Some(format!("{target}/+simple/").as_str())
    );
    let wheel = &charlie["wheels"][0];
    assert_eq!(wheel["name"].as_str(), Some(filename.as_str()));
    assert_eq!(wheel["hashes"]["sha256"].as_str(), Some(sha.as_str()));
    assert!(
        wheel["url"].as_str().is_some_and(
            |url| url.starts_with(&format!("{target}/+f/")) && url.ends_with(filename.as_str())
        ),
        "{text}"
    );
    assert!(!text.contains("@"), "no credentials in the lock: {text}");
    pip_installs(&python, &lock, &home.path().join("pip"));
    assert_eq!(
        installed(&home.path().join("pip")),
        ["ww_alpha-1.0", "ww_charlie-1.0"]
    );
    uv_installs(&python, &lock, &home.path().join("uv"), false);
    assert_eq!(
        installed(&home.path().join("uv")),
        ["ww_alpha-1.0", "ww_charlie-1.0"]
    );
    crate::support::devpi().assert_no_tracebacks();
}
