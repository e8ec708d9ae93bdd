//! Remembered devpi listings, valid while devpi's database serial has not moved.
//!
//! devpi answers every request with `X-Devpi-Serial`, the serial of its whole database; any
//! upload, index change or user change increases it. A run remembers the target's project
//! listings together with the serial seen when the run first asked the index (`+api`). When
//! the next run sees the same serial, nothing on the server changed, and the listings are
//! used without asking: a fully pinned no-op night costs that one `+api` request.
//!
//! Listings fetched after the first request may already show a later state; they are still
//! stored under the earlier serial, which only makes the next run distrust them (the serial
//! it sees is then higher). So a stale listing is never taken for a current one.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pep508_rs::PackageName;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{IndexFile, Target};

#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    serial: u64,
    target: String,
    own_only: bool,
    projects: BTreeMap<String, Option<Vec<IndexFile>>>,
}

/// Writes `value` as JSON to `path` (written aside, then renamed), best effort: a cache that
/// cannot be written only costs the next run its requests.
pub(crate) fn remember(path: &Path, value: &impl Serialize) {
    if let (Ok(bytes), Some(dir)) = (serde_json::to_vec(value), path.parent())
        && std::fs::create_dir_all(dir).is_ok()
        && let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir)
        && std::io::Write::write_all(&mut tmp, &bytes).is_ok()
    {
        let _ = tmp.persist(path);
    }
}

pub struct ListingCache {
    path: PathBuf,
    serial: u64,
    target: String,
    own_only: bool,
    /// Listings from the snapshot, valid for this run.
    valid: HashMap<String, Option<Vec<IndexFile>>>,
    /// Listings fetched during this run.
    fetched: Mutex<BTreeMap<String, Option<Vec<IndexFile>>>>,
}

impl ListingCache {
    /// The cache for a devpi target whose serial is known; `None` for other targets.
    pub fn open(cache_dir: &Path, target: &Target, own_only: bool) -> Option<ListingCache> {
        let Target::Devpi(index) = target else {
            return None;
        };
        let serial = index.serial?;
        let url = index.url().to_string();
        let key = hex::encode(Sha256::digest(format!("{url} own={own_only}").as_bytes()));
        let path = cache_dir.join("listings").join(format!("{key}.json"));
        let valid = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<SnapshotFile>(&bytes).ok())
            .filter(|file| file.serial == serial && file.target == url && file.own_only == own_only)
            .map(|file| file.projects.into_iter().collect())
            .unwrap_or_default();
        Some(ListingCache {
            path,
            serial,
            target: url,
            own_only,
            valid,
            fetched: Mutex::new(BTreeMap::new()),
        })
    }

    /// Whether the snapshot matched the server's serial (for reports and tests).
    pub fn is_warm(&self) -> bool {
        !self.valid.is_empty()
    }

    pub fn get(&self, name: &PackageName) -> Option<Option<Vec<IndexFile>>> {
        self.valid.get(name.as_ref()).cloned()
    }

    pub fn record(&self, name: &PackageName, files: &Option<Vec<IndexFile>>) {
        self.fetched
            .lock()
            .expect("listing cache lock")
            .insert(name.to_string(), files.clone());
    }

    /// Stores what is known now under the serial of this run's first request.
    pub fn save(&self) {
        let mut projects: BTreeMap<String, Option<Vec<IndexFile>>> = self
            .valid
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        projects.extend(self.fetched.lock().expect("listing cache lock").clone());
        let file = SnapshotFile {
            serial: self.serial,
            target: self.target.clone(),
            own_only: self.own_only,
            projects,
        };
        remember(&self.path, &file);
    }

    /// After this run changed the index, the remembered listings are stale.
    pub fn discard(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
