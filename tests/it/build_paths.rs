//! Fixed build paths and read-only toolchains, with real builds: a C extension rebuilt in two
//! cache dirs gives the same bytes (bubblewrap's fixed mount and, without a mount namespace,
//! the build dir keyed by the sdist), and rustup's cargo and rustc work from `--build-path`
//! while a credential file next to them stays out of reach.

use std::path::PathBuf;

use crate::support::{
    FakeCargoHome, fill, fixtures_dir, job, only_wheel, rustup_home, sha256_of,
    upstream_wheels_dir, wheel_member,
};

fn toolchain_dists() -> PathBuf {
    fixtures_dir().join("toolchain/dist")
}

/// Build `project` twice, each time with its own HOME (so its own cache dir) and its own
/// directory target; both wheels must have the same sha256 and name no path of either cache.
/// `file` is how the extension's `__FILE__` must read.
fn rebuild_twice(project: &str, sandbox: &str, file: &str) {
    let mut digests = Vec::new();
    let mut homes = Vec::new();
    let upstream = upstream_wheels_dir();
    for _ in 0..2 {
        let home = tempfile::tempdir().unwrap();
        let wheelhouse = home.path().join("wheelhouse");
        let run = fill(
            home.path(),
            &format!("{project}==1.0\n"),
            &[
                "--find-links",
                toolchain_dists().to_str().unwrap(),
                "--find-links",
                upstream.to_str().unwrap(),
                wheelhouse.to_str().unwrap(),
                "--sandbox",
                sandbox,
            ],
            &[],
        );
        assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
        assert_eq!(job(&run, project)["outcome"], "built");
        let wheel = only_wheel(&wheelhouse);
        let so = wheel_member(&wheel, ".so");
        let text = String::from_utf8_lossy(&so);
        assert!(
            !text.contains(&*home.path().to_string_lossy()),
            "the extension names its cache dir"
        );
        assert!(text.contains(file), "no `{file}` in the extension");
        digests.push(sha256_of(&wheel));
        homes.push(home);
    }
    assert_eq!(
        digests[0], digests[1],
        "two rebuilds of {project} differ ({sandbox})"
    );
}

// The fixture backend compiles the absolute source path, so `__FILE__` shows the prefix map
// at work (the source tree is `.`); setuptools compiles a relative one, and its debug info
// names the directory it ran in.

#[test]
fn a_c_extension_rebuilt_in_two_cache_dirs_is_byte_identical_under_bwrap() {
    rebuild_twice("ww-cext-repro", "required", "./ww_cext_repro/_native.c");
}

#[test]
fn a_c_extension_rebuilt_in_two_cache_dirs_is_byte_identical_without_a_mount_namespace() {
    rebuild_twice("ww-cext-repro", "off", "./ww_cext_repro/_native.c");
}

#[test]
fn a_setuptools_c_extension_rebuilt_in_two_cache_dirs_is_byte_identical() {
    rebuild_twice(
        "ww-cext-setuptools",
        "required",
        "ww_cext_setuptools/_native.c",
    );
}

#[test]
fn rustup_cargo_and_rustc_work_from_a_build_path_and_its_credentials_stay_hidden() {
    let cargo = FakeCargoHome::new();
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let requirements = format!(
        "ww-rust-probe==1.0 -C secret={}\n",
        cargo.credentials().display()
    );
    let rustup = rustup_home();
    let env = [("RUSTUP_HOME", rustup.as_str())];
    let dists = toolchain_dists();
    let base = [
        "--find-links",
        dists.to_str().unwrap(),
        wheelhouse.to_str().unwrap(),
        "--sandbox",
        "required",
    ];
    // Without --build-path there is no cargo in the sandbox.
    let run = fill(home.path(), &requirements, &base, &env);
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    let j = job(&run, "ww-rust-probe");
    assert_eq!(j["outcome"], "failed", "{j}");
    let detail = j["detail"].as_str().unwrap();
    assert!(detail.contains("cargo not found"), "{detail}");

    let bin = cargo.bin();
    let mut args = base.to_vec();
    // The failure above is recorded; a changed toolchain is a reason to try again.
    args.extend(["--build-path", bin.to_str().unwrap(), "--retry-failed"]);
    let run = fill(home.path(), &requirements, &args, &env);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    assert_eq!(job(&run, "ww-rust-probe")["outcome"], "built");
    let report = String::from_utf8(wheel_member(&only_wheel(&wheelhouse), "report.txt")).unwrap();
    assert!(report.contains("\ncargo 1."), "{report}");
    assert!(report.contains("\nrustc 1."), "{report}");
    assert!(
        report.contains("hello from cargo inside the sandbox"),
        "{report}"
    );
    assert!(report.contains("secret unreadable"), "{report}");
    assert!(!report.contains("ww-fake-cargo-token"), "{report}");
    // The source sits at bubblewrap's fixed mount point, whatever the cache dir.
    assert!(
        report.contains("\ncwd=/build/ww_rust_probe-1.0\n"),
        "{report}"
    );
    // CARGO_HOME is the build's own (writable, in the build dir), not the caller's; the
    // toolchain is pinned so the proxy needs to write nothing.
    let cargo_home = report
        .lines()
        .find_map(|l| l.strip_prefix("CARGO_HOME="))
        .unwrap_or_default();
    assert!(
        cargo_home.starts_with(
            &*home
                .path()
                .join(".cache/wheelwright/builds")
                .to_string_lossy()
        ) && cargo_home.ends_with("/cargo-home"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "RUSTUP_HOME={}",
            std::fs::canonicalize(&rustup).unwrap().display()
        )),
        "{report}"
    );
    assert!(!report.contains("RUSTUP_TOOLCHAIN=\n"), "{report}");

    // Naming the directory that holds the credential file is refused before anything runs.
    let parent = cargo.root().to_str().unwrap();
    let mut args = base.to_vec();
    args.extend(["--build-path", parent]);
    let run = fill(home.path(), &requirements, &args, &env);
    assert_eq!(run.code(), 2, "{}\n{}", run.stdout(), run.stderr());
    assert!(
        run.stderr().contains("credentials.toml") && run.stderr().contains(parent),
        "{}",
        run.stderr()
    );
}
