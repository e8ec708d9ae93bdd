//! The simple repository API: PEP 691 JSON, falling back to PEP 503 HTML.
//!
//! One GET per project (`<base>/<normalized-name>/`, trailing slash as PEP 503 asks).
//! The response is dispatched on its `Content-Type`, not on what was asked for: devpi
//! answers some requests with HTML labelled `text_html` (docs/devpi-protocol.md, Simple pages).

use pep508_rs::PackageName;
use serde::Deserialize;
use url::Url;

use super::body::listing_text;
use super::error::{IndexError, ListingError};
use super::file::{Listing, MetadataFile, RawEntry, percent_decoded};
use super::http::{HttpClient, status_error};
use super::safe_url::redact;
use super::status::ProjectStatus;

/// PEP 691 §"Content negotiation": JSON preferred, HTML as fallback.
pub const SIMPLE_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Project page URL under a simple index base.
pub fn project_url(base: &Url, name: &PackageName) -> Url {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    // A normalised name (PEP 503: `[a-z0-9-]`) always joins; keep the base otherwise.
    base.join(&format!("{name}/")).unwrap_or(base)
}

/// Fetches one project page. `Ok(None)` when the index does not know the project: a 404,
/// or a redirect to another origin (pypiserver's fallback to a public index is not an
/// answer about *this* index).
pub async fn fetch_project(
    client: &HttpClient,
    base: &Url,
    name: &PackageName,
) -> Result<Option<Listing>, IndexError> {
    Ok(fetch_project_page(client, base, name)
        .await?
        .map(|page| page.listing))
}

/// [`fetch_project`] with the project's PEP 792 status, where the page gives one.
pub async fn fetch_project_page(
    client: &HttpClient,
    base: &Url,
    name: &PackageName,
) -> Result<Option<ProjectPage>, IndexError> {
    let url = project_url(base, name);
    let response = client.get(&url, SIMPLE_ACCEPT).await?;
    if response.url().origin() != url.origin() {
        return Ok(None);
    }
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(status_error(&url, response).await);
    }
    let final_url = response.url().clone();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = listing_text(&url, response).await?;
    let files = if content_type.starts_with("application/vnd.pypi.simple.v1+json") {
        parse_json_page(&body, &final_url)
    } else {
        parse_html_page(&body, &final_url)
    };
    files.map(Some).map_err(|source| IndexError::Listing {
        url: redact(&url),
        source,
    })
}

#[derive(Deserialize)]
struct JsonPage {
    meta: JsonMeta,
    files: Vec<JsonFile>,
    /// PEP 792 (API 1.4), one of its two layouts (status.rs).
    #[serde(rename = "project-status", default)]
    project_status: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct JsonMeta {
    #[serde(rename = "api-version")]
    api_version: String,
    #[serde(rename = "project-status", default)]
    project_status: Option<serde_json::Value>,
    #[serde(rename = "project-status-reason", default)]
    project_status_reason: Option<serde_json::Value>,
}

/// A project page: its files and, where the index gives it, the project's PEP 792 status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectPage {
    pub listing: Listing,
    pub status: Option<ProjectStatus>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::HashMap<String, String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Option<serde_json::Value>,
    /// PEP 700; anything but a non-negative integer is ignored.
    #[serde(default)]
    size: Option<serde_json::Value>,
    /// PEP 700; a value that is not an RFC 3339 time is read as absent (as pip does with
    /// a key it cannot use), never as "now" or "long ago".
    #[serde(rename = "upload-time", default)]
    upload_time: Option<serde_json::Value>,
    /// PEP 714's name for the PEP 658 metadata file, preferred over the original one.
    #[serde(rename = "core-metadata", default)]
    core_metadata: Option<serde_json::Value>,
    #[serde(rename = "dist-info-metadata", default)]
    dist_info_metadata: Option<serde_json::Value>,
}

/// PEP 691 project detail: its files.
pub fn parse_json(body: &str, page_url: &Url) -> Result<Listing, ListingError> {
    parse_json_page(body, page_url).map(|page| page.listing)
}

/// PEP 691 project detail: its files and its PEP 792 status.
pub fn parse_json_page(body: &str, page_url: &Url) -> Result<ProjectPage, ListingError> {
    let page: JsonPage =
        serde_json::from_str(body).map_err(|e| ListingError::Pep691Json(e.to_string()))?;
    check_api_version(&page.meta.api_version)?;
    let status = super::status::from_json(
        page.project_status.as_ref(),
        page.meta.project_status.as_ref(),
        page.meta.project_status_reason.as_ref(),
    );
    let index = redact(page_url);
    let mut listing = Listing::default();
    for file in page.files {
        let mut url = page_url
            .join(&file.url)
            .map_err(|e| ListingError::FileUrl {
                url: file.url.clone(),
                filename: file.filename.clone(),
                detail: e.to_string(),
            })?;
        let fragment_hash = take_sha256_fragment(&mut url);
        let yanked = match file.yanked {
            None | Some(serde_json::Value::Bool(false)) | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(reason)) => Some(reason),
            Some(_) => Some(String::new()),
        };
        listing.push(
            &index,
            RawEntry {
                stage: devpi_stage(&url),
                // PEP 691: `hashes` maps hashlib names to hex digests; sha256 is the one
                // checked, the others are ignored.
                sha256: file.hashes.get("sha256").cloned().or(fragment_hash),
                size: file.size.as_ref().and_then(serde_json::Value::as_u64),
                upload_time: file
                    .upload_time
                    .as_ref()
                    .and_then(serde_json::Value::as_str)
                    .and_then(|text| text.parse().ok()),
                requires_python: file.requires_python.filter(|r| !r.trim().is_empty()),
                filename: file.filename,
                url,
                yanked,
                metadata_file: file
                    .core_metadata
                    .or(file.dist_info_metadata)
                    .as_ref()
                    .map_or(MetadataFile::NotOffered, MetadataFile::from_json),
            },
        );
    }
    Ok(ProjectPage { listing, status })
}

/// PEP 629: a major version above 1 is a hard failure.
fn check_api_version(version: &str) -> Result<(), ListingError> {
    let major = version.split('.').next().unwrap_or("1");
    match major.parse::<u32>() {
        Ok(1) => Ok(()),
        _ => Err(ListingError::ApiVersion(version.to_string())),
    }
}

/// PEP 503 project detail: every `<a>` is a file; the anchor text is the filename,
/// `href` resolves against the page URL or `<base href>`.
pub fn parse_html(body: &str, page_url: &Url) -> Result<Listing, ListingError> {
    parse_html_page(body, page_url).map(|page| page.listing)
}

/// PEP 503 project detail with the PEP 792 status of its `<meta>` tags.
pub fn parse_html_page(body: &str, page_url: &Url) -> Result<ProjectPage, ListingError> {
    let dom = tl::parse(body, tl::ParserOptions::default())
        .map_err(|e| ListingError::Html(e.to_string()))?;
    let parser = dom.parser();
    let attr = |tag: &tl::HTMLTag, key: &str| -> Option<Option<String>> {
        tag.attributes()
            .get(key)
            .map(|value| value.map(|bytes| unescape(&bytes.as_utf8_str())))
    };
    let mut base = page_url.clone();
    for handle in dom.query_selector("base").into_iter().flatten() {
        if let Some(tag) = handle.get(parser).and_then(|n| n.as_tag())
            && let Some(Some(href)) = attr(tag, "href")
            && let Ok(url) = page_url.join(&href)
        {
            base = url;
        }
    }
    let (mut status, mut reason) = (None, None);
    for handle in dom.query_selector("meta").into_iter().flatten() {
        let Some(tag) = handle.get(parser).and_then(|n| n.as_tag()) else {
            continue;
        };
        let content = attr(tag, "content").flatten();
        match attr(tag, "name").flatten().as_deref() {
            Some("pypi:repository-version") => {
                if let Some(version) = &content {
                    check_api_version(version)?;
                }
            }
            Some("pypi:project-status") => status = content,
            Some("pypi:project-status-reason") => reason = content,
            _ => {}
        }
    }
    let index = redact(page_url);
    let mut listing = Listing::default();
    for handle in dom.query_selector("a").into_iter().flatten() {
        let Some(tag) = handle.get(parser).and_then(|n| n.as_tag()) else {
            continue;
        };
        let Some(Some(href)) = attr(tag, "href") else {
            continue;
        };
        let Ok(mut url) = base.join(&href) else {
            continue;
        };
        let fragment_hash = take_sha256_fragment(&mut url);
        let text = unescape(tag.inner_text(parser).trim());
        let filename = if text.is_empty() {
            // pip unquotes the last segment; a `%2F` in it is a `/` and refused as one.
            url.path_segments()
                .and_then(|mut s| s.next_back().map(percent_decoded))
                .unwrap_or_default()
        } else {
            text
        };
        if filename.is_empty() {
            continue;
        }
        listing.push(
            &index,
            RawEntry {
                stage: devpi_stage(&url),
                filename,
                sha256: fragment_hash,
                size: None,
                upload_time: None,
                requires_python: attr(tag, "data-requires-python")
                    .flatten()
                    .filter(|r| !r.trim().is_empty()),
                yanked: attr(tag, "data-yanked").map(|reason| reason.unwrap_or_default()),
                // PEP 714: `data-core-metadata` wins over PEP 658's `data-dist-info-metadata`.
                metadata_file: attr(tag, "data-core-metadata")
                    .or_else(|| attr(tag, "data-dist-info-metadata"))
                    .map_or(MetadataFile::NotOffered, |value| {
                        MetadataFile::from_html(value.as_deref())
                    }),
                url,
            },
        );
    }
    Ok(ProjectPage {
        listing,
        status: super::status::from_html(status.as_deref(), reason.as_deref()),
    })
}

/// Removes a `#sha256=<hex>` fragment (PEP 503) and returns the hash; other fragments are
/// dropped too, since a download URL never needs them.
pub fn take_sha256_fragment(url: &mut Url) -> Option<String> {
    let hash = url.fragment().and_then(|fragment| {
        fragment
            .split('&')
            .find_map(|part| part.strip_prefix("sha256="))
            .map(|h| h.to_ascii_lowercase())
    });
    url.set_fragment(None);
    hash
}

/// devpi file URLs are `/{user}/{index}/+f/...` (or `+e` for mirror files); the stage a file
/// lives in can only be told from that path (docs/devpi-protocol.md, Listings).
pub fn devpi_stage(url: &Url) -> Option<String> {
    let segments: Vec<&str> = url.path_segments()?.collect();
    let marker = segments.iter().position(|s| *s == "+f" || *s == "+e")?;
    let user = segments.get(marker.checked_sub(2)?)?;
    let index = segments.get(marker.checked_sub(1)?)?;
    Some(format!("{user}/{index}"))
}

/// HTML character references used in attribute values and anchor texts. Anything that is
/// not a known reference stays as written.
pub fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        // A reference is short: its `;` is among the next few characters or it is none.
        let semi = after
            .char_indices()
            .take(11)
            .find_map(|(i, c)| (c == ';').then_some(i));
        let decoded = semi.and_then(|semi| {
            let entity = after.get(..semi)?;
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, after.get(semi + 1..)?))
        });
        match decoded {
            Some((c, tail)) => {
                out.push(c);
                rest = tail;
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("http://127.0.0.1:3141/alice/team/+simple/foo-bar/").unwrap()
    }

    #[test]
    fn reads_devpi_html_with_relative_links_and_entities() {
        let html = r#"<!DOCTYPE html><html lang="en"><head><title>alice/team: links for foo-bar</title></head><body><h1>alice/team: links for foo-bar</h1>
alice/pool <a href="../../../pool/+f/e98/7f78a932882b6/Foo_Bar-2.0rc1-py3-none-any.whl#sha256=E987000000000000000000000000000000000000000000000000000000000000" data-requires-python="&gt;=3.8">Foo_Bar-2.0rc1-py3-none-any.whl</a><br>
alice/team <a href="../../+f/75c/15aa840767e74/Foo_Bar-1.0-py3-none-any.whl#sha256=75c1000000000000000000000000000000000000000000000000000000000000" data-requires-python="">Foo_Bar-1.0-py3-none-any.whl</a><br>
<a href="../../+f/aaa/bbb/foo_bar-0.9.tar.gz" data-yanked="">foo_bar-0.9.tar.gz</a>
</body></html>"#;
        let files = parse_html(html, &page()).unwrap().files;
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].filename, "Foo_Bar-2.0rc1-py3-none-any.whl");
        assert_eq!(
            files[0].url.as_str(),
            "http://127.0.0.1:3141/alice/pool/+f/e98/7f78a932882b6/Foo_Bar-2.0rc1-py3-none-any.whl"
        );
        assert_eq!(
            files[0].sha256.as_deref().map(|h| h.trim_end_matches('0')),
            Some("e987")
        );
        assert_eq!(files[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(files[0].stage.as_deref(), Some("alice/pool"));
        assert_eq!(files[1].requires_python, None);
        assert_eq!(files[1].stage.as_deref(), Some("alice/team"));
        assert_eq!(files[2].yanked.as_deref(), Some(""));
        assert_eq!(files[0].yanked, None);
    }

    #[test]
    fn honours_base_href_and_unnamed_anchor_text() {
        let html = r#"<html><head><base href="http://files.local/pkgs/"></head><body>
<a href="x-1.0.tar.gz#sha256=ab00000000000000000000000000000000000000000000000000000000000000"></a></body></html>"#;
        let files = parse_html(html, &page()).unwrap().files;
        assert_eq!(
            files[0].url.as_str(),
            "http://files.local/pkgs/x-1.0.tar.gz"
        );
        assert_eq!(files[0].filename, "x-1.0.tar.gz");
    }

    #[test]
    fn rejects_unknown_major_api_version() {
        let html =
            r#"<html><head><meta name="pypi:repository-version" content="2.0"></head></html>"#;
        assert_eq!(
            parse_html(html, &page()).unwrap_err(),
            ListingError::ApiVersion("2.0".into())
        );
        let json = r#"{"meta":{"api-version":"2.1"},"name":"x","files":[]}"#;
        assert!(parse_json(json, &page()).is_err());
    }

    #[test]
    fn reads_pep691_json() {
        let json = r#"{"meta":{"api-version":"1.0"},"name":"foo-bar","files":[
 {"filename": "Foo_Bar-1.0.0-py3-none-any.whl", "url": "../../+f/4c2/59a131df18f26/Foo_Bar-1.0.0-py3-none-any.whl",
  "hashes": {"sha256": "4C25000000000000000000000000000000000000000000000000000000000000"}, "requires-python": ""},
 {"filename": "foo_bar-0.1.tar.gz", "url": "https://mirror.local/f/foo_bar-0.1.tar.gz#sha256=ff00000000000000000000000000000000000000000000000000000000000000", "hashes": {},
  "yanked": "broken", "requires-python": "<3"}]}"#;
        let files = parse_json(json, &page()).unwrap().files;
        assert_eq!(
            files[0].sha256.as_deref().map(|h| h.trim_end_matches('0')),
            Some("4c25")
        );
        assert_eq!(files[0].requires_python, None);
        assert_eq!(files[0].stage.as_deref(), Some("alice/team"));
        assert_eq!(
            files[1].sha256.as_deref().map(|h| h.trim_end_matches('0')),
            Some("ff")
        );
        assert_eq!(
            files[1].url.as_str(),
            "https://mirror.local/f/foo_bar-0.1.tar.gz"
        );
        assert_eq!(files[1].yanked.as_deref(), Some("broken"));
        assert_eq!(files[1].stage, None);
    }

    #[test]
    fn reads_pep700_upload_time_and_size() {
        let json = r#"{"meta":{"api-version":"1.1"},"name":"a","versions":["1.0"],"files":[
 {"filename":"a-1.0-py3-none-any.whl","url":"a-1.0-py3-none-any.whl","hashes":{},"size":1234,"upload-time":"2026-12-05T10:11:12.123456Z"},
 {"filename":"a-1.0.tar.gz","url":"a-1.0.tar.gz","hashes":{},"size":-1,"upload-time":"last Tuesday"},
 {"filename":"a-1.0.zip","url":"a-1.0.zip","hashes":{},"upload-time":17}]}"#;
        let files = parse_json(json, &page()).unwrap().files;
        assert_eq!(files[0].size, Some(1234));
        assert_eq!(
            files[0].upload_time.map(|t| t.to_string()).as_deref(),
            Some("2026-12-05T10:11:12.123456Z")
        );
        assert_eq!((files[1].size, files[1].upload_time), (None, None));
        assert_eq!(files[2].upload_time, None);
    }

    #[test]
    fn reads_pep658_and_pep714_metadata_offers() {
        let hex = "cd".repeat(32);
        let html = format!(
            r#"<html><body>
<a href="a-1.0-py3-none-any.whl" data-core-metadata="sha256={hex}" data-dist-info-metadata="true">a-1.0-py3-none-any.whl</a>
<a href="a-2.0-py3-none-any.whl" data-dist-info-metadata>a-2.0-py3-none-any.whl</a>
<a href="a-3.0-py3-none-any.whl" data-core-metadata="sha256=nothex">a-3.0-py3-none-any.whl</a>
<a href="a-4.0-py3-none-any.whl">a-4.0-py3-none-any.whl</a></body></html>"#
        );
        let files = parse_html(&html, &page()).unwrap().files;
        let sha = crate::distribution::Sha256::new(&hex).unwrap();
        assert_eq!(
            files[0].metadata_file,
            MetadataFile::Offered {
                sha256: Some(sha.clone())
            }
        );
        assert_eq!(
            files[1].metadata_file,
            MetadataFile::Offered { sha256: None }
        );
        assert_eq!(files[2].metadata_file, MetadataFile::NotOffered);
        assert_eq!(files[3].metadata_file, MetadataFile::NotOffered);
        let json = format!(
            r#"{{"meta":{{"api-version":"1.1"}},"name":"a","files":[
 {{"filename":"a-1.0-py3-none-any.whl","url":"a-1.0-py3-none-any.whl","hashes":{{}},"core-metadata":{{"sha256":"{hex}"}},"dist-info-metadata":false}},
 {{"filename":"a-2.0-py3-none-any.whl","url":"a-2.0-py3-none-any.whl","hashes":{{}},"dist-info-metadata":true}},
 {{"filename":"a-3.0-py3-none-any.whl","url":"a-3.0-py3-none-any.whl","hashes":{{}},"core-metadata":false}}]}}"#
        );
        let files = parse_json(&json, &page()).unwrap().files;
        assert_eq!(
            files[0].metadata_file,
            MetadataFile::Offered { sha256: Some(sha) }
        );
        assert_eq!(
            files[1].metadata_file,
            MetadataFile::Offered { sha256: None }
        );
        assert_eq!(files[2].metadata_file, MetadataFile::NotOffered);
    }

    #[test]
    fn reads_pep792_status_in_both_json_layouts_and_in_html() {
        use super::super::status::StatusMarker;
        let top = r#"{"meta":{"api-version":"1.4"},"name":"a","files":[],
            "project-status":{"status":"quarantined","reason":"malware, see advisory 7"}}"#;
        let status = parse_json_page(top, &page()).unwrap().status.unwrap();
        assert_eq!(status.marker, StatusMarker::Quarantined);
        assert_eq!(status.reason.as_deref(), Some("malware, see advisory 7"));
        let meta =
            r#"{"meta":{"api-version":"1.4","project-status":"archived"},"name":"a","files":[]}"#;
        let status = parse_json_page(meta, &page()).unwrap().status.unwrap();
        assert_eq!(
            (status.marker, status.reason),
            (StatusMarker::Archived, None)
        );
        for none in [
            r#"{"meta":{"api-version":"1.1"},"name":"a","files":[]}"#,
            r#"{"meta":{"api-version":"1.4","project-status":"haunted"},"name":"a","files":[]}"#,
            r#"{"meta":{"api-version":"1.4"},"name":"a","files":[],"project-status":{"status":7}}"#,
        ] {
            assert_eq!(
                parse_json_page(none, &page()).unwrap().status,
                None,
                "{none}"
            );
        }
        let html = r#"<html><head><meta name="pypi:repository-version" content="1.4">
<meta name="pypi:project-status" content="deprecated">
<meta name="pypi:project-status-reason" content="use &quot;b&quot; instead"></head><body></body></html>"#;
        let status = parse_html_page(html, &page()).unwrap().status.unwrap();
        assert_eq!(status.marker, StatusMarker::Deprecated);
        assert_eq!(status.reason.as_deref(), Some("use \"b\" instead"));
        assert_eq!(
            parse_html_page("<html></html>", &page()).unwrap().status,
            None
        );
    }

    #[test]
    fn unescapes_references() {
        assert_eq!(
            unescape("&gt;=3.8,&lt;4 &amp; &#x41;&#66; &bogus"),
            ">=3.8,<4 & AB &bogus"
        );
    }

    #[test]
    fn project_url_adds_slashes() {
        let base = Url::parse("http://h/root/pypi/+simple").unwrap();
        let name = PackageName::new("Foo_Bar".to_string()).unwrap();
        assert_eq!(
            project_url(&base, &name).as_str(),
            "http://h/root/pypi/+simple/foo-bar/"
        );
    }
}
