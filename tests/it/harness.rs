//! Smoke tests of the test harness itself: the real servers start, and the helpers other
//! tests rely on (users, inheriting indexes, uploads, file listings, pypiserver auth) work.

use crate::support::{Pypiserver, devpi, fixture_dist, legacy_upload, sha256_of};

#[test]
fn devpi_child_index_sees_files_of_its_base_only_with_bases() {
    let server = devpi();
    let user = server.new_user("harness");
    let base = user.create_index("base", &[], false);
    let child = user.create_index("child", &["base"], false);
    assert_eq!(base, format!("{}/{}/base", server.url(), user.name));
    assert_eq!(child, format!("{}/{}/child", server.url(), user.name));

    let wheel = fixture_dist("ww_alpha-1.0-py3-none-any.whl");
    user.upload("base", &wheel);
    let expected = vec![(
        "ww_alpha-1.0-py3-none-any.whl".to_string(),
        sha256_of(&wheel),
    )];

    assert_eq!(user.files("base", "ww-alpha", true), expected);
    assert_eq!(user.files("child", "ww-alpha", false), expected);
    assert_eq!(user.files("child", "ww-alpha", true), vec![]);
    // A project that exists nowhere is a 404, i.e. no files.
    assert_eq!(user.files("child", "ww-nonexistent", false), vec![]);
    server.assert_no_tracebacks();
}

#[test]
fn devpi_identical_reupload_is_accepted_and_patch_index_applies_operations() {
    let server = devpi();
    let user = server.new_user("harness");
    user.create_index("stable", &[], false);
    let sdist = fixture_dist("ww_alpha-1.0.tar.gz");
    user.upload("stable", &sdist);
    // devpi answers 200 to an identical re-upload to a non-volatile index (docs/devpi-protocol.md, Uploads).
    user.upload("stable", &sdist);
    assert_eq!(
        user.files("stable", "ww-alpha", true),
        vec![("ww_alpha-1.0.tar.gz".to_string(), sha256_of(&sdist))]
    );

    user.patch_index("stable", serde_json::json!(["mirror_whitelist+=ww-alpha"]));
    let config: serde_json::Value = crate::support::http_client()
        .get(user.index_url("stable"))
        .header("Accept", "application/json")
        .send()
        .expect("GET index")
        .json()
        .expect("index JSON");
    assert_eq!(
        config["result"]["mirror_whitelist"],
        serde_json::json!(["ww-alpha"])
    );

    // Another user may not upload here.
    let other = server.new_user("harness-other");
    assert_eq!(
        legacy_upload(
            &crate::support::http_client(),
            &format!("{}/", user.index_url("stable")),
            &sdist,
            None,
            &[(other.auth_header().0, &other.auth_header().1)],
        )
        .status,
        403
    );
    server.assert_no_tracebacks();
}

#[test]
fn pypiserver_with_auth_accepts_the_right_password_only() {
    let packages = tempfile::tempdir().expect("packages dir");
    let server = Pypiserver::start(packages.path(), Some(("uploader", "s3cret pw")));
    let client = crate::support::http_client();
    let upload_url = format!("{}/", server.url());
    let wheel = fixture_dist("ww_alpha-2.0-py3-none-any.whl");

    let anonymous = legacy_upload(&client, &upload_url, &wheel, None, &[]);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let wrong = legacy_upload(
        &client,
        &upload_url,
        &wheel,
        Some(("uploader", "wrong")),
        &[],
    );
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    assert_eq!(server.filenames(), Vec::<String>::new());

    let right = legacy_upload(
        &client,
        &upload_url,
        &wheel,
        Some(("uploader", "s3cret pw")),
        &[],
    );
    assert_eq!(right.status, 200, "{}", right.body);
    assert_eq!(server.filenames(), vec!["ww_alpha-2.0-py3-none-any.whl"]);
    assert_eq!(
        std::fs::read(packages.path().join("ww_alpha-2.0-py3-none-any.whl")).unwrap(),
        std::fs::read(&wheel).unwrap()
    );

    let simple = client
        .get(format!("{}/simple/ww-alpha/", server.url()))
        .send()
        .expect("GET simple page")
        .text()
        .expect("simple page text");
    assert!(
        simple.contains("ww_alpha-2.0-py3-none-any.whl"),
        "simple page lacks the upload:\n{simple}"
    );
    // --disable-fallback: an unknown project is a 404, not a redirect to a public index.
    let unknown = reqwest::blocking::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/simple/ww-nonexistent/", server.url()))
        .send()
        .expect("GET unknown project");
    assert_eq!(unknown.status().as_u16(), 404);
    server.assert_no_tracebacks();
}
