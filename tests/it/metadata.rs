//! Metadata without downloading every wheel (issue 13): PEP 658 files, range requests into
//! the central directory, the download fallback, the cache by sha256, the prepare hook for
//! sdists, and the resolver's source over a real index. Real servers: nginx (static files,
//! honours ranges), devpi-server (with and without `--enable-core-metadata`), pypiserver,
//! and a canned server for the lies no real server tells.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;
use wheelwright::dist::{Sha256, read_wheel_metadata_bytes, sha256_file};
use wheelwright::index::{ClientConfig, HttpClient, IndexFile, MetadataFile, Source, Upstream};
use wheelwright::metadata::{FetchError, MetadataFetcher, Obtained, zip::TAIL_LEN};
use wheelwright::store::Store;

use crate::support::{
    Body, CannedServer, DevpiServer, Pypiserver, Reply, StaticNginx, devpi, fixture_dist,
    temp_prefix,
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

fn client() -> HttpClient {
    HttpClient::new(ClientConfig {
        retries: 0,
        ..ClientConfig::default()
    })
    .expect("client")
}

fn name(s: &str) -> PackageName {
    PackageName::from_str(s).expect("name")
}

fn version(s: &str) -> Version {
    Version::from_str(s).expect("version")
}

fn fetcher(cache: &Path) -> MetadataFetcher {
    MetadataFetcher::new(client(), Store::new(cache), cache)
}

/// The listing of `project` through a simple index at `base`.
fn listed(base: &str, project: &str) -> Vec<IndexFile> {
    let client = client();
    let upstream = Upstream::new(vec![Source::index_url(base, &client).expect("index URL")]);
    runtime()
        .block_on(upstream.project_files(&client, &name(project)))
        .expect("listing")
        .expect("the project is listed")
}

fn file_named<'a>(files: &'a [IndexFile], filename: &str) -> &'a IndexFile {
    files
        .iter()
        .find(|f| f.filename.as_str() == filename)
        .unwrap_or_else(|| panic!("{filename} not in {files:?}"))
}

/// A directory nginx's workers can read, holding copies of `fixtures`.
fn served_dir(fixtures: &[&str]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(&temp_prefix("metadata-served"))
        .tempdir_in("/tmp")
        .expect("served dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for fixture in fixtures {
        let to = dir.path().join(fixture);
        std::fs::copy(fixture_dist(fixture), &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    dir
}

fn index_file(url: &str, path: &Path) -> IndexFile {
    IndexFile {
        filename: wheelwright::dist::SafeFilename::new(
            path.file_name()
                .and_then(|n| n.to_str())
                .expect("file name"),
        )
        .expect("safe name"),
        url: url::Url::parse(url).expect("URL"),
        sha256: Some(Sha256::new(&sha256_file(path).expect("hash")).expect("sha256")),
        size: Some(std::fs::metadata(path).expect("size").len()),
        requires_python: None,
        yanked: None,
        stage: None,
        metadata_file: MetadataFile::NotOffered,
    }
}

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

fn python() -> PathBuf {
    PathBuf::from("/usr/bin/python3")
}

#[test]
fn an_sdist_only_project_gets_its_metadata_from_the_prepare_hook_once() {
    use wheelwright::build::{Builder, BuilderOptions, FindLinksDir, PreparedFrom};
    wheelwright::build::set_sandbox_launcher(env!("CARGO_BIN_EXE_wheelwright").into());
    let rt = runtime();
    let interpreter = Arc::new(
        rt.block_on(wheelwright::interpreter::probe(&python()))
            .expect("probe python3"),
    );
    let cache = tempfile::tempdir().unwrap();
    let builder = Arc::new(
        Builder::new(
            BuilderOptions::new(cache.path()),
            Arc::new(FindLinksDir::new(
                fixture_dist("ww_charlie-1.0.tar.gz").parent().unwrap(),
            )),
        )
        .expect("builder"),
    );
    let dist = crate::support::fixtures_dir().join("dist");
    let upstream = Upstream::new(vec![Source::directory(&dist)]);
    let files = rt
        .block_on(upstream.project_files(&client(), &name("ww-charlie")))
        .unwrap()
        .unwrap();
    let sdist = file_named(&files, "ww_charlie-1.0.tar.gz");
    let fetcher = fetcher(cache.path()).with_builder(builder, Default::default());
    let found = rt
        .block_on(fetcher.sdist(&name("ww-charlie"), &version("1.0"), sdist, &interpreter))
        .expect("prepared metadata");
    assert_eq!(found.obtained, Obtained::Prepared(PreparedFrom::Hook));
    assert_eq!(found.metadata.name, "ww-charlie");
    let again = rt
        .block_on(fetcher.sdist(&name("ww-charlie"), &version("1.0"), sdist, &interpreter))
        .expect("cached metadata");
    assert_eq!(again.obtained, Obtained::Cache);
    assert_eq!(again.metadata, found.metadata);
}

/// A minimal valid wheel `{name}-{version}-py3-none-any.whl` in `dir` with these
/// `Requires-Dist` lines and extras.
fn make_wheel(dir: &Path, project: &str, version: &str, requires: &[&str], extras: &[&str]) {
    make_wheel_with(dir, project, version, requires, extras, "");
}

/// [`make_wheel`] with more METADATA header lines.
fn make_wheel_with(
    dir: &Path,
    project: &str,
    version: &str,
    requires: &[&str],
    extras: &[&str],
    headers: &str,
) {
    use std::io::Write;
    let dist = project.replace('-', "_");
    let info = format!("{dist}-{version}.dist-info");
    let mut metadata =
        format!("Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n{headers}");
    for extra in extras {
        metadata.push_str(&format!("Provides-Extra: {extra}\n"));
    }
    for line in requires {
        metadata.push_str(&format!("Requires-Dist: {line}\n"));
    }
    let members = [
        (format!("{dist}/__init__.py"), String::new()),
        (format!("{info}/METADATA"), metadata),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: wheelwright-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_string(),
        ),
    ];
    let path = dir.join(format!("{dist}-{version}-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let mut record = String::new();
    for (member, content) in &members {
        zip.start_file(member.as_str(), options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
        record.push_str(&format!("{member},,\n"));
    }
    zip.start_file(format!("{info}/RECORD"), options).unwrap();
    record.push_str(&format!("{info}/RECORD,,\n"));
    zip.write_all(record.as_bytes()).unwrap();
    zip.finish().unwrap();
}

#[test]
fn the_resolver_walks_a_closure_over_pypiserver_with_range_reads_and_then_the_cache() {
    use wheelwright::metadata::{IndexMetadataSource, SourceOptions};
    use wheelwright::resolve::{Line, Options, Via, resolve};
    let packages = tempfile::tempdir().unwrap();
    let p = packages.path();
    make_wheel(
        p,
        "ww-top",
        "1.0",
        &[
            "ww-mid>=1",
            "ww-rp",
            "ww-fast-dep; extra == \"fast\"",
            "ww-never; python_version < \"3\"",
        ],
        &["fast"],
    );
    make_wheel(p, "ww-mid", "1.0", &["ww-leaf"], &[]);
    // A cycle back to the root, and a bound that keeps the older leaf.
    make_wheel(p, "ww-mid", "2.0", &["ww-leaf<2", "ww-top"], &[]);
    make_wheel(p, "ww-leaf", "1.0", &[], &[]);
    make_wheel(p, "ww-leaf", "2.0", &[], &[]);
    make_wheel(p, "ww-fast-dep", "1.0", &[], &[]);
    // Requires-Python only in METADATA (pypiserver lists none): 2.0 is skipped, as pip does.
    make_wheel(p, "ww-rp", "1.0", &[], &[]);
    make_wheel_with(p, "ww-rp", "2.0", &[], &[], "Requires-Python: <3\n");
    let server = Pypiserver::start(p, None);
    let rt = runtime();
    let interpreter = Arc::new(
        rt.block_on(wheelwright::interpreter::probe(&python()))
            .expect("probe python3"),
    );
    let cache = tempfile::tempdir().unwrap();
    let roots = vec![Line::new(
        pep508_rs::Requirement::from_str("ww-top[fast]").unwrap(),
        "requirements.txt:1",
    )];
    let solve = || {
        let client = client();
        let upstream = Upstream::new(vec![
            Source::index_url(&format!("{}/simple/", server.url()), &client).unwrap(),
        ]);
        let source = IndexMetadataSource::new(
            rt.handle().clone(),
            Arc::new(upstream),
            client,
            fetcher(cache.path()),
            Arc::clone(&interpreter),
            SourceOptions::default(),
        );
        // The solver blocks on the runtime's handle: it runs on this (non-runtime) thread.
        resolve(
            &source,
            &interpreter.markers,
            &roots,
            &[],
            Options::default(),
        )
        .expect("a solution")
    };
    let resolution = solve();
    let pins = resolution.pins();
    assert_eq!(
        pins,
        [
            "ww-fast-dep 1.0",
            "ww-leaf 1.0",
            "ww-mid 2.0",
            "ww-rp 1.0",
            "ww-top 1.0"
        ],
        "{resolution:?}"
    );
    let leaf = &resolution.packages[&name("ww-leaf")];
    assert!(leaf.via.contains(&Via::Package {
        name: name("ww-mid"),
        version: version("2.0"),
        extra: None,
    }));
    // Each chosen wheel's METADATA is cached by its sha256 (pypiserver lists it).
    let cached = walk_files(&cache.path().join("metadata/wheel"));
    assert_eq!(cached, 6, "one entry per wheel read (ww-rp 2.0 too)");
    assert!(
        !cache.path().join("store").exists() || walk_files(&cache.path().join("store/sha256")) == 0,
        "range reads download no wheel"
    );
    // The second solve reads every METADATA from the cache.
    assert_eq!(solve().pins(), pins);
    assert_eq!(walk_files(&cache.path().join("metadata/wheel")), 6);
    server.assert_no_tracebacks();
}

fn walk_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() { walk_files(&path) } else { 1 }
        })
        .sum()
}

/// `ww_charlie-1.0.tar.gz` rebuilt with an in-tree back end that wraps the fixture back end
/// but has no `prepare_metadata_for_build_wheel`.
fn charlie_without_prepare_hook(dir: &Path) -> PathBuf {
    let original = std::fs::File::open(fixture_dist("ww_charlie-1.0.tar.gz")).unwrap();
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(original));
    let path = dir.join("ww_charlie-1.0.tar.gz");
    let out = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    let mut output = tar::Builder::new(out);
    let mut add = |name: &str, content: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        output.append_data(&mut header, name, content).unwrap();
    };
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        if name.ends_with("pyproject.toml") {
            content = String::from_utf8(content)
                .unwrap()
                .replace(
                    "build-backend = \"wheelwright_fixture_backend\"",
                    "build-backend = \"ww_nohook\"",
                )
                .into_bytes();
        }
        add(&name, &content);
    }
    add(
        "ww_charlie-1.0/_backend/ww_nohook.py",
        b"from wheelwright_fixture_backend import build_wheel, get_requires_for_build_wheel\n",
    );
    output.into_inner().unwrap().finish().unwrap();
    path
}

#[test]
fn a_back_end_without_the_prepare_hook_gets_its_metadata_from_the_built_wheel() {
    use wheelwright::build::{Builder, BuilderOptions, FindLinksDir, PreparedFrom};
    wheelwright::build::set_sandbox_launcher(env!("CARGO_BIN_EXE_wheelwright").into());
    let rt = runtime();
    let interpreter = Arc::new(
        rt.block_on(wheelwright::interpreter::probe(&python()))
            .expect("probe python3"),
    );
    let dists = tempfile::tempdir().unwrap();
    charlie_without_prepare_hook(dists.path());
    let cache = tempfile::tempdir().unwrap();
    let builder = Arc::new(
        Builder::new(
            BuilderOptions::new(cache.path()),
            Arc::new(FindLinksDir::new(dists.path())),
        )
        .expect("builder"),
    );
    let upstream = Upstream::new(vec![Source::directory(dists.path())]);
    let files = rt
        .block_on(upstream.project_files(&client(), &name("ww-charlie")))
        .unwrap()
        .unwrap();
    let fetcher = fetcher(cache.path()).with_builder(builder, Default::default());
    let found = rt
        .block_on(fetcher.sdist(
            &name("ww-charlie"),
            &version("1.0"),
            &files[0],
            &interpreter,
        ))
        .expect("metadata of the built wheel");
    assert_eq!(found.obtained, Obtained::Prepared(PreparedFrom::BuiltWheel));
    assert_eq!(found.metadata.name, "ww-charlie");
    assert_eq!(found.metadata.version, "1.0");
}
