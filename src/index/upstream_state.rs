//! What the upstream holds, named without listing any project: the key that lets a run
//! reuse what an earlier run derived from the same upstream (the `--deps` resolution).
//!
//! Each source says it its own way, and a source that cannot say makes the whole upstream
//! unnamed (`None`): then nothing derived from it is reused.
//! - A devpi stage: its `X-Devpi-Serial`, seen at the run's first request to it (the probe).
//!   The serial moves on any change of the server's database. A stage that is a mirror, or
//!   inherits from one, changes without the serial moving whenever its upstream publishes
//!   and nobody has asked devpi yet; devpi itself serves a mirrored page unchanged for the
//!   mirror's `mirror_cache_expiry`, so the state is only good for that long
//!   ([`UpstreamState::valid_for`]).
//! - A find-links directory: the names, sizes and modification times of its entries.
//! - A find-links page: its parsed listing (the page is read once per run anyway).
//! - Any other simple index: nothing (PEP 503 and PEP 691 have no index-wide serial, and the
//!   project pages of common servers carry no validators).

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::devpi::DevpiIndex;
use super::error::IndexError;
use super::http::HttpClient;
use super::probe::devpi_api_url;
use super::upstream_source::{Source, Upstream, fetch_page};

/// devpi's default `mirror_cache_expiry` (seconds), used when a mirror does not say.
const DEVPI_DEFAULT_MIRROR_EXPIRY: u64 = 1800;

/// A name for the upstream's content; equal names mean equal listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamState {
    /// Lowercase hex sha256 over every source's part, in source order.
    pub digest: String,
    /// How long the name stays good after it was taken (a devpi mirror in the chain);
    /// `None`: until the name changes.
    pub valid_for: Option<Duration>,
}

impl Upstream {
    /// The upstream's [`UpstreamState`], or `None` when some source cannot name its content.
    /// Costs the probe (which every listing needs first anyway), the configuration of each
    /// devpi stage in the inheritance chain, and one `readdir` per find-links directory.
    /// Only the probe's failure is an error (every listing would fail the same way); a
    /// configuration devpi does not show, or a directory that cannot be read, leaves the
    /// upstream unnamed, and the listings then say what is wrong.
    pub async fn state(&self, client: &HttpClient) -> Result<Option<UpstreamState>, IndexError> {
        let serials = self.serials(client).await?.to_vec();
        let mut hash = Sha256::new();
        let mut valid_for: Option<Duration> = None;
        // A cooldown shapes every listing: another cut-off is another upstream (with an age,
        // each run has its own, so nothing solved under the last one is taken for this one).
        if let Some(cooldown) = &self.cooldown {
            hash.update(format!("exclude-newer {}\0", cooldown.cutoff).as_bytes());
        }
        for (source, serial) in self.sources.iter().zip(serials) {
            hash.update(source.describe().as_bytes());
            hash.update(b"\0");
            let part = match source {
                Source::Simple { base } => {
                    let (Some(serial), Some(stage)) = (serial, devpi_api_url(base)) else {
                        return Ok(None);
                    };
                    let Ok(stage) = stage_of(&stage) else {
                        return Ok(None);
                    };
                    let Ok(expiry) = mirror_expiry(client, stage).await else {
                        return Ok(None);
                    };
                    if let Some(expiry) = expiry {
                        valid_for = Some(valid_for.map_or(expiry, |v| v.min(expiry)));
                    }
                    format!("devpi serial {serial}")
                }
                Source::Devpi { index, .. } => {
                    let Some(serial) = serial else {
                        return Ok(None);
                    };
                    let Ok(expiry) = mirror_expiry(client, index.clone()).await else {
                        return Ok(None);
                    };
                    if let Some(expiry) = expiry {
                        valid_for = Some(valid_for.map_or(expiry, |v| v.min(expiry)));
                    }
                    format!("devpi serial {serial}")
                }
                Source::Directory { path, .. } => match directory_fingerprint(path) {
                    Ok(fingerprint) => fingerprint,
                    Err(_) => return Ok(None),
                },
                Source::Page { url, listing } => {
                    let Ok(listing) = listing.get_or_try_init(|| fetch_page(client, url)).await
                    else {
                        return Ok(None);
                    };
                    let files = serde_json::to_vec(listing.files.all()).unwrap_or_default();
                    format!(
                        "page {} rejected {}",
                        hex::encode(Sha256::digest(files)),
                        listing.rejected.len()
                    )
                }
            };
            hash.update(part.as_bytes());
            hash.update(b"\n");
        }
        Ok(Some(UpstreamState {
            digest: hex::encode(hash.finalize()),
            valid_for,
        }))
    }
}

/// `http://h/u/i/+api` → the stage `u/i` on server `http://h/`.
fn stage_of(api: &url::Url) -> Result<DevpiIndex, IndexError> {
    let mut url = api.clone();
    let path = url
        .path()
        .trim_end_matches('/')
        .trim_end_matches("+api")
        .to_string();
    url.set_path(&path);
    DevpiIndex::from_url(&url)
}

/// The shortest `mirror_cache_expiry` of the mirrors `stage` is or inherits from.
async fn mirror_expiry(
    client: &HttpClient,
    stage: DevpiIndex,
) -> Result<Option<Duration>, IndexError> {
    let chain = stage.inheritance(client).await?;
    Ok(chain
        .iter()
        .filter(|(_, config)| config.kind == "mirror")
        .map(|(_, config)| {
            let seconds = config
                .mirror_cache_expiry
                .as_ref()
                .and_then(|v| match v {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
                .unwrap_or(DEVPI_DEFAULT_MIRROR_EXPIRY);
            Duration::from_secs(seconds)
        })
        .min())
}

/// Names, sizes and modification times of a directory's entries, sorted.
fn directory_fingerprint(path: &Path) -> Result<String, IndexError> {
    let dir_error = |source| IndexError::Directory {
        path: path.display().to_string(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(path).map_err(dir_error)? {
        let entry = entry.map_err(dir_error)?;
        let meta = entry.metadata().map_err(dir_error)?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        entries.push(format!(
            "{}\0{}\0{modified}",
            entry.file_name().to_string_lossy(),
            meta.len()
        ));
    }
    entries.sort();
    let mut hash = Sha256::new();
    for entry in &entries {
        hash.update(entry.as_bytes());
        hash.update(b"\n");
    }
    Ok(format!("directory {}", hex::encode(hash.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_is_found_from_its_api_url() {
        let api = url::Url::parse("http://h:3141/prefix/root/pypi/+api").unwrap();
        let stage = stage_of(&api).unwrap();
        assert_eq!(stage.stage(), "root/pypi");
        assert_eq!(stage.root.as_str(), "http://h:3141/prefix/");
    }

    #[test]
    fn a_directory_fingerprint_changes_with_its_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a-1.0.tar.gz"), b"x").unwrap();
        let first = directory_fingerprint(dir.path()).unwrap();
        assert_eq!(first, directory_fingerprint(dir.path()).unwrap());
        std::fs::write(dir.path().join("a-2.0.tar.gz"), b"y").unwrap();
        assert_ne!(first, directory_fingerprint(dir.path()).unwrap());
    }
}
