//! A range resolves per interpreter the way pip resolves it there: to the newest matching
//! version with a file whose Requires-Python admits that interpreter. `ww-rp-only` (2.0 says
//! `>=3.9`) is 2.0 for 3.11 and 1.0 for 3.8. Only `--versions newest` needs this; with
//! `--versions all` every match is planned for every interpreter anyway.

use std::sync::Arc;

use std::collections::HashMap;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;

use super::listings::Listings;
use super::requires_python::RequiresPythonReader;
use super::select::{Interp, UpstreamChoice, choose_upstream, dists, present_wheel, resolve_range};
use super::{Planner, VersionPolicy};
use crate::index::IndexFile;
use crate::interpreter::Interpreter;
use crate::requirements::AllowedFormats;

/// Older versions tried per interpreter before giving up (each may cost a download when the
/// upstream does not list Requires-Python).
const MAX_OLDER: usize = 20;

/// The files of one project, as the planner holds them.
pub(super) struct ProjectFiles<'f> {
    pub target: &'f mut Vec<IndexFile>,
    pub pure: &'f mut Vec<IndexFile>,
    pub upstream: &'f mut Vec<IndexFile>,
}

impl<L: Listings> Planner<'_, L> {
    /// For a range, the version each interpreter gets when the newest match does not serve it
    /// (keyed by interpreter label); empty when the newest serves every interpreter.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn older_for_python(
        &self,
        reader: &RequiresPythonReader<'_, L>,
        listings: ProjectFiles<'_>,
        name: &PackageName,
        specifiers: &VersionSpecifiers,
        constraints: &[&VersionSpecifiers],
        interps: &[&Arc<Interpreter>],
        formats: AllowedFormats,
    ) -> HashMap<String, Version> {
        let mut picks = HashMap::new();
        if !matches!(self.policy.versions, VersionPolicy::Newest) {
            return picks;
        }
        let all = resolve_range(
            &dists(listings.upstream, name),
            specifiers,
            constraints,
            self.policy.pre,
            &VersionPolicy::All,
        );
        let Some((newest, older)) = all.split_first() else {
            return picks;
        };
        for interp in interps {
            if self.serves(&listings, name, newest, interp, formats) {
                continue;
            }
            for version in older.iter().take(MAX_OLDER) {
                let only = std::slice::from_ref(version);
                let one = std::slice::from_ref(interp);
                reader.fill(listings.target, name, only, one, false).await;
                reader.fill(listings.pure, name, only, one, false).await;
                reader.fill(listings.upstream, name, only, one, true).await;
                if self.serves(&listings, name, version, interp, formats) {
                    picks.insert(interp.label.clone(), version.clone());
                    break;
                }
            }
        }
        picks
    }

    /// Whether `version` is present for `interp`, or upstream has a file to fetch or build.
    fn serves(
        &self,
        listings: &ProjectFiles<'_>,
        name: &PackageName,
        version: &Version,
        interp: &Interpreter,
        formats: AllowedFormats,
    ) -> bool {
        let target = dists(listings.target, name);
        let pure = dists(listings.pure, name);
        if present_wheel(&target, version, interp).is_some()
            || present_wheel(&pure, version, interp).is_some()
        {
            return true;
        }
        let upstream = dists(listings.upstream, name);
        let view = Interp {
            label: &interp.label,
            tags: &interp.tags,
            python_full_version: &interp.markers.python_full_version().version,
        };
        matches!(
            choose_upstream(
                &upstream,
                version,
                &view,
                false,
                formats.binary,
                formats.source
            ),
            UpstreamChoice::Wheel(_) | UpstreamChoice::Sdist(_)
        )
    }
}
