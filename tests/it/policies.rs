//! Policies of a shared devpi index and of the nightly job: upload permission checked before
//! building, mirror shadowing, failure memory, and sharding.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{
    Run, devpi, fill, fixtures_dir, run, user_with_upstream, wheelwright_with_home,
};

#[test]
fn a_user_outside_acl_upload_stops_before_building_with_exit_3() {
    let (owner, upstream) = user_with_upstream("aclowner");
    owner.create_index("target", &[], false);
    let other = devpi().new_user("aclother");
    let target = owner.index_url("target");
    let home = tempfile::tempdir().unwrap();
    let creds = other.env();
    let run = fill(
        home.path(),
        "ww-charlie==1.0\nww-hotel==1.0\n",
        &["--index-url", &upstream, &target],
        &creds,
    );
    assert_eq!(run.code(), 3, "{}", run.stderr());
    assert!(
        run.stderr().contains("may not upload") && run.stderr().contains("acl_upload"),
        "{}",
        run.stderr()
    );
    // Nothing was built: both jobs are not-run, and no build started.
    for job in run.report["jobs"].as_array().unwrap() {
        assert_eq!(job["outcome"], "not-run", "{job}");
    }
    assert!(!run.stderr().contains("building"), "{}", run.stderr());
    assert!(owner.files("target", "ww-charlie", true).is_empty());
}

#[test]
fn uploads_that_would_hide_mirror_releases_are_warned_about_or_refused() {
    let (user, upstream) = user_with_upstream("shadow");
    // A mirror among the target's bases (it mirrors our own upstream index).
    let mirror_url = format!("{}/{}/upstream/+simple/", devpi().url(), user.name);
    let client = reqwest::blocking::Client::new();
    let (key, value) = user.auth_header();
    let response = client
        .put(user.index_url("mirror"))
        .header(key, value)
        .header("Accept", "application/json")
        .json(&serde_json::json!({"type": "mirror", "mirror_url": mirror_url, "volatile": true}))
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().unwrap_or_default()
    );
    user.create_index("target", &["mirror"], false);
    let target = user.index_url("target");
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let args = [
        "--index-url",
        upstream.as_str(),
        target.as_str(),
        "--present-in",
        "own",
    ];
    let entry = "mirror_whitelist+=ww-alpha";

    // plan names the whitelist entry; --strict-whitelist makes it an error.
    let report = home.path().join("plan.json");
    let planned = run(wheelwright_with_home(home.path())
        .args([
            "plan",
            "--target",
            &target,
            "--index-url",
            &upstream,
            "--present-in",
            "own",
            "--report-json",
        ])
        .arg(&report)
        .arg(fixtures_dir().join("../examples/demo-requirements.txt")))
    .with_report(&report);
    let json = &planned.assert_code(0).report;
    assert!(json["warnings"].to_string().contains(entry), "{json}");
    let strict = run(wheelwright_with_home(home.path())
        .args([
            "plan",
            "--target",
            &target,
            "--index-url",
            &upstream,
            "--present-in",
            "own",
            "--strict-whitelist",
        ])
        .arg(fixtures_dir().join("../examples/demo-requirements.txt")));
    strict.assert_code(2);

    let strict = fill(
        home.path(),
        "ww-alpha==2.0\n",
        &[&args[..], &["--strict-whitelist"]].concat(),
        &creds,
    );
    assert_eq!(strict.code(), 1, "{}", strict.stderr());
    assert!(
        strict.report["jobs"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(entry)
    );
    assert!(
        user.files("target", "ww-alpha", true).is_empty(),
        "nothing uploaded under --strict-whitelist"
    );

    let warned = fill(home.path(), "ww-alpha==2.0\n", &args, &creds);
    assert_eq!(warned.code(), 0, "{}", warned.stderr());
    assert_eq!(warned.count("uploaded"), 1);
    assert!(warned.stderr().contains(entry), "{}", warned.stderr());
    assert!(
        warned.report["jobs"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(entry)
    );

    // Whitelisted: no warning.
    user.patch_index("target", serde_json::json!(["mirror_whitelist+=ww-bravo"]));
    let whitelisted = fill(home.path(), "ww-bravo==1.0\n", &args, &creds);
    assert_eq!(whitelisted.count("uploaded"), 1, "{}", whitelisted.stderr());
    assert!(
        !whitelisted.stderr().contains("mirror_whitelist+="),
        "{}",
        whitelisted.stderr()
    );
}

#[test]
fn a_known_build_failure_is_not_rebuilt_until_retry_failed() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let dists = fixtures_dir().join("dist");
    let hostile = fixtures_dir().join("hostile/dist");
    let args = [
        "--find-links",
        dists.to_str().unwrap(),
        "--find-links",
        hostile.to_str().unwrap(),
        wheelhouse.to_str().unwrap(),
    ];
    let first = fill(home.path(), "ww-no-wheel==1.0\n", &args, &[]);
    assert_eq!(first.code(), 1);
    let detail = |run: &Run| {
        run.report["jobs"][0]["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(detail(&first).contains("no wheel"), "{}", detail(&first));
    assert!(first.stderr().contains("building"), "the first run builds");

    let second = fill(home.path(), "ww-no-wheel==1.0\n", &args, &[]);
    assert_eq!(second.code(), 1);
    assert!(
        detail(&second).starts_with("known failure"),
        "{}",
        detail(&second)
    );
    assert!(detail(&second).contains("no wheel"));
    assert!(
        !second.stderr().contains("building"),
        "a known failure is not built again: {}",
        second.stderr()
    );

    let retried = fill(
        home.path(),
        "ww-no-wheel==1.0\n",
        &[&args[..], &["--retry-failed"]].concat(),
        &[],
    );
    assert!(
        retried.stderr().contains("building"),
        "{}",
        retried.stderr()
    );
    assert!(!detail(&retried).starts_with("known failure"));

    let expired = fill(
        home.path(),
        "ww-no-wheel==1.0\n",
        &[&args[..], &["--failure-ttl", "0"]].concat(),
        &[],
    );
    assert!(
        expired.stderr().contains("building"),
        "an expired record does not count"
    );
}

#[test]
fn three_shards_at_once_together_do_exactly_the_unsharded_work() {
    let (user, upstream) = user_with_upstream("shards");
    user.create_index("target", &[], false);
    let target = user.index_url("target");
    let requirements = "\
ww-alpha==1.0
ww-alpha==2.0
ww-bravo==1.0
WW_ECHO.PKG==1.0
ww-charlie==1.0
ww-golf==1.0
ww-delta==1.0
ww-big==1.0
";
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("requirements.txt"), requirements).unwrap();
    // The unsharded plan: what has to happen.
    let plan_report = home.path().join("plan.json");
    let planned = run(wheelwright_with_home(home.path())
        .args([
            "plan",
            "--target",
            &target,
            "--index-url",
            &upstream,
            "--report-json",
        ])
        .arg(&plan_report)
        .arg(home.path().join("requirements.txt")))
    .with_report(&plan_report);
    let key = |j: &Value| format!("{}=={} {}", j["project"], j["version"], j["interpreter"]);
    let expected: BTreeSet<String> = planned.assert_code(0).jobs().iter().map(key).collect();

    // Three shards at once, each with its own cache, against the same index.
    let children: Vec<_> = (0..3)
        .map(|k| {
            let shard_home = home.path().join(format!("shard{k}"));
            std::fs::create_dir_all(&shard_home).unwrap();
            wheelwright_with_home(&shard_home)
                .arg("fill")
                .arg(home.path().join("requirements.txt"))
                .args([
                    target.as_str(),
                    "--index-url",
                    &upstream,
                    "--shard",
                    &format!("{k}/3"),
                    "--report-json",
                ])
                .arg(shard_home.join("report.json"))
                .env("DEVPI_USER", &user.name)
                .env("DEVPI_PASSWORD", &user.password)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen: Vec<String> = Vec::new();
    for (k, child) in children.into_iter().enumerate() {
        let shard = Run::from(child.wait_with_output().unwrap())
            .with_report(&home.path().join(format!("shard{k}/report.json")));
        assert_eq!(shard.code(), 0, "shard {k}: {}", shard.stderr());
        seen.extend(shard.jobs().iter().map(key));
    }
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "no job is done by two shards: {seen:?}"
    );
    assert_eq!(
        unique, expected,
        "together the shards do exactly the unsharded plan"
    );
    for project in [
        "ww-alpha",
        "ww-bravo",
        "ww-echo-pkg",
        "ww-charlie",
        "ww-golf",
        "ww-delta",
        "ww-big",
    ] {
        let files = user.files("target", project, true);
        let names: BTreeSet<_> = files.iter().map(|f| f.0.clone()).collect();
        assert_eq!(
            names.len(),
            files.len(),
            "{project} uploaded once: {files:?}"
        );
        assert!(!files.is_empty(), "{project} is on the target");
    }
}

#[test]
fn a_devpi_token_works_as_the_password() {
    let (user, upstream) = user_with_upstream("token");
    user.create_index("target", &[], false);
    // A token made through devpi-tokens' API, as `devpi token-create` does.
    let (key, value) = user.auth_header();
    let response: Value = reqwest::blocking::Client::new()
        .post(format!("{}/{}/+token-create", devpi().url(), user.name))
        .header(key, value)
        .header("Accept", "application/json")
        .json(&serde_json::json!({}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = response["result"]["token"]
        .as_str()
        .expect("devpi-tokens is installed in the test venv")
        .to_string();
    assert!(token.starts_with("devpi-"));
    let home = tempfile::tempdir().unwrap();
    let target = user.index_url("target");
    let run = fill(
        home.path(),
        "ww-alpha==1.0\n",
        &["--index-url", &upstream, &target],
        &[
            ("DEVPI_USER", user.name.as_str()),
            ("DEVPI_PASSWORD", token.as_str()),
        ],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.count("uploaded"), 1);
    assert!(!run.stderr().contains(&token));
    // A token that is not valid is refused (exit 3), not taken for anonymous.
    // A broken signature in the middle (the last base64 character may carry only padding
    // bits, so changing it can leave the token valid).
    let middle = token.len() / 2;
    let flipped = if &token[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    let bad = format!("{}{flipped}{}", &token[..middle], &token[middle + 1..]);
    let refused = fill(
        home.path(),
        "ww-alpha==2.0\n",
        &["--index-url", &upstream, &target],
        &[
            ("DEVPI_USER", user.name.as_str()),
            ("DEVPI_PASSWORD", bad.as_str()),
        ],
    );
    assert_eq!(refused.code(), 3, "{}", refused.stderr());
    assert!(!refused.stderr().contains(&bad));
}
