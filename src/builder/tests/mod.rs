//! Build subsystem tests: real python3, real bwrap, the project's fixture sdists.
//! They fail (never skip) when python3 or a working bwrap is missing.

mod resolve;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;

use futures::future::BoxFuture;
use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement};

use super::*;
use crate::index::IndexFile;
use crate::interpreter::{Interpreter, probe};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dist() -> PathBuf {
    repo().join("fixtures/dist")
}

/// fixtures/hostile/dist, made by its script when missing.
fn hostile(file: &str) -> PathBuf {
    static MAKE: Once = Once::new();
    let dist = repo().join("fixtures/hostile/dist");
    MAKE.call_once(|| {
        if !dist.join("ww_wrong_version-1.0.tar.gz").is_file() {
            let status = std::process::Command::new("python3")
                .arg(repo().join("fixtures/hostile/make_dists.py"))
                .status()
                .expect("python3 must be installed to make the hostile fixtures");
            assert!(status.success(), "fixtures/hostile/make_dists.py failed");
        }
    });
    dist.join(file)
}

async fn python() -> Arc<Interpreter> {
    Arc::new(
        probe(Path::new("python3"))
            .await
            .expect("python3 must be installed for the build tests"),
    )
}

fn require_bwrap() {
    if let Err(e) = Sandbox::new(SandboxMode::Required, SandboxLimits::default()) {
        panic!("these tests need a working bubblewrap (apt-get install bubblewrap): {e}");
    }
}

fn limits(timeout: Duration) -> SandboxLimits {
    SandboxLimits {
        timeout,
        kill_grace: Duration::from_secs(2),
        ..SandboxLimits::default()
    }
}

struct Setup {
    _cache: tempfile::TempDir,
    cache: PathBuf,
    builder: Builder,
}

fn builder(mode: SandboxMode, limits: SandboxLimits, sources: Vec<PathBuf>) -> Setup {
    if mode == SandboxMode::Required {
        require_bwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let mut options = BuilderOptions::new(cache.path());
    options.sandbox = mode;
    options.limits = limits;
    let source = Arc::new(Chain(sources.into_iter().map(FindLinksDir::new).collect()));
    Setup {
        cache: cache.path().to_path_buf(),
        builder: Builder::new(options, source).unwrap(),
        _cache: cache,
    }
}

/// Several find-links dirs, listed in order.
struct Chain(Vec<FindLinksDir>);

impl WheelSource for Chain {
    fn list<'a>(
        &'a self,
        project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, WheelSourceError>> {
        Box::pin(async move {
            let mut all = Vec::new();
            for dir in &self.0 {
                all.extend(dir.list(project).await?);
            }
            Ok(all)
        })
    }
    fn fetch<'a>(
        &'a self,
        file: &'a IndexFile,
    ) -> BoxFuture<'a, Result<PathBuf, WheelSourceError>> {
        self.0[0].fetch(file)
    }
}

fn request(sdist: PathBuf, interpreter: &Arc<Interpreter>) -> BuildRequest {
    let file = sdist.file_name().unwrap().to_string_lossy().into_owned();
    let stem = file.trim_end_matches(".tar.gz");
    let (name, version) = stem.rsplit_once('-').unwrap();
    BuildRequest {
        sdist,
        name: PackageName::from_str(name).unwrap(),
        version: Version::from_str(version).unwrap(),
        interpreter: interpreter.clone(),
        config_settings: ConfigSettings::new(),
        source_date_epoch: None,
        settings: Default::default(),
        sbom: None,
    }
}

fn wheel_text(path: &Path) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut all = String::new();
    for i in 0..zip.len() {
        zip.by_index(i).unwrap().read_to_string(&mut all).unwrap();
    }
    all
}

/// Processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    found
}

fn env_dirs(cache: &Path) -> Vec<String> {
    std::fs::read_dir(cache.join("build-envs"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- unpacking

#[test]
fn crafted_archives_are_refused() {
    let limits = UnpackLimits {
        max_entries: 1000,
        max_bytes: 8 << 20,
    };
    let unpack = |file: &str| {
        let dest = tempfile::tempdir().unwrap();
        let result = unpack_sdist(&hostile(file), dest.path(), limits);
        (result, dest)
    };
    let (r, _d) = unpack("ww_dotdot-1.0.tar.gz");
    assert!(
        matches!(r, Err(UnpackError::ParentComponent { .. })),
        "{r:?}"
    );
    let (r, _d) = unpack("ww_abs_path-1.0.tar.gz");
    assert!(matches!(r, Err(UnpackError::AbsolutePath { .. })), "{r:?}");
    let (r, _d) = unpack("ww_symlink_escape-1.0.tar.gz");
    assert!(matches!(r, Err(UnpackError::LinkEscape { .. })), "{r:?}");
    let (r, _d) = unpack("ww_device_file-1.0.tar.gz");
    assert!(matches!(r, Err(UnpackError::SpecialFile { .. })), "{r:?}");
    let (r, d) = unpack("ww_tar_bomb-1.0.tar.gz");
    let message = r.as_ref().unwrap_err().to_string();
    assert!(matches!(r, Err(UnpackError::TooLarge { .. })), "{r:?}");
    assert!(
        message.contains("ww_tar_bomb-1.0.tar.gz") && message.contains("zeros.bin"),
        "{message}"
    );
    let size = std::fs::metadata(d.path().join("ww_tar_bomb-1.0/zeros.bin")).map(|m| m.len());
    assert!(size.is_err(), "the partial file is removed");
    let (r, _d) = unpack("ww_two_tops-1.0.tar.gz");
    assert!(
        matches!(r, Err(UnpackError::NoSingleTopLevel { .. })),
        "{r:?}"
    );
    assert!(!Path::new("/tmp/ww-escape-abs-path").exists());
}

#[test]
fn too_many_entries() {
    let dest = tempfile::tempdir().unwrap();
    let limits = UnpackLimits {
        max_entries: 3,
        max_bytes: 1 << 20,
    };
    let r = unpack_sdist(&hostile("ww_env_thief-1.0.tar.gz"), dest.path(), limits);
    assert!(
        matches!(r, Err(UnpackError::TooManyEntries { .. })),
        "{r:?}"
    );
}

#[test]
fn symlink_chain_cannot_climb_out() {
    // a/l -> .. (fine alone), b/m -> ../a/l/../.. (lexically inside, physically outside).
    let dir = tempfile::tempdir().unwrap();
    let sdist = dir.path().join("ww_chain-1.0.tar.gz");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&sdist).unwrap(),
        flate2::Compression::fast(),
    ));
    let mut link = |path: &str, target: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        tar.append_link(&mut h, path, target).unwrap();
    };
    link("ww_chain-1.0/a/l", "..");
    link("ww_chain-1.0/b/m", "../a/l/../..");
    tar.into_inner().unwrap().finish().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let r = unpack_sdist(&sdist, dest.path(), UnpackLimits::default());
    assert!(matches!(r, Err(UnpackError::LinkEscape { .. })), "{r:?}");
}

// ---------------------------------------------------------------- resolution

/// ww-hotel has a C extension: the compiler and the interpreter's headers work in the sandbox.
#[tokio::test]
async fn c_extension_builds_in_bwrap() {
    let py = python().await;
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(300)),
        vec![fixtures_dist()],
    );
    let built = s
        .builder
        .build(request(fixtures_dist().join("ww_hotel-1.0.tar.gz"), &py))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let name = built
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("ww_hotel-1.0-cp"), "{name}");
}

#[tokio::test]
async fn sdist_only_requirement_is_named() {
    let py = python().await;
    let source = FindLinksDir::new(fixtures_dist());
    let req = Requirement::from_str("ww-charlie>=1").unwrap();
    let e = resolve(&source, &py, &[], &[req], "ww-legacy 1.0")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "build requirement `ww-charlie>=1` of ww-legacy 1.0 is only published as an sdist; wheelwright provisions build requirements from wheels only"
    );
}

#[tokio::test]
async fn newest_final_wheel_and_constraints() {
    let py = python().await;
    let source = FindLinksDir::new(fixtures_dist());
    let req = Requirement::from_str("ww-alpha>=1.0").unwrap();
    let got = resolve(&source, &py, &[], std::slice::from_ref(&req), "x 1")
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].version.to_string(),
        "2.0",
        "pre-release 3.0rc1 skipped"
    );
    let pre = Requirement::from_str("ww-alpha>=3.0rc1").unwrap();
    let got = resolve(&source, &py, &[], &[pre], "x 1").await.unwrap();
    assert_eq!(got[0].version.to_string(), "3.0rc1");
    // A pin from --build-constraints, with a wrong hash.
    let pin = BuildConstraint {
        name: PackageName::from_str("ww-alpha").unwrap(),
        version: Version::from_str("1.0").unwrap(),
        sha256: vec!["00".repeat(32)],
    };
    let e = resolve(
        &source,
        &py,
        std::slice::from_ref(&pin),
        std::slice::from_ref(&req),
        "x 1",
    )
    .await
    .unwrap_err();
    assert!(matches!(e, BuildRequiresError::HashMismatch { .. }), "{e}");
    let pin = BuildConstraint {
        sha256: vec![],
        ..pin
    };
    let got = resolve(&source, &py, &[pin], &[req], "x 1").await.unwrap();
    assert_eq!(got[0].version.to_string(), "1.0");
}

// ---------------------------------------------------------------- real builds

#[tokio::test]
async fn pure_fixture_builds_in_bwrap_and_env_is_shared() {
    let py = python().await;
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(120)),
        vec![fixtures_dist()],
    );
    assert!(s.builder.sandbox().is_isolated());
    let mut envs = Vec::new();
    for _ in 0..3 {
        let built = s
            .builder
            .build(request(fixtures_dist().join("ww_charlie-1.0.tar.gz"), &py))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(built.path.is_file());
        assert!(
            built
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ww_charlie-1.0-")
        );
        if rustix::process::geteuid().is_root() {
            use std::os::unix::fs::MetadataExt;
            // Written inside the sandbox by the build's own unprivileged uid, never by root.
            let owner = std::fs::metadata(&built.path).unwrap().uid();
            assert!(BUILD_UIDS.contains(&owner), "written by uid {owner}");
        }
        envs.push(built.env);
    }
    assert_eq!(
        env_dirs(&s.cache).len(),
        1,
        "one env for three builds: {:?}",
        env_dirs(&s.cache)
    );
    assert!(envs.iter().all(|e| e == &envs[0]));
}

#[tokio::test]
async fn extra_requires_get_a_second_env() {
    let py = python().await;
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(120)),
        vec![fixtures_dist()],
    );
    let built = s
        .builder
        .build(request(fixtures_dist().join("ww_golf-1.0.tar.gz"), &py))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(built.env.join("lib").exists());
    let site = std::fs::read_dir(built.env.join(format!(
        "lib/python{}.{}/site-packages",
        py.python_version.0, py.python_version.1
    )))
    .unwrap()
    .flatten()
    .map(|e| e.file_name().to_string_lossy().into_owned())
    .collect::<Vec<_>>();
    assert!(
        site.iter().any(|n| n == "ww_alpha-2.0.dist-info"),
        "{site:?}"
    );
    assert_eq!(env_dirs(&s.cache).len(), 2, "requires env + union env");
}

/// An inline sdist whose backend imports setuptools, which the host python has installed.
#[tokio::test]
async fn host_site_packages_are_invisible() {
    let py = python().await;
    let dir = tempfile::tempdir().unwrap();
    let sdist = dir.path().join("ww_isolated-1.0.tar.gz");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&sdist).unwrap(),
        flate2::Compression::fast(),
    ));
    let mut add = |path: &str, body: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, body.as_bytes()).unwrap();
    };
    add(
        "ww_isolated-1.0/pyproject.toml",
        "[build-system]\nrequires = []\nbuild-backend = \"b\"\nbackend-path = [\".\"]\n",
    );
    add("ww_isolated-1.0/b.py", "import setuptools\n");
    tar.into_inner().unwrap().finish().unwrap();
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(60)),
        vec![fixtures_dist()],
    );
    let e = s.builder.build(request(sdist, &py)).await.unwrap_err();
    assert!(matches!(*e.kind, BuildErrorKind::HookFailed { .. }), "{e}");
    assert!(
        e.to_string().contains("No module named 'setuptools'"),
        "{e}"
    );
}

#[tokio::test]
async fn setup_py_only_sdist_builds_with_setuptools_from_wheels() {
    let py = python().await;
    let upstream = repo().join(".cache/upstream-wheels");
    assert!(
        upstream
            .join("setuptools-84.2.1-py3-none-any.whl")
            .is_file()
            || std::fs::read_dir(&upstream).is_ok_and(|mut d| d.any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("setuptools-"))),
        "download the upstream wheels first: pip download --only-binary=:all: --dest {} setuptools wheel flit_core hatchling",
        upstream.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let sdist = dir.path().join("ww_setup_only-1.0.tar.gz");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&sdist).unwrap(),
        flate2::Compression::fast(),
    ));
    let mut add = |path: &str, body: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, body.as_bytes()).unwrap();
    };
    add(
        "ww_setup_only-1.0/setup.py",
        "from setuptools import setup\nsetup(name='ww-setup-only', version='1.0', py_modules=['ww_setup_only'])\n",
    );
    add("ww_setup_only-1.0/ww_setup_only.py", "X = 1\n");
    tar.into_inner().unwrap().finish().unwrap();
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(300)),
        vec![upstream],
    );
    let built = s
        .builder
        .build(request(sdist, &py))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        built
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("ww_setup_only-1.0-py3-none-any")
    );
}

// ---------------------------------------------------------------- hostile builds

#[tokio::test]
async fn net_probe_reaches_host_only_without_sandbox() {
    let py = python().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut req = request(hostile("ww_net_probe-1.0.tar.gz"), &py);
    req.config_settings = config_settings([("port", port.as_str())]);

    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(60)),
        vec![fixtures_dist()],
    );
    let e = s.builder.build(req.clone()).await.unwrap_err();
    assert!(
        e.step == BuildStep::BuildWheel && matches!(*e.kind, BuildErrorKind::HookFailed { .. }),
        "{e}"
    );
    assert!(
        listener.accept().is_err(),
        "nothing connected from inside the sandbox"
    );

    // The control: the same sdist unsandboxed does connect, so the probe is real.
    let s = builder(
        SandboxMode::Off,
        limits(Duration::from_secs(60)),
        vec![fixtures_dist()],
    );
    s.builder.build(req).await.unwrap_or_else(|e| panic!("{e}"));
    let (mut conn, _) = listener.accept().expect("the unsandboxed probe connected");
    conn.set_nonblocking(false).unwrap();
    let mut got = String::new();
    conn.read_to_string(&mut got).unwrap();
    assert_eq!(got, "ww-net-probe connected");
}

#[tokio::test]
async fn sleep_forever_times_out_and_leaves_nothing() {
    let py = python().await;
    let marker = format!("ww-marker-{}", std::process::id());
    let mut req = request(hostile("ww_sleep_forever-1.0.tar.gz"), &py);
    req.config_settings = config_settings([("marker", marker.as_str())]);
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(3)),
        vec![fixtures_dist()],
    );
    let e = s.builder.build(req).await.unwrap_err();
    assert!(matches!(*e.kind, BuildErrorKind::TimedOut { .. }), "{e}");
    assert!(
        e.log_tail()
            .is_some_and(|t| t.contains("started escaping grandchild")),
        "{e}"
    );
    // bwrap's pid namespace dies with it; give the kernel a moment to reap.
    let mut left = processes_with(&marker);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        left = processes_with(&marker);
    }
    assert!(left.is_empty(), "stragglers: {left:?}");
}

#[tokio::test]
async fn fork_bomb_hits_the_process_cap() {
    let py = python().await;
    let mut l = limits(Duration::from_secs(60));
    l.processes = 64;
    let s = builder(SandboxMode::Required, l, vec![fixtures_dist()]);
    let e = s
        .builder
        .build(request(hostile("ww_fork_bomb-1.0.tar.gz"), &py))
        .await
        .unwrap_err();
    assert!(matches!(*e.kind, BuildErrorKind::HookFailed { .. }), "{e}");
    assert!(e.to_string().contains("fork refused"), "{e}");
    let builds = s.cache.join("builds");
    let left = processes_with(&builds.display().to_string());
    assert!(left.is_empty(), "stragglers: {left:?}");
}

#[tokio::test]
async fn log_flood_is_capped() {
    let py = python().await;
    let mut l = limits(Duration::from_secs(3));
    l.log.file_cap = 1 << 20;
    let s = builder(SandboxMode::Required, l, vec![fixtures_dist()]);
    let e = s
        .builder
        .build(request(hostile("ww_log_flood-1.0.tar.gz"), &py))
        .await
        .unwrap_err();
    let BuildErrorKind::TimedOut {
        log_path, log_tail, ..
    } = e.kind.as_ref()
    else {
        panic!("{e}")
    };
    let size = std::fs::metadata(log_path).unwrap().len();
    assert!(size <= (1 << 20) + 4096, "log is {size} bytes");
    assert!(log_tail.len() <= 64 << 10);
    assert!(
        log_tail.contains("wall-clock timeout"),
        "our note is the last line"
    );
}

#[tokio::test]
async fn disk_fill_is_killed() {
    let py = python().await;
    let mut l = limits(Duration::from_secs(60));
    l.disk = 32 << 20;
    l.disk_poll = Duration::from_millis(200);
    let s = builder(SandboxMode::Required, l, vec![fixtures_dist()]);
    let e = s
        .builder
        .build(request(hostile("ww_disk_fill-1.0.tar.gz"), &py))
        .await
        .unwrap_err();
    assert!(matches!(*e.kind, BuildErrorKind::DiskQuota { .. }), "{e}");
}

#[tokio::test]
async fn writes_outside_do_not_land() {
    let py = python().await;
    let token = format!("{}-{}", std::process::id(), rand::random::<u32>());
    let tmp_target = format!("/tmp/ww-escape-{token}");
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let home_target = format!("{home}/ww-escape-{token}");
    let mut req = request(hostile("ww_write_outside-1.0.tar.gz"), &py);
    req.config_settings = config_settings([
        ("targets", tmp_target.as_str()),
        ("targets", home_target.as_str()),
    ]);
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(60)),
        vec![fixtures_dist()],
    );
    let built = s.builder.build(req).await.unwrap_or_else(|e| panic!("{e}"));
    for path in [
        PathBuf::from(&tmp_target),
        PathBuf::from(&home_target),
        py.base_prefix.join("ww-escape"),
        built.env.join("ww-escape"),
    ] {
        assert!(!path.exists(), "{} was written", path.display());
    }
}

#[tokio::test]
async fn env_thief_finds_no_secrets() {
    // SAFETY: set before any build starts; only this test reads these names.
    unsafe {
        std::env::set_var("WHEELWRIGHT_PASSWORD", "ww-secret-pw-1");
        std::env::set_var("DEVPI_PASSWORD", "ww-secret-pw-2");
    }
    let py = python().await;
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(60)),
        vec![fixtures_dist()],
    );
    let built = s
        .builder
        .build(request(hostile("ww_env_thief-1.0.tar.gz"), &py))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text = wheel_text(&built.path);
    assert!(
        text.contains("SOURCE_DATE_EPOCH"),
        "the environment was captured: {text}"
    );
    assert!(!text.contains("ww-secret-pw"), "{text}");
    assert!(!text.contains("PASSWORD"), "{text}");
}

#[tokio::test]
async fn wrong_version_two_wheels_no_wheel() {
    let py = python().await;
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(60)),
        vec![fixtures_dist()],
    );
    let e = s
        .builder
        .build(request(hostile("ww_wrong_version-1.0.tar.gz"), &py))
        .await
        .unwrap_err();
    assert!(matches!(*e.kind, BuildErrorKind::Invalid { .. }), "{e}");
    let e = s
        .builder
        .build(request(hostile("ww_two_wheels-1.0.tar.gz"), &py))
        .await
        .unwrap_err();
    assert!(matches!(*e.kind, BuildErrorKind::ExtraWheels { .. }), "{e}");
    let e = s
        .builder
        .build(request(hostile("ww_no_wheel-1.0.tar.gz"), &py))
        .await
        .unwrap_err();
    assert!(matches!(*e.kind, BuildErrorKind::NoWheel { .. }), "{e}");
    let e = s
        .builder
        .build(request(hostile("ww_dotdot-1.0.tar.gz"), &py))
        .await
        .unwrap_err();
    assert!(matches!(*e.kind, BuildErrorKind::Unpack { .. }), "{e}");
}

/// Figures, not assertions: `cargo test -- --ignored --nocapture build_overhead`.
#[tokio::test]
#[ignore]
async fn build_overhead() {
    let py = python().await;
    let s = builder(
        SandboxMode::Required,
        limits(Duration::from_secs(120)),
        vec![fixtures_dist()],
    );
    let sdist = fixtures_dist().join("ww_charlie-1.0.tar.gz");
    s.builder.build(request(sdist.clone(), &py)).await.unwrap();
    for mode in ["bwrap", "off"] {
        let s = if mode == "off" {
            builder(
                SandboxMode::Off,
                limits(Duration::from_secs(120)),
                vec![fixtures_dist()],
            )
        } else {
            s.clone_for_bench()
        };
        let mut total = Duration::ZERO;
        let mut backend = Duration::ZERO;
        let n = 10;
        for _ in 0..n {
            let b = s.builder.build(request(sdist.clone(), &py)).await.unwrap();
            total += b.duration;
            backend += b.backend_wall;
        }
        println!(
            "{mode}: build() {:?}/build, backend hooks {:?}/build, overhead {:?}/build",
            total / n,
            backend / n,
            (total - backend) / n
        );
    }
}

impl Setup {
    fn clone_for_bench(&self) -> Setup {
        let mut options = BuilderOptions::new(&self.cache);
        options.sandbox = SandboxMode::Required;
        options.limits = limits(Duration::from_secs(120));
        Setup {
            _cache: tempfile::tempdir().unwrap(),
            cache: self.cache.clone(),
            builder: Builder::new(options, Arc::new(FindLinksDir::new(fixtures_dist()))).unwrap(),
        }
    }
}
