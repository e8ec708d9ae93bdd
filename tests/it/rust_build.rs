//! Rust extensions built offline: the `ww-rust-ext` fixture (maturin, pyo3-ffi and its four
//! crates, a `Cargo.lock`) built under both sandbox layers with no network, its crates fetched
//! beforehand by the user's cargo from the user's source replacement (a local registry made by
//! `scripts/test.sh`, standing in for a company's crate mirror), verified and cached; the
//! wheel installs and imports. A second build takes every crate from the crate cache without
//! running cargo; a sdist without `Cargo.lock` and a cached crate whose bytes do not match the
//! lock fail before anything is built; without the toolchain, maturin asks for `puccinialin`.

use std::path::{Path, PathBuf};

use crate::support::{
    FakeCargoHome, Run, Venv, fill, fixtures_dir, job, only_wheel, project_root, rustup_home,
    upstream_wheels_dir,
};

/// The crates of the fixture's lock, as `Cargo.lock` pins them.
const LOCKED: &[(&str, &str)] = &[
    (
        "libc-0.2.191",
        "65cd87c9a6d60536580b316ad985726104730a5151c99845f2490428ef91240a",
    ),
    (
        "once_cell-1.21.4",
        "9f7c3e4beb33f85d45ae3e3a1792185706c8e16d043238c593331cc7cd313b50",
    ),
    (
        "pyo3-build-config-0.22.6",
        "b14b5775b5ff446dd1056212d778012cbe8a0fbffd368029fd9e25b514479c38",
    ),
    (
        "pyo3-ffi-0.22.6",
        "9ab5bcf04a2cdcbb50c7d6105de943f543f9ed92af55818fd17b660390fc8636",
    ),
    (
        "target-lexicon-0.12.16",
        "61c41af27dd6d1e27b1b16b489db798443478cef1f06a660c96db617ba5de3b1",
    ),
];

/// The local registry `scripts/test.sh` makes from the fixture's crates.
fn local_registry() -> PathBuf {
    let dir = project_root().join(".cache/rust-crates/local-registry");
    assert!(
        dir.join("index").is_dir(),
        "{} is missing: run scripts/test.sh once (it fetches the Rust fixture's crates)",
        dir.display()
    );
    dir
}

/// A user's `CARGO_HOME` whose configuration replaces the default registry with `registry`.
fn user_cargo_home(registry: &Path) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let registry = toml::Value::String(registry.display().to_string());
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"company-mirror\"\n\n\
             [source.company-mirror]\nlocal-registry = {registry}\n"
        ),
    )
    .unwrap();
    home
}

/// `fill` of `requirement` into `<home>/<wheelhouse>` with the Rust toolchain on
/// `--build-path` and the given user cargo home.
fn fill_rust(
    home: &Path,
    requirement: &str,
    wheelhouse: &str,
    sandbox: &str,
    toolchain: &FakeCargoHome,
    cargo_home: &Path,
) -> Run {
    let dists = fixtures_dir().join("dist");
    let upstream = upstream_wheels_dir();
    let bin = toolchain.bin();
    let target = home.join(wheelhouse);
    let rustup = rustup_home();
    fill(
        home,
        &format!("{requirement}\n"),
        &[
            "--find-links",
            dists.to_str().unwrap(),
            "--find-links",
            upstream.to_str().unwrap(),
            target.to_str().unwrap(),
            "--sandbox",
            sandbox,
            "--build-path",
            bin.to_str().unwrap(),
        ],
        &[
            ("RUSTUP_HOME", rustup.as_str()),
            ("CARGO_HOME", cargo_home.to_str().unwrap()),
        ],
    )
}

fn crate_cache(home: &Path) -> PathBuf {
    home.join(".cache/wheelwright/crates")
}

/// The wheel in `<home>/<wheelhouse>` installs into a fresh venv and its Rust function works.
fn assert_imports(home: &Path, wheelhouse: &str) {
    let wheel = only_wheel(&home.join(wheelhouse));
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("ww_rust_ext-1.0-cp") && !name.contains("none-any"),
        "{name}"
    );
    let venv = Venv::new(&home.join(format!("venv-{wheelhouse}")));
    venv.pip_install(&["--no-index", wheel.to_str().unwrap()]);
    assert_eq!(
        venv.python("import ww_rust_ext; print(ww_rust_ext.answer())"),
        "42"
    );
}

fn built_offline_and_imports(sandbox: &str) {
    let toolchain = FakeCargoHome::new();
    let cargo_home = user_cargo_home(&local_registry());
    let home = tempfile::tempdir().unwrap();
    let run = fill_rust(
        home.path(),
        "ww-rust-ext==1.0",
        "wheelhouse",
        sandbox,
        &toolchain,
        cargo_home.path(),
    );
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let j = job(&run, "ww-rust-ext");
    assert_eq!(j["outcome"], "built", "{j}");
    assert_imports(home.path(), "wheelhouse");
    // Every locked crate is in the crate cache under its checksum, and nothing else is.
    let mut cached: Vec<String> = std::fs::read_dir(crate_cache(home.path()))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cached.sort();
    let mut expected: Vec<String> = LOCKED.iter().map(|(_, s)| format!("{s}.crate")).collect();
    expected.sort();
    assert_eq!(cached, expected);
    // cargo fetched into the user's cargo home (its download cache is theirs to keep).
    assert!(cargo_home.path().join("registry").is_dir());
}

#[test]
fn the_rust_fixture_builds_offline_under_bwrap_and_its_wheel_imports() {
    built_offline_and_imports("bwrap");
}

#[test]
fn the_rust_fixture_builds_offline_under_the_builtin_layer() {
    built_offline_and_imports("builtin");
}

#[test]
fn a_second_build_takes_every_crate_from_the_cache_without_running_cargo() {
    let toolchain = FakeCargoHome::new();
    let home = tempfile::tempdir().unwrap();
    let cargo_home = user_cargo_home(&local_registry());
    let first = fill_rust(
        home.path(),
        "ww-rust-ext==1.0",
        "first",
        "bwrap",
        &toolchain,
        cargo_home.path(),
    );
    assert_eq!(first.code(), 0, "{}\n{}", first.stdout(), first.stderr());
    // Now the user's cargo would fail at once: its mirror is gone. A fetch would be fatal.
    let gone = tempfile::tempdir().unwrap();
    let broken = user_cargo_home(&gone.path().join("no-such-mirror"));
    let second = fill_rust(
        home.path(),
        "ww-rust-ext==1.0",
        "second",
        "bwrap",
        &toolchain,
        broken.path(),
    );
    assert_eq!(second.code(), 0, "{}\n{}", second.stdout(), second.stderr());
    assert_eq!(job(&second, "ww-rust-ext")["outcome"], "built");
    assert!(
        !broken.path().join("registry").exists(),
        "cargo ran for the second build"
    );
    assert_imports(home.path(), "second");
}

#[test]
fn a_sdist_without_cargo_lock_fails_saying_offline_builds_need_one() {
    let toolchain = FakeCargoHome::new();
    let cargo_home = user_cargo_home(&local_registry());
    let home = tempfile::tempdir().unwrap();
    let run = fill_rust(
        home.path(),
        "ww-rust-nolock==1.0",
        "wheelhouse",
        "bwrap",
        &toolchain,
        cargo_home.path(),
    );
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    let j = job(&run, "ww-rust-nolock");
    assert_eq!(j["outcome"], "failed", "{j}");
    let detail = j["detail"].as_str().unwrap();
    assert!(
        detail.contains("offline builds need a Cargo.lock")
            && detail.contains("ww_rust_nolock-1.0.tar.gz has Cargo.toml"),
        "{detail}"
    );
    // Nothing was fetched.
    assert!(!cargo_home.path().join("registry").exists());
    // The sdist itself is at fault: the next run does not try again.
    let again = fill_rust(
        home.path(),
        "ww-rust-nolock==1.0",
        "wheelhouse",
        "bwrap",
        &toolchain,
        cargo_home.path(),
    );
    let detail = job(&again, "ww-rust-nolock")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.starts_with("known failure") && detail.contains("need a Cargo.lock"),
        "{detail}"
    );
}

#[test]
fn a_cached_crate_whose_bytes_do_not_match_the_lock_fails_before_the_build() {
    let toolchain = FakeCargoHome::new();
    let cargo_home = user_cargo_home(&local_registry());
    let home = tempfile::tempdir().unwrap();
    let cache = crate_cache(home.path());
    std::fs::create_dir_all(&cache).unwrap();
    let (libc, sum) = LOCKED[0];
    // Something else stored under libc's checksum.
    let other = local_registry().join(format!("{}.crate", LOCKED[1].0));
    std::fs::copy(other, cache.join(format!("{sum}.crate"))).unwrap();
    let run = fill_rust(
        home.path(),
        "ww-rust-ext==1.0",
        "wheelhouse",
        "bwrap",
        &toolchain,
        cargo_home.path(),
    );
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    let j = job(&run, "ww-rust-ext");
    assert_eq!(j["outcome"], "failed", "{j}");
    let detail = j["detail"].as_str().unwrap();
    assert!(
        detail.contains("fetch and vendor Rust crates")
            && detail.contains(&format!("crate {}", libc.replace("-0.", " 0.")))
            && detail.contains(&format!("Cargo.lock pins {sum}")),
        "{detail}"
    );
    assert!(!home.path().join("wheelhouse").join("ww_rust_ext").exists());
}

#[test]
fn without_the_toolchain_on_build_path_maturin_asks_for_puccinialin() {
    // The control for the builds above: there, cargo being visible is what keeps maturin from
    // asking for a Rust installer.
    let cargo_home = user_cargo_home(&local_registry());
    let home = tempfile::tempdir().unwrap();
    let dists = fixtures_dir().join("dist");
    let upstream = upstream_wheels_dir();
    let target = home.path().join("wheelhouse");
    let rustup = rustup_home();
    let run = fill(
        home.path(),
        "ww-rust-ext==1.0\n",
        &[
            "--find-links",
            dists.to_str().unwrap(),
            "--find-links",
            upstream.to_str().unwrap(),
            target.to_str().unwrap(),
            "--sandbox",
            "bwrap",
        ],
        &[
            ("RUSTUP_HOME", rustup.as_str()),
            ("CARGO_HOME", cargo_home.path().to_str().unwrap()),
        ],
    );
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    let j = job(&run, "ww-rust-ext");
    assert_eq!(j["outcome"], "failed", "{j}");
    let detail = j["detail"].as_str().unwrap();
    assert!(
        detail.contains("asked for `puccinialin`")
            && detail.contains("missing Rust compiler")
            && detail.contains("--build-path"),
        "{detail}"
    );
}
