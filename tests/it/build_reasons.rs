//! What decides a build, per interpreter, and what a failed build says: build-requirement
//! markers evaluated for each pyenv interpreter (as pip evaluates them), and the log line
//! that explains a failure carried into the summary line and the JSON `detail`.

use crate::support::{fill, fixtures_dir, pyenv_python, sha256_of};

fn job_for<'a>(report: &'a serde_json::Value, interpreter: &str) -> &'a serde_json::Value {
    report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["interpreter"] == interpreter)
        .unwrap_or_else(|| panic!("no job for {interpreter}: {report}"))
}

/// `ww-marker-build` asks for `ww-nowhere ; python_version < '3.10'` (published nowhere) in
/// `[build-system].requires`, and its backend returns `ww-alpha>=1.0 ; python_version >=
/// '3.10'` and `ww-foxtrot ; python_version < '3.10'` (a cp27-only wheel) from
/// `get_requires_for_build_wheel`. On 3.11 every false marker must be dropped; on 3.8 the
/// true one must be kept.
#[test]
fn build_requirement_markers_are_evaluated_for_each_interpreter() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let dists = fixtures_dir().join("dist");
    let (py38, py311) = (pyenv_python("3.8"), pyenv_python("3.11"));
    // 3.8 first: a pure wheel built first would serve the later interpreters unbuilt.
    let run = fill(
        home.path(),
        "ww-marker-build==1.0\n",
        &[
            "--find-links",
            dists.to_str().unwrap(),
            "--python",
            py38.to_str().unwrap(),
            "--python",
            py311.to_str().unwrap(),
            "--sandbox",
            "required",
            wheelhouse.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let on_311 = job_for(&run.report, "cp311");
    assert_eq!(on_311["outcome"], "built", "{on_311}");
    assert!(
        wheelhouse
            .join("ww_marker_build-1.0-py3-none-any.whl")
            .is_file()
    );
    let on_38 = job_for(&run.report, "cp38");
    assert_eq!(on_38["outcome"], "failed", "{on_38}");
    let detail = on_38["detail"].as_str().unwrap();
    assert!(
        detail.contains("build requirement `ww-nowhere ;") && detail.contains("cp38"),
        "{detail}"
    );
}

/// `ww-no-header`'s C extension includes a header no system has (under `openssl/`): the real
/// compiler stops with `fatal error: ...`, the fixture backend raises a RuntimeError around
/// the compiler's output. The fatal error is the decisive line, and the failure names the
/// missing header and the Debian package for `openssl/` headers, in the JSON detail and
/// `build.missing`, in JUnit and on the console.
#[test]
fn a_failed_build_names_its_decisive_log_line() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let junit = home.path().join("junit.xml");
    let dists = fixtures_dir().join("dist");
    let run = fill(
        home.path(),
        "ww-no-header==1.0\n",
        &[
            "--find-links",
            dists.to_str().unwrap(),
            "--sandbox",
            "required",
            "--junit-xml",
            junit.to_str().unwrap(),
            wheelhouse.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let decisive = "fatal error: openssl/ww_no_such_header.h: No such file or directory";
    let missing = "missing header openssl/ww_no_such_header.h (Debian package libssl-dev)";
    let job = &run.report["jobs"][0];
    assert_eq!(job["outcome"], "failed", "{job}");
    let detail = job["detail"].as_str().unwrap();
    assert!(
        detail.contains("build_wheel failed (exit status 1): ")
            && detail.contains(&format!("{decisive}; {missing}")),
        "{detail}"
    );
    let build = &job["build"]["missing"];
    assert_eq!(build["kind"], "header", "{job}");
    assert_eq!(build["name"], "openssl/ww_no_such_header.h", "{job}");
    assert_eq!(build["debian"], "libssl-dev", "{job}");
    // The failed build keeps what is known of it: the sdist, the epoch, the (empty, the
    // fixture backend needs nothing) environment, and no wheel.
    let build = &job["build"];
    assert_eq!(
        build["sdist"]["sha256"],
        sha256_of(&dists.join("ww_no_header-1.0.tar.gz")),
        "{job}"
    );
    assert!(build["source_date_epoch"].is_u64(), "{job}");
    assert_eq!(build["environment"], serde_json::json!([]), "{job}");
    assert!(build["duration"].as_f64().unwrap() > 0.0, "{job}");
    assert!(build.get("wheel").is_none(), "{job}");
    // The summary line on stderr carries it too.
    let stderr = run.stderr();
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("failed   build of ww-no-header 1.0")
                && l.contains(decisive)
                && l.contains(missing)),
        "{stderr}"
    );
    // The tail stays in the report and in JUnit, the whole log in the cache dir.
    let tail = job["log_tail"].as_str().unwrap();
    assert!(
        tail.contains("RuntimeError: compiling ww_no_header/_native.c failed"),
        "{tail}"
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("RuntimeError: compiling"), "{junit}");
    assert!(junit.contains(missing), "{junit}");
    assert!(
        junit.contains(&format!(
            r#"<property name="build.missing" value="{missing}"/>"#
        )),
        "{junit}"
    );
    let logs = home.path().join(".cache/wheelwright/logs");
    let log = std::fs::read_dir(&logs)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .find(|text| text.contains("openssl/ww_no_such_header.h"))
        .unwrap_or_else(|| panic!("no build log under {}", logs.display()));
    assert!(log.contains("Traceback (most recent call last):") && log.contains(decisive));
}

/// `ww-wants-rust`'s backend asks for `puccinialin` from `get_requires_for_build_wheel`, as
/// maturin does when it finds no cargo on `PATH` (that package would download a compiler):
/// the build stops there and says a Rust compiler is missing and how to give it one, and the
/// failed job keeps what is known of the build.
#[test]
fn a_backend_asking_for_puccinialin_is_told_a_rust_compiler_is_missing() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let dists = fixtures_dir().join("dist");
    let run = fill(
        home.path(),
        "ww-wants-rust==1.0\n",
        &[
            "--find-links",
            dists.to_str().unwrap(),
            "--sandbox",
            "required",
            wheelhouse.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let job = &run.report["jobs"][0];
    assert_eq!(job["outcome"], "failed", "{job}");
    let detail = job["detail"].as_str().unwrap();
    assert!(
        detail.contains(
            "get_requires_for_build_wheel: the back end asked for `puccinialin`; missing Rust \
             compiler (give the build a Rust toolchain: --build-path ~/.cargo/bin)"
        ),
        "{detail}"
    );
    let build = &job["build"];
    assert_eq!(build["missing"]["kind"], "rust-compiler", "{job}");
    assert_eq!(
        build["sdist"]["filename"], "ww_wants_rust-1.0.tar.gz",
        "{job}"
    );
    assert!(build["source_date_epoch"].is_u64(), "{job}");
    assert!(build.get("wheel").is_none(), "{job}");
}
