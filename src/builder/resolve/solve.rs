//! The solve on the blocking thread: lines for `crate::resolve`, the chosen wheels, and a
//! failure explained the way a build log reader needs it.

use std::collections::BTreeSet;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, Requirement};
use tokio::sync::mpsc;

use super::wheel_adapter::{BuildSource, Pick, Question, specifiers};
use super::{BuildConstraint, BuildRequiresError, NoWheel, ResolvedWheel};
use crate::distribution::{Compatibility, DistFilename, WheelFilename};
use crate::interpreter::Interpreter;
use crate::resolve::listing::candidates;
use crate::resolve::{self, Line, Options, ProviderError, Resolution};

/// Where a `--build-constraints` pin shows up in a conflict's notes.
const CONSTRAINTS: &str = "--build-constraints";

/// Solve `roots` for `interpreter`, asking for listings and wheels over `asks`.
pub(super) fn solve(
    asks: mpsc::UnboundedSender<Question>,
    interpreter: &Interpreter,
    constraints: &[BuildConstraint],
    roots: &[Requirement],
    origin: &str,
) -> Result<Vec<ResolvedWheel>, BuildRequiresError> {
    let source = BuildSource::new(asks, interpreter, constraints);
    let lines: Vec<Line> = roots.iter().map(|r| Line::new(r.clone(), origin)).collect();
    let pins = constraints
        .iter()
        .map(|c| pin_line(c, origin))
        .collect::<Result<Vec<_>, _>>()?;
    match resolve::resolve(
        &source,
        &interpreter.markers,
        &lines,
        &pins,
        Options::default(),
    ) {
        Ok(resolution) => wheels(&source, &resolution, origin),
        Err(e) => Err(explain(&source, e, roots, origin)),
    }
}

/// A `--build-constraints` pin as a constraint line: it narrows the project's versions
/// and never adds the project (uv's `--build-constraint`, pip's `-c`). `===` names exactly
/// the pinned version, not its local variants, as the pin's hashes name that version's files.
fn pin_line(pin: &BuildConstraint, origin: &str) -> Result<Line, BuildRequiresError> {
    let text = format!("{}==={}", pin.name, pin.version);
    let requirement = Requirement::from_str(&text).map_err(|e| BuildRequiresError::Setup {
        origin: origin.to_string(),
        message: format!("{CONSTRAINTS} pin `{text}`: {}", e.message),
    })?;
    Ok(Line::new(requirement, CONSTRAINTS))
}

/// The wheel the solver's choice stands for, per project (sorted by name).
fn wheels(
    source: &BuildSource<'_>,
    resolution: &Resolution,
    origin: &str,
) -> Result<Vec<ResolvedWheel>, BuildRequiresError> {
    let mut out = Vec::new();
    for chosen in resolution.packages.values() {
        // Every chosen version's Requires-Dist was read, so this is the cached pick.
        let pick = source.pick(&chosen.name, &chosen.version)?;
        let wheel = match &*pick {
            Pick::Wheel(wheel) => wheel,
            // The solver does not choose a version `unusable` ruled out; should it, the
            // reason is still the METADATA's.
            Pick::Excluded(excluded) => {
                return Err(BuildRequiresError::NoMatch {
                    requirement: format!("{}=={}", chosen.name, chosen.version),
                    origin: origin.to_string(),
                    interpreter: source.interpreter.label.clone(),
                    reason: Box::new(NoWheel::MetadataExcludes {
                        python: source.python().clone(),
                        excluded: excluded.clone(),
                    }),
                });
            }
        };
        out.push(ResolvedWheel {
            name: chosen.name.clone(),
            version: wheel.filename.version.clone(),
            filename: wheel.filename.clone(),
            path: wheel.path.clone(),
            sha256: wheel.sha256.clone(),
        });
    }
    Ok(out)
}

/// The solver's error as the build reports it. A source failure comes back typed (the
/// adapter's [`BuildRequiresError`], boxed through the solver). A conflict in which some
/// requirement has no wheel at all for this interpreter is reported as that requirement's
/// `SdistOnly` / `NoMatch`, which says what to publish; only a genuine conflict between
/// requirements keeps the solver's derivation.
fn explain(
    source: &BuildSource<'_>,
    e: resolve::ResolveError,
    roots: &[Requirement],
    origin: &str,
) -> BuildRequiresError {
    match e {
        resolve::ResolveError::Source(
            ProviderError::Candidates { source: err, .. }
            | ProviderError::Metadata { source: err, .. },
        ) => match err.downcast::<BuildRequiresError>() {
            Ok(e) => *e,
            Err(other) => BuildRequiresError::Setup {
                origin: origin.to_string(),
                message: other.to_string(),
            },
        },
        resolve::ResolveError::Conflict(conflict) => {
            let named: BTreeSet<PackageName> = conflict
                .packages()
                .into_iter()
                .filter_map(|p| p.name().cloned())
                .collect();
            match without_wheels(source, roots, origin, &named) {
                Ok(Some(e)) | Err(e) => e,
                Ok(None) => BuildRequiresError::Conflict {
                    origin: origin.to_string(),
                    interpreter: source.interpreter.label.clone(),
                    report: conflict.to_string(),
                },
            }
        }
        resolve::ResolveError::Url { requirement, .. } => BuildRequiresError::Url {
            requirement,
            origin: origin.to_string(),
        },
        other => BuildRequiresError::Setup {
            origin: origin.to_string(),
            message: other.to_string(),
        },
    }
}

/// The first requirement that no wheel can satisfy: a root with no usable wheel in its
/// own specifiers, else a dependency (of a version the derivation names) of a project with
/// no usable wheel at all.
fn without_wheels(
    source: &BuildSource<'_>,
    roots: &[Requirement],
    origin: &str,
    named: &BTreeSet<PackageName>,
) -> Result<Option<BuildRequiresError>, BuildRequiresError> {
    let markers = &source.interpreter.markers;
    for root in roots.iter().filter(|r| r.evaluate_markers(markers, &[])) {
        if let Some(e) = no_wheel(source, root, origin, true)? {
            return Ok(Some(e));
        }
    }
    for ((name, version), pick) in source.picked() {
        let Pick::Wheel(wheel) = &*pick else {
            continue;
        };
        if !named.contains(&name) {
            continue;
        }
        let from = format!("{name} {version}");
        for dep in &wheel.deps {
            if named.contains(&dep.name)
                && dep.evaluate_markers(markers, &[])
                && let Some(e) = no_wheel(source, dep, &from, false)?
            {
                return Ok(Some(e));
            }
        }
    }
    Ok(None)
}

/// `req` as `SdistOnly` / `NoMatch` when no wheel can satisfy it: none in its specifiers
/// (`within_spec`), or none of any version.
fn no_wheel(
    source: &BuildSource<'_>,
    req: &Requirement,
    from: &str,
    within_spec: bool,
) -> Result<Option<BuildRequiresError>, BuildRequiresError> {
    let name = &req.name;
    let spec = specifiers(req);
    let files = source.listing(name)?;
    let pin = source.pin(name).map(|p| &p.version);
    let exact = crate::version::pinned_version(&spec);
    let pre = resolve::names_prerelease(&spec);
    let mut excluded = Vec::new();
    let mut usable = 0;
    for candidate in candidates(&files, name, &source.fit()) {
        let v = &candidate.version;
        let admitted = !within_spec
            || (spec.contains(v)
                && (pre || !v.any_prerelease())
                && pin.is_none_or(|p| p == v)
                && (!candidate.yanked || exact.as_ref() == Some(v) || pin == Some(v)));
        if !admitted {
            continue;
        }
        match source.known(name, v).as_deref() {
            Some(Pick::Excluded(files)) => excluded.extend(files.iter().cloned()),
            _ => usable += 1,
        }
    }
    if usable > 0 {
        return Ok(None);
    }
    let has_wheel = files.iter().any(|f| f.filename.ends_with(".whl"));
    let has_sdist = files.iter().any(|f| {
        matches!(
            DistFilename::parse(&f.filename, name),
            Some(DistFilename::Sdist(_))
        )
    });
    if has_sdist && !has_wheel {
        return Ok(Some(BuildRequiresError::SdistOnly {
            requirement: req.to_string(),
            origin: from.to_string(),
        }));
    }
    let python = source.python().clone();
    let reason = if files.is_empty() {
        NoWheel::NothingPublished
    } else if !excluded.is_empty() {
        NoWheel::MetadataExcludes { python, excluded }
    } else {
        NoWheel::NoneFits {
            other_python: other_python(source, name, &spec, pin, &files),
            wanted: vec![(spec, from.to_string())],
            pinned: pin.cloned(),
            python,
        }
    };
    Ok(Some(BuildRequiresError::NoMatch {
        requirement: req.to_string(),
        origin: from.to_string(),
        interpreter: source.interpreter.label.clone(),
        reason: Box::new(reason),
    }))
}

/// Versions whose wheels would fit but for their listed Requires-Python.
fn other_python(
    source: &BuildSource<'_>,
    name: &PackageName,
    spec: &VersionSpecifiers,
    pin: Option<&Version>,
    files: &[crate::index::IndexFile],
) -> Vec<(Version, String)> {
    let mut out: Vec<(Version, String)> = files
        .iter()
        .filter(|f| f.yanked.is_none())
        .filter_map(|f| {
            let wheel = WheelFilename::from_str(&f.filename).ok()?;
            let rp = f.requires_python.as_deref()?;
            let fits = &wheel.name == name
                && spec.contains(&wheel.version)
                && pin.is_none_or(|p| p == &wheel.version)
                && matches!(
                    source.interpreter.tags.compatibility(&wheel),
                    Compatibility::Compatible(_)
                )
                && !crate::version::python_admitted(rp, source.python());
            fits.then(|| (wheel.version, rp.to_string()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
