//! The target index: a devpi index, any index with the standard upload API, or a directory.

use std::path::PathBuf;

use pep508_rs::PackageName;
use url::Url;

use super::IndexFile;
use super::devpi::DevpiIndex;
use super::error::IndexError;
use super::http::HttpClient;
use super::safe_url::redact;
use super::simple::fetch_project;
use super::upstream_source::Source;

pub enum Target {
    /// `http://host/user/index`: checked and uploaded through devpi's own API.
    Devpi(DevpiIndex),
    /// Any index with the standard ("legacy") upload API: presence is read from its simple
    /// URL, uploads go to `upload` (pypiserver, Artifactory, Nexus).
    Simple { simple: Url, upload: Url },
    /// A local directory: wheels side by side plus a PEP 503 `simple/` tree.
    Directory { path: PathBuf, listing: Source },
}

impl Target {
    /// Works out what kind of target `spec` is. Paths and `file:` URLs are directories. For
    /// http(s), a URL whose last segment is `simple` (or any URL given with `upload_url`) is a
    /// generic index; otherwise devpi's `+api` must answer, or the URL is refused.
    pub async fn detect(
        spec: &str,
        upload_url: Option<&str>,
        client: &HttpClient,
    ) -> Result<Target, IndexError> {
        let url = match Url::parse(spec) {
            Ok(url) if url.scheme() == "file" => {
                let path = url.to_file_path().map_err(|_| {
                    IndexError::Config(format!("target `{spec}` is not a usable file URL"))
                })?;
                return Ok(Target::directory(path));
            }
            Ok(url) if matches!(url.scheme(), "http" | "https") => {
                client.adopt_url_credentials(&url)
            }
            Ok(url) if spec.len() > 2 => {
                return Err(IndexError::Config(format!(
                    "target `{}`: unsupported URL scheme `{}`; expected http(s)://, file:// or a directory",
                    redact(&url),
                    url.scheme()
                )));
            }
            _ => return Ok(Target::directory(PathBuf::from(spec))),
        };
        let last = url
            .path_segments()
            .and_then(|mut s| s.rfind(|p| !p.is_empty()).map(String::from))
            .unwrap_or_default();
        if url
            .path_segments()
            .is_some_and(|mut s| s.any(|p| p == "+simple"))
        {
            // Refused with the URL to use (devpi answers 200 to uploads there, storing nothing).
            return Err(DevpiIndex::from_url(&url).unwrap_err());
        }
        if last == "simple" || upload_url.is_some() {
            let upload = match upload_url {
                Some(u) => client.adopt_url_credentials(&Url::parse(u).map_err(|e| {
                    IndexError::Config(format!(
                        "--upload-url `{}` is not a URL: {e}",
                        super::redact_str(u)
                    ))
                })?),
                None => default_upload_url(&url),
            };
            return Ok(Target::Simple {
                simple: url,
                upload,
            });
        }
        let mut index = DevpiIndex::from_url(&url)?;
        match index.api(client).await {
            Ok(info) if info.pypisubmit.is_some() || info.simpleindex.is_some() => {
                index.serial = info.serial;
                Ok(Target::Devpi(index))
            }
            Ok(_) => Err(IndexError::NotAnIndex {
                url: redact(&url),
                expected: "an index that accepts uploads",
                detail: "devpi lists no upload URL for it (a mirror index?)".into(),
            }),
            Err(IndexError::NotAnIndex { detail, .. }) => Err(IndexError::NotAnIndex {
                url: redact(&url),
                expected: "a devpi index",
                detail: format!(
                    "{detail}; for pypiserver, Artifactory or Nexus give the simple URL (ending in /simple/) and --upload-url"
                ),
            }),
            Err(e) => Err(e),
        }
    }

    pub fn directory(path: PathBuf) -> Target {
        Target::Directory {
            listing: Source::directory(path.clone()),
            path,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Devpi(index) => redact(&index.url()),
            Target::Simple { simple, .. } => redact(simple),
            Target::Directory { path, .. } => path.display().to_string(),
        }
    }

    /// The files the target holds for a project (`own_only`: devpi's own stage only).
    /// Entries the target lists but that cannot be used are left out: nothing is fetched
    /// from a target, a listed file only tells that a wheel is present.
    pub async fn project_files(
        &self,
        client: &HttpClient,
        name: &PackageName,
        own_only: bool,
    ) -> Result<Option<Vec<IndexFile>>, IndexError> {
        let listing = match self {
            Target::Devpi(index) => index.project_files(client, name, own_only).await?,
            Target::Simple { simple, .. } => fetch_project(client, simple, name).await?,
            Target::Directory { path, listing } => {
                if !path.exists() {
                    return Ok(None);
                }
                let mut listing = listing.project_files(client, name).await?;
                if let Some(listing) = &mut listing {
                    hashes_from_page(path, name, &mut listing.files);
                }
                listing
            }
        };
        Ok(listing.map(|l| l.files))
    }
}

/// A directory target's files carry the sha256 its project page gives them: the page is
/// what installers check the bytes against, and reading it costs the project's links,
/// where hashing every present wheel on each no-op would cost every byte of the target. The
/// JSON page (written since the directory target serves PEP 691) also gives PEP 700's size
/// and upload time; a project written before it has its HTML page only.
fn hashes_from_page(dir: &std::path::Path, name: &PackageName, files: &mut [IndexFile]) {
    let Some(page) = directory_project_page(&dir.join("simple").join(name.as_ref())) else {
        return;
    };
    let listed: std::collections::HashMap<_, _> = page
        .files
        .into_iter()
        .map(|f| (f.filename.clone(), f))
        .collect();
    for file in files.iter_mut() {
        let Some(page) = listed.get(&file.filename) else {
            continue;
        };
        if file.sha256.is_none() {
            file.sha256 = page.sha256.clone();
        }
        file.size = file.size.or(page.size);
        file.upload_time = file.upload_time.or(page.upload_time);
    }
}

/// A directory target's project page as written in `project_dir` (`simple/<project>/`): the
/// PEP 691 JSON page, else the PEP 503 HTML page an older wheelwright wrote alone. `None`
/// when neither can be read or parsed.
pub fn directory_project_page(project_dir: &std::path::Path) -> Option<super::Listing> {
    type Parse = fn(&str, &Url) -> Result<super::Listing, super::ListingError>;
    let read = |page: &str, parse: Parse| {
        let path = project_dir.join(page);
        let body = std::fs::read_to_string(&path).ok()?;
        parse(&body, &Url::from_file_path(&path).ok()?).ok()
    };
    read("index.json", super::simple::parse_json)
        .or_else(|| read("index.html", super::simple::parse_html))
}

/// pypiserver, Artifactory and Nexus all serve the simple index at `<upload URL>/simple/`, so
/// the upload URL defaults to the simple URL without its last segment.
fn default_upload_url(simple: &Url) -> Url {
    let mut upload = simple.clone();
    let path = simple.path().trim_end_matches('/');
    let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    upload.set_path(&format!("{parent}/"));
    upload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_url_is_the_simple_urls_parent() {
        let simple = Url::parse("http://h:8080/simple/").unwrap();
        assert_eq!(default_upload_url(&simple).as_str(), "http://h:8080/");
        let nexus = Url::parse("https://n/repository/py/simple").unwrap();
        assert_eq!(
            default_upload_url(&nexus).as_str(),
            "https://n/repository/py/"
        );
    }
}
