//! The build-requirement resolver against the fixture find-links directory and real
//! interpreters (python3 and pyenv's 3.8): markers and Requires-Python decide per interpreter.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use futures::future::BoxFuture;
use pep508_rs::{PackageName, Requirement};

use crate::builder::*;
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
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, WheelSourceError>> {
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
    fn fetch<'a>(
        &'a self,
        file: &'a IndexFile,
    ) -> BoxFuture<'a, Result<PathBuf, WheelSourceError>> {
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
        matches!(&e, BuildRequiresError::NoMatch { requirement, .. }
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
    assert!(matches!(e, BuildRequiresError::NoMatch { .. }), "{text}");
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

// ------------------------------------------------- the solver over written wheels

/// A find-links directory of small wheels written for one test, with yanked files.
struct Scene {
    dir: tempfile::TempDir,
    yanked: Vec<String>,
    fetched: Mutex<Vec<String>>,
}

impl Scene {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            yanked: Vec::new(),
            fetched: Mutex::default(),
        }
    }

    /// Writes `NAME-VERSION-py3-none-any.whl`: METADATA (with `requires` as Requires-Dist),
    /// WHEEL and RECORD, enough for `read_wheel`. Returns the file name.
    fn wheel(&self, name: &str, version: &str, requires: &[&str]) -> String {
        use std::io::Write;
        let stem = format!("{}-{version}", name.replace('-', "_"));
        let filename = format!("{stem}-py3-none-any.whl");
        let file = std::fs::File::create(self.dir.path().join(&filename)).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default();
        let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        for line in requires {
            metadata.push_str(&format!("Requires-Dist: {line}\n"));
        }
        metadata.push('\n');
        zip.start_file(format!("{stem}.dist-info/METADATA"), options)
            .unwrap();
        zip.write_all(metadata.as_bytes()).unwrap();
        zip.start_file(format!("{stem}.dist-info/WHEEL"), options)
            .unwrap();
        zip.write_all(
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        .unwrap();
        zip.start_file(format!("{stem}.dist-info/RECORD"), options)
            .unwrap();
        zip.finish().unwrap();
        filename
    }

    fn sdist(&self, name: &str, version: &str) {
        let filename = format!("{}-{version}.tar.gz", name.replace('-', "_"));
        std::fs::write(self.dir.path().join(filename), b"not read").unwrap();
    }

    fn sha256(&self, filename: &str) -> String {
        crate::distribution::sha256_file(self.dir.path().join(filename)).unwrap()
    }

    fn fetched(&self) -> Vec<String> {
        let mut all = self.fetched.lock().unwrap().clone();
        all.sort();
        all
    }
}

impl WheelSource for Scene {
    fn list<'a>(
        &'a self,
        project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, WheelSourceError>> {
        Box::pin(async move {
            let mut files = FindLinksDir::new(self.dir.path()).list(project).await?;
            for file in &mut files {
                if self.yanked.iter().any(|y| *y == *file.filename) {
                    file.yanked = Some("broken".to_string());
                }
            }
            Ok(files)
        })
    }
    fn fetch<'a>(
        &'a self,
        file: &'a IndexFile,
    ) -> BoxFuture<'a, Result<PathBuf, WheelSourceError>> {
        Box::pin(async move {
            self.fetched.lock().unwrap().push(file.filename.to_string());
            FindLinksDir::new(self.dir.path()).fetch(file).await
        })
    }
}

fn pin(name: &str, version: &str, sha256: &[String]) -> BuildConstraint {
    BuildConstraint {
        name: PackageName::from_str(name).unwrap(),
        version: pep440_rs::Version::from_str(version).unwrap(),
        sha256: sha256.to_vec(),
    }
}

/// The greedy loop took ww-a 2.0 (newest), then could not satisfy both `ww-c<2` (from
/// ww-a 2.0) and `ww-c>=2` (from ww-b) and gave up: the solver backtracks over ww-a's
/// version instead, to 1.0, which needs no ww-c.
#[tokio::test]
async fn the_solver_backtracks_over_a_dependency_choice() {
    let py = interpreter(&pyenv_python("3.11")).await;
    let scene = Scene::new();
    scene.wheel("ww-a", "1.0", &[]);
    scene.wheel("ww-a", "2.0", &["ww-c<2"]);
    scene.wheel("ww-b", "1.0", &["ww-c>=2"]);
    scene.wheel("ww-c", "1.0", &[]);
    scene.wheel("ww-c", "2.0", &[]);
    scene.wheel("ww-c", "2.1", &[]);
    let got = resolve(&scene, &py, &[], &reqs(&["ww-a", "ww-b"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-a 1.0", "ww-b 1.0", "ww-c 2.1"]);
    let wheel = &got[2];
    assert_eq!(wheel.filename.to_string(), "ww_c-2.1-py3-none-any.whl");
    assert_eq!(
        wheel.path,
        scene.dir.path().join("ww_c-2.1-py3-none-any.whl")
    );
    assert_eq!(wheel.sha256, scene.sha256("ww_c-2.1-py3-none-any.whl"));
    // Each wheel the solver looked into was fetched once, however often it was asked.
    let fetched = scene.fetched();
    let mut unique = fetched.clone();
    unique.dedup();
    assert_eq!(fetched, unique);
}

/// The solver's thread asks the caller's task for listings and wheels: that works on a
/// multi-thread runtime (the pipeline's) as on the `current_thread` ones above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_solve_works_on_a_multi_thread_runtime() {
    let py = interpreter(&pyenv_python("3.11")).await;
    let scene = Scene::new();
    scene.wheel("ww-a", "1.0", &["ww-b"]);
    scene.wheel("ww-b", "1.0", &["ww-c>=1"]);
    scene.wheel("ww-c", "1.0", &[]);
    let got = resolve(&scene, &py, &[], &reqs(&["ww-a"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-a 1.0", "ww-b 1.0", "ww-c 1.0"]);
}

/// No choice satisfies both: the error is the solver's derivation, not a guess.
#[tokio::test]
async fn a_true_conflict_reports_the_derivation() {
    let py = interpreter(&pyenv_python("3.11")).await;
    let scene = Scene::new();
    scene.wheel("ww-a", "2.0", &["ww-c<2"]);
    scene.wheel("ww-b", "1.0", &["ww-c>=2"]);
    scene.wheel("ww-c", "1.0", &[]);
    scene.wheel("ww-c", "2.0", &[]);
    let e = resolve(&scene, &py, &[], &reqs(&["ww-a", "ww-b"]), "ww-top 1.0")
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, BuildRequiresError::Conflict { .. }), "{text}");
    assert!(
        text.starts_with(&format!(
            "build requirements of ww-top 1.0 conflict on {}:\n",
            py.label
        )),
        "{text}"
    );
    for fragment in [
        "ww-a ==2.0 depends on ww-c <2",
        "ww-b ==1.0 depends on ww-c >=2",
        "the requirements ask for ww-a",
        "the requirements ask for ww-b",
    ] {
        assert!(text.contains(fragment), "{fragment:?} in {text}");
    }
}

/// A `--build-constraints` pin narrows the choice (and adds nothing); its hash is checked
/// on the wheel that provisioning would install.
#[tokio::test]
async fn a_build_constraint_pins_an_older_version_and_its_hash() {
    let py = interpreter(&pyenv_python("3.11")).await;
    let scene = Scene::new();
    let old = scene.wheel("ww-c", "1.0", &[]);
    scene.wheel("ww-c", "2.0", &[]);
    let roots = reqs(&["ww-c"]);
    let unrelated = pin("ww-unrelated", "1.0", &[]);

    let got = resolve(&scene, &py, &[], &roots, "x 1.0").await.unwrap();
    assert_eq!(versions(&got), ["ww-c 2.0"]);

    let pins = [pin("ww-c", "1.0", &[scene.sha256(&old)]), unrelated.clone()];
    let got = resolve(&scene, &py, &pins, &roots, "x 1.0").await.unwrap();
    assert_eq!(versions(&got), ["ww-c 1.0"], "the pin adds no ww-unrelated");

    let pins = [pin("ww-c", "1.0", &["ab".repeat(32)])];
    let e = resolve(&scene, &py, &pins, &roots, "x 1.0")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BuildRequiresError::HashMismatch { file, name, actual }
            if file == "ww_c-1.0-py3-none-any.whl" && name == "ww-c"
                && *actual == scene.sha256(&old)),
        "{e}"
    );

    // A pin outside the requirement's specifiers: no wheel fits both.
    let pins = [pin("ww-c", "1.0", &[])];
    let e = resolve(&scene, &py, &pins, &reqs(&["ww-c>=2"]), "x 1.0")
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, BuildRequiresError::NoMatch { .. }), "{text}");
    assert!(
        text.contains("wanted `>=2` from x 1.0; --build-constraints pins 1.0"),
        "{text}"
    );
}

/// Pre-releases only when some specifier names one (root or Requires-Dist); yanked
/// versions only for an exact pin (PEP 592).
#[tokio::test]
async fn prereleases_when_named_and_yanked_only_when_pinned() {
    let py = interpreter(&pyenv_python("3.11")).await;
    let mut scene = Scene::new();
    scene.wheel("ww-p", "1.0", &[]);
    scene.wheel("ww-p", "2.0b1", &[]);
    scene.wheel("ww-q", "1.0", &["ww-p>=2.0b1"]);
    scene.wheel("ww-y", "1.0", &[]);
    let yanked = scene.wheel("ww-y", "2.0", &[]);
    scene.yanked.push(yanked);

    let got = resolve(&scene, &py, &[], &reqs(&["ww-p"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-p 1.0"]);
    let got = resolve(&scene, &py, &[], &reqs(&["ww-p>=2.0b1"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-p 2.0b1"]);
    let got = resolve(&scene, &py, &[], &reqs(&["ww-q"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-p 2.0b1", "ww-q 1.0"]);

    let got = resolve(&scene, &py, &[], &reqs(&["ww-y"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-y 1.0"]);
    let got = resolve(&scene, &py, &[], &reqs(&["ww-y==2.0"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-y 2.0"]);
}

/// A dependency published only as an sdist is named with the version that needs it; a
/// URL root is refused before anything is listed.
#[tokio::test]
async fn an_sdist_only_dependency_and_a_url_root_are_named() {
    let py = interpreter(&pyenv_python("3.11")).await;
    let scene = Scene::new();
    scene.wheel("ww-a", "1.0", &["ww-s>=1"]);
    scene.sdist("ww-s", "1.0");
    let e = resolve(&scene, &py, &[], &reqs(&["ww-a"]), "x 1.0")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "build requirement `ww-s>=1` of ww-a 1.0 is only published as an sdist; wheelwright provisions build requirements from wheels only"
    );

    let before = scene.fetched();
    let url = reqs(&["ww-a @ https://example.invalid/ww_a-1.0-py3-none-any.whl"]);
    let e = resolve(&scene, &py, &[], &url, "x 1.0").await.unwrap_err();
    assert!(matches!(e, BuildRequiresError::Url { .. }), "{e}");
    assert_eq!(scene.fetched(), before, "nothing more fetched");
}

/// An extra of a build requirement adds what its markers name (`extra == "..."`).
#[tokio::test]
async fn a_build_requirement_extra_adds_its_requirements() {
    let py = interpreter(&pyenv_python("3.11")).await;
    let scene = Scene::new();
    scene.wheel("ww-e", "1.0", &["ww-c ; extra == 'more'"]);
    scene.wheel("ww-c", "1.0", &[]);
    let got = resolve(&scene, &py, &[], &reqs(&["ww-e"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-e 1.0"]);
    let got = resolve(&scene, &py, &[], &reqs(&["ww-e[more]"]), "x 1.0")
        .await
        .unwrap();
    assert_eq!(versions(&got), ["ww-c 1.0", "ww-e 1.0"]);
}

/// A source that cannot list anything, or fetch anything.
struct Down;

impl WheelSource for Down {
    fn list<'a>(
        &'a self,
        _project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, WheelSourceError>> {
        Box::pin(async { Err(WheelSourceError::Test("the index is down")) })
    }
    fn fetch<'a>(
        &'a self,
        _file: &'a IndexFile,
    ) -> BoxFuture<'a, Result<PathBuf, WheelSourceError>> {
        Box::pin(async { Err(WheelSourceError::Test("the file is gone")) })
    }
}

/// Listing and fetch failures come back out of the solver as the typed errors they were.
#[tokio::test]
async fn source_failures_keep_their_type() {
    let py = interpreter(&pyenv_python("3.11")).await;
    let e = resolve(&Down, &py, &[], &reqs(&["ww-a"]), "x 1.0")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BuildRequiresError::List { name, source: WheelSourceError::Test(m) }
            if name == "ww-a" && *m == "the index is down"),
        "{e}"
    );

    /// Lists from the scene, fetches nothing.
    struct Lost(Scene);
    impl WheelSource for Lost {
        fn list<'a>(
            &'a self,
            project: &'a PackageName,
        ) -> BoxFuture<'a, Result<Vec<IndexFile>, WheelSourceError>> {
            self.0.list(project)
        }
        fn fetch<'a>(
            &'a self,
            file: &'a IndexFile,
        ) -> BoxFuture<'a, Result<PathBuf, WheelSourceError>> {
            Down.fetch(file)
        }
    }
    let scene = Scene::new();
    scene.wheel("ww-a", "1.0", &[]);
    let e = resolve(&Lost(scene), &py, &[], &reqs(&["ww-a"]), "x 1.0")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "fetching ww_a-1.0-py3-none-any.whl: the file is gone"
    );
    assert!(matches!(e, BuildRequiresError::Fetch { .. }), "{e}");
}
