//! Metadata without downloading every wheel (issue 13): PEP 658 files, range requests into
//! the central directory, the download fallback, the cache by sha256, the prepare hook for
//! sdists, and the resolver's source over a real index. Real servers: nginx (static files,
//! honours ranges), devpi-server (with and without `--enable-core-metadata`), pypiserver,
//! and a canned server for the lies no real server tells.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use wheelwright::distribution::{Sha256, sha256_file};
use wheelwright::index::{ClientConfig, HttpClient, IndexFile, MetadataFile, Source, Upstream};
use wheelwright::metadata::MetadataFetcher;
use wheelwright::store::Store;

use crate::support::{fixture_dist, temp_prefix};

mod prepare;
mod ranges;
mod resolver;

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
        filename: wheelwright::distribution::SafeFilename::new(
            path.file_name()
                .and_then(|n| n.to_str())
                .expect("file name"),
        )
        .expect("safe name"),
        url: url::Url::parse(url).expect("URL"),
        sha256: Some(Sha256::new(&sha256_file(path).expect("hash")).expect("sha256")),
        size: Some(std::fs::metadata(path).expect("size").len()),
        upload_time: None,
        requires_python: None,
        yanked: None,
        stage: None,
        metadata_file: MetadataFile::NotOffered,
    }
}

fn python() -> PathBuf {
    PathBuf::from("/usr/bin/python3")
}
