//! Upstream and credentials checked before any work, against a real devpi-server: the
//! default upstream is the mirror the target inherits from (a devpi mirror of another
//! local index), an upstream that does not exist stops the run naming it, and a wrong
//! password stops `fill` before anything is built.

use std::path::Path;

use crate::support::{
    DevpiUser, Fault, FaultProxy, Match, Pypiserver, When, devpi, fill, fixtures_dir, plan,
    snapshot, user_with_upstream,
};

/// `user/corp-mirror` mirrors `user/upstream` (every fixture dist) through devpi's own
/// mirroring; `user/dev` inherits from the mirror, as a team index inherits from a company
/// mirror. Returns the team index URL.
fn team_on_a_mirror(prefix: &str) -> (DevpiUser, String) {
    let (user, upstream) = user_with_upstream(prefix);
    user.create_mirror("corp-mirror", &upstream);
    let dev = user.create_index("dev", &["corp-mirror"], false);
    (user, dev)
}

#[test]
fn with_no_upstream_configured_plan_and_fill_use_the_mirror_the_target_inherits_from() {
    let (user, dev) = team_on_a_mirror("mirrorup");
    let home = tempfile::tempdir().unwrap();
    // Own files only: what the mirror serves through inheritance is not "present" here.
    let reqs = "ww-alpha==1.0\nww-charlie==1.0\n";
    let planned = plan(
        home.path(),
        reqs,
        &["--target", &dev, "--present-in", "own"],
        &[],
    );
    assert_eq!(planned.code(), 0, "{}", planned.stderr());
    assert_eq!(
        planned.actions(),
        [
            ("ww-alpha".to_string(), "fetch".to_string()),
            ("ww-charlie".to_string(), "build".to_string())
        ],
        "{}",
        planned.stdout()
    );
    let mirror_stage = format!("{}/corp-mirror", user.name);
    assert!(
        planned.stderr().contains(&mirror_stage),
        "says which mirror it uses: {}",
        planned.stderr()
    );
    let fetched = planned.report["jobs"][0]["file"]["url"].as_str().unwrap();
    assert!(
        fetched.contains(&format!("/{mirror_stage}/")),
        "the wheel comes from the mirror: {fetched}"
    );

    let run = fill(
        home.path(),
        reqs,
        &[&dev, "--present-in", "own"],
        &user.env(),
    );
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    assert_eq!(run.count("uploaded"), 1, "{:?}", run.outcomes());
    assert_eq!(run.count("built"), 1, "{:?}", run.outcomes());
    assert_eq!(user.files("dev", "ww-alpha", true).len(), 1);
    assert_eq!(user.files("dev", "ww-charlie", true).len(), 1);
}

#[test]
fn a_devpi_target_without_a_mirror_and_without_root_pypi_says_there_is_no_upstream() {
    // The test server has no root/pypi (devpi-init --no-root-pypi), and this index no bases.
    let user = devpi().new_user("nomirror");
    let target = user.create_index("target", &[], false);
    let home = tempfile::tempdir().unwrap();
    let planned = plan(home.path(), "ww-alpha==1.0\n", &["--target", &target], &[]);
    assert_eq!(planned.code(), 2, "{}", planned.stderr());
    let stderr = planned.stderr();
    assert!(
        stderr.contains("no upstream")
            && stderr.contains("no mirror")
            && stderr.contains("root/pypi"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--index-url"),
        "says what to give: {stderr}"
    );
    assert!(planned.report.is_null(), "no plan was made");
}

#[test]
fn an_upstream_index_that_does_not_exist_is_exit_3_naming_it_before_anything_is_planned() {
    let (user, _upstream) = user_with_upstream("noidx");
    let target = user.create_index("target", &[], false);
    let home = tempfile::tempdir().unwrap();
    let port_and_path = format!(
        "{}/{}/no-such-index/+simple/",
        devpi().url().trim_start_matches("http://"),
        user.name
    );
    let missing = format!("http://someone:url-secret@{port_and_path}");
    let planned = plan(
        home.path(),
        "ww-alpha==1.0\nww-charlie==1.0\n",
        &["--target", &target, "--index-url", &missing],
        &[],
    );
    assert_eq!(planned.code(), 3, "{}", planned.stderr());
    let stderr = planned.stderr();
    assert!(stderr.contains(&port_and_path), "names it: {stderr}");
    assert!(stderr.contains("no such index"), "{stderr}");
    assert!(!stderr.contains("url-secret"), "no credentials: {stderr}");
    assert!(
        !planned.stdout().contains("not on upstream") && planned.report.is_null(),
        "nothing planned: {}",
        planned.stdout()
    );

    // fill stops the same way, and nothing reaches the target.
    let run = fill(
        home.path(),
        "ww-alpha==1.0\n",
        &["--index-url", &missing, &target],
        &user.env(),
    );
    assert_eq!(run.code(), 3, "{}", run.stderr());
    assert!(run.stderr().contains(&port_and_path), "{}", run.stderr());
    assert!(user.files("target", "ww-alpha", true).is_empty());
}

#[test]
fn an_upstream_that_refuses_the_credentials_is_exit_3_and_a_missing_find_links_dir_exit_2() {
    let (user, upstream) = user_with_upstream("upauth");
    let target = user.create_index("target", &[], false);
    // A proxy in front of the upstream that answers 401 to everything, as an index behind
    // an authenticating reverse proxy does for a wrong password.
    let proxy = FaultProxy::start(&devpi().url());
    proxy.on(Match::any(), When::Always, Fault::Status(401, None));
    let refusing = upstream.replace(&devpi().url(), &proxy.url());
    let home = tempfile::tempdir().unwrap();
    let planned = plan(
        home.path(),
        "ww-alpha==1.0\n",
        &["--target", &target, "--index-url", &refusing],
        &[],
    );
    assert_eq!(planned.code(), 3, "{}", planned.stderr());
    assert!(
        planned
            .stderr()
            .contains(proxy.url().trim_start_matches("http://"))
            && planned.stderr().contains("401"),
        "{}",
        planned.stderr()
    );

    let missing_dir = home.path().join("no-such-wheelhouse");
    let planned = plan(
        home.path(),
        "ww-alpha==1.0\n",
        &[
            "--target",
            &target,
            "--find-links",
            missing_dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(planned.code(), 2, "{}", planned.stderr());
    assert!(
        planned.stderr().contains("no-such-wheelhouse")
            && planned.stderr().contains("not a directory"),
        "{}",
        planned.stderr()
    );
}

/// Build logs written under the cache of `home` (none means no build started).
fn build_logs(home: &Path) -> Vec<String> {
    std::fs::read_dir(home.join(".cache/wheelwright/logs"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_wrong_devpi_password_stops_fill_before_any_build_with_exit_3() {
    let (user, upstream) = user_with_upstream("wrongpw");
    let target = user.create_index("target", &[], false);
    let home = tempfile::tempdir().unwrap();
    let creds = [
        ("DEVPI_USER", user.name.as_str()),
        ("DEVPI_PASSWORD", "not-the-password-42"),
    ];
    let run = fill(
        home.path(),
        "ww-charlie==1.0\nww-hotel==1.0\n",
        &["--index-url", &upstream, &target],
        &creds,
    );
    assert_eq!(run.code(), 3, "{}\n{}", run.stdout(), run.stderr());
    let stderr = run.stderr();
    assert!(
        stderr.contains("refused the credentials") && stderr.contains(&user.name),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-password-42"), "{stderr}");
    for job in run.report["jobs"].as_array().unwrap() {
        assert_eq!(job["outcome"], "not-run", "{job}");
    }
    assert_eq!(
        build_logs(home.path()),
        Vec::<String>::new(),
        "no build started"
    );
    assert!(user.files("target", "ww-charlie", true).is_empty());
}

#[test]
fn a_wrong_basic_auth_password_for_an_upload_api_index_stops_fill_before_any_build() {
    let packages = tempfile::tempdir().unwrap();
    let server = Pypiserver::start(packages.path(), Some(("uploader", "pypi-secret")));
    let simple = format!("{}/simple/", server.url());
    let home = tempfile::tempdir().unwrap();
    let find_links = fixtures_dir().join("dist");
    let args = [
        "--find-links",
        find_links.to_str().unwrap(),
        simple.as_str(),
        "--user",
        "uploader",
    ];
    let run = fill(
        home.path(),
        "ww-charlie==1.0\n",
        &args,
        &[("WHEELWRIGHT_PASSWORD", "wrong-secret")],
    );
    assert_eq!(run.code(), 3, "{}\n{}", run.stdout(), run.stderr());
    assert!(
        run.stderr().contains("refused the credentials"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("wrong-secret"));
    assert_eq!(run.report["jobs"][0]["outcome"], "not-run");
    assert_eq!(
        build_logs(home.path()),
        Vec::<String>::new(),
        "no build started"
    );
    assert!(server.filenames().is_empty());

    // The right password: the check passes and the build is uploaded.
    let run = fill(
        home.path(),
        "ww-charlie==1.0\n",
        &args,
        &[("WHEELWRIGHT_PASSWORD", "pypi-secret")],
    );
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    assert_eq!(run.count("built"), 1);
    assert_eq!(server.filenames().len(), 1);
    server.assert_no_tracebacks();
}

#[test]
fn a_build_whose_upload_failed_is_counted_and_an_unresolved_range_prints_as_written() {
    let (user, upstream) = user_with_upstream("countbuild");
    user.create_index("target", &[], false);
    let proxy = FaultProxy::start(&devpi().url());
    // devpi refuses the upload (a 400 is about this file, not the target).
    proxy.on(Match::uploads(), When::Always, Fault::Status(400, None));
    let target = format!("{}/{}/target", proxy.url(), user.name);
    let home = tempfile::tempdir().unwrap();
    let run = fill(
        home.path(),
        "ww-charlie==1.0\nww-alpha>=9\n",
        &["--index-url", &upstream, &target],
        &user.env(),
    );
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    assert_eq!(run.count("builds"), 1, "{}", run.report["summary"]);
    assert_eq!(run.report["jobs"][0]["built"], true);
    // The summary counts the build that ran ("1 build ran, 1 not uploaded") and prints the
    // range as written (`ww-alpha>=9`, no `==-`).
    let home_dir = snapshot::path(home.path());
    snapshot::settings(&[(&user.name, "[user]"), (&home_dir, "[home]")]).bind(|| {
        insta::assert_snapshot!("fill_summary_failed", run.stdout());
    });
}
