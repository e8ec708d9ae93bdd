//! The decisions for a version the target does not serve (fetch, build, or unavailable),
//! and the reasons a job fails: an exclusion, entries refused at the index boundary, a
//! range that matches nothing.

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, VersionOrUrl};

use super::select::{Dist, Interp, UpstreamChoice, choose_upstream};
use super::{Action, Decision, Job, chosen};
use crate::index::RejectedEntry;
use crate::interpreter::Interpreter;
use crate::requirements::{AllowedFormats, RequirementEntry};

/// Fetch, build or unavailable for a version the target does not serve, and why.
pub(super) fn decide_acquisition(
    has_upstream: bool,
    upstream: &[Dist<'_>],
    version: &Version,
    interp: &Interpreter,
    exact_pin: bool,
    formats: AllowedFormats,
) -> (Decision, String) {
    let unavailable = Decision::Unavailable(Some(version.clone()));
    if !has_upstream {
        let reason = "not on the target, and no upstream index is configured";
        return (unavailable, reason.into());
    }
    let interp_view = Interp {
        label: &interp.label,
        tags: &interp.tags,
        python_full_version: &interp.markers.python_full_version().version,
    };
    let choice = choose_upstream(
        upstream,
        version,
        &interp_view,
        exact_pin,
        formats.binary,
        formats.source,
    );
    match choice {
        UpstreamChoice::Wheel(d) => (
            Decision::Fetch(chosen(version, d.file)),
            "upstream publishes a compatible wheel".into(),
        ),
        UpstreamChoice::Sdist(d) => {
            let incompatible = upstream.iter().any(|x| {
                x.version() == version
                    && matches!(x.dist, crate::distribution::DistFilename::Wheel(_))
            });
            let reason = if incompatible {
                format!(
                    "upstream has only wheels {} cannot use; build from the sdist",
                    interp.label
                )
            } else {
                "upstream has only an sdist".into()
            };
            (Decision::Build(chosen(version, d.file)), reason)
        }
        UpstreamChoice::Nothing(reason) => (unavailable, reason),
    }
}

/// Upstream entries that could not be used (unsafe name, malformed sha256) fail the jobs that
/// would have needed them: a job about to fetch or build the version such an entry claims
/// is refused rather than served by its neighbours (a listing tampered with for that version
/// is not trusted for it), and a job that found nothing says which entries were refused.
pub(super) fn refuse_unusable(job: &mut Job, name: &PackageName, rejected: &[RejectedEntry]) {
    let version = job.version().cloned();
    let claims = |r: &&RejectedEntry| match (r.version_of(name), &version) {
        (Some(claimed), Some(version)) => claimed == *version,
        _ => false,
    };
    let relevant: Vec<&RejectedEntry> = match job.action() {
        Action::Fetch | Action::Build => rejected.iter().filter(claims).collect(),
        // A job without a version (a range that found nothing) is told about every refused
        // entry: a quarantined project or a cooldown may have refused all of them.
        Action::Unavailable => rejected
            .iter()
            .filter(|r| version.is_none() || claims(r) || r.version_of(name).is_none())
            .collect(),
        _ => Vec::new(),
    };
    if relevant.is_empty() {
        return;
    }
    const SHOWN: usize = 3;
    let mut listed: Vec<String> = relevant.iter().take(SHOWN).map(|r| r.to_string()).collect();
    if relevant.len() > SHOWN {
        listed.push(format!("and {} more", relevant.len() - SHOWN));
    }
    let refused = format!("unusable upstream entries: {}", listed.join("; "));
    if job.action() == Action::Unavailable {
        job.reason = format!("{}; {refused}", job.reason);
    } else {
        job.decision = Decision::Unavailable(version);
        job.reason = refused;
    }
}

pub(super) fn excluded_by<'a>(
    exclusions: &'a [RequirementEntry],
    name: &PackageName,
    version: &Version,
) -> Option<&'a RequirementEntry> {
    exclusions.iter().find(|e| {
        e.requirement.name == *name
            && match &e.requirement.version_or_url {
                Some(VersionOrUrl::VersionSpecifier(specs)) => specs.contains(version),
                _ => true,
            }
    })
}

pub(super) fn no_match_reason(
    upstream: &[Dist<'_>],
    specifiers: &VersionSpecifiers,
    constraints: &[&VersionSpecifiers],
) -> String {
    let mut known: Vec<&Version> = upstream.iter().map(Dist::version).collect();
    known.sort();
    known.dedup();
    if known.is_empty() {
        return "the project is not on upstream".into();
    }
    let listed: Vec<String> = known.iter().rev().take(8).map(|v| v.to_string()).collect();
    let constraint_text = if constraints.is_empty() {
        String::new()
    } else {
        let c: Vec<String> = constraints.iter().map(|c| c.to_string()).collect();
        format!(" and constraints `{}`", c.join(", "))
    };
    format!(
        "no version matching `{specifiers}`{constraint_text} on upstream (it has {}{})",
        listed.join(", "),
        if known.len() > 8 { ", ..." } else { "" }
    )
}
