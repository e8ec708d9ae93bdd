//! PEP 792 project status from a real HTTP index page: a quarantined project's files are not
//! used (its jobs are unavailable with the status and the index's reason), an archived one
//! is used with one warning.

use crate::support::{Body, CannedServer, Reply, fixture_dist, plan, sha256_of};

fn server() -> CannedServer {
    let server = CannedServer::start();
    let alpha = "ww_alpha-1.0-py3-none-any.whl";
    let bravo = "ww_bravo-1.0.0-py3-none-any.whl";
    for name in [alpha, bravo] {
        server.route(
            &format!("/files/{name}"),
            Reply::file(Body::Exact(std::fs::read(fixture_dist(name)).unwrap())),
        );
    }
    let page = serde_json::json!({
        "meta": {"api-version": "1.4"},
        "name": "ww-alpha",
        "project-status": {"status": "quarantined", "reason": "malware found in 1.0"},
        "files": [{
            "filename": alpha,
            "url": format!("/files/{alpha}"),
            "hashes": {"sha256": sha256_of(&fixture_dist(alpha))},
        }],
    });
    server.route("/simple/ww-alpha/", Reply::simple_json(page.to_string()));
    server.route(
        "/simple/ww-bravo/",
        Reply::html(format!(
            "<html><head><meta name=\"pypi:repository-version\" content=\"1.4\">\
             <meta name=\"pypi:project-status\" content=\"archived\"></head><body>\
             <a href=\"/files/{bravo}#sha256={}\">{bravo}</a></body></html>",
            sha256_of(&fixture_dist(bravo))
        )),
    );
    server.route("/simple/", Reply::html("<html><body></body></html>"));
    server
}

#[test]
fn a_quarantined_project_is_not_used_and_an_archived_one_is_used_with_a_warning() {
    let server = server();
    let index = format!("{}/simple/", server.url());
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let run = plan(
        home.path(),
        "ww-alpha==1.0\nww-alpha>=0.1\nww-bravo==1.0\nww-bravo>=1.0\n",
        &[
            "--index-url",
            &index,
            "--python",
            "python3",
            "--target",
            wheelhouse.to_str().unwrap(),
        ],
        &[],
    );
    run.assert_code(0);
    let (stderr, report) = (run.stderr(), &run.report);
    let jobs = report["jobs"].as_array().unwrap();
    let by = |requirement: &str| {
        jobs.iter()
            .find(|j| j["requirement"] == requirement)
            .unwrap_or_else(|| panic!("{requirement}: {report}"))
    };
    for requirement in ["ww-alpha==1.0", "ww-alpha>=0.1"] {
        let job = by(requirement);
        assert_eq!(job["action"], "unavailable", "{job}");
        assert!(
            job["reason"]
                .as_str()
                .unwrap()
                .contains("the project is quarantined (PEP 792): malware found in 1.0"),
            "{job}"
        );
    }
    for requirement in ["ww-bravo==1.0", "ww-bravo>=1.0"] {
        assert_eq!(by(requirement)["action"], "fetch", "{report}");
    }
    assert_eq!(
        stderr.matches("warning: ww-bravo is archived on").count(),
        1,
        "once per project: {stderr}"
    );
    // The report says it too, once.
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| w.starts_with("ww-bravo is archived on"))
        .collect();
    assert_eq!(warnings.len(), 1, "{report}");
    let asked: Vec<String> = server
        .requests()
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert!(
        !asked.iter().any(|p| p.starts_with("/files/ww_alpha")),
        "nothing of a quarantined project is read: {asked:?}"
    );
}
