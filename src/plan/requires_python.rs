//! Requires-Python for listed files whose listing does not give it.
//!
//! pip skips a file whose Requires-Python excludes the interpreter. An index gives the value
//! as `data-requires-python` / `requires-python`; a find-links directory never does, and an
//! index may not have recorded it (devpi takes it from the upload form, not from the file).
//! Then the value is read from the file itself before the file can count as present or be
//! chosen for a fetch or a build:
//! * local files (`file:` URLs): in place, from the wheel's METADATA or the sdist's PKG-INFO;
//! * remote upstream files: downloaded into the store first. That is the download a fetch
//!   or a build makes anyway (the store keeps it by sha256, so the acquisition reuses it).
//!   Without a store, such files are accepted.
//! * remote target (and pure-index) files are accepted as listed. Reading them would mean
//!   downloading every present wheel, and a no-op run costs one listing per project; devpi
//!   records Requires-Python from the upload form, which wheelwright and twine fill from the
//!   file's metadata, so a target file listed without it almost always has none.
//!
//! Only files that could be chosen are read: of a version being planned, and (wheels) with
//! tags one of the planned interpreters accepts, or (sdists) local, or remote when some
//! interpreter has no wheel of that version that fits it, tags and Requires-Python (so a
//! remote sdist is downloaded only when it would be built). A file that cannot be read is accepted here; acquisition validates it later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pep440_rs::Version;
use pep508_rs::PackageName;

use pep440_rs::VersionSpecifiers;

use super::listings::Listings;
use super::older::ProjectFiles;
use super::select::{dists, present_wheel, resolve_range};
use super::{Planner, pinned, specifiers};
use crate::distribution::{Compatibility, DistFilename};
use crate::index::IndexFile;
use crate::interpreter::Interpreter;
use crate::requirements::RequirementEntry;

/// Looks up (and remembers, per URL) the Requires-Python of files from their content.
pub(super) struct RequiresPythonReader<'a, L> {
    listings: &'a L,
    known: Mutex<HashMap<String, Option<String>>>,
}

impl<'a, L: Listings> RequiresPythonReader<'a, L> {
    pub(super) fn new(listings: &'a L) -> Self {
        Self {
            listings,
            known: Mutex::default(),
        }
    }

    /// Set `requires_python` on the files of `versions` that could be chosen for one of
    /// `interpreters` and whose listing did not give it; remote files only with `download`.
    pub(super) async fn fill(
        &self,
        files: &mut [IndexFile],
        name: &PackageName,
        versions: &[Version],
        interpreters: &[&Arc<Interpreter>],
        download: bool,
    ) {
        let parsed: Vec<Option<DistFilename>> = files
            .iter()
            .map(|f| DistFilename::parse(&f.filename, name))
            .collect();
        let version_of = |dist: &DistFilename| match dist {
            DistFilename::Wheel(w) => w.version.clone(),
            DistFilename::Sdist(s) => s.version.clone(),
        };
        let unknown = |file: &IndexFile, dist: &DistFilename| {
            file.requires_python.is_none()
                && versions.contains(&version_of(dist))
                && (file.url.scheme() == "file" || (download && self.listings.reads_remote_files()))
        };
        // Wheels first: those whose tags an interpreter accepts.
        for index in 0..files.len() {
            let Some(DistFilename::Wheel(wheel)) = &parsed[index] else {
                continue;
            };
            let fits = interpreters
                .iter()
                .any(|i| matches!(i.tags.compatibility(wheel), Compatibility::Compatible(_)));
            if fits && unknown(&files[index], &DistFilename::Wheel(wheel.clone())) {
                files[index].requires_python = self.read(&files[index]).await;
            }
        }
        // Then sdists: a local one always (cheap); a remote one only when an interpreter has
        // no wheel of that version (so it would be built, and downloaded anyway).
        for index in 0..files.len() {
            let Some(dist @ DistFilename::Sdist(_)) = &parsed[index] else {
                continue;
            };
            if !unknown(&files[index], dist) {
                continue;
            }
            let version = version_of(dist);
            let needed = files[index].url.scheme() == "file"
                || interpreters.iter().any(|i| {
                    let python = &i.markers.python_full_version().version;
                    !files.iter().zip(&parsed).any(|(file, d)| match d {
                        Some(DistFilename::Wheel(w)) => {
                            w.version == version
                                && matches!(i.tags.compatibility(w), Compatibility::Compatible(_))
                                && file
                                    .requires_python
                                    .as_deref()
                                    .is_none_or(|rp| crate::version::python_admitted(rp, python))
                        }
                        _ => false,
                    })
                });
            if needed {
                files[index].requires_python = self.read(&files[index]).await;
            }
        }
    }

    async fn read(&self, file: &IndexFile) -> Option<String> {
        let key = file.url.to_string();
        if let Some(known) = self.known.lock().expect("lock").get(&key) {
            return known.clone();
        }
        let value = self.listings.requires_python(file).await;
        self.known.lock().expect("lock").insert(key, value.clone());
        value
    }
}

impl<L: Listings> Planner<'_, L> {
    /// Requires-Python for the files of every version a job will be planned for: target and
    /// pure-index files first, then upstream files of versions the target does not serve.
    pub(super) async fn read_requires_python(
        &self,
        reader: &RequiresPythonReader<'_, L>,
        listings: ProjectFiles<'_>,
        name: &PackageName,
        live: &[(usize, &RequirementEntry, Vec<&Arc<Interpreter>>)],
        constraints: &[&VersionSpecifiers],
        live_interps: &[&Arc<Interpreter>],
    ) {
        // Every version a job will be planned for (ranges resolve without Requires-Python).
        let planned: Vec<Version> = {
            let upstream_dists = dists(listings.upstream, name);
            let mut all: Vec<Version> = live
                .iter()
                .filter(|(_, _, interps)| !interps.is_empty())
                .flat_map(|(_, entry, _)| match pinned(entry) {
                    Some(v) => vec![v],
                    None => resolve_range(
                        &upstream_dists,
                        &specifiers(entry),
                        constraints,
                        self.policy.pre,
                        &self.policy.versions,
                    ),
                })
                .collect();
            all.sort();
            all.dedup();
            all
        };
        reader
            .fill(listings.target, name, &planned, live_interps, false)
            .await;
        reader
            .fill(listings.pure, name, &planned, live_interps, false)
            .await;
        // Upstream files are read only where the target does not already serve the job.
        let missing: Vec<Version> = {
            let target_dists = dists(listings.target, name);
            let pure_dists = dists(listings.pure, name);
            planned
                .iter()
                .filter(|v| {
                    live_interps.iter().any(|i| {
                        present_wheel(&target_dists, v, i).is_none()
                            && present_wheel(&pure_dists, v, i).is_none()
                    })
                })
                .cloned()
                .collect()
        };
        reader
            .fill(listings.upstream, name, &missing, live_interps, true)
            .await;
    }
}
