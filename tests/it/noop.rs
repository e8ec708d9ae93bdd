//! The nightly no-op: everything is present. It must cost one request per distinct project
//! on the target, and, while devpi's serial has not moved since the last run, a single
//! request in all. Counted by a proxy in front of the real devpi-server.

use crate::support::{
    DevpiServer, FaultProxy, devpi, fill, fixture_dist, user_with_upstream, user_with_upstream_on,
};

const PINS: &str = "\
ww-alpha==1.0
ww-alpha==2.0
ww-bravo==1.0
WW_ECHO.PKG==1.0
ww-big==1.0
";

#[test]
fn a_no_op_costs_one_request_per_project_then_one_in_all_until_the_serial_moves() {
    // Its own server: the serial counts every write on the server, and the shared one is
    // written to by the tests running alongside.
    let server = DevpiServer::private();
    let (user, upstream) = user_with_upstream_on(&server, "noop");
    user.create_index("target", &[], false);
    for wheel in [
        "ww_alpha-1.0-py3-none-any.whl",
        "ww_alpha-2.0-py3-none-any.whl",
        "ww_bravo-1.0.0-py3-none-any.whl",
        "ww_echo_pkg-1.0-py3-none-any.whl",
        "ww_big-1.0-py3-none-any.whl",
    ] {
        user.upload("target", &fixture_dist(wheel));
    }
    let proxy = FaultProxy::start(&server.url());
    let target = format!("{}/{}/target", proxy.url(), user.name);
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    // The upstream is not behind the proxy: only target requests are counted.
    let args = ["--index-url", upstream.as_str(), target.as_str()];

    let first = fill(home.path(), PINS, &args, &creds);
    assert_eq!(first.code(), 0, "{}", first.stderr());
    assert_eq!(first.count("present"), 5);
    let seen = proxy.requests_since(0);
    let api = format!("/{}/target/+api", user.name);
    let listing = |project: &str| {
        (
            "GET".to_string(),
            format!("/{}/target/+simple/{project}/", user.name),
        )
    };
    let mut expected = vec![("GET".to_string(), api.clone())];
    expected.extend(["ww-alpha", "ww-bravo", "ww-echo-pkg", "ww-big"].map(listing));
    let mut sorted = seen.clone();
    sorted[1..].sort();
    expected[1..].sort();
    assert_eq!(
        sorted, expected,
        "one +api, then one listing per distinct project; no login, nothing else"
    );

    // Nothing changed on the server: the remembered listings are used, one request in all.
    let mark = proxy.log().len();
    let second = fill(home.path(), PINS, &args, &creds);
    assert_eq!(second.code(), 0, "{}", second.stderr());
    assert_eq!(second.count("present"), 5);
    assert_eq!(
        proxy.requests_since(mark),
        [("GET".to_string(), api.clone())]
    );

    // Any upload in between moves the serial: the listings are asked for again, and the
    // new file is seen.
    user.upload("target", &fixture_dist("ww_alpha-3.0rc1-py3-none-any.whl"));
    let mark = proxy.log().len();
    let third = fill(
        home.path(),
        &format!("{PINS}ww-alpha==3.0rc1\n"),
        &args,
        &creds,
    );
    assert_eq!(third.code(), 0, "{}", third.stderr());
    assert_eq!(third.count("present"), 6, "{:?}", third.outcomes());
    assert_eq!(
        proxy.requests_since(mark).len(),
        5,
        "{:?}",
        proxy.requests_since(mark)
    );
    devpi().assert_no_tracebacks();
}

#[test]
fn an_upload_by_the_run_itself_invalidates_the_remembered_listing() {
    let (user, upstream) = user_with_upstream("noopown");
    user.create_index("target", &[], false);
    let proxy = FaultProxy::start(&devpi().url());
    let target = format!("{}/{}/target", proxy.url(), user.name);
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let args = ["--index-url", upstream.as_str(), target.as_str()];
    let first = fill(home.path(), "ww-alpha==1.0\n", &args, &creds);
    assert_eq!(first.count("uploaded"), 1, "{}", first.stderr());
    // The run uploaded: its listing is stale, so the next run asks again and sees the file.
    let mark = proxy.log().len();
    let second = fill(home.path(), "ww-alpha==1.0\n", &args, &creds);
    assert_eq!(second.count("present"), 1);
    let listings = proxy
        .requests_since(mark)
        .iter()
        .filter(|(_, p)| p.ends_with("/target/+simple/ww-alpha/"))
        .count();
    assert_eq!(listings, 1);
}
