//! `--lock FILE`: after `fill --lock`, pip installs the lock with `--require-hashes` from the
//! target alone, on each interpreter its own version; a changed hash makes pip refuse;
//! `plan --lock` marks the build jobs whose hash only a fill knows.

use std::path::{Path, PathBuf};

use crate::support::{
    Pypiserver, fill, fixture_dist, fixtures_dir, pyenv_python, run, sha256_of, test_venv,
    user_with_upstream, wheelwright,
};

/// `python -m pip install --require-hashes --no-deps -r LOCK --target DIR ARGS`: the output.
fn pip_install_lock(python: &Path, lock: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-cache-dir",
        ])
        .args(["--require-hashes", "--no-deps", "-r"])
        .arg(lock)
        .arg("--target")
        .arg(dir)
        .args(args)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap()
}

/// The `name-version` of each `.dist-info` pip put into `dir`, sorted.
pub(crate) fn installed(dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".dist-info")
                .map(String::from)
        })
        .collect();
    found.sort();
    found
}

fn assert_installs(python: &Path, lock: &Path, dir: &Path, args: &[&str]) {
    let out = pip_install_lock(python, lock, dir, args);
    assert!(
        out.status.success(),
        "pip install -r {}:\n{}\n{}",
        lock.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(lock).unwrap()
    );
}

const SPLIT: &str = "\
ww-alpha==2.0
ww-rp-only>=1.0
ww-echo-pkg==1.0 ; python_version < \"3.9\"
";

#[test]
fn fill_lock_of_a_directory_splits_interpreters_and_pip_installs_each_its_own_version() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let lock = home.path().join("lock.txt");
    let find_links = fixtures_dir().join("dist");
    let (py38, py311) = (pyenv_python("3.8"), pyenv_python("3.11"));
    let args = [
        "--find-links",
        find_links.to_str().unwrap(),
        "--python",
        py38.to_str().unwrap(),
        "--python",
        py311.to_str().unwrap(),
        "--lock",
        lock.to_str().unwrap(),
        wheelhouse.to_str().unwrap(),
    ];
    let run = fill(home.path(), SPLIT, &args, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let text = std::fs::read_to_string(&lock).unwrap();
    let sha = |name: &str| sha256_of(&fixture_dist(name));
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        body,
        [
            "ww-alpha==2.0 \\".to_string(),
            format!("    --hash=sha256:{}", sha("ww_alpha-2.0-py3-none-any.whl")),
            "ww-echo-pkg==1.0 ; python_version == \"3.8\" \\".to_string(),
            format!(
                "    --hash=sha256:{}",
                sha("ww_echo_pkg-1.0-py3-none-any.whl")
            ),
            "ww-rp-only==1.0 ; python_version == \"3.8\" \\".to_string(),
            format!(
                "    --hash=sha256:{}",
                sha("ww_rp_only-1.0-py3-none-any.whl")
            ),
            "ww-rp-only==2.0 ; python_version == \"3.11\" \\".to_string(),
            format!(
                "    --hash=sha256:{}",
                sha("ww_rp_only-2.0-py3-none-any.whl")
            ),
        ],
        "{text}"
    );
    assert!(
        text.starts_with("# Written by wheelwright ")
            && text.contains("`fill --lock` for the target a directory.")
            && !text.contains(home.path().to_str().unwrap()),
        "no machine path in the header: {text}"
    );

    // A second fill finds everything present: the lock then takes the target's hashes, the
    // same ones.
    let again = fill(home.path(), SPLIT, &args, &[]);
    assert_eq!(again.count("present"), 5, "{:?}", again.outcomes());
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), text);

    // Offline, from the target's simple tree alone: each interpreter gets its own version.
    let simple = url::Url::from_directory_path(wheelhouse.join("simple")).unwrap();
    let index = ["--index-url", simple.as_str()];
    let (site38, site311) = (home.path().join("site38"), home.path().join("site311"));
    assert_installs(&py38, &lock, &site38, &index);
    assert_installs(&py311, &lock, &site311, &index);
    assert_eq!(
        installed(&site38),
        ["ww_alpha-2.0", "ww_echo_pkg-1.0", "ww_rp_only-1.0"]
    );
    assert_eq!(installed(&site311), ["ww_alpha-2.0", "ww_rp_only-2.0"]);

    // One changed digit in a hash: pip refuses the file it is about.
    let good = sha("ww_alpha-2.0-py3-none-any.whl");
    let flipped = if good.starts_with('0') { "1" } else { "0" };
    let tampered = home.path().join("tampered.txt");
    std::fs::write(
        &tampered,
        text.replace(&good, &format!("{flipped}{}", &good[1..])),
    )
    .unwrap();
    let refused = pip_install_lock(&py311, &tampered, &home.path().join("site-bad"), &index);
    assert!(
        !refused.status.success(),
        "pip installed a file whose hash is not in the lock"
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("DO NOT MATCH THE HASHES"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn fill_lock_of_pypiserver_installs_with_hashes_and_names_the_missing_job() {
    let packages = tempfile::tempdir().unwrap();
    let server = Pypiserver::start(packages.path(), None);
    let home = tempfile::tempdir().unwrap();
    let lock = home.path().join("lock.txt");
    let find_links = fixtures_dir().join("dist");
    let simple = format!("{}/simple/", server.url());
    let python: PathBuf = test_venv().join("bin/python");
    let run = fill(
        home.path(),
        "ww-alpha==1.0\nww-bravo==1.0\nww-foxtrot==1.0\n",
        &[
            "--find-links",
            find_links.to_str().unwrap(),
            "--python",
            python.to_str().unwrap(),
            "--lock",
            lock.to_str().unwrap(),
            &simple,
        ],
        &[],
    );
    // foxtrot has no wheel for this interpreter and no sdist: the exit code says a job
    // failed, the lock holds the rest and stderr names the one it leaves out.
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("lock: missing ww-foxtrot==1.0 (cp311)"),
        "{}",
        run.stderr()
    );
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(!text.contains("ww-foxtrot"), "{text}");
    assert!(
        text.contains(&format!("for the target {simple}.")),
        "{text}"
    );
    let site = home.path().join("site");
    assert_installs(&python, &lock, &site, &["--index-url", &simple]);
    assert_eq!(installed(&site), ["ww_alpha-1.0", "ww_bravo-1.0.0"]);
    server.assert_no_tracebacks();
}

#[test]
fn plan_lock_hashes_what_it_knows_and_marks_the_build_job() {
    let dir = tempfile::tempdir().unwrap();
    let reqs = dir.path().join("requirements.txt");
    std::fs::write(&reqs, "ww-alpha==1.0\nww-charlie==1.0\n").unwrap();
    let lock = dir.path().join("lock.txt");
    let find_links = fixtures_dir().join("dist");
    let python = test_venv().join("bin/python");
    let planned = run(wheelwright()
        .arg("plan")
        .arg(&reqs)
        .arg("--target")
        .arg(dir.path().join("wheelhouse"))
        .arg("--find-links")
        .arg(&find_links)
        .arg("--python")
        .arg(&python)
        .arg("--lock")
        .arg(&lock));
    let stderr = planned.assert_code(0).stderr();
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(
        text.contains("`plan --lock`")
            && text.contains("# ww-charlie==1.0 (cp311): build job, hash known after fill\n")
            && text.contains(&format!(
                "ww-alpha==1.0 \\\n    --hash=sha256:{}\n",
                sha256_of(&fixture_dist("ww_alpha-1.0-py3-none-any.whl"))
            )),
        "{text}"
    );
    assert!(!text.contains("ww-charlie==1.0 \\"), "{text}");
    assert!(
        stderr.contains("lock: ww-charlie==1.0 (cp311): a build job, its hash is known after fill"),
        "{stderr}"
    );
}

/// A devpi target filled with ww-alpha (fetched) and ww-charlie (built) for the test venv's
/// interpreter, writing `--lock home/LOCK_NAME`: the user, the target's URL and the run.
pub(crate) fn fill_devpi_with_lock(
    prefix: &str,
    home: &Path,
    lock_name: &str,
) -> (crate::support::DevpiUser, String, crate::support::Run) {
    let (user, upstream) = user_with_upstream(prefix);
    let target = user.create_index("target", &[], false);
    let lock = home.join(lock_name);
    let wheels = crate::support::upstream_wheels_dir();
    let python: PathBuf = test_venv().join("bin/python");
    let run = fill(
        home,
        "ww-alpha==1.0\nww-charlie==1.0\n",
        &[
            "--index-url",
            &upstream,
            "--find-links",
            wheels.to_str().unwrap(),
            "--python",
            python.to_str().unwrap(),
            "--lock",
            lock.to_str().unwrap(),
            &target,
        ],
        &user.env(),
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    (user, target, run)
}

#[test]
fn fill_lock_of_devpi_holds_the_built_wheels_hash_and_installs_with_it() {
    let home = tempfile::tempdir().unwrap();
    let (user, target, run) = fill_devpi_with_lock("lock", home.path(), "lock.txt");
    let lock = home.path().join("lock.txt");
    let python: PathBuf = test_venv().join("bin/python");
    assert_eq!(
        run.outcomes()
            .into_iter()
            .map(|(p, _, o)| format!("{p} {o}"))
            .collect::<Vec<_>>(),
        ["ww-alpha uploaded", "ww-charlie built"]
    );
    let built = user.files("target", "ww-charlie", true);
    let [(filename, sha)] = built.as_slice() else {
        panic!("{built:?}")
    };
    assert!(filename.ends_with(".whl"), "{filename}");
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(
        text.contains(&format!("ww-charlie==1.0 \\\n    --hash=sha256:{sha}\n")),
        "{text}"
    );
    let site = home.path().join("site");
    let simple = format!("{target}/+simple/");
    assert_installs(&python, &lock, &site, &["--index-url", &simple]);
    assert_eq!(installed(&site), ["ww_alpha-1.0", "ww_charlie-1.0"]);
    crate::support::devpi().assert_no_tracebacks();
}
