//! SHA-256 of chosen files in local directories, whose listing carries none.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Decision, JobSlot};
use crate::distribution::Sha256;
use crate::index::SafeUrl;

/// Files from local directories carry no hash in their listing; the chosen ones get theirs
/// here, so the report names exact bytes.
pub(super) async fn fill_local_hashes(slots: &mut [JobSlot]) {
    let mut cache: BTreeMap<SafeUrl, Option<Sha256>> = BTreeMap::new();
    for slot in slots.iter_mut() {
        let file = match &mut slot.job.decision {
            Decision::Present(c) | Decision::Fetch(c) | Decision::Build(c) => &mut c.file,
            _ => continue,
        };
        if file.sha256.is_some() || file.url.as_url().scheme() != "file" {
            continue;
        }
        if !cache.contains_key(&file.url) {
            let hash = match file.url.as_url().to_file_path() {
                Ok(path) => tokio::task::spawn_blocking(move || hash_path(&path))
                    .await
                    .ok()
                    .flatten(),
                Err(()) => None,
            };
            cache.insert(file.url.clone(), hash);
        }
        file.sha256 = cache.get(&file.url).cloned().flatten();
    }
}

fn hash_path(path: &Path) -> Option<Sha256> {
    crate::distribution::sha256_file(path)
        .ok()
        .and_then(|hex| Sha256::new(&hex).ok())
}
