//! The sandbox layers through `fill`: the whole hostile-fixture suite contained under
//! bubblewrap, under the built-in Landlock + seccomp layer (forced, chosen by `auto` without
//! bwrap, chosen inside a "container" that refuses namespaces, and as a non-root user), a fork
//! bomb beside a real build that still starts its processes, the refusal when no layer works,
//! and the unsandboxed control that proves the probes are real.
//!
//! These tests run at the same time as each other and as the other build tests: each build
//! has a process budget of its own (a uid of its own as root), and each run's build
//! directories lie under its own home (`TMPDIR` there), so "no process left behind" looks at
//! this run's processes only.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{fixtures_dir, report_job, unique, wheelwright_with_home};

/// How wheelwright is started for one run of the suite.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Layer {
    /// `--sandbox bwrap`.
    Bwrap,
    /// `--sandbox builtin`.
    Builtin,
    /// `--sandbox auto` with a PATH that has no bwrap.
    AutoWithoutBwrap,
    /// `--sandbox auto` under a seccomp filter that refuses namespaces (Docker's default).
    AutoWithoutNamespaces,
    /// `--sandbox builtin` as uid 65534.
    BuiltinAsNobody,
}

impl Layer {
    fn expected(self) -> &'static str {
        match self {
            Layer::Bwrap => "bwrap",
            _ => "builtin",
        }
    }
}

const NOBODY: u32 = 65534;

/// A home directory the run owns (as uid 65534 for [`Layer::BuiltinAsNobody`]), with a
/// credential file the environment thief is pointed at.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(owner: Option<u32>) -> Home {
        let dir = tempfile::Builder::new()
            .prefix(&crate::support::temp_prefix("sandbox"))
            .tempdir()
            .unwrap();
        let netrc = dir.path().join(".netrc");
        std::fs::write(
            &netrc,
            format!("machine index login ci password {SECRET}\n"),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&netrc, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        if let Some(uid) = owner {
            for path in [dir.path().to_path_buf(), netrc] {
                std::os::unix::fs::chown(&path, Some(uid), Some(uid)).unwrap();
            }
        }
        Home { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

const SECRET: &str = "hunter2-the-run-password";

/// `wheelwright ARGS` as the layer wants it started (the jail and setpriv wrap the binary),
/// with `TMPDIR` in `home`: keyed build dirs (the built-in layer's) are then this run's own.
fn command(layer: Layer, home: &Path, args: &[&str]) -> Command {
    let bin = env!("CARGO_BIN_EXE_wheelwright");
    let tmp = home.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut command = match layer {
        Layer::AutoWithoutNamespaces => {
            let mut c = wheelwright_with_home(home);
            c.args(["__test-jail", "no-namespaces", "--", bin]);
            c
        }
        Layer::BuiltinAsNobody => {
            // setpriv, with the environment the harness gives wheelwright, runs it as nobody.
            let template = wheelwright_with_home(home);
            let mut s = Command::new("setpriv");
            s.env_clear();
            for (k, v) in template.get_envs() {
                if let Some(v) = v {
                    s.env(k, v);
                }
            }
            // Its own temp dir, which it must own (keyed build dirs go there).
            std::os::unix::fs::chown(&tmp, Some(NOBODY), Some(NOBODY)).unwrap();
            s.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
                bin,
            ]);
            s
        }
        _ => wheelwright_with_home(home),
    };
    command.env("TMPDIR", &tmp).args(args);
    match layer {
        Layer::Bwrap => {
            command.args(["--sandbox", "bwrap"]);
        }
        Layer::Builtin | Layer::BuiltinAsNobody => {
            command.args(["--sandbox", "builtin"]);
        }
        Layer::AutoWithoutBwrap => {
            // An empty PATH: no bwrap (the interpreter is named by its path).
            let empty = home.join("empty-path");
            std::fs::create_dir_all(&empty).unwrap();
            if let Ok(meta) = std::fs::metadata(home) {
                use std::os::unix::fs::MetadataExt;
                let _ = std::os::unix::fs::chown(&empty, Some(meta.uid()), Some(meta.gid()));
            }
            command.env("PATH", &empty).args(["--sandbox", "auto"]);
        }
        Layer::AutoWithoutNamespaces => {
            command.args(["--sandbox", "auto"]);
        }
    }
    command
}

fn read_member(wheel: &Path, member: &str) -> String {
    let bytes = std::fs::read(wheel).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive
        .by_name(member)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn pgrep(pattern: &str) -> String {
    let out = Command::new("pgrep")
        .args(["-af", pattern])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn show(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The hostile fixtures in one fill under `layer`: every attack fails (or is defused) for
/// the right reason, the good sdist builds, and the report and build log name the layer.
fn hostile_suite_is_contained(layer: Layer) {
    let owner = (layer == Layer::BuiltinAsNobody).then_some(NOBODY);
    let home = Home::new(owner);
    let wheelhouse = home.path().join("wheelhouse");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let escape = std::env::temp_dir().join(unique("ww-escape"));
    let marker = unique("ww-sleep-marker");
    let netrc = home.path().join(".netrc");
    let requirements = format!(
        "\
ww-charlie==1.0
ww-net-probe==1.0 -C port={port}
ww-sleep-forever==1.0 -C marker={marker}
ww-fork-bomb==1.0
ww-log-flood==1.0
ww-write-outside==1.0 -C targets={escape}
ww-env-thief==1.0 -C files={netrc}
ww-wrong-version==1.0
ww-two-wheels==1.0
ww-no-wheel==1.0
ww-dotdot==1.0
ww-tar-bomb==1.0
",
        escape = escape.display(),
        netrc = netrc.display(),
    );
    let reqs = home.path().join("requirements.txt");
    std::fs::write(&reqs, requirements).unwrap();
    let report_path = home.path().join("report.json");
    let junit_path = home.path().join("junit.xml");
    let dists = fixtures_dir().join("dist");
    let hostile = fixtures_dir().join("hostile/dist");
    let output = command(
        layer,
        home.path(),
        &[
            "fill",
            reqs.to_str().unwrap(),
            wheelhouse.to_str().unwrap(),
            "--python",
            "/usr/bin/python3",
            "--find-links",
            dists.to_str().unwrap(),
            "--find-links",
            hostile.to_str().unwrap(),
            "--build-timeout",
            "5",
            "--sdist-unpack-limit",
            "32",
            // One build at a time: the 5-second timeout is meant for the attacks, not for
            // good builds waiting for the CPU behind them.
            "--jobs",
            "1",
            "--report-json",
            report_path.to_str().unwrap(),
            "--junit-xml",
            junit_path.to_str().unwrap(),
        ],
    )
    .env("WHEELWRIGHT_USER", "ci")
    .env("WHEELWRIGHT_PASSWORD", SECRET)
    .env("DEVPI_PASSWORD", SECRET)
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{layer:?}: {}",
        show(&output)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    // The layer that protected each build is in the report, with what it protects.
    let charlie = report_job(&report, "ww-charlie");
    assert_eq!(charlie["outcome"], "built", "{layer:?}: {charlie}");
    assert_eq!(charlie["build"]["sandbox"], layer.expected(), "{charlie}");
    let protections = &charlie["build"]["protections"];
    match layer {
        Layer::Bwrap => {
            assert_eq!(protections["network"], "namespace");
            assert_eq!(protections["pid_namespace"], true);
        }
        _ => {
            // This machine's kernel has Landlock (ABI ≥ 4): TCP and files are covered too.
            assert_eq!(protections["network"], "seccomp+landlock", "{protections}");
            assert_eq!(protections["filesystem"], "landlock");
            assert_eq!(protections["pid_namespace"], false);
        }
    }
    // JUnit carries the same as properties of each built job's test case.
    let junit = std::fs::read_to_string(&junit_path).unwrap();
    let property = format!(r#"<property name="sandbox" value="{}"/>"#, layer.expected());
    assert!(junit.contains(&property), "{layer:?}: {junit}");
    assert!(
        junit.contains(r#"<property name="sandbox.protections" value="network="#),
        "{junit}"
    );
    let failed_because = |project: &str, words: &[&str]| {
        let j = report_job(&report, project);
        assert_eq!(j["outcome"], "failed", "{layer:?} {project}: {j}");
        assert_eq!(j["build"]["sandbox"], layer.expected(), "{project}: {j}");
        let detail = j["detail"].as_str().unwrap();
        assert!(
            words.iter().any(|w| detail.contains(w)),
            "{layer:?} {project}: `{detail}` should mention one of {words:?}"
        );
    };
    if layer == Layer::Bwrap {
        failed_because(
            "ww-net-probe",
            &["Connection refused", "Network is unreachable"],
        );
        failed_because("ww-sleep-forever", &["timeout"]);
    } else {
        // seccomp refuses the inet socket itself.
        failed_because("ww-net-probe", &["Permission denied"]);
        // Without a pid namespace, leaving the process group (setsid) is refused, so the
        // group kill reaches every process a build starts.
        failed_because("ww-sleep-forever", &["Operation not permitted"]);
    }
    failed_because("ww-fork-bomb", &["fork refused"]);
    failed_because("ww-log-flood", &["timeout"]);
    failed_because("ww-wrong-version", &["version"]);
    failed_because("ww-two-wheels", &["more than one wheel"]);
    failed_because("ww-no-wheel", &["no wheel"]);
    failed_because("ww-dotdot", &["`..`"]);
    failed_because("ww-tar-bomb", &["more than"]);
    // The network probe never reached the listener.
    let mut stolen = Vec::new();
    if let Ok((mut conn, _)) = listener.accept() {
        let _ = conn.read_to_end(&mut stolen);
    }
    assert!(
        stolen.is_empty(),
        "{layer:?}: a build reached the host's network"
    );
    // Nothing was written outside the build directory, but the build itself succeeded.
    assert!(
        !escape.exists(),
        "{layer:?}: escaped to {}",
        escape.display()
    );
    assert_eq!(report_job(&report, "ww-write-outside")["outcome"], "built");
    // The environment thief built a wheel, but no secret reached it: not through its
    // environment, not from wheelwright's /proc/<pid>/environ, not from ~/.netrc.
    assert_eq!(report_job(&report, "ww-env-thief")["outcome"], "built");
    let thief = wheelhouse.join("ww_env_thief-1.0-py3-none-any.whl");
    let environ = read_member(&thief, "ww_env_thief/environ.json");
    let loot = read_member(&thief, "ww_env_thief/loot.json");
    assert!(!environ.contains(SECRET), "{layer:?}: {environ}");
    assert!(!environ.contains("WHEELWRIGHT_PASSWORD"), "{environ}");
    assert!(!loot.contains(SECRET), "{layer:?}: the thief read {loot}");
    // No build process survived, not even the sleeper's grandchild. Build dirs live in the
    // cache (bwrap) or under `TMPDIR` (other layers): both in this run's home.
    let leftover = pgrep(&format!("{marker}|{}", home.path().display()));
    assert!(leftover.is_empty(), "{layer:?}: left behind: {leftover}");
    // The build log's first line names the layer.
    let log = std::fs::read_dir(home.path().join(".cache/wheelwright/logs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("ww-charlie"))
        .expect("a log for ww-charlie");
    let text = std::fs::read_to_string(&log).unwrap();
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("[wheelwright] sandbox: {}", layer.expected())),
        "{first}"
    );
    // And the secret is nowhere in wheelwright's own output or report.
    assert!(!stderr.contains(SECRET) && !String::from_utf8_lossy(&output.stdout).contains(SECRET));
    assert!(!report.to_string().contains(SECRET));
}

#[test]
fn hostile_suite_is_contained_under_bwrap() {
    hostile_suite_is_contained(Layer::Bwrap);
}

#[test]
fn hostile_suite_is_contained_under_the_builtin_layer() {
    hostile_suite_is_contained(Layer::Builtin);
}

#[test]
fn auto_without_bwrap_on_path_picks_the_builtin_layer_and_contains_the_suite() {
    hostile_suite_is_contained(Layer::AutoWithoutBwrap);
}

#[test]
fn auto_in_a_container_without_namespaces_picks_the_builtin_layer() {
    // The jail really refuses namespaces: bwrap cannot start under it.
    let jailed = wheelwright_with_home(Path::new("/tmp"))
        .args([
            "__test-jail",
            "no-namespaces",
            "--",
            "bwrap",
            "--unshare-all",
        ])
        .args(["--ro-bind", "/usr", "/usr", "--", "/usr/bin/true"])
        .output()
        .unwrap();
    assert!(!jailed.status.success(), "{}", show(&jailed));
    hostile_suite_is_contained(Layer::AutoWithoutNamespaces);
}

#[test]
fn the_builtin_layer_contains_the_suite_as_a_non_root_user() {
    hostile_suite_is_contained(Layer::BuiltinAsNobody);
}

/// The control: without a sandbox the probes do reach what they attack, so the suite above
/// proves containment and not broken probes.
#[test]
fn without_a_sandbox_the_network_probe_connects_and_the_thief_steals() {
    let home = Home::new(None);
    let wheelhouse = home.path().join("wheelhouse");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let netrc = home.path().join(".netrc");
    let reqs = home.path().join("requirements.txt");
    std::fs::write(
        &reqs,
        format!(
            "ww-net-probe==1.0 -C port={port}\nww-env-thief==1.0 -C files={}\n",
            netrc.display()
        ),
    )
    .unwrap();
    let report_path = home.path().join("report.json");
    let output = wheelwright_with_home(home.path())
        .arg("fill")
        .arg(&reqs)
        .arg(&wheelhouse)
        .args(["--python", "/usr/bin/python3", "--sandbox", "off"])
        .arg("--find-links")
        .arg(fixtures_dir().join("dist"))
        .arg("--find-links")
        .arg(fixtures_dir().join("hostile/dist"))
        .arg("--report-json")
        .arg(&report_path)
        .env("WHEELWRIGHT_USER", "ci")
        .env("WHEELWRIGHT_PASSWORD", SECRET)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("--sandbox off").count(),
        1,
        "says so once: {stderr}"
    );
    let (mut conn, _) = listener.accept().expect("the unsandboxed probe connected");
    let mut got = String::new();
    conn.read_to_string(&mut got).unwrap();
    assert_eq!(got, "ww-net-probe connected");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let thief = report_job(&report, "ww-env-thief");
    assert_eq!(thief["build"]["sandbox"], "off");
    assert_eq!(thief["build"]["protections"]["network"], "none");
    let loot = read_member(
        &wheelhouse.join("ww_env_thief-1.0-py3-none-any.whl"),
        "ww_env_thief/loot.json",
    );
    assert!(loot.contains(SECRET), "the thief works unsandboxed: {loot}");
}

/// Neither layer works (namespaces and seccomp filters both refused): nothing is built, the
/// fetch still happens, exit 2, and the message says what to install or enable.
#[test]
fn with_no_layer_available_builds_are_refused_and_fetches_still_run() {
    let home = Home::new(None);
    let wheelhouse = home.path().join("wheelhouse");
    let reqs = home.path().join("requirements.txt");
    std::fs::write(&reqs, "ww-alpha==1.0\nww-charlie==1.0\n").unwrap();
    let report_path = home.path().join("report.json");
    let bin = env!("CARGO_BIN_EXE_wheelwright");
    for mode in ["auto", "required", "builtin"] {
        let _ = std::fs::remove_dir_all(&wheelhouse);
        let output = wheelwright_with_home(home.path())
            .args(["__test-jail", "no-sandbox", "--", bin, "fill"])
            .arg(&reqs)
            .arg(&wheelhouse)
            .args(["--python", "/usr/bin/python3", "--sandbox", mode])
            .arg("--find-links")
            .arg(fixtures_dir().join("dist"))
            .arg("--report-json")
            .arg(&report_path)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{mode}: {}", show(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("no sandbox can be had") && stderr.contains("nothing is built"),
            "{mode}: {stderr}"
        );
        assert!(
            stderr.contains("seccomp"),
            "{mode}: names the built-in layer: {stderr}"
        );
        if mode != "builtin" {
            assert!(
                stderr.contains("install the `bubblewrap` package"),
                "{mode}: says what to install: {stderr}"
            );
        }
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
        assert_eq!(
            report_job(&report, "ww-alpha")["outcome"],
            "uploaded",
            "{report}"
        );
        let charlie = report_job(&report, "ww-charlie");
        assert_eq!(charlie["outcome"], "failed");
        assert!(
            charlie["detail"]
                .as_str()
                .unwrap()
                .contains("nothing is built")
        );
        assert!(wheelhouse.join("ww_alpha-1.0-py3-none-any.whl").is_file());
        let built: Vec<PathBuf> = std::fs::read_dir(&wheelhouse)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().contains("charlie"))
            .collect();
        assert!(built.is_empty(), "{mode}: built {built:?}");
        // Not even a build directory was made.
        let builds = home.path().join(".cache/wheelwright/builds");
        let made = std::fs::read_dir(&builds).map(|d| d.count()).unwrap_or(0);
        assert_eq!(made, 0, "{mode}: a build started");
    }
}

/// Benchmark, not a test (`cargo test --test it bench_hook_start -- --ignored --nocapture`):
/// the cost of starting one sandboxed process through `Sandbox::run` under each layer, for
/// `/usr/bin/true` and for `python3 -S -c pass` (a hook's interpreter start without site).
#[test]
#[ignore]
fn bench_hook_start_per_layer() {
    use wheelwright::builder::{Sandbox, SandboxCommand, SandboxLimits, SandboxMode};
    wheelwright::builder::set_sandbox_launcher(env!("CARGO_BIN_EXE_wheelwright").into());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join("build");
    std::fs::create_dir_all(&build).unwrap();
    const RUNS: usize = 30;
    println!("hook start, median of {RUNS} runs (ms):");
    for mode in [SandboxMode::Off, SandboxMode::Bwrap, SandboxMode::Builtin] {
        let sandbox = Sandbox::new(mode, SandboxLimits::default()).unwrap();
        for (label, program, args) in [
            ("true", "/usr/bin/true", vec![]),
            (
                "python3 -S -c pass",
                "/usr/bin/python3",
                vec!["-S", "-c", "pass"],
            ),
        ] {
            let command = SandboxCommand {
                program: program.into(),
                args: args.iter().map(Into::into).collect(),
                cwd: build.clone(),
                env: vec![("PATH".into(), "/usr/bin:/bin".into())],
                ro_paths: Vec::new(),
                rw_paths: vec![build.clone()],
                source_mount: None,
                watch_dir: build.clone(),
                log_path: dir.path().join("log"),
            };
            let mut times: Vec<f64> = (0..=RUNS)
                .map(|_| {
                    let started = std::time::Instant::now();
                    let outcome = runtime.block_on(sandbox.run(&command)).unwrap();
                    assert_eq!(
                        outcome.termination,
                        wheelwright::builder::Termination::Exited(0),
                        "{}: {}",
                        sandbox.layer_name(),
                        outcome.log.head
                    );
                    started.elapsed().as_secs_f64() * 1000.0
                })
                .skip(1)
                .collect();
            times.sort_by(f64::total_cmp);
            println!(
                "  {:8} {label:20} {:7.1}   (min {:.1}, max {:.1})",
                sandbox.layer_name(),
                times[RUNS / 2],
                times[0],
                times[RUNS - 1]
            );
        }
    }
}

/// Real backends (setuptools, flit, hatchling, an in-tree one, a legacy setup.py) and a C
/// extension build under the built-in layer, and the extension imports.
#[test]
fn real_backends_and_a_c_extension_build_under_the_builtin_layer() {
    let home = Home::new(None);
    let wheelhouse = home.path().join("wheelhouse");
    let reqs = home.path().join("requirements.txt");
    std::fs::write(
        &reqs,
        "ww-charlie==1.0\nww-golf==1.0\nww-hotel==1.0\nww-legacy==1.0\nww-flit==1.0\nww-hatch==1.0\n",
    )
    .unwrap();
    let report_path = home.path().join("report.json");
    let output = wheelwright_with_home(home.path())
        .arg("fill")
        .arg(&reqs)
        .arg(&wheelhouse)
        .args(["--python", "/usr/bin/python3", "--sandbox", "builtin"])
        .arg("--find-links")
        .arg(fixtures_dir().join("dist"))
        .arg("--find-links")
        .arg(crate::support::upstream_wheels_dir())
        .arg("--report-json")
        .arg(&report_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    for j in report["jobs"].as_array().unwrap() {
        assert_eq!(j["outcome"], "built", "{j}");
        assert_eq!(j["build"]["sandbox"], "builtin", "{j}");
    }
    let hotel = std::fs::read_dir(&wheelhouse)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("ww_hotel-1.0-cp"))
        .expect("a platform wheel for ww-hotel");
    let unpacked = home.path().join("hotel");
    let bytes = std::fs::read(&hotel).unwrap();
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .unwrap()
        .extract(&unpacked)
        .unwrap();
    let run = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg("import ww_hotel._native as n; print(n.answer())")
        .env("PYTHONPATH", &unpacked)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "42",
        "{}",
        show(&run)
    );
}
