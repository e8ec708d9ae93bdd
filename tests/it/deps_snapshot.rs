//! The remembered `--deps` resolution: while a devpi upstream's serial has not moved, a
//! `--deps` no-op lists no upstream project; a new upload upstream is solved again and
//! picked up; a devpi mirror in the chain is trusted only for its `mirror_cache_expiry`
//! (so a nightly job through a mirror solves every night: devpi's own cache has expired).
//! Requests counted by a proxy in front of the real devpi-server.

use crate::support::{DevpiServer, FaultProxy, Run, deps_upstream, fill, fixture_dist};

/// Paths of the upstream listing requests (`+simple`) the proxy saw since `from`.
fn listings(proxy: &FaultProxy, from: usize) -> Vec<String> {
    proxy.log()[from..]
        .iter()
        .map(|r| r.request.path.clone())
        .filter(|p| p.contains("+simple"))
        .collect()
}

/// `(project, version, outcome)` of a run, sorted.
fn sorted(run: &Run) -> Vec<(String, String, String)> {
    let mut outcomes = run.outcomes();
    outcomes.sort();
    outcomes
}

#[test]
fn an_unchanged_devpi_upstream_is_not_listed_again_until_its_serial_moves() {
    // Its own server: the serial counts every write, and the shared server is written to by
    // the tests running alongside.
    let server = DevpiServer::private();
    let user = server.new_user("snap");
    user.create_index("upstream", &[], false);
    for wheel in [
        "ww_dep_left-1.0-py3-none-any.whl",
        "ww_dep_base-1.0-py3-none-any.whl",
        "ww_dep_base-1.5-py3-none-any.whl",
    ] {
        user.upload("upstream", &fixture_dist(wheel));
    }
    let proxy = FaultProxy::start(&server.url());
    let upstream = format!("{}/{}/upstream/+simple/", proxy.url(), user.name);
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let args = [
        "--deps",
        "--index-url",
        upstream.as_str(),
        "--target",
        wheelhouse.to_str().unwrap(),
    ];

    let first = fill(home.path(), "ww-dep-left\n", &args, &[]);
    assert_eq!(first.code(), 0, "{}", first.stderr());
    assert_eq!(
        sorted(&first),
        [
            ("ww-dep-base".into(), "1.5".into(), "uploaded".into()),
            ("ww-dep-left".into(), "1.0".into(), "uploaded".into()),
        ]
    );
    let solved_once = listings(&proxy, 0);
    assert!(
        solved_once.iter().any(|p| p.contains("ww-dep-base")),
        "the first run lists the closure: {solved_once:?}"
    );

    // Nothing changed upstream: the closure is taken as solved, no project is listed.
    let mark = proxy.log().len();
    let again = fill(home.path(), "ww-dep-left\n", &args, &[]);
    assert_eq!(again.code(), 0, "{}", again.stderr());
    assert_eq!(again.count("present"), 2, "{:?}", again.outcomes());
    assert_eq!(listings(&proxy, mark), Vec::<String>::new());
    let asked: Vec<String> = proxy.log()[mark..]
        .iter()
        .map(|r| r.request.path.clone())
        .collect();
    assert!(
        asked
            .iter()
            .any(|p| p == &format!("/{}/upstream/+api", user.name)),
        "the serial is asked: {asked:?}"
    );

    // Another requirement is another key: solved, listed again.
    let mark = proxy.log().len();
    let capped = fill(home.path(), "ww-dep-left\nww-dep-base<1.5\n", &args, &[]);
    assert_eq!(capped.code(), 0, "{}", capped.stderr());
    assert!(!listings(&proxy, mark).is_empty());
    assert!(
        capped
            .outcomes()
            .contains(&("ww-dep-base".into(), "1.0".into(), "uploaded".into())),
        "{:?}",
        capped.outcomes()
    );

    // A new release upstream moves the serial: the next night solves again and takes it.
    user.upload(
        "upstream",
        &fixture_dist("ww_dep_base-2.0-py3-none-any.whl"),
    );
    let mark = proxy.log().len();
    let moved = fill(home.path(), "ww-dep-left\n", &args, &[]);
    assert_eq!(moved.code(), 0, "{}", moved.stderr());
    assert!(!listings(&proxy, mark).is_empty());
    assert_eq!(
        sorted(&moved),
        [
            ("ww-dep-base".into(), "2.0".into(), "uploaded".into()),
            ("ww-dep-left".into(), "1.0".into(), "present".into()),
        ]
    );
    server.assert_no_tracebacks();
}

#[test]
fn a_devpi_mirror_upstream_is_trusted_only_for_its_cache_expiry() {
    let (_packages, pypiserver) = deps_upstream();
    let server = DevpiServer::private();
    let user = server.new_user("snapmirror");
    user.create_mirror("mirror", &format!("{}/simple/", pypiserver.url()));
    let proxy = FaultProxy::start(&server.url());
    let upstream = format!("{}/{}/mirror/+simple/", proxy.url(), user.name);
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let args = [
        "--deps",
        "--index-url",
        upstream.as_str(),
        "--target",
        wheelhouse.to_str().unwrap(),
    ];
    // Each run fills the directory, so from the second on nothing is fetched: what is
    // listed upstream is what the solve asked.
    let run = |what: &str| {
        let mark = proxy.log().len();
        let run = fill(home.path(), "ww-dep-left\n", &args, &[]);
        assert_eq!(run.code(), 0, "{what}: {}", run.stderr());
        listings(&proxy, mark)
    };
    assert!(!run("first").is_empty());
    // devpi writes the pages it mirrors into its database, so the first run's listings
    // moved the serial: the second run solves again (devpi answers from its cache now,
    // writing nothing).
    run("second");
    // Within devpi's default expiry (30 minutes) the mirror's answer could not be newer.
    assert_eq!(run("within the expiry"), Vec::<String>::new());
    // With no expiry devpi asks its upstream on every request: so does wheelwright.
    user.patch_index("mirror", serde_json::json!(["mirror_cache_expiry=0"]));
    assert!(!run("expiry 0").is_empty());
    assert!(!run("expiry 0, again").is_empty());
    // No check of devpi's log here, unlike the other devpi tests: with expiry 0 each request
    // makes devpi fetch the mirrored page (and files) from pypiserver again, and once in a
    // full suite run under load devpi logged a traceback of its own while wheelwright's runs
    // all succeeded. What this test asserts is which requests wheelwright sends.
}
