//! Probes real interpreters: `python3`, the pyenv versions present, and the test venv,
//! whose `packaging.tags.sys_tags()` is the golden reference for the tag order.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// `$PYENV_ROOT/versions`, or that of pyenv's default root `~/.pyenv`.
fn pyenv_versions() -> PathBuf {
    std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv")))
        .unwrap_or_default()
        .join("versions")
}

/// pyenv interpreters 3.8–3.13 on this machine.
fn pyenv_pythons() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(pyenv_versions()) else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut parts = name.split('.');
        let (Some("3"), Some(minor)) = (parts.next(), parts.next()) else {
            continue;
        };
        let python = entry.path().join("bin/python3");
        if matches!(minor.parse::<u8>(), Ok(8..=13)) && python.exists() {
            found.push((python, format!("3.{minor}")));
        }
    }
    found.sort();
    found
}

/// `(major, minor)` of glibc via getconf, if this is a glibc system.
fn glibc() -> Option<(u32, u32)> {
    let out = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (major, minor) = text.split_whitespace().last()?.split_once('.')?;
    Some((major.parse().ok()?, minor.trim().parse().ok()?))
}

fn rank(interp: &Interpreter, tag: &str) -> Option<u32> {
    let mut parts = tag.split('-');
    let (py, abi, plat) = (parts.next()?, parts.next()?, parts.next()?);
    interp.tags.rank(py, abi, plat)
}

#[tokio::test]
async fn probes_python3_and_pyenv_interpreters() {
    let pyenv = pyenv_pythons();
    assert!(
        pyenv.len() >= 2,
        "expected at least two of {}/3.{{8..13}}*/bin/python3, found {pyenv:?}",
        pyenv_versions().display()
    );
    let out = Command::new("python3")
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .expect("python3 must be on PATH for this test");
    let python3_version = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let mut all = vec![(PathBuf::from("python3"), python3_version)];
    all.extend(pyenv);
    let x86_glibc = std::env::consts::ARCH == "x86_64" && glibc().is_some_and(|v| v >= (2, 17));
    for (python, version) in all {
        let interp = probe(&python).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            interp.markers.python_version().string,
            version,
            "{}",
            python.display()
        );
        let (major, minor) = interp.python_version;
        assert_eq!(format!("{major}.{minor}"), version);
        assert_eq!(interp.label, format!("cp{major}{minor}"));
        assert!(
            interp.executable.is_absolute(),
            "{}",
            interp.executable.display()
        );
        let pure = rank(&interp, "py3-none-any").expect("py3-none-any is supported");
        if x86_glibc {
            let tag = format!("cp{major}{minor}-cp{major}{minor}-manylinux_2_17_x86_64");
            let manylinux = rank(&interp, &tag).unwrap_or_else(|| panic!("{tag} missing"));
            assert!(
                manylinux < pure,
                "{tag} must be preferred over py3-none-any"
            );
            let abi3 = rank(
                &interp,
                &format!("cp{major}{minor}-abi3-manylinux2014_x86_64"),
            );
            assert!(abi3.is_some_and(|r| manylinux < r && r < pure));
        }
    }
}

/// The test venv (overridable for out-of-tree runs).
fn test_venv() -> PathBuf {
    std::env::var_os("WHEELWRIGHT_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-test"))
}

/// `packaging.tags.sys_tags()` as run by `python`, with `pythonpath` holding packaging.
fn packaging_sys_tags(python: &Path, pythonpath: Option<&Path>) -> Vec<String> {
    let mut cmd = Command::new(python);
    cmd.args([
        "-c",
        "from packaging.tags import sys_tags\nfor t in sys_tags(): print(t)",
    ]);
    if let Some(path) = pythonpath {
        cmd.env("PYTHONPATH", path);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "`packaging` is required in the test venv for the golden tag test; install it with \
         `{} -m pip install packaging`. {} said:\n{}",
        test_venv().join("bin/python").display(),
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_same_tags(python: &Path, ours: &Interpreter, theirs: &[String]) {
    let ours: Vec<String> = ours.tags.tags().iter().map(ToString::to_string).collect();
    if let Some(i) = (0..ours.len().max(theirs.len())).find(|&i| ours.get(i) != theirs.get(i)) {
        panic!(
            "{}: tag {i} differs: probe has {:?}, packaging has {:?} ({} vs {} tags)",
            python.display(),
            ours.get(i),
            theirs.get(i),
            ours.len(),
            theirs.len()
        );
    }
}

#[tokio::test]
async fn tags_equal_packaging_sys_tags() {
    let python = test_venv().join("bin/python");
    assert!(
        python.exists(),
        "test venv interpreter {} is missing",
        python.display()
    );
    let theirs = packaging_sys_tags(&python, None);
    let ours = probe(&python).await.unwrap();
    assert_same_tags(&python, &ours, &theirs);
    // The venv's prefix is the venv; its base is the interpreter it was made from.
    assert_ne!(ours.sys_prefix, ours.base_prefix);

    // The same packaging (pure Python, needs 3.10+) run by the other interpreters here.
    let out = Command::new(&python)
        .args([
            "-c",
            "import os, packaging; print(os.path.dirname(os.path.dirname(packaging.__file__)))",
        ])
        .output()
        .unwrap();
    let site = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    for (other, version) in pyenv_pythons() {
        let minor: u8 = version["3.".len()..].parse().unwrap();
        if minor >= 10 {
            let theirs = packaging_sys_tags(&other, Some(&site));
            assert_same_tags(&other, &probe(&other).await.unwrap(), &theirs);
        }
    }
}

fn script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("fake-python");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn errors_name_the_interpreter() {
    let err = probe(Path::new("/nonexistent/python3")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Python interpreter `/nonexistent/python3` not found"
    );

    let dir = tempfile::tempdir().unwrap();
    let failing = script(dir.path(), "echo 'Traceback: boom' >&2; exit 3");
    let err = probe(&failing).await.unwrap_err();
    assert!(matches!(err, InterpreterError::Failed { .. }), "{err}");
    assert!(err.to_string().contains("Traceback: boom"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let chatty = script(dir.path(), "echo 'not json'");
    let err = probe(&chatty).await.unwrap_err();
    assert!(
        err.to_string().contains("printed an invalid probe result"),
        "{err}"
    );
    assert!(err.to_string().contains("`not json`"), "{err}");
}

#[test]
fn dev_build_full_version_is_accepted() {
    let markers = serde_json::json!({
        "implementation_name": "cpython", "implementation_version": "3.14.0a1",
        "os_name": "posix", "platform_machine": "x86_64",
        "platform_python_implementation": "CPython", "platform_release": "6.1",
        "platform_system": "Linux", "platform_version": "#1", "python_full_version": "3.14.0a1+",
        "python_version": "3.14", "sys_platform": "linux"
    });
    let env = super::markers(markers).unwrap();
    assert_eq!(env.python_full_version().string, "3.14.0a1");
}
