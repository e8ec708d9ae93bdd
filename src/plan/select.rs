//! Pure selection logic: which versions a requirement resolves to, whether a listing holds a
//! wheel an interpreter accepts, and which upstream file to fetch or build from.

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;

use crate::distribution::{Compatibility, DistFilename, TagSet};
use crate::index::IndexFile;
use crate::interpreter::Interpreter;

/// A listing entry that parsed as a distribution of the project.
pub(crate) struct Dist<'a> {
    pub file: &'a IndexFile,
    pub dist: DistFilename,
}

impl Dist<'_> {
    pub(crate) fn version(&self) -> &Version {
        match &self.dist {
            DistFilename::Wheel(w) => &w.version,
            DistFilename::Sdist(s) => &s.version,
        }
    }
}

/// Parses a listing; files that are not distributions of `name` (devpi noise, docs, other
/// projects) are dropped quietly.
pub(crate) fn dists<'a>(files: &'a [IndexFile], name: &PackageName) -> Vec<Dist<'a>> {
    files
        .iter()
        .filter_map(|file| {
            DistFilename::parse(&file.filename, name).map(|dist| Dist { file, dist })
        })
        .collect()
}

/// Pre-releases are considered only with `--pre` or when a specifier names one (PEP 440
/// §"Handling of pre-releases", narrowed as the issue asks: no fallback to pre-releases).
pub(crate) fn allows_prereleases(specifiers: &VersionSpecifiers, pre: bool) -> bool {
    pre || specifiers.iter().any(|s| s.any_prerelease())
}

pub(crate) enum VersionPolicy {
    Newest,
    All,
}

/// Resolves a range against upstream versions. Yanked files never count for a range
/// (PEP 592: yanked files are for exact pins only). Returns versions newest first.
pub(crate) fn resolve_range(
    dists: &[Dist<'_>],
    specifiers: &VersionSpecifiers,
    constraints: &[&VersionSpecifiers],
    pre: bool,
    policy: &VersionPolicy,
) -> Vec<Version> {
    let allow_pre = allows_prereleases(specifiers, pre)
        || constraints.iter().any(|c| allows_prereleases(c, false));
    let mut versions: Vec<Version> = dists
        .iter()
        .filter(|d| d.file.yanked.is_none())
        .map(|d| d.version().clone())
        .filter(|v| allow_pre || !v.any_prerelease())
        .filter(|v| specifiers.contains(v) && constraints.iter().all(|c| c.contains(v)))
        .collect();
    versions.sort();
    versions.dedup();
    versions.reverse();
    match policy {
        VersionPolicy::Newest => versions.truncate(1),
        VersionPolicy::All => {}
    }
    versions
}

/// The newest pre-release the specifiers would admit but the pre-release rule kept out, if
/// it is newer than what was chosen.
pub(crate) fn newest_prerelease_above(
    dists: &[Dist<'_>],
    specifiers: &VersionSpecifiers,
    chosen: &Version,
) -> Option<Version> {
    dists
        .iter()
        .filter(|d| d.file.yanked.is_none())
        .map(|d| d.version().clone())
        .filter(|v| v.any_prerelease() && v > chosen && specifiers.contains(v))
        .max()
}

/// The target file that makes a job present: a wheel of `version` whose tags the
/// interpreter accepts and whose Requires-Python admits it (pip would skip it otherwise).
pub(crate) fn present_wheel<'a>(
    dists: &'a [Dist<'a>],
    version: &Version,
    interp: &Interpreter,
) -> Option<&'a Dist<'a>> {
    let python = &interp.markers.python_full_version().version;
    dists
        .iter()
        .filter(|d| d.version() == version)
        .filter(|d| python_ok(d, python))
        .filter_map(|d| match &d.dist {
            DistFilename::Wheel(w) => match interp.tags.compatibility(w) {
                Compatibility::Compatible(priority) => Some((priority, d)),
                Compatibility::Incompatible(_) => None,
            },
            DistFilename::Sdist(_) => None,
        })
        .min_by_key(|(priority, _)| *priority)
        .map(|(_, d)| d)
}

/// Whether the file's Requires-Python (as listed, or as read from the file) admits `python`;
/// a value that does not parse is ignored, as pip ignores it.
fn python_ok(d: &Dist<'_>, python: &Version) -> bool {
    d.file
        .requires_python
        .as_deref()
        .is_none_or(|rp| crate::version::python_admitted(rp, python))
}

/// What upstream offers for one (version, interpreter).
pub(crate) enum UpstreamChoice<'a> {
    Wheel(&'a Dist<'a>),
    Sdist(&'a Dist<'a>),
    Nothing(String),
}

pub(crate) struct Interp<'a> {
    pub label: &'a str,
    pub tags: &'a TagSet,
    pub python_full_version: &'a Version,
}

/// Prefers the best compatible wheel, then an sdist; otherwise says why nothing fits.
pub(crate) fn choose_upstream<'a>(
    dists: &'a [Dist<'a>],
    version: &Version,
    interp: &Interp<'_>,
    exact_pin: bool,
    binary_allowed: bool,
    source_allowed: bool,
) -> UpstreamChoice<'a> {
    let of_version: Vec<&Dist> = dists.iter().filter(|d| d.version() == version).collect();
    if of_version.is_empty() {
        return UpstreamChoice::Nothing(format!("version {version} is not on upstream"));
    }
    let usable: Vec<&Dist> = of_version
        .iter()
        .copied()
        .filter(|d| exact_pin || d.file.yanked.is_none())
        .collect();
    if usable.is_empty() {
        return UpstreamChoice::Nothing(format!("every file of version {version} is yanked"));
    }
    let fitting: Vec<&Dist> = usable
        .iter()
        .copied()
        .filter(|d| python_ok(d, interp.python_full_version))
        .collect();
    if fitting.is_empty() {
        let rp = usable
            .first()
            .and_then(|d| d.file.requires_python.as_deref())
            .unwrap_or_default();
        return UpstreamChoice::Nothing(format!(
            "requires-python `{rp}` excludes {} (Python {})",
            interp.label, interp.python_full_version
        ));
    }
    let mut incompatible = Vec::new();
    let mut best: Option<(u32, &Dist)> = None;
    for d in &fitting {
        if let DistFilename::Wheel(w) = &d.dist {
            match interp.tags.compatibility(w) {
                Compatibility::Compatible(p) if best.is_none_or(|(bp, _)| p < bp) => {
                    best = Some((p, d))
                }
                Compatibility::Compatible(_) => {}
                Compatibility::Incompatible(why) => {
                    incompatible.push(format!("{} ({why})", d.file.filename))
                }
            }
        }
    }
    if binary_allowed && let Some((_, d)) = best {
        return UpstreamChoice::Wheel(d);
    }
    let sdist = fitting
        .iter()
        .copied()
        .find(|d| matches!(d.dist, DistFilename::Sdist(_)));
    match sdist {
        Some(d) if source_allowed => UpstreamChoice::Sdist(d),
        Some(_) => UpstreamChoice::Nothing(format!(
            "--only-binary is set and no wheel of {version} fits {}",
            interp.label
        )),
        None if best.is_some() => UpstreamChoice::Nothing(format!(
            "--no-binary is set and version {version} has no sdist"
        )),
        None if !incompatible.is_empty() => UpstreamChoice::Nothing(format!(
            "no sdist, and only wheels {} cannot use: {}",
            interp.label,
            incompatible.join(", ")
        )),
        None => UpstreamChoice::Nothing(format!(
            "version {version} has neither a wheel nor an sdist on upstream"
        )),
    }
}
