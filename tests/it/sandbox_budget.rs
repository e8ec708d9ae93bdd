//! Builds do not starve each other: under the built-in layer, run as root, each build has a
//! uid of its own, so a fork bomb that uses up its process cap leaves the build beside it
//! free to start its processes.
//!
//! The order is pinned, not left to timing: both builds wait for a file before they do
//! anything (`-C start=`), the test opens the bomb's once both hooks run (their process caps
//! are set by then), the build's once the bomb is at its cap, and the bomb's `stop` file once
//! the build is done. With one uid for both, the build's processes would be refused.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::report_job;
use crate::support::{fixtures_dir, temp_prefix, wheelwright_with_home};

/// How many processes of the bomb show that it is at its cap (512 by default, plus itself).
const AT_CAP: usize = 500;

/// The hook processes of one project's build in this run: the interpreter running the shim
/// (not the launcher, whose command line names the same shim), in a build dir under `tmp`.
fn hooks(tmp: &Path, project: &str) -> usize {
    let tmp = tmp.display().to_string().replace('.', r"\.");
    let pattern = format!(
        r"^\S+ -S -s {tmp}/\S*/{}-1\.0-\S*/control/shim\.py build_wheel",
        project.replace('.', r"\.")
    );
    let out = Command::new("pgrep")
        .args(["-fc", &pattern])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Waits (bounded) until `done`, failing at once if wheelwright ended first.
fn wait_until(child: &mut Child, stderr: &Path, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !done() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "wheelwright ended ({status}) before {what}:\n{}",
                std::fs::read_to_string(stderr).unwrap_or_default()
            );
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no {what} within 180 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// "[wheelwright] sandbox: builtin as uid N (...": the uid a build's log names.
fn build_uid(home: &Path, project: &str) -> u32 {
    let log = std::fs::read_dir(home.join(".cache/wheelwright/logs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(project))
        .unwrap_or_else(|| panic!("a log for {project}"));
    let text = std::fs::read_to_string(&log).unwrap();
    let first = text.lines().next().unwrap_or_default();
    first
        .strip_prefix("[wheelwright] sandbox: builtin as uid ")
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{project}: {first}"))
}

#[test]
fn a_fork_bomb_does_not_starve_the_build_beside_it_under_the_builtin_layer() {
    let home = tempfile::Builder::new()
        .prefix(&temp_prefix("budget"))
        .tempdir()
        .unwrap();
    let home = home.path();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tmp = home.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let [bomb_start, bomb_stop, late_start] =
        ["bomb-start", "bomb-stop", "late-start"].map(|name| home.join(name));
    let reqs = home.join("requirements.txt");
    std::fs::write(
        &reqs,
        format!(
            "ww-fork-bomb==1.0 -C start={} -C stop={}\nww-forks-late==1.0 -C start={}\n",
            bomb_start.display(),
            bomb_stop.display(),
            late_start.display()
        ),
    )
    .unwrap();
    let wheelhouse = home.join("wheelhouse");
    let report_path = home.join("report.json");
    let stderr = home.join("stderr.txt");
    let mut child = wheelwright_with_home(home)
        .env("TMPDIR", &tmp)
        .arg("fill")
        .arg(&reqs)
        .arg(&wheelhouse)
        .args(["--python", "/usr/bin/python3", "--sandbox", "builtin"])
        .args(["--jobs", "2", "--build-timeout", "600", "-v"])
        .arg("--find-links")
        .arg(fixtures_dir().join("hostile/dist"))
        .arg("--report-json")
        .arg(&report_path)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    // Both hooks run (each launcher set its process cap before it became the interpreter).
    wait_until(&mut child, &stderr, "two waiting hooks", || {
        hooks(&tmp, "ww-fork-bomb") == 1 && hooks(&tmp, "ww-forks-late") == 1
    });
    std::fs::write(&bomb_start, "").unwrap();
    wait_until(&mut child, &stderr, "fork bomb at its cap", || {
        hooks(&tmp, "ww-fork-bomb") >= AT_CAP
    });
    // The bomb holds its cap (its processes retry forever) while the build starts its own.
    std::fs::write(&late_start, "").unwrap();
    wait_until(&mut child, &stderr, "end of the good build", || {
        hooks(&tmp, "ww-forks-late") == 0
    });
    assert!(
        hooks(&tmp, "ww-fork-bomb") >= AT_CAP,
        "the bomb was still at its cap when the good build ended"
    );
    std::fs::write(&bomb_stop, "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end within 180 s of the bomb's stop");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert_eq!(status.code(), Some(1), "{log}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let late = report_job(&report, "ww-forks-late");
    assert_eq!(late["outcome"], "built", "{late}");
    assert_eq!(late["build"]["sandbox"], "builtin");
    assert_eq!(late["build"]["protections"]["process_budget"], "per-build");
    let bomb = report_job(&report, "ww-fork-bomb");
    assert_eq!(bomb["outcome"], "failed", "{bomb}");
    assert!(
        bomb["detail"].as_str().unwrap().contains("fork refused"),
        "{bomb}"
    );
    // The good build's eight processes all ran.
    let wheel = wheelhouse.join("ww_forks_late-1.0-py3-none-any.whl");
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(std::fs::read(&wheel).unwrap())).unwrap();
    let mut started = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("ww_forks_late/started.txt").unwrap(),
        &mut started,
    )
    .unwrap();
    assert_eq!(started, "8");
    // Two uids of the reserved range, one per build; `-v` named the layer and its budget.
    let (a, b) = (
        build_uid(home, "ww-fork-bomb"),
        build_uid(home, "ww-forks-late"),
    );
    assert_ne!(a, b);
    for uid in [a, b] {
        assert!(wheelwright::builder::BUILD_UIDS.contains(&uid), "{uid}");
    }
    assert!(
        log.contains("sandbox: builtin, each build as a uid of its own (60928–61183)")
            && log.contains("process budget: per-build"),
        "{log}"
    );
    // Nothing of either build is left (bounded wait for the kernel to reap the bomb).
    let deadline = Instant::now() + Duration::from_secs(30);
    while hooks(&tmp, "ww-fork-bomb") > 0 {
        assert!(Instant::now() < deadline, "the bomb's processes survived");
        std::thread::sleep(Duration::from_millis(100));
    }
}
