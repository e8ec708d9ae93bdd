//! One distribution file as an index lists it (PEP 503 / PEP 691 / devpi `+links` / a directory).
//!
//! Parse, don't validate: a listed entry becomes an [`IndexFile`] only when its name is a
//! [`SafeFilename`] and its sha256 (if any) a [`Sha256`]. Anything else is kept as a
//! [`RejectedEntry`], which the planner turns into a failure of the jobs that would have
//! needed it, so a hostile entry never reaches a path and never stops the honest ones.

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use url::Url;

use crate::distribution::{BadSha256, DistFilename, SafeFilename, Sha256, UnsafeFilename};
use crate::timestamp::Timestamp;

/// A file listed by an index for one project. Every index flavour (simple HTML, simple JSON,
/// devpi JSON, a local directory) is read into this one shape, so the planner and the
/// build-requirement resolver never care where a listing came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexFile {
    /// The basename, exactly as listed (anchor text, `filename` key, or last path segment).
    pub filename: SafeFilename,
    /// Absolute URL (`file://` for local directories), without the hash fragment.
    pub url: Url,
    /// The sha256 when the index gives one (URL fragment or `hashes`).
    pub sha256: Option<Sha256>,
    /// PEP 700 `size` in bytes, when the index gives it.
    #[serde(default)]
    pub size: Option<u64>,
    /// PEP 700 `upload-time`, when the index gives it (PEP 691 JSON only: PEP 833 froze the
    /// HTML form without it).
    #[serde(default)]
    pub upload_time: Option<Timestamp>,
    /// `requires-python` / `data-requires-python`; an empty string is read as `None`.
    pub requires_python: Option<String>,
    /// PEP 592: `Some(reason)` when yanked (reason may be empty).
    pub yanked: Option<String>,
    /// devpi only: the `user/index` stage that holds the file, read from the href path.
    pub stage: Option<String>,
    /// PEP 658/714: whether the index serves the file's METADATA at `<url>.metadata`.
    #[serde(default)]
    pub metadata_file: MetadataFile,
}

/// PEP 658 (named by PEP 714): the index serves a wheel's `METADATA` on its own, at the
/// file's URL with `.metadata` appended, so a resolver need not download the wheel.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MetadataFile {
    #[default]
    NotOffered,
    /// Offered; `sha256` is the digest of the metadata file when the index gives one (other
    /// hash names are ignored, as for the files themselves).
    Offered { sha256: Option<Sha256> },
}

impl MetadataFile {
    /// An HTML attribute (`data-core-metadata`, or PEP 658's original
    /// `data-dist-info-metadata`): present without value or `true` offers it unhashed,
    /// `sha256=<hex>` with that digest. A value naming only other hashes offers it unhashed;
    /// a sha256 that is not 64 hex digits cannot be checked, so the file is not used.
    pub fn from_html(value: Option<&str>) -> MetadataFile {
        let Some(value) = value.map(str::trim) else {
            return MetadataFile::Offered { sha256: None };
        };
        if value.is_empty() || value.eq_ignore_ascii_case("true") {
            return MetadataFile::Offered { sha256: None };
        }
        let mut sha256 = None;
        for part in value.split(['&', ',']) {
            if let Some((name, hex)) = part.split_once('=') {
                if name.trim().eq_ignore_ascii_case("sha256") {
                    match Sha256::new(hex.trim()) {
                        Ok(hash) => sha256 = Some(hash),
                        Err(_) => return MetadataFile::NotOffered,
                    }
                }
            } else {
                // Neither a boolean nor `name=hex`: not an offer PEP 658 describes.
                return MetadataFile::NotOffered;
            }
        }
        MetadataFile::Offered { sha256 }
    }

    /// A PEP 691 JSON value (`core-metadata`, or `dist-info-metadata`): `true`, `false`, or
    /// a map of hash names to hex digests.
    pub fn from_json(value: &serde_json::Value) -> MetadataFile {
        match value {
            serde_json::Value::Bool(true) => MetadataFile::Offered { sha256: None },
            serde_json::Value::Object(hashes) => match hashes.get("sha256") {
                None => MetadataFile::Offered { sha256: None },
                Some(hex) => match hex.as_str().map(Sha256::new) {
                    Some(Ok(hash)) => MetadataFile::Offered { sha256: Some(hash) },
                    _ => MetadataFile::NotOffered,
                },
            },
            _ => MetadataFile::NotOffered,
        }
    }

    pub fn is_offered(&self) -> bool {
        matches!(self, MetadataFile::Offered { .. })
    }
}

/// What is wrong with a listed entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    #[error("{0}")]
    Filename(#[from] UnsafeFilename),
    #[error("sha256 {value:?}: {source}")]
    Sha256 {
        value: String,
        #[source]
        source: BadSha256,
    },
    /// Refused under `--exclude-newer` (cooldown.rs).
    #[error("{0}")]
    Cooldown(#[from] super::cooldown::CooldownProblem),
    /// PEP 792: the index marks the project quarantined (unsafe, e.g. malware).
    #[error("the project is quarantined (PEP 792){}", reason.as_deref().map(|r| format!(": {}", r.replace(char::is_control, "?"))).unwrap_or_default())]
    Quarantined { reason: Option<String> },
}

/// A listed entry that cannot be used, with where it was listed (credentials stripped) and
/// the offending name, escaped when shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{index} lists {listed:?}: {problem}")]
pub struct RejectedEntry {
    pub index: String,
    pub listed: String,
    pub problem: EntryProblem,
}

impl RejectedEntry {
    /// The version of `project` this entry claims to be, told from the last component of
    /// its name; `None` when that does not name a distribution of `project`.
    pub fn version_of(&self, project: &PackageName) -> Option<Version> {
        let last = self.listed.rsplit(['/', '\\']).next()?;
        DistFilename::parse(last, project).map(|d| d.version().clone())
    }
}

/// A parsed listing: the usable files and the rejected entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub files: Vec<IndexFile>,
    pub rejected: Vec<RejectedEntry>,
}

/// An entry's fields as the page gives them, before they are typed.
pub struct RawEntry {
    pub filename: String,
    pub url: Url,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub upload_time: Option<Timestamp>,
    pub requires_python: Option<String>,
    pub yanked: Option<String>,
    pub stage: Option<String>,
    pub metadata_file: MetadataFile,
}

impl Listing {
    /// Types one entry of the page at `index` (already credential-free) and files it.
    pub fn push(&mut self, index: &str, raw: RawEntry) {
        match typed(raw) {
            Ok(file) => self.files.push(file),
            Err((listed, problem)) => self.rejected.push(RejectedEntry {
                index: index.to_string(),
                listed,
                problem,
            }),
        }
    }
}

fn typed(raw: RawEntry) -> Result<IndexFile, (String, EntryProblem)> {
    let filename = match SafeFilename::from_str(&raw.filename) {
        Ok(name) => name,
        Err(e) => return Err((raw.filename, e.into())),
    };
    let sha256 = match raw.sha256.as_deref().map(Sha256::new).transpose() {
        Ok(hash) => hash,
        Err(source) => {
            let value = raw.sha256.unwrap_or_default();
            return Err((raw.filename, EntryProblem::Sha256 { value, source }));
        }
    };
    Ok(IndexFile {
        filename,
        url: raw.url,
        sha256,
        size: raw.size,
        upload_time: raw.upload_time,
        requires_python: raw.requires_python,
        yanked: raw.yanked,
        stage: raw.stage,
        metadata_file: raw.metadata_file,
    })
}

/// Percent-decodes a path segment (`+` stays a plus, unlike in a query). Bytes that are
/// not UTF-8 are replaced, which leaves a name no index can have meant.
pub(super) fn percent_decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            // Two hex digits exactly (`from_str_radix` would also take a sign).
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(filename: &str, sha256: Option<&str>) -> RawEntry {
        RawEntry {
            filename: filename.into(),
            url: Url::parse("http://h/f").unwrap(),
            sha256: sha256.map(String::from),
            size: None,
            upload_time: None,
            requires_python: None,
            yanked: None,
            stage: None,
            metadata_file: MetadataFile::NotOffered,
        }
    }

    #[test]
    fn rejects_with_the_index_and_the_escaped_value() {
        let mut listing = Listing::default();
        listing.push(
            "http://h/simple/x/",
            raw("x-1.0-1/../../y-py3-none-any.whl", None),
        );
        listing.push(
            "http://h/simple/x/",
            raw("x-2.0-py3-none-any.whl", Some("é\n")),
        );
        listing.push("http://h/simple/x/", raw("x-3.0.tar.gz", None));
        assert_eq!(listing.files.len(), 1);
        let texts: Vec<String> = listing.rejected.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            texts[0],
            "http://h/simple/x/ lists \"x-1.0-1/../../y-py3-none-any.whl\": a file name must be \
             one path component, without `/` or `\\`"
        );
        assert!(texts[1].contains("sha256 \"é\\n\""), "{}", texts[1]);
        let x = PackageName::from_str("x").unwrap();
        assert_eq!(listing.rejected[0].version_of(&x), None);
        assert_eq!(
            listing.rejected[1].version_of(&x),
            Some(Version::from_str("2.0").unwrap())
        );
    }

    #[test]
    fn metadata_file_offers_from_html_and_json() {
        let hex = "AB".repeat(32);
        let hash = Sha256::new(&hex).unwrap();
        let offered = |sha256| MetadataFile::Offered { sha256 };
        assert_eq!(MetadataFile::from_html(None), offered(None));
        assert_eq!(MetadataFile::from_html(Some("true")), offered(None));
        assert_eq!(
            MetadataFile::from_html(Some(&format!("sha256={hex}"))),
            offered(Some(hash.clone()))
        );
        assert_eq!(
            MetadataFile::from_html(Some("md5=00ff")),
            offered(None),
            "other hash names offer the file unhashed"
        );
        assert_eq!(
            MetadataFile::from_html(Some("sha256=12")),
            MetadataFile::NotOffered
        );
        assert_eq!(
            MetadataFile::from_html(Some("yes please")),
            MetadataFile::NotOffered
        );
        let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        assert_eq!(MetadataFile::from_json(&json("true")), offered(None));
        assert_eq!(
            MetadataFile::from_json(&json("false")),
            MetadataFile::NotOffered
        );
        assert_eq!(
            MetadataFile::from_json(&json(&format!(r#"{{"sha256": "{hex}"}}"#))),
            offered(Some(hash))
        );
        assert_eq!(
            MetadataFile::from_json(&json(r#"{"sha256": 5}"#)),
            MetadataFile::NotOffered
        );
        assert_eq!(MetadataFile::from_json(&json("{}")), offered(None));
    }
}
