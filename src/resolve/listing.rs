//! From an index listing to the candidates of one environment: the piece every
//! `MetadataSource` over a simple-API listing needs.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;

use crate::distribution::{Compatibility, DistFilename, TagSet};
use crate::index::IndexFile;

use super::metadata_source::Candidate;

/// What an environment can install: its wheel tags, its Python version, and whether an
/// sdist counts (it can be built; `--only-binary` says no).
pub struct Fit<'a> {
    pub tags: &'a TagSet,
    pub python_full_version: &'a Version,
    pub sdists: bool,
}

/// The versions of `name` in `files` with a file `fit` can use, newest last. A version is
/// yanked when every usable file of it is (PEP 592 yanks files; a release with one yanked
/// wheel and one fine wheel stays a normal candidate). Files that do not parse as
/// distributions of `name` are skipped, as pip skips them; an unparsable `Requires-Python`
/// does not exclude a file (pip warns and ignores it).
pub fn candidates(files: &[IndexFile], name: &PackageName, fit: &Fit<'_>) -> Vec<Candidate> {
    // version -> whether some usable file is not yanked
    let mut usable: BTreeMap<Version, bool> = BTreeMap::new();
    for file in files {
        let Some(dist) = DistFilename::parse(&file.filename, name) else {
            continue;
        };
        let python_ok = file.requires_python.as_deref().is_none_or(|rp| {
            VersionSpecifiers::from_str(rp).map_or(true, |s| s.contains(fit.python_full_version))
        });
        if !python_ok {
            continue;
        }
        let (version, fits) = match &dist {
            DistFilename::Wheel(w) => (
                &w.version,
                matches!(fit.tags.compatibility(w), Compatibility::Compatible(_)),
            ),
            DistFilename::Sdist(s) => (&s.version, fit.sdists),
        };
        if fits {
            let live = usable.entry(version.clone()).or_insert(false);
            *live |= file.yanked.is_none();
        }
    }
    usable
        .into_iter()
        .map(|(version, live)| Candidate {
            version,
            yanked: !live,
        })
        .collect()
}
