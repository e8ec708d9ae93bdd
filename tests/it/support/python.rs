//! Python interpreters the tests plan and build for, and pip as the reference: pyenv's
//! interpreters (3.8 to 3.13, installed beside the suite), a fresh virtualenv that installs
//! what wheelwright published, and pip's own resolution of a requirements file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `$PYENV_ROOT/versions`, or that of pyenv's default root `~/.pyenv`.
pub(crate) fn pyenv_versions() -> PathBuf {
    std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv")))
        .unwrap_or_default()
        .join("versions")
}

/// The newest pyenv interpreter of `minor` (e.g. "3.8"). Missing is a failure, not a skip.
pub(crate) fn pyenv_python(minor: &str) -> PathBuf {
    let versions = pyenv_versions();
    let prefix = format!("{minor}.");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&versions)
        .unwrap_or_else(|e| {
            panic!(
                "pyenv interpreters are needed ({}): {e}",
                versions.display()
            )
        })
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path().join("bin/python3"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("no pyenv Python {minor} under {}", versions.display()))
}

/// A fresh virtualenv of `python3` at `parent/venv`, to prove that what wheelwright
/// published installs.
pub(crate) struct Venv {
    dir: PathBuf,
}

impl Venv {
    pub(crate) fn new(parent: &Path) -> Venv {
        let dir = parent.join("venv");
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "python3 -m venv failed");
        Venv { dir }
    }

    /// `pip install ARGS`, which must succeed.
    pub(crate) fn pip_install(&self, args: &[&str]) {
        let out = Command::new(self.dir.join("bin/pip"))
            .args(["install", "--disable-pip-version-check"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What `python -c CODE` prints, trimmed.
    pub(crate) fn python(&self, code: &str) -> String {
        let out = Command::new(self.dir.join("bin/python"))
            .args(["-c", code])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "python -c {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// What `pip install --dry-run --ignore-installed --report` of `home/requirements.txt`
/// over `index` installs: project → version (pip of a fresh venv in `home`, made here when
/// missing).
pub(crate) fn pip_resolution(home: &Path, index: &str) -> BTreeMap<String, String> {
    if !home.join("venv/bin/pip").is_file() {
        Venv::new(home);
    }
    let pip_report = home.join("pip-report.json");
    let out = Command::new(home.join("venv/bin/pip"))
        .args([
            "install",
            "--disable-pip-version-check",
            "--dry-run",
            "--ignore-installed",
            "--index-url",
            index,
            "--report",
        ])
        .arg(&pip_report)
        .arg("-r")
        .arg(home.join("requirements.txt"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pip: Value = serde_json::from_str(&std::fs::read_to_string(&pip_report).unwrap()).unwrap();
    pip["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["metadata"]["name"].as_str().unwrap().to_string(),
                i["metadata"]["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
