//! `--deps` with `--shard K/N` (issue 13): three shards started at once against one devpi
//! index leave exactly what the unsharded `--deps` fill leaves, and devpi's own log shows
//! that no file was posted twice.

use std::collections::BTreeMap;
use std::process::Stdio;

use crate::support::{DevpiServer, DevpiUser, Run, deps_upstream, fill, wheelwright_with_home};

const ROOTS: &str = "ww-dep-top[fast]\nww-dep-cycle-a\n";

/// The `ww-dep-*` closure of [`ROOTS`] (one interpreter).
const CLOSURE: [&str; 7] = [
    "ww-dep-base",
    "ww-dep-cycle-a",
    "ww-dep-cycle-b",
    "ww-dep-fast",
    "ww-dep-left",
    "ww-dep-right",
    "ww-dep-top",
];

/// `(filename, sha256)` of every file of the closure on `index`.
fn served(user: &DevpiUser, index: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = CLOSURE
        .iter()
        .flat_map(|p| user.files(index, p, true))
        .collect();
    files.sort();
    files
}

/// devpi-server logs each request as `[reqN] METHOD PATH`; the uploads to `index` are its
/// POSTs to the index root, counted per log line.
fn posts_to(server: &DevpiServer, user: &DevpiUser, index: &str) -> usize {
    let needle = format!("POST /{}/{index}/", user.name);
    std::fs::read_to_string(server.log_path())
        .unwrap()
        .lines()
        .filter(|l| l.trim_end().ends_with(&needle))
        .count()
}

#[test]
fn three_deps_shards_at_once_equal_the_unsharded_deps_fill_with_no_file_posted_twice() {
    // Its own server: its log holds only this test's requests.
    let server = DevpiServer::private();
    let user = server.new_user("depshards");
    user.create_index("whole", &[], false);
    user.create_index("sharded", &[], false);
    let (_packages, pypi) = deps_upstream();
    let index_url = format!("{}/simple/", pypi.url());
    let creds = user.env();

    let home = tempfile::tempdir().unwrap();
    let whole_url = user.index_url("whole");
    let whole = fill(
        home.path(),
        ROOTS,
        &["--deps", "--index-url", &index_url, &whole_url],
        &creds,
    );
    assert_eq!(whole.code(), 0, "{}", whole.stderr());
    let expected = served(&user, "whole");
    assert_eq!(expected.len(), CLOSURE.len(), "{expected:?}");

    let sharded_url = user.index_url("sharded");
    std::fs::write(home.path().join("roots.txt"), ROOTS).unwrap();
    let children: Vec<_> = (0..3)
        .map(|k| {
            // Each shard with its own cache, as on three machines.
            let shard_home = home.path().join(format!("shard{k}"));
            std::fs::create_dir_all(&shard_home).unwrap();
            let mut cmd = wheelwright_with_home(&shard_home);
            cmd.arg("fill")
                .arg(home.path().join("roots.txt"))
                .args([
                    "--deps",
                    "--index-url",
                    &index_url,
                    &sharded_url,
                    "--shard",
                    &format!("{k}/3"),
                    "--report-json",
                ])
                .arg(shard_home.join("report.json"))
                .stderr(Stdio::piped());
            for (name, value) in creds {
                cmd.env(name, value);
            }
            cmd.spawn().unwrap()
        })
        .collect();
    let mut uploaded_by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, child) in children.into_iter().enumerate() {
        let shard = Run::from(child.wait_with_output().unwrap())
            .with_report(&home.path().join(format!("shard{k}/report.json")));
        assert_eq!(shard.code(), 0, "shard {k}: {}", shard.stderr());
        for job in shard.jobs() {
            uploaded_by
                .entry(job["project"].as_str().unwrap().to_string())
                .or_default()
                .push(k);
        }
    }
    assert!(
        uploaded_by.values().all(|shards| shards.len() == 1),
        "each project belongs to one shard: {uploaded_by:?}"
    );
    assert_eq!(
        uploaded_by.keys().map(String::as_str).collect::<Vec<_>>(),
        CLOSURE,
        "together the shards cover the closure"
    );

    // Same files, same sha256.
    assert_eq!(served(&user, "sharded"), expected);
    // devpi's evidence: as many posts as the unsharded fill made, one per file, and no
    // post of a file the index already had.
    let whole_posts = posts_to(&server, &user, "whole");
    assert_eq!(whole_posts, CLOSURE.len());
    assert_eq!(posts_to(&server, &user, "sharded"), whole_posts);
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    assert!(
        !log.contains("Upload of identical file") && !log.contains("already exists"),
        "a file was posted twice"
    );
    server.assert_no_tracebacks();
}
