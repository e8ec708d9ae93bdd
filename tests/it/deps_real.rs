//! `--deps` on the shapes real requirement sets showed (issue 20), recreated with the tests'
//! own dists over a real pypiserver (and a devpi mirror of it), each checked against pip's
//! own resolution where pip resolves it: the culprit that should give way (`celery[redis]`
//! with `black`), the old-release walk (`boto3` on an old Python), an extra following its
//! pinned project (`pandas[all]==3.1.2`), a pre-release only where the requirement allows
//! one (`notebook`), an sdist whose metadata cannot be had, and an index's 404.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{
    DevpiServer, Fault, FaultProxy, Match, Pypiserver, Run, When, make_failing_sdist, make_wheel,
    pip_resolution, plan,
};

/// A pypiserver over dists `write` puts in its directory.
fn serve(write: impl FnOnce(&Path)) -> (tempfile::TempDir, Pypiserver) {
    let packages = tempfile::tempdir().unwrap();
    write(packages.path());
    let server = Pypiserver::start(packages.path(), None);
    (packages, server)
}

/// `plan --deps -v` of `requirements` over `index`.
fn plan_deps(home: &Path, index: &str, requirements: &str) -> Run {
    let target = home.join("wh");
    let args = [
        "--deps",
        "-v",
        "--index-url",
        index,
        "--target",
        target.to_str().unwrap(),
    ];
    plan(home, requirements, &args, &[])
}

/// project → version of the report's jobs.
fn chosen(report: &Value) -> BTreeMap<String, String> {
    report["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in {report}"))
        .iter()
        .map(|j| {
            (
                j["project"].as_str().unwrap().to_string(),
                j["version"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect()
}

/// The one interpreter's `summary.resolution` of a report.
fn resolution(report: &Value) -> Value {
    let all = report["summary"]["resolution"].as_object();
    let mut counts = all.into_iter().flat_map(|m| m.values());
    counts
        .next()
        .cloned()
        .unwrap_or_else(|| panic!("no resolution in {report}"))
}

/// The entries the metadata cache holds for failed sdist preparations.
fn remembered_failures(home: &Path) -> usize {
    let dir = home.join(".cache/wheelwright/metadata/sdist-failed");
    std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|sub| std::fs::read_dir(sub.path()).map_or(0, |f| f.count()))
                .sum()
        })
        .unwrap_or(0)
}

/// `flower` needs `celery[redis]`, whose `kombu` pins `packaging==26.3`; `black` (nearer the
/// root) takes `packaging` 26.4 first. The old solver kept 26.4 and walked `kombu` back to
/// its 2013 sdist, whose metadata hook fails: the run stopped (exit 3). pip takes 26.3.
#[test]
fn a_culprit_decided_first_gives_way_instead_of_a_walk_to_an_ancient_sdist() {
    let (_packages, server) = serve(|p| {
        make_wheel(p, "ww-flower", "2.0", &["ww-celery[redis]>=5"], &[]);
        make_wheel(p, "ww-black", "24.1", &["ww-packaging>=22"], &[]);
        make_wheel(
            p,
            "ww-celery",
            "5.5",
            &["ww-kombu", "ww-kombu[redis]; extra == \"redis\""],
            &["redis"],
        );
        for v in ["26.3", "26.4"] {
            make_wheel(p, "ww-packaging", v, &[], &[]);
        }
        for minor in 0..=7 {
            make_wheel(
                p,
                "ww-kombu",
                &format!("5.{minor}.0"),
                &["ww-packaging==26.3", "ww-redis; extra == \"redis\""],
                &["redis"],
            );
        }
        make_failing_sdist(p, "ww-kombu", "2.5.16");
        make_wheel(p, "ww-redis", "5.0", &[], &[]);
    });
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let requirements = "ww-flower\nww-black\n";
    let planned = plan_deps(home.path(), &index, requirements);
    let stderr = planned.assert_code(0).stderr();
    let report = &planned.report;
    let ours = chosen(report);
    assert_eq!(ours["ww-kombu"], "5.7.0");
    assert_eq!(ours["ww-packaging"], "26.3");
    assert_eq!(ours, pip_resolution(home.path(), &index));
    // No walk: the ancient sdist was never prepared, and few versions were visited.
    assert_eq!(remembered_failures(home.path()), 0);
    let counts = resolution(report);
    assert!(counts["visited"].as_u64().unwrap() <= 8, "{counts}");
    assert_eq!(counts["sdist_metadata_builds"], 0, "{counts}");
    assert!(stderr.contains("versions visited"), "{stderr}");
}

/// A dependency of one root takes the newest `urllib3`; every recent `botocore` caps it
/// and the oldest has no cap. The old solver kept `urllib3` 2.2.3 and silently chose
/// `boto3` 1.0 (exit 0); pip chooses the newest `boto3` with `urllib3` 1.26.20.
#[test]
fn the_old_release_walk_ends_where_pip_ends() {
    let (_packages, server) = serve(|p| {
        make_wheel(p, "ww-tool", "1.0", &["ww-awscli"], &[]);
        make_wheel(p, "ww-awscli", "1.0", &["ww-boto3"], &[]);
        make_wheel(p, "ww-requests", "2.32", &["ww-urllib3>=1.21,<3"], &[]);
        make_wheel(p, "ww-urllib3", "1.26.20", &[], &[]);
        make_wheel(p, "ww-urllib3", "2.2.3", &[], &[]);
        for n in 1..=9 {
            let core = format!("ww-botocore>={n}.0,<{}", n + 1);
            make_wheel(p, "ww-boto3", &format!("{n}.0"), &[&core], &[]);
            let deps: &[&str] = if n == 1 { &[] } else { &["ww-urllib3<1.27"] };
            make_wheel(p, "ww-botocore", &format!("{n}.0"), deps, &[]);
        }
    });
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let planned = plan_deps(home.path(), &index, "ww-tool\nww-requests\n");
    planned.assert_code(0);
    let report = &planned.report;
    let ours = chosen(report);
    assert_eq!(ours["ww-boto3"], "9.0");
    assert_eq!(ours["ww-urllib3"], "1.26.20");
    assert_eq!(ours, pip_resolution(home.path(), &index));
}

/// `ww-pandas[all]==3.1.2` with `ww-lib`: a dependency of the `all` extra asks for the
/// `perf` extra, whose requirement conflicts with `ww-lib` 2.0's pin. The old solver tried
/// the `perf` extra at every other version of pandas, reading each one's metadata down to
/// 1.4.4, an sdist whose hook fails: exit 3. Now no other pandas is asked about.
#[test]
fn an_extra_follows_its_pinned_project() {
    let (_packages, server) = serve(|p| {
        let requires = [
            "ww-plot; extra == \"all\"",
            "ww-numba>=2; extra == \"perf\"",
        ];
        for v in ["2.0", "3.0", "3.1.1", "3.1.2"] {
            make_wheel(p, "ww-pandas", v, &requires, &["all", "perf"]);
        }
        make_failing_sdist(p, "ww-pandas", "1.4.4");
        make_wheel(p, "ww-plot", "1.0", &["ww-pandas[perf]>=1"], &[]);
        make_wheel(p, "ww-lib", "1.0", &[], &[]);
        make_wheel(p, "ww-lib", "2.0", &["ww-numba==1.0"], &[]);
        make_wheel(p, "ww-numba", "1.0", &[], &[]);
        make_wheel(p, "ww-numba", "2.0", &[], &[]);
    });
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let requirements = "ww-pandas[all]==3.1.2\nww-lib\n";
    let planned = plan_deps(home.path(), &index, requirements);
    planned.assert_code(0);
    let report = &planned.report;
    assert_eq!(
        chosen(report),
        pairs(&[
            ("ww-lib", "1.0"),
            ("ww-numba", "2.0"),
            ("ww-pandas", "3.1.2"),
            ("ww-plot", "1.0"),
        ])
    );
    assert_eq!(remembered_failures(home.path()), 0);
    let counts = resolution(report);
    // pandas 3.1.2, plot, both libs, both numbas: nothing else was read.
    assert!(counts["visited"].as_u64().unwrap() <= 6, "{counts}");
}

/// `ww-notebook` 7.0.7 asks for `ww-jupyterlab>=4.0.2,<5`, which admits no pre-release;
/// 7.4.0 (unusable: its server requirement has no version) asks for `>=4.4.0rc0`. The old
/// solver learnt "pre-releases of jupyterlab are wanted" from 7.4.0 and kept it for 7.0.7:
/// it chose 4.4.0a0. pip chooses 4.3.8.
#[test]
fn a_prerelease_only_where_the_requirement_in_force_allows_one() {
    let (_packages, server) = serve(|p| {
        make_wheel(p, "ww-notebook", "7.0.7", &["ww-jupyterlab>=4.0.2,<5"], &[]);
        make_wheel(
            p,
            "ww-notebook",
            "7.4.0",
            &["ww-jupyterlab>=4.4.0rc0,<4.5", "ww-jupyter-server>=9"],
            &[],
        );
        make_wheel(p, "ww-jupyter-server", "2.0", &[], &[]);
        make_wheel(p, "ww-jupyterlab", "4.3.8", &[], &[]);
        make_wheel(p, "ww-jupyterlab", "4.4.0a0", &[], &[]);
    });
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let planned = plan_deps(home.path(), &index, "ww-notebook\n");
    planned.assert_code(0);
    let report = &planned.report;
    let ours = chosen(report);
    assert_eq!(ours["ww-jupyterlab"], "4.3.8");
    assert_eq!(ours, pip_resolution(home.path(), &index));
}

/// A version whose sdist's metadata hook fails is unusable, not fatal: the older wheel is
/// taken (the old solver stopped with exit 3). Asked for alone, the derivation says why,
/// with the hook's decisive line, and the failure is remembered: the next run does not
/// prepare the sdist again.
#[test]
fn an_sdist_whose_metadata_fails_is_skipped_and_remembered() {
    let (_packages, server) = serve(|p| {
        make_wheel(p, "ww-oldsd", "1.0", &[], &[]);
        make_failing_sdist(p, "ww-oldsd", "2.0");
    });
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", server.url());
    let planned = plan_deps(home.path(), &index, "ww-oldsd\n");
    planned.assert_code(0);
    let report = &planned.report;
    assert_eq!(chosen(report), pairs(&[("ww-oldsd", "1.0")]));
    assert_eq!(remembered_failures(home.path()), 1);

    let planned = plan_deps(home.path(), &index, "ww-oldsd>=2\n");
    let stderr = planned.assert_code(2).stderr();
    assert!(
        stderr.contains("ww-oldsd ==2.0 cannot be used (its metadata cannot be had:")
            && stderr.contains("No module named 'pkg_resources'")
            && stderr.contains("failed in an earlier run"),
        "{stderr}"
    );
    assert_eq!(remembered_failures(home.path()), 1);
}

/// A project the requirements name that the index answers 404 for: an index that cannot
/// serve the requirements (exit 3, the URL named), not bad input (the old exit 2). Through
/// a devpi mirror the message says that devpi answers 404 while its upstream is slow.
#[test]
fn a_404_for_a_named_project_is_an_index_failure_with_its_url() {
    let (_packages, pypiserver) = serve(|p| make_wheel(p, "ww-here", "1.0", &[], &[]));
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", pypiserver.url());
    let planned = plan_deps(home.path(), &index, "ww-here\nww-absent\n");
    let stderr = planned.assert_code(3).stderr();
    assert!(
        stderr.contains(&format!("{index}ww-absent/ answered 404")),
        "{stderr}"
    );

    let devpi = DevpiServer::private();
    let user = devpi.new_user("mirror404");
    user.create_mirror("mirror", &index);
    let mirror = format!("{}/{}/mirror/+simple/", devpi.url(), user.name);
    let planned = plan_deps(home.path(), &mirror, "ww-here\nww-absent\n");
    let stderr = planned.assert_code(3).stderr();
    assert!(
        stderr.contains(&format!("{mirror}ww-absent/ answered 404"))
            && stderr.contains("a devpi mirror answers 404 while its own upstream is slow"),
        "{stderr}"
    );
}

/// A listing that keeps failing after the index answered its probe fails that project, not
/// the run: per line, the line that needs it fails with the reason, the other is planned.
#[test]
fn a_failing_listing_fails_its_project_not_the_run() {
    let (_packages, pypiserver) = serve(|p| {
        make_wheel(p, "ww-here", "1.0", &[], &[]);
        make_wheel(p, "ww-wants-flaky", "1.0", &["ww-flaky"], &[]);
        make_wheel(p, "ww-flaky", "1.0", &[], &[]);
    });
    let proxy = FaultProxy::start(&pypiserver.url());
    proxy.on(
        Match::new(|r| r.path.starts_with("/simple/ww-flaky")),
        When::Always,
        Fault::Status(500, None),
    );
    let home = tempfile::tempdir().unwrap();
    let index = format!("{}/simple/", proxy.url());
    let target = home.path().join("wh");
    let args = [
        "--deps",
        "per-line",
        "--retries",
        "0",
        "--index-url",
        index.as_str(),
        "--target",
        target.to_str().unwrap(),
    ];
    let planned = plan(home.path(), "ww-here\nww-wants-flaky\n", &args, &[]);
    planned.assert_code(0);
    let report = &planned.report;
    let jobs = report["jobs"].as_array().unwrap();
    let here = jobs.iter().find(|j| j["project"] == "ww-here").unwrap();
    assert_eq!(here["version"], "1.0", "{here}");
    let wants = jobs
        .iter()
        .find(|j| j["project"] == "ww-wants-flaky")
        .unwrap();
    assert_eq!(wants["action"], "unavailable", "{wants}");
    let reason = wants["reason"].as_str().unwrap();
    assert!(
        reason.contains("there is no usable version of ww-flaky (listing ww-flaky:")
            && reason.contains("HTTP 500"),
        "{wants}"
    );
}
