//! The build-requirement resolver against the fixture find-links directory and real
//! interpreters (python3 and pyenv's 3.8): markers and Requires-Python decide per interpreter.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use futures::future::BoxFuture;
use pep508_rs::{PackageName, Requirement};

use super::*;
use crate::index::IndexFile;
use crate::interpreter::{Interpreter, probe};

fn fixtures_dist() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/dist")
}

/// pyenv's root as pyenv finds it: `$PYENV_ROOT`, else `~/.pyenv`.
fn pyenv_python(minor: &str) -> PathBuf {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".pyenv")))
        .expect("a home directory");
    let versions = root.join("versions");
    let prefix = format!("{minor}.");
    std::fs::read_dir(&versions)
        .unwrap_or_else(|e| {
            panic!(
                "pyenv interpreters are needed ({}): {e}",
                versions.display()
            )
        })
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path().join("bin/python3"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no pyenv Python {minor} under {}", versions.display()))
}

async fn interpreter(path: &Path) -> Interpreter {
    probe(path)
        .await
        .unwrap_or_else(|e| panic!("probe {}: {e}", path.display()))
}

fn reqs(lines: &[&str]) -> Vec<Requirement> {
    lines
        .iter()
        .map(|l| Requirement::from_str(l).unwrap())
        .collect()
}

/// The fixture directory, optionally giving a Requires-Python in the listing (as an index's
/// `data-requires-python` would), and counting what was fetched.
struct Listing {
    dir: FindLinksDir,
    listed: Option<(&'static str, &'static str)>,
    fetched: Mutex<Vec<String>>,
}

impl Listing {
    fn new(listed: Option<(&'static str, &'static str)>) -> Self {
        Self {
            dir: FindLinksDir::new(fixtures_dist()),
            listed,
            fetched: Mutex::default(),
        }
    }
}

impl WheelSource for Listing {
    fn list<'a>(
        &'a self,
        project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, SourceError>> {
        Box::pin(async move {
            let mut files = self.dir.list(project).await?;
            for file in &mut files {
                if let Some((filename, rp)) = self.listed
                    && file.filename == filename
                {
                    file.requires_python = Some(rp.to_string());
                }
            }
            Ok(files)
        })
    }
    fn fetch<'a>(&'a self, file: &'a IndexFile) -> BoxFuture<'a, Result<PathBuf, SourceError>> {
        self.fetched.lock().unwrap().push(file.filename.to_string());
        self.dir.fetch(file)
    }
}

fn versions(wheels: &[ResolvedWheel]) -> Vec<String> {
    wheels
        .iter()
        .map(|w| format!("{} {}", w.name, w.version))
        .collect()
}

#[tokio::test]
async fn build_requirement_markers_are_evaluated_for_the_build_interpreter() {
    let py311 = interpreter(&pyenv_python("3.11")).await;
    let py38 = interpreter(&pyenv_python("3.8")).await;
    let roots = reqs(&[
        "ww-nowhere ; python_version < '3.10'",
        "ww-alpha>=1.0 ; python_version >= '3.10'",
    ]);
    let source = Listing::new(None);
    let on_311 = resolve(&source, &py311, &[], &roots, "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&on_311), ["ww-alpha 2.0"]);
    let e = resolve(&source, &py38, &[], &roots, "x 1.0")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ResolveError::NoMatch { requirement, .. }
            if requirement.starts_with("ww-nowhere ;") && requirement.contains("3.10")),
        "{e}"
    );
    assert!(e.to_string().contains("no files are published"), "{e}");
}

#[tokio::test]
async fn requires_python_in_metadata_picks_an_older_wheel() {
    let py311 = interpreter(&pyenv_python("3.11")).await;
    let py38 = interpreter(&pyenv_python("3.8")).await;
    let roots = reqs(&["ww-rp-only"]);
    let source = Listing::new(None);
    let on_311 = resolve(&source, &py311, &[], &roots, "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&on_311), ["ww-rp-only 2.0"]);
    let on_38 = resolve(&source, &py38, &[], &roots, "x 1.0").await.unwrap();
    assert_eq!(versions(&on_38), ["ww-rp-only 1.0"]);
    // Nothing older allowed: pip's plain "no version for this Python".
    let e = resolve(&source, &py38, &[], &reqs(&["ww-rp-only>=2"]), "x 1.0")
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, ResolveError::NoMatch { .. }), "{text}");
    assert!(
        text.contains("ww_rp_only-2.0-py3-none-any.whl (Requires-Python `>=3.9`)")
            && text.contains("no wheel is for Python 3.8"),
        "{text}"
    );
}

#[tokio::test]
async fn a_listed_requires_python_is_used_without_downloading() {
    let py38 = interpreter(&pyenv_python("3.8")).await;
    let source = Listing::new(Some(("ww_rp_only-2.0-py3-none-any.whl", ">=3.9")));
    let on_38 = resolve(&source, &py38, &[], &reqs(&["ww-rp-only"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&on_38), ["ww-rp-only 1.0"]);
    assert_eq!(
        *source.fetched.lock().unwrap(),
        ["ww_rp_only-1.0-py3-none-any.whl"]
    );
    let e = resolve(&source, &py38, &[], &reqs(&["ww-rp-only==2.0"]), "x 1.0")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("2.0 needs Python `>=3.9`"), "{e}");
}
