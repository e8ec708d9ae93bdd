//! The wheel ways: range requests (nginx, pypiserver, a canned server), PEP 658 files
//! (a canned index, devpi-server with `--enable-core-metadata`), the download fallback.

use wheelwright::distribution::read_wheel_metadata_bytes;
use wheelwright::index::MetadataFile;
use wheelwright::metadata::{FetchError, Obtained, zip::TAIL_LEN};
use wheelwright::store::Store;

use super::{fetcher, file_named, index_file, listed, name, runtime, served_dir, version};
use crate::support::{
    Body, CannedServer, DevpiServer, Pypiserver, Reply, StaticNginx, devpi, fixture_dist,
};

/// (requests, body bytes) nginx logged for `path` (combined format: `"GET path …" status bytes`).
fn nginx_traffic(nginx: &StaticNginx, path: &str) -> (usize, u64) {
    let log = nginx.access_log_text();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&format!("GET {path} ")))
        .collect();
    let bytes = lines
        .iter()
        .filter_map(|l| l.split_once(" HTTP/1.1\" ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_whitespace().nth(1))
        .filter_map(|b| b.parse::<u64>().ok())
        .sum();
    (lines.len(), bytes)
}

#[test]
fn range_requests_read_a_small_part_of_a_big_wheel_and_the_cache_asks_nothing() {
    let big = "ww_big-1.0-py3-none-any.whl";
    let served = served_dir(&[big]);
    let nginx = StaticNginx::serve(served.path());
    let path = served.path().join(big);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 1_000_000, "ww_big is {size} bytes");
    let file = index_file(&format!("{}/{big}", nginx.url), &path);
    let cache = tempfile::tempdir().unwrap();

    let found = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-big"), &version("1.0"), &file))
        .expect("metadata");
    assert_eq!(found.metadata.name, "ww-big");
    let Obtained::Range { requests, received } = found.obtained else {
        panic!("not read with ranges: {:?}", found.obtained);
    };
    let (logged_requests, logged_bytes) = nginx_traffic(&nginx, &format!("/{big}"));
    assert_eq!(
        logged_requests as u32,
        requests,
        "{}",
        nginx.access_log_text()
    );
    assert_eq!(logged_bytes, received);
    assert!(
        received <= TAIL_LEN && received * 10 < size,
        "{received} of {size} bytes read"
    );

    // A second run with the same cache asks the server nothing.
    let again = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-big"), &version("1.0"), &file))
        .expect("cached metadata");
    assert_eq!(again.obtained, Obtained::Cache);
    assert_eq!(again.metadata, found.metadata);
    assert_eq!(nginx_traffic(&nginx, &format!("/{big}")).0, logged_requests);
}

/// A canned simple index for `ww-alpha` whose wheel offers a PEP 658 file with `hash`.
fn pep658_server(hash: &str, metadata: &[u8]) -> (CannedServer, Vec<u8>) {
    let wheel_name = "ww_alpha-1.0-py3-none-any.whl";
    let wheel = std::fs::read(fixture_dist(wheel_name)).unwrap();
    let server = CannedServer::start();
    server.route("/simple/", Reply::html("<html><body></body></html>"));
    server.route(
        "/simple/ww-alpha/",
        Reply::html(format!(
            r#"<html><body><a href="/files/{wheel_name}" data-core-metadata="sha256={hash}">{wheel_name}</a></body></html>"#
        )),
    );
    server.route(
        &format!("/files/{wheel_name}"),
        Reply::file(Body::Ranged(wheel.clone())),
    );
    server.route(
        &format!("/files/{wheel_name}.metadata"),
        Reply::file(Body::Exact(metadata.to_vec())),
    );
    (server, wheel)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn a_pep658_file_is_used_when_its_hash_matches_and_refused_when_it_lies() {
    let metadata = read_wheel_metadata_bytes(&fixture_dist("ww_alpha-1.0-py3-none-any.whl"))
        .expect("fixture METADATA");
    let (server, _) = pep658_server(&sha256_hex(&metadata), &metadata);
    let files = listed(&format!("{}/simple/", server.url()), "ww-alpha");
    let cache = tempfile::tempdir().unwrap();
    let found = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-alpha"), &version("1.0"), &files[0]))
        .expect("metadata");
    assert_eq!(found.obtained, Obtained::MetadataFile);
    let wheel_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|(path, _)| path.starts_with("/files/"))
        .collect();
    assert_eq!(
        wheel_requests,
        [(
            "/files/ww_alpha-1.0-py3-none-any.whl.metadata".to_string(),
            None
        )]
    );

    // The index lists one hash and serves a file with another.
    let (liar, _) = pep658_server(&"0".repeat(64), &metadata);
    let files = listed(&format!("{}/simple/", liar.url()), "ww-alpha");
    let err = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-alpha"), &version("1.0"), &files[0]))
        .expect_err("a lying hash");
    assert!(matches!(err, FetchError::HashMismatch { .. }), "{err}");
    assert!(err.to_string().contains(".metadata"), "{err}");

    // A metadata file that matches its hash but describes another release.
    let other = String::from_utf8_lossy(&metadata).replace("Version: 1.0", "Version: 9.9");
    let (inconsistent, _) = pep658_server(&sha256_hex(other.as_bytes()), other.as_bytes());
    let files = listed(&format!("{}/simple/", inconsistent.url()), "ww-alpha");
    let err = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-alpha"), &version("1.0"), &files[0]))
        .expect_err("inconsistent metadata");
    assert!(
        matches!(
            err,
            FetchError::Inconsistent {
                field: "Version",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn an_endless_metadata_file_is_cut_off_at_the_cap() {
    let wheel_name = "ww_alpha-1.0-py3-none-any.whl";
    let server = CannedServer::start();
    server.route("/simple/", Reply::html("<html><body></body></html>"));
    server.route(
        "/simple/ww-alpha/",
        Reply::html(format!(
            r#"<html><body><a href="/files/{wheel_name}" data-core-metadata="true">{wheel_name}</a></body></html>"#
        )),
    );
    server.route(
        &format!("/files/{wheel_name}.metadata"),
        Reply::file(Body::Endless { cap: 256 << 20 }),
    );
    let files = listed(&format!("{}/simple/", server.url()), "ww-alpha");
    let cache = tempfile::tempdir().unwrap();
    let err = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-alpha"), &version("1.0"), &files[0]))
        .expect_err("an endless metadata file");
    assert!(
        matches!(&err, FetchError::MetadataFile { detail, .. } if detail.contains("longer than")),
        "{err}"
    );
    // The reader stops at its 64 MiB cap; what the server counts beyond that is what the
    // loopback socket buffers took before the connection was dropped (about 10 MiB seen under
    // load), far below the 256 MiB the server would send to a reader that did not stop.
    assert!(
        server.bytes_sent() < (128 << 20),
        "{} bytes sent",
        server.bytes_sent()
    );
}

#[test]
fn a_server_that_ignores_range_sends_the_file_once_into_the_store() {
    let big = "ww_big-1.0-py3-none-any.whl";
    let wheel = std::fs::read(fixture_dist(big)).unwrap();
    let server = CannedServer::start();
    server.route(
        &format!("/files/{big}"),
        Reply::file(Body::Exact(wheel.clone())),
    );
    let file = index_file(&format!("{}/files/{big}", server.url()), &fixture_dist(big));
    let cache = tempfile::tempdir().unwrap();
    let found = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-big"), &version("1.0"), &file))
        .expect("metadata");
    assert!(
        matches!(&found.obtained, Obtained::Download { why } if why.contains("ignores Range")),
        "{:?}",
        found.obtained
    );
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());
    let sent = server.bytes_sent();
    assert!(
        sent < wheel.len() as u64 + 1024,
        "{sent} bytes sent for a {} byte file",
        wheel.len()
    );
    let stored = Store::new(cache.path()).lookup(file.sha256.as_ref().unwrap(), &file.filename);
    assert!(stored.is_some(), "the download went into the store");
}

#[test]
fn wrong_ranges_and_a_huge_central_directory_fall_back_to_the_download() {
    let alpha = "ww_alpha-1.0-py3-none-any.whl";
    let wheel = std::fs::read(fixture_dist(alpha)).unwrap();
    // Ranges labelled and sent 7 bytes early: the reader sees the mismatch and downloads.
    let server = CannedServer::start();
    server.route(
        &format!("/files/{alpha}"),
        Reply::file(Body::RangedShifted {
            bytes: wheel.clone(),
            shift: 7,
        }),
    );
    // Small enough that the first suffix range covers the file: ask for the tail of a
    // file long enough that the shift shows.
    let padded = {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("ww_pad/data.bin", stored).unwrap();
        std::io::Write::write_all(&mut zip, &vec![1u8; 200_000]).unwrap();
        zip.start_file("ww_pad-1.0.dist-info/METADATA", stored)
            .unwrap();
        std::io::Write::write_all(
            &mut zip,
            b"Metadata-Version: 2.1\nName: ww-pad\nVersion: 1.0\n",
        )
        .unwrap();
        zip.finish().unwrap().into_inner()
    };
    let pad_name = "ww_pad-1.0-py3-none-any.whl";
    server.route(
        &format!("/files/{pad_name}"),
        Reply::file(Body::RangedShifted {
            bytes: padded.clone(),
            shift: 7,
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let pad_path = dir.path().join(pad_name);
    std::fs::write(&pad_path, &padded).unwrap();
    let file = index_file(&format!("{}/files/{pad_name}", server.url()), &pad_path);
    let cache = tempfile::tempdir().unwrap();
    let found = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-pad"), &version("1.0"), &file))
        .expect("metadata through the download");
    assert!(
        matches!(&found.obtained, Obtained::Download { why } if why.contains("asked for bytes")),
        "{:?}",
        found.obtained
    );

    // A central directory claimed to be 2 GiB: refused after the tail, never asked for;
    // the whole-file reader (the zip crate) reads the file by its entries anyway.
    let mut huge = wheel.clone();
    let at = huge.len() - 22 + 12;
    huge[at..at + 4].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let huge_server = CannedServer::start();
    huge_server.route(
        &format!("/files/{alpha}"),
        Reply::file(Body::Ranged(huge.clone())),
    );
    let huge_path = dir.path().join(alpha);
    std::fs::write(&huge_path, &huge).unwrap();
    let file = index_file(&format!("{}/files/{alpha}", huge_server.url()), &huge_path);
    let found = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-alpha"), &version("1.0"), &file))
        .expect("metadata through the download");
    assert!(
        matches!(&found.obtained, Obtained::Download { why } if why.contains("central directory is 2147483647 bytes")),
        "{:?}",
        found.obtained
    );
    let requests = huge_server.requests();
    assert_eq!(
        requests
            .iter()
            .map(|(_, range)| range.clone())
            .collect::<Vec<_>>(),
        [Some(format!("bytes=-{TAIL_LEN}")), None],
        "one tail range, then the plain download"
    );
}

#[test]
fn devpi_serves_pep658_files_only_with_enable_core_metadata() {
    let alpha = "ww_alpha-1.0-py3-none-any.whl";
    let with = DevpiServer::private_with(&["--enable-core-metadata"]);
    let mut found = Vec::new();
    for server in [&with, devpi()] {
        let user = server.new_user("meta");
        let index = user.create_index("dev", &[], true);
        user.upload("dev", &fixture_dist(alpha));
        let files = listed(&format!("{index}/+simple/"), "ww-alpha");
        let file = file_named(&files, alpha).clone();
        let cache = tempfile::tempdir().unwrap();
        let metadata = runtime()
            .block_on(fetcher(cache.path()).wheel(&name("ww-alpha"), &version("1.0"), &file))
            .expect("metadata");
        found.push((file.metadata_file, metadata.obtained));
    }
    // devpi-server 6.20 offers the file without a hash, and only when asked to.
    assert_eq!(
        found[0],
        (
            MetadataFile::Offered { sha256: None },
            Obtained::MetadataFile
        )
    );
    assert_eq!(found[1].0, MetadataFile::NotOffered);
    // Nor does it honour `Range` on its file URLs: the one GET streams into the store.
    assert!(
        matches!(&found[1].1, Obtained::Download { why } if why.contains("ignores Range")),
        "{:?}",
        found[1]
    );
    with.assert_no_tracebacks();
}

#[test]
fn pypiserver_listings_take_the_range_path() {
    let big = "ww_big-1.0-py3-none-any.whl";
    let served = served_dir(&[big]);
    let server = Pypiserver::start(served.path(), None);
    let files = listed(&format!("{}/simple/", server.url()), "ww-big");
    let file = file_named(&files, big);
    assert_eq!(file.metadata_file, MetadataFile::NotOffered);
    let cache = tempfile::tempdir().unwrap();
    let found = runtime()
        .block_on(fetcher(cache.path()).wheel(&name("ww-big"), &version("1.0"), file))
        .expect("metadata");
    assert!(
        matches!(found.obtained, Obtained::Range { received, .. } if received <= TAIL_LEN),
        "{:?}",
        found.obtained
    );
    server.assert_no_tracebacks();
}
