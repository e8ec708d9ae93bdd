//! `wheelwright fill` against real servers: devpi (login, multipart upload, inheritance,
//! pure index, conflicts, hash checks), pypiserver (standard upload API with basic auth),
//! and a local directory that pip then installs from.

use serde_json::Value;

use crate::support::{
    Pypiserver, Venv, devpi, fill, fixture_dist, fixtures_dir, sha256_of, snapshot,
    user_with_upstream,
};

const FETCHABLE: &str = "ww-alpha==1.0\nww-alpha==2.0\nww-bravo==1.0\nWW_ECHO.PKG==1.0\n";

fn fixture_files(names: &[&str]) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = names
        .iter()
        .map(|n| (n.to_string(), sha256_of(&fixture_dist(n))))
        .collect();
    files.sort();
    files
}

#[test]
fn fill_uploads_into_an_empty_devpi_index_and_refill_uploads_nothing() {
    let (user, upstream) = user_with_upstream("fill");
    let target = user.create_index("target", &[], false);
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let args = ["--index-url", upstream.as_str(), target.as_str(), "--batch"];

    let first = fill(home.path(), FETCHABLE, &args, &creds);
    assert_eq!(first.code(), 0, "{}\n{}", first.stdout(), first.stderr());
    assert_eq!(first.count("uploaded"), 4, "{:?}", first.outcomes());
    assert_eq!(
        user.files("target", "ww-alpha", true),
        fixture_files(&[
            "ww_alpha-1.0-py3-none-any.whl",
            "ww_alpha-2.0-py3-none-any.whl"
        ])
    );
    assert_eq!(
        user.files("target", "ww-echo-pkg", true),
        fixture_files(&["ww_echo_pkg-1.0-py3-none-any.whl"])
    );
    // Name and version exactly as in METADATA.
    let json: Value = reqwest::blocking::Client::new()
        .get(format!("{target}/ww-echo-pkg/1.0"))
        .header("Accept", "application/json")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(json["result"]["name"], "Ww_Echo.Pkg");
    let job = &first.report["jobs"][0];
    assert_eq!(
        job["sha256"],
        sha256_of(&fixture_dist("ww_alpha-1.0-py3-none-any.whl"))
    );
    assert_eq!(job["attempts"], 1);

    let second = fill(home.path(), FETCHABLE, &args, &creds);
    assert_eq!(second.code(), 0, "{}", second.stderr());
    assert_eq!(second.count("present"), 4);
    assert_eq!(second.count("uploaded"), 0);
    assert!(
        second.report["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["attempts"] == 0)
    );
    devpi().assert_no_tracebacks();
}

#[test]
fn fill_with_pure_index_routes_pure_wheels_there_and_checks_both() {
    let (user, upstream) = user_with_upstream("fillpure");
    let target = user.create_index("target", &[], false);
    let pure = user.create_index("pure", &[], false);
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let args = [
        "--index-url",
        upstream.as_str(),
        target.as_str(),
        "--pure-index",
        pure.as_str(),
    ];
    let run = fill(home.path(), "ww-alpha==1.0\n", &args, &creds);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(user.files("pure", "ww-alpha", true).len(), 1);
    assert!(user.files("target", "ww-alpha", true).is_empty());
    let again = fill(home.path(), "ww-alpha==1.0\n", &args, &creds);
    assert_eq!(again.outcomes()[0].2, "present");
    assert!(
        again.report["jobs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("pure index")
    );
}

#[test]
fn fill_does_not_upload_what_the_target_inherits() {
    let (user, upstream) = user_with_upstream("fillinherit");
    user.create_index("base", &[], false);
    let target = user.create_index("target", &["base"], false);
    user.upload("base", &fixture_dist("ww_alpha-1.0-py3-none-any.whl"));
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let run = fill(
        home.path(),
        "ww-alpha==1.0\n",
        &["--index-url", &upstream, &target],
        &creds,
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.outcomes()[0].2, "present");
    assert!(
        user.files("target", "ww-alpha", true).is_empty(),
        "nothing uploaded to the target itself"
    );
}

#[test]
fn a_hash_mismatch_in_the_requirements_fails_the_job_and_uploads_nothing() {
    let (user, upstream) = user_with_upstream("fillhash");
    let target = user.create_index("target", &[], false);
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let good = sha256_of(&fixture_dist("ww_alpha-1.0-py3-none-any.whl"));
    let wrong = "0".repeat(64);
    let reqs = format!("ww-alpha==1.0 --hash=sha256:{good}\nww-alpha==2.0 --hash=sha256:{wrong}\n");
    let run = fill(
        home.path(),
        &reqs,
        &["--index-url", &upstream, &target],
        &creds,
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let outcomes = run.outcomes();
    assert_eq!(outcomes[0].2, "uploaded");
    assert_eq!(outcomes[1].2, "failed");
    let detail = run.report["jobs"][1]["detail"].as_str().unwrap();
    assert!(
        detail.contains("--hash in") && detail.contains(":2"),
        "{detail}"
    );
    let files: Vec<String> = user
        .files("target", "ww-alpha", true)
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(files, ["ww_alpha-1.0-py3-none-any.whl"]);
}

#[test]
fn fill_into_pypiserver_with_basic_auth_and_refill() {
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
    let env = [("WHEELWRIGHT_PASSWORD", "pypi-secret")];
    let first = fill(home.path(), FETCHABLE, &args, &env);
    assert_eq!(first.code(), 0, "{}\n{}", first.stdout(), first.stderr());
    assert_eq!(first.count("uploaded"), 4);
    let mut names = server.filenames();
    names.sort();
    assert_eq!(
        names,
        [
            "ww_alpha-1.0-py3-none-any.whl",
            "ww_alpha-2.0-py3-none-any.whl",
            "ww_bravo-1.0.0-py3-none-any.whl",
            "ww_echo_pkg-1.0-py3-none-any.whl"
        ]
    );
    for name in &names {
        assert_eq!(
            sha256_of(&packages.path().join(name)),
            sha256_of(&fixture_dist(name)),
            "{name} byte-identical"
        );
    }
    let second = fill(home.path(), FETCHABLE, &args, &env);
    assert_eq!(second.code(), 0, "{}", second.stderr());
    assert_eq!(second.count("present"), 4);
    assert!(!second.stderr().contains("pypi-secret") && !first.stderr().contains("pypi-secret"));
    server.assert_no_tracebacks();
}

#[test]
fn fill_a_directory_target_that_pip_installs_from() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let find_links = fixtures_dir().join("dist");
    let args = [
        "--find-links",
        find_links.to_str().unwrap(),
        wheelhouse.to_str().unwrap(),
    ];
    let first = fill(home.path(), FETCHABLE, &args, &[]);
    first.assert_code(0);
    let second = fill(home.path(), FETCHABLE, &args, &[]);
    second.assert_code(0);
    // The summary on stdout and the JSON report, whole: four uploads, then four present.
    let home_dir = snapshot::path(home.path());
    let dists = snapshot::path(&find_links);
    snapshot::settings(&[(&home_dir, "[home]"), (&dists, "[dists]")]).bind(|| {
        insta::assert_snapshot!("fill_summary_uploaded", first.stdout());
        insta::assert_json_snapshot!("fill_report_uploaded", first.report);
        insta::assert_snapshot!("fill_summary_present", second.stdout());
    });
    for name in [
        "ww_alpha-2.0-py3-none-any.whl",
        "ww_echo_pkg-1.0-py3-none-any.whl",
    ] {
        assert_eq!(
            sha256_of(&wheelhouse.join(name)),
            sha256_of(&fixture_dist(name))
        );
    }
    // pip installs from the simple tree and from the flat directory.
    let venv = Venv::new(home.path());
    let simple_url = url::Url::from_directory_path(wheelhouse.join("simple")).unwrap();
    venv.pip_install(&[
        "--index-url",
        simple_url.as_str(),
        "ww-alpha==2.0",
        "ww-echo-pkg==1.0",
    ]);
    let find_links = wheelhouse.to_str().unwrap();
    venv.pip_install(&["--no-index", "--find-links", find_links, "ww-bravo==1.0"]);
    assert_eq!(
        venv.python(
            "import importlib.metadata as m; print(m.version('ww-alpha'), m.version('ww-bravo'))"
        ),
        "2.0 1.0.0"
    );
}

#[test]
fn junit_report_has_one_case_per_job_with_run_id() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wh");
    let junit = home.path().join("junit.xml");
    let find_links = fixtures_dir().join("dist");
    let run = fill(
        home.path(),
        "ww-alpha==1.0\nww-foxtrot==1.0\n",
        &[
            "--find-links",
            find_links.to_str().unwrap(),
            wheelhouse.to_str().unwrap(),
            "--junit-xml",
            junit.to_str().unwrap(),
            "--run-id",
            "linux-cp311",
        ],
        &[],
    );
    assert_eq!(run.code(), 1, "foxtrot is unavailable: {}", run.stderr());
    // One test case per job, named with the run id; the unavailable one a failure.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let home_dir = snapshot::path(home.path());
    let dists = snapshot::path(&find_links);
    snapshot::settings(&[(&home_dir, "[home]"), (&dists, "[dists]")]).bind(|| {
        insta::assert_snapshot!("fill_junit", xml);
    });
}

#[test]
fn credentials_from_netrc_fill_pypiserver() {
    let packages = tempfile::tempdir().unwrap();
    let server = Pypiserver::start(packages.path(), Some(("netrc-user", "netrc-secret")));
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".netrc"),
        "machine 127.0.0.1 login netrc-user password netrc-secret\n",
    )
    .unwrap();
    let find_links = fixtures_dir().join("dist");
    let simple = format!("{}/simple/", server.url());
    let run = fill(
        home.path(),
        "ww-alpha==1.0\n",
        &["--find-links", find_links.to_str().unwrap(), &simple],
        &[],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(server.filenames(), ["ww_alpha-1.0-py3-none-any.whl"]);
    // Without the .netrc the same upload is refused.
    std::fs::remove_file(home.path().join(".netrc")).unwrap();
    let refused = fill(
        home.path(),
        "ww-alpha==2.0\n",
        &["--find-links", find_links.to_str().unwrap(), &simple],
        &[],
    );
    assert_eq!(refused.code(), 3, "{}", refused.stderr());
}
