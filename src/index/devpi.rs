//! devpi-server's JSON API (verified against devpi-server 6.20.3; see docs/devpi-protocol.md).
//!
//! A devpi index is addressed as `http://host[:port][/prefix]/{user}/{index}`. A project's
//! files, inherited ones included, come from its `+simple/` page (PEP 691 JSON), what pip
//! sees; the stage's own files from `GET /{user}/{index}/{project}?ignore_bases` with
//! `Accept: application/json`, whose version keys are the raw uploaded strings (`1.0` and
//! `1.0.0` are two keys), so callers compare versions with PEP 440 equality and files by
//! filename.

use pep508_rs::PackageName;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::body::listing_text;
use super::error::{IndexError, ListingError};
use super::file::{Listing, RawEntry, percent_decoded};
use super::http::{Credentials, HttpClient, status_error, transport_error};
use super::safe_url::redact;
use super::simple::{devpi_stage, fetch_project, take_sha256_fragment};

const JSON: &str = "application/json";

/// How many stages an inheritance chain may have before the configuration is refused (devpi
/// allows cycles to be configured only by mistake; real chains have a handful).
pub const MAX_STAGES: usize = 64;

/// A devpi stage (`user/index`) on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevpiIndex {
    /// The server root including any path prefix, with a trailing slash.
    pub root: Url,
    pub user: String,
    pub index: String,
    /// `X-Devpi-Serial` when the index was first asked (`+api`): the serial of devpi's
    /// whole database. While it does not move, nothing on the server changed.
    pub serial: Option<u64>,
}

/// A JSON answer of devpi, read with the listings' bound (a server that sends an endless
/// body must not take all memory).
async fn json_body(url: &Url, response: reqwest::Response) -> Result<Value, IndexError> {
    let body = listing_text(url, response).await?;
    serde_json::from_str(&body).map_err(|e| IndexError::BadResponse {
        url: redact(url),
        detail: format!("the answer is not JSON: {e}"),
    })
}

/// devpi's `X-Devpi-Serial` (the serial of its whole database), when sent and a number.
pub(crate) fn serial_header(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get("X-Devpi-Serial")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// What `GET /{user}/{index}/+api` says.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiInfo {
    pub login: Option<String>,
    #[serde(default)]
    pub authstatus: Vec<Value>,
    pub index: Option<String>,
    pub simpleindex: Option<String>,
    pub pypisubmit: Option<String>,
    #[serde(skip)]
    pub serial: Option<u64>,
}

/// The parts of an index configuration wheelwright acts on.
#[derive(Debug, Clone, Deserialize)]
pub struct IndexConfig {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "list_or_csv")]
    pub bases: Vec<String>,
    #[serde(default, deserialize_with = "list_or_csv")]
    pub acl_upload: Vec<String>,
    #[serde(default, deserialize_with = "list_or_csv")]
    pub mirror_whitelist: Vec<String>,
    #[serde(default)]
    pub mirror_whitelist_inheritance: Option<String>,
    #[serde(default)]
    pub volatile: Option<Value>,
    /// A mirror's `mirror_cache_expiry` (seconds; devpi sends a number or a string): how long
    /// devpi serves a mirrored project page without asking its upstream again.
    #[serde(default)]
    pub mirror_cache_expiry: Option<Value>,
}

/// Why an index configuration answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IndexConfigError {
    #[error("the index configuration is not JSON: {0}")]
    Json(String),
    #[error("unexpected index configuration: {0}")]
    Shape(String),
}

/// The `result` of `GET /{user}/{index}?no_projects` (devpi's JSON answer `{"result": {...}}`).
/// A missing `result` is reported as the shape error serde gives for `null`.
pub fn parse_index_config(body: &str) -> Result<IndexConfig, IndexConfigError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| IndexConfigError::Json(e.to_string()))?;
    let result = value.get("result").cloned().unwrap_or(Value::Null);
    serde_json::from_value(result).map_err(|e| IndexConfigError::Shape(e.to_string()))
}

fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    })
}

impl DevpiIndex {
    /// Reads `http://host/[prefix/]user/index[/]`. `+simple` URLs are refused with the URL
    /// to use instead: devpi answers 200 to uploads there and stores nothing (devpi#1097).
    pub fn from_url(url: &Url) -> Result<DevpiIndex, IndexError> {
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        if let Some(pos) = segments.iter().position(|s| *s == "+simple") {
            let mut fixed = url.clone();
            fixed.set_path(&format!("/{}", segments[..pos].join("/")));
            return Err(IndexError::Config(format!(
                "{} is devpi's simple page, not an index: uploads there answer 200 and store nothing; use {} instead",
                redact(url),
                redact(&fixed)
            )));
        }
        if segments.len() < 2 {
            return Err(IndexError::Config(format!(
                "{} does not name a devpi index: expected http://host/USER/INDEX",
                redact(url)
            )));
        }
        let (user, index) = (segments[segments.len() - 2], segments[segments.len() - 1]);
        let mut root = url.clone();
        root.set_path(&format!(
            "/{}",
            segments[..segments.len() - 2]
                .iter()
                .map(|s| format!("{s}/"))
                .collect::<String>()
        ));
        root.set_query(None);
        root.set_fragment(None);
        Ok(DevpiIndex {
            root,
            user: user.to_string(),
            index: index.to_string(),
            serial: None,
        })
    }

    /// A base named in a stage's configuration (`user/index`), on the same server. The name
    /// comes from the server and goes into URLs, so it must be a name devpi itself accepts
    /// (`model.is_valid_name`: no control characters, no space, none of
    /// ``!"#$%&'()*+,/:;<=>?[\]^`{|}~``), and not `.` or `..`.
    pub fn base(&self, name: &str) -> Result<DevpiIndex, IndexError> {
        let valid = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && !part
                    .chars()
                    .any(|c| c.is_control() || " !\"#$%&'()*+,/:;<=>?[\\]^`{|}~".contains(c))
        };
        match name.split_once('/') {
            Some((user, index)) if valid(user) && valid(index) => Ok(DevpiIndex {
                root: self.root.clone(),
                user: user.to_string(),
                index: index.to_string(),
                serial: None,
            }),
            _ => Err(IndexError::BadResponse {
                url: redact(&self.url()),
                detail: format!(
                    "its configuration names the base `{}`, which is not a devpi USER/INDEX",
                    name.escape_debug()
                ),
            }),
        }
    }

    /// This stage's configuration and those of its bases, breadth-first from this stage
    /// (devpi's stage resolution order), each stage once; at most [`MAX_STAGES`] stages.
    pub async fn inheritance(
        &self,
        client: &HttpClient,
    ) -> Result<Vec<(DevpiIndex, IndexConfig)>, IndexError> {
        let mut chain = Vec::new();
        let mut queue = std::collections::VecDeque::from([self.clone()]);
        let mut seen = std::collections::HashSet::new();
        while let Some(stage) = queue.pop_front() {
            if !seen.insert(stage.stage()) {
                continue;
            }
            if seen.len() > MAX_STAGES {
                return Err(IndexError::BadResponse {
                    url: redact(&self.url()),
                    detail: format!("more than {MAX_STAGES} stages in its inheritance chain"),
                });
            }
            let config = stage.config(client).await?;
            for base in &config.bases {
                queue.push_back(stage.base(base)?);
            }
            chain.push((stage, config));
        }
        Ok(chain)
    }

    pub fn stage(&self) -> String {
        format!("{}/{}", self.user, self.index)
    }

    /// `http://host/user/index` (no trailing slash).
    pub fn url(&self) -> Url {
        self.root
            .join(&format!("{}/{}", self.user, self.index))
            .expect("valid index path")
    }

    /// The upload endpoint: `POST /{user}/{index}/`.
    pub fn upload_url(&self) -> Url {
        self.root
            .join(&format!("{}/{}/", self.user, self.index))
            .expect("valid index path")
    }

    pub fn simple_url(&self) -> Url {
        self.root
            .join(&format!("{}/{}/+simple/", self.user, self.index))
            .expect("valid index path")
    }

    fn project_url(&self, name: &PackageName, own_only: bool) -> Url {
        let mut url = self
            .root
            .join(&format!("{}/{}/{}", self.user, self.index, name))
            .expect("valid project path");
        if own_only {
            url.set_query(Some("ignore_bases"));
        }
        url
    }

    /// Probes `+api`: tells a devpi index from anything else and, with credentials set,
    /// whether they are accepted (`authstatus[0] == "ok"`).
    pub async fn api(&self, client: &HttpClient) -> Result<ApiInfo, IndexError> {
        let url = self
            .root
            .join(&format!("{}/{}/+api", self.user, self.index))
            .expect("valid api path");
        let response = client.get(&url, JSON).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(IndexError::NotAnIndex {
                url: redact(&self.url()),
                expected: "a devpi index",
                detail: "no such index (404)".into(),
            });
        }
        if !response.status().is_success() {
            return Err(status_error(&url, response).await);
        }
        let serial = serial_header(response.headers());
        let body = listing_text(&url, response).await?;
        let value: Value = serde_json::from_str(&body).map_err(|_| IndexError::NotAnIndex {
            url: redact(&self.url()),
            expected: "a devpi index",
            detail: "its +api answer is not JSON".into(),
        })?;
        let mut info: ApiInfo =
            serde_json::from_value(value.get("result").cloned().unwrap_or(value)).map_err(|e| {
                IndexError::NotAnIndex {
                    url: redact(&self.url()),
                    expected: "a devpi index",
                    detail: format!("unexpected +api answer: {e}"),
                }
            })?;
        info.serial = serial;
        Ok(info)
    }

    /// `GET /{user}/{index}?no_projects`: type, bases, acl_upload, mirror_whitelist.
    pub async fn config(&self, client: &HttpClient) -> Result<IndexConfig, IndexError> {
        let mut url = self.url();
        url.set_query(Some("no_projects"));
        let response = client.get(&url, JSON).await?;
        if !response.status().is_success() {
            return Err(status_error(&url, response).await);
        }
        // The server's answer is outside data: read with the listings' size limit.
        let body = listing_text(&url, response).await?;
        parse_index_config(&body).map_err(|e| IndexError::BadResponse {
            url: redact(&url),
            detail: e.to_string(),
        })
    }

    /// `POST /+login`; on success the token is used for every later request to this server.
    pub async fn login(
        &self,
        client: &HttpClient,
        user: &str,
        password: &str,
        proxy_basic: Option<(String, String)>,
    ) -> Result<(), IndexError> {
        if password.starts_with("devpi-") {
            return self.use_token(client, user, password, proxy_basic).await;
        }
        let url = self.root.join("+login").expect("valid login path");
        let response = client
            .reqwest()
            .post(url.clone())
            // A reverse proxy's basic auth (from the URL) must reach the login too.
            .headers(client.auth_headers(&url))
            .header(reqwest::header::ACCEPT, JSON)
            .json(&serde_json::json!({"user": user, "password": password}))
            .send()
            .await
            .map_err(|e| transport_error(&url, &e))?;
        if !response.status().is_success() {
            return Err(match status_error(&url, response).await {
                IndexError::Unauthorized { url, status, .. }
                | IndexError::Status { url, status, .. }
                    if status == 401 || status == 403 =>
                {
                    IndexError::Unauthorized {
                        url,
                        status,
                        hint: format!(": devpi login as `{user}` failed"),
                    }
                }
                other => other,
            });
        }
        let value = json_body(&url, response).await?;
        let token = value
            .pointer("/result/password")
            .and_then(Value::as_str)
            .ok_or_else(|| IndexError::BadResponse {
                url: redact(&url),
                detail: "login answer has no token".into(),
            })?;
        client.set_credentials(
            &self.root,
            Credentials::Devpi {
                user: user.to_string(),
                token: token.to_string(),
                proxy_basic,
            },
        );
        Ok(())
    }

    /// devpi-tokens (`devpi-...` macaroons) are credentials themselves: `/+login` refuses
    /// them, every other request accepts them in `X-Devpi-Auth`. Checked once with `+api`.
    async fn use_token(
        &self,
        client: &HttpClient,
        user: &str,
        token: &str,
        proxy_basic: Option<(String, String)>,
    ) -> Result<(), IndexError> {
        client.set_credentials(
            &self.root,
            Credentials::Devpi {
                user: user.to_string(),
                token: token.to_string(),
                proxy_basic,
            },
        );
        let info = self.api(client).await?;
        match info.authstatus.first().and_then(Value::as_str) {
            Some("ok") => Ok(()),
            _ => Err(IndexError::Unauthorized {
                url: redact(&self.root),
                status: 401,
                hint: format!(": the devpi token for `{user}` was not accepted"),
            }),
        }
    }

    /// Every release file of a project, one request; `Ok(None)` if devpi does not know the
    /// project (404). docs/devpi-protocol.md, "Presence: which page for what", says why:
    ///
    /// * With inherited files (the default): the stage's `+simple/<project>/` page in its
    ///   PEP 691 form, exactly what pip installing from the stage sees (`mirror_whitelist`
    ///   applied). Each file's stage is read from its URL path. devpi builds the project JSON
    ///   of a stage that inherits a mirror version by version (minutes for a project with
    ///   thousands of releases); the simple page takes the mirror's links in one piece.
    /// * With `own_only`: the project JSON with `?ignore_bases`, which answers from the
    ///   stage's own database and asks no base, so a mirror's first contact with a large
    ///   project is not waited for when only the stage's own files count.
    pub async fn project_files(
        &self,
        client: &HttpClient,
        name: &PackageName,
        own_only: bool,
    ) -> Result<Option<Listing>, IndexError> {
        if !own_only {
            return fetch_project(client, &self.simple_url(), name).await;
        }
        let url = self.project_url(name, own_only);
        let response = client.get(&url, JSON).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(status_error(&url, response).await);
        }
        let final_url = response.url().clone();
        let body = listing_text(&url, response).await?;
        parse_project(&body, &final_url)
            .map(Some)
            .map_err(|source| IndexError::Listing {
                url: redact(&url),
                source,
            })
    }
}

/// Reads a `projectconfig` answer: `result` maps raw version strings to versiondata whose
/// `+links` (and those of `+shadowing` entries from other stages) are the files. A version
/// without `+links` has no files. Files are deduplicated by filename, first stage wins, as
/// devpi's own simple page does. The filename is the href's last path segment,
/// percent-decoded, so a `%2F` in it is a `/` and is refused as such.
pub fn parse_project(body: &str, page_url: &Url) -> Result<Listing, ListingError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| ListingError::DevpiJson(e.to_string()))?;
    let result = value
        .get("result")
        .and_then(Value::as_object)
        .ok_or(ListingError::NoDevpiResult)?;
    let index = redact(page_url);
    let mut listing = Listing::default();
    let mut seen = std::collections::HashSet::new();
    for versiondata in result.values() {
        let shadowing = versiondata
            .get("+shadowing")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for data in std::iter::once(versiondata).chain(shadowing.iter()) {
            let requires_python = data
                .get("requires_python")
                .and_then(Value::as_str)
                .filter(|r| !r.trim().is_empty())
                .map(String::from);
            let yanked = match data.get("yanked") {
                Some(Value::String(reason)) => Some(reason.clone()),
                Some(Value::Bool(true)) => Some(String::new()),
                _ => None,
            };
            for link in data
                .get("+links")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if link.get("rel").and_then(Value::as_str) != Some("releasefile") {
                    continue;
                }
                let Some(href) = link.get("href").and_then(Value::as_str) else {
                    continue;
                };
                let mut url = page_url.join(href).map_err(|e| ListingError::Href {
                    href: href.to_string(),
                    detail: e.to_string(),
                })?;
                let fragment_hash = take_sha256_fragment(&mut url);
                let Some(filename) = url
                    .path_segments()
                    .and_then(|mut s| s.next_back())
                    .map(|s| s.to_string())
                else {
                    continue;
                };
                if !seen.insert(filename.clone()) {
                    continue;
                }
                let sha256 = link
                    .pointer("/hashes/sha256")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .or_else(|| {
                        link.get("hash_spec")
                            .and_then(Value::as_str)
                            .and_then(|spec| spec.strip_prefix("sha256="))
                            .map(String::from)
                    })
                    .or(fragment_hash);
                listing.push(
                    &index,
                    RawEntry {
                        stage: devpi_stage(&url),
                        filename: percent_decoded(&filename),
                        url,
                        sha256,
                        size: None,
                        upload_time: upload_time(link),
                        requires_python: requires_python.clone(),
                        yanked: yanked.clone(),
                        // devpi's project JSON does not say; its simple page may.
                        metadata_file: super::MetadataFile::NotOffered,
                    },
                );
            }
        }
    }
    Ok(listing)
}

/// When devpi stored the file: the `when` of its file log's `upload` entry, six numbers of
/// UTC (`[2026, 12, 8, 0, 50, 15]`, devpi-server 6.20). A mirror's files have no such entry.
fn upload_time(link: &Value) -> Option<crate::timestamp::Timestamp> {
    let entry = link
        .get("log")?
        .as_array()?
        .iter()
        .find(|entry| entry.get("what").and_then(Value::as_str) == Some("upload"))?;
    let when: Vec<u64> = entry
        .get("when")?
        .as_array()?
        .iter()
        .map(Value::as_u64)
        .collect::<Option<_>>()?;
    let [year, month, day, hour, minute, second] = when[..] else {
        return None;
    };
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_file_logs_upload_entry_is_the_upload_time() {
        let link = |log: &str| -> serde_json::Value {
            serde_json::from_str(&format!(r#"{{"rel": "releasefile", "log": {log}}}"#)).unwrap()
        };
        let uploaded = link(
            r#"[{"what": "overwrite", "when": [2025, 1, 1, 0, 0, 0]},
                {"what": "upload", "who": "root", "when": [2026, 12, 8, 0, 50, 15], "dst": "root/dev"}]"#,
        );
        assert_eq!(
            super::upload_time(&uploaded)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-12-08T00:50:15Z")
        );
        for none in [
            r#"[]"#,
            r#"[{"what": "upload", "when": [2026, 13, 1, 0, 0, 0]}]"#,
            r#"[{"what": "upload", "when": "yesterday"}]"#,
        ] {
            assert_eq!(super::upload_time(&link(none)), None, "{none}");
        }
    }

    #[test]
    fn bases_are_devpi_names_on_the_same_server() {
        let stage =
            super::DevpiIndex::from_url(&url::Url::parse("http://h:3141/prefix/team/dev").unwrap())
                .unwrap();
        for good in ["root/pypi", "team/dev-1.x", "user@corp/idx_2", "ünï/cödé"] {
            let base = stage.base(good).unwrap();
            assert_eq!(base.stage(), good);
            assert_eq!(base.root, stage.root);
        }
        for bad in [
            "//evil.example/x",
            "../x",
            "a/..",
            "a/b/c",
            "a/b?x=1",
            "a/b#f",
            "a /b",
            "a/b\n",
            "noslash",
            "/x",
            "a/",
            "a%2Fb/c",
        ] {
            let e = stage.base(bad).unwrap_err().to_string();
            assert!(e.contains("not a devpi USER/INDEX"), "{bad}: {e}");
        }
    }

    use super::*;

    #[test]
    fn parses_index_urls_with_prefix() {
        let idx =
            DevpiIndex::from_url(&Url::parse("https://h:8443/devpi/alice/team/").unwrap()).unwrap();
        assert_eq!(idx.root.as_str(), "https://h:8443/devpi/");
        assert_eq!(idx.stage(), "alice/team");
        assert_eq!(
            idx.upload_url().as_str(),
            "https://h:8443/devpi/alice/team/"
        );
        let name = PackageName::new("Foo_Bar".into()).unwrap();
        assert_eq!(
            idx.project_url(&name, true).as_str(),
            "https://h:8443/devpi/alice/team/foo-bar?ignore_bases"
        );
    }

    #[test]
    fn index_configurations_read_bases_as_list_or_csv_and_fail_with_a_reason() {
        let config = parse_index_config(
            r#"{"result": {"type": "stage", "bases": "root/pypi, alice/dev,", "volatile": true}}"#,
        )
        .unwrap();
        assert_eq!(config.kind, "stage");
        assert_eq!(config.bases, ["root/pypi", "alice/dev"]);
        let mirror = parse_index_config(
            r#"{"result": {"type": "mirror", "bases": ["x/y", 3], "mirror_cache_expiry": "600"}}"#,
        )
        .unwrap();
        assert_eq!(mirror.bases, ["x/y"]);
        assert_eq!(mirror.mirror_cache_expiry, Some(Value::from("600")));
        let not_json = parse_index_config("<html>").unwrap_err();
        assert!(matches!(not_json, IndexConfigError::Json(_)), "{not_json}");
        let no_result = parse_index_config(r#"{"type": "stage"}"#).unwrap_err();
        assert!(
            matches!(no_result, IndexConfigError::Shape(_)),
            "{no_result}"
        );
        let no_type = parse_index_config(r#"{"result": {"bases": []}}"#).unwrap_err();
        assert!(no_type.to_string().contains("type"), "{no_type}");
    }

    #[test]
    fn refuses_simple_urls_with_the_right_one() {
        let err = DevpiIndex::from_url(&Url::parse("http://u:pw@h/alice/team/+simple/").unwrap())
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("use http://h/alice/team instead"), "{text}");
        assert!(!text.contains("pw"));
    }

    #[test]
    fn reads_versions_links_and_shadowing() {
        let body = r#"{"result": {
  "1.0": {"name": "Foo-Bar", "version": "1.0", "requires_python": "",
    "+links": [
      {"rel": "releasefile", "hashes": {"sha256": "75C1000000000000000000000000000000000000000000000000000000000000"},
       "href": "http://127.0.0.1:3199/alice/team/+f/75c/15aa840767e74/Foo_Bar-1.0-py3-none-any.whl"},
      {"rel": "doczip", "href": "http://127.0.0.1:3199/alice/team/+f/aaa/bbb/foo-bar-1.0.doc.zip"}],
    "+shadowing": [{"name": "Foo-Bar", "version": "1.0", "+links": [
      {"rel": "releasefile", "hash_spec": "sha256=75c1000000000000000000000000000000000000000000000000000000000000", "href": "http://127.0.0.1:3199/alice/shared/+f/75c/15aa840767e74/Foo_Bar-1.0-py3-none-any.whl"},
      {"rel": "releasefile", "hash_spec": "sha256=9900000000000000000000000000000000000000000000000000000000000000", "href": "http://127.0.0.1:3199/alice/shared/+f/999/15aa840767e74/Foo_Bar-1.0-cp311-cp311-linux_x86_64.whl"}]}]},
  "2.0rc1": {"name": "foo_bar", "version": "2.0rc1", "requires_python": ">=3.8",
    "+links": [{"rel": "releasefile", "hashes": {"sha256": "e900000000000000000000000000000000000000000000000000000000000000"}, "href": "http://127.0.0.1:3199/alice/shared/+f/e98/7f78a932882b6/Foo_Bar-2.0rc1-py3-none-any.whl"}]},
  "3.0": {"name": "foo_bar", "version": "3.0"}
 }, "type": "projectconfig"}"#;
        let page = Url::parse("http://127.0.0.1:3199/alice/team/foo-bar").unwrap();
        let mut files = parse_project(body, &page).unwrap().files;
        files.sort_by(|a, b| a.filename.cmp(&b.filename));
        let names: Vec<_> = files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "Foo_Bar-1.0-cp311-cp311-linux_x86_64.whl",
                "Foo_Bar-1.0-py3-none-any.whl",
                "Foo_Bar-2.0rc1-py3-none-any.whl"
            ]
        );
        assert_eq!(files[1].stage.as_deref(), Some("alice/team"));
        assert_eq!(
            files[1].sha256.as_deref().map(|h| h.trim_end_matches('0')),
            Some("75c1")
        );
        assert_eq!(files[0].stage.as_deref(), Some("alice/shared"));
        assert_eq!(
            files[0].sha256.as_deref().map(|h| h.trim_end_matches('0')),
            Some("99")
        );
        assert_eq!(files[2].requires_python.as_deref(), Some(">=3.8"));
    }

    #[test]
    fn percent_encoded_slashes_in_hrefs_are_rejected_with_the_index() {
        let body = r#"{"result": {"1.0": {"+links": [
          {"rel": "releasefile", "href": "http://u:secret@127.0.0.1:3199/alice/team/+f/75c/15a/x-1.0-1%2F..%2F..%2Fy-py3-none-any.whl"},
          {"rel": "releasefile", "href": "http://127.0.0.1:3199/alice/team/+f/75c/15a/x-1.0.tar.gz", "hashes": {"sha256": "12"}},
          {"rel": "releasefile", "href": "http://127.0.0.1:3199/alice/team/+f/75c/15a/x%2B1-1.0.tar.gz"}]}}}"#;
        let page = Url::parse("http://u:secret@127.0.0.1:3199/alice/team/x").unwrap();
        let listing = parse_project(body, &page).unwrap();
        let names: Vec<&str> = listing.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["x+1-1.0.tar.gz"]);
        let reasons: Vec<String> = listing.rejected.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            reasons[0],
            "http://127.0.0.1:3199/alice/team/x lists \"x-1.0-1/../../y-py3-none-any.whl\": \
             a file name must be one path component, without `/` or `\\`"
        );
        assert!(reasons[1].contains("sha256 \"12\": a sha256 must be 64 hex digits, not 2"));
        assert!(!reasons.concat().contains("secret"));
    }
}
