//! PEP 440 version specifiers as pubgrub version sets.
//!
//! pubgrub needs sets over a total order; PEP 440 specifiers are predicates with special
//! cases (local labels ignored, `<V` refusing pre-releases of V, `>V` refusing post-releases
//! and local versions of V). Each specifier becomes a union of intervals of `Version`s that
//! contains exactly the versions pip's `packaging` accepts, except for the corners listed in
//! `docs/resolver.md` (dev releases of post releases under `<V.postN`; local versions, and
//! post releases of pre-releases, of V's release under `>V` when V is a pre- or post-release).
//!
//! Pre-release policy is not part of the set: the solver filters candidates by it.

use std::fmt;
use std::ops::Bound;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};
use pubgrub::{Ranges, VersionSet};

/// A set of versions: pubgrub's `Ranges<Version>`, displayed in specifier syntax.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range(Ranges<Version>);

impl Range {
    /// The set `specifiers` (all of them at once) admits.
    pub fn from_specifiers(specifiers: &VersionSpecifiers) -> Self {
        specifiers.iter().fold(Self::full(), |acc, s| {
            acc.intersection(&Self::from_specifier(s))
        })
    }

    /// The set one specifier admits.
    pub fn from_specifier(specifier: &VersionSpecifier) -> Self {
        let v = specifier.version();
        let ranges = match specifier.operator() {
            Operator::Equal => equal(v),
            Operator::NotEqual => equal(v).complement(),
            // Arbitrary equality compares text; pep440_rs only hands us a parsed version,
            // whose normalised text is compared: `===1.0` is exactly 1.0 (and 1.0.0).
            Operator::ExactEqual => Ranges::singleton(v.clone()),
            Operator::EqualStar => prefix(v),
            Operator::NotEqualStar => prefix(v).complement(),
            Operator::TildeEqual => tilde(v),
            Operator::GreaterThanEqual => Ranges::higher_than(v.clone()),
            Operator::LessThanEqual => Ranges::strictly_lower_than(successor(v)),
            Operator::LessThan => less_than(v),
            Operator::GreaterThan => greater_than(v),
        };
        Self(ranges)
    }

    /// Exactly `version` (a `==` pin without local leniency, a `--hash` pin's version).
    pub fn exact(version: Version) -> Self {
        Self(Ranges::singleton(version))
    }

    pub fn ranges(&self) -> &Ranges<Version> {
        &self.0
    }

    /// This set without the versions of `excluded`.
    pub(super) fn without(&self, excluded: &Ranges<Version>) -> Self {
        Self(self.0.intersection(&excluded.complement()))
    }
}

/// `==V`: V and, when V has no local label, every local version of it (PEP 440: local
/// labels are ignored when the specifier has none).
fn equal(v: &Version) -> Ranges<Version> {
    if v.local().is_empty() {
        Ranges::from_range_bounds(v.clone()..successor(v))
    } else {
        Ranges::singleton(v.clone())
    }
}

/// The least public version above V: nothing but V's local versions lies in between. The
/// order within one release is dev < pre < final < post, locals right after their public
/// version.
fn successor(v: &Version) -> Version {
    let v = v.clone().without_local();
    match v.dev() {
        Some(n) => v.with_dev(Some(n.saturating_add(1))),
        None => {
            let post = v.post().map_or(0, |p| p.saturating_add(1));
            v.with_post(Some(post)).with_dev(Some(0))
        }
    }
}

/// The release of V (with its epoch) as the smallest version of that release: `R.dev0`.
fn release_floor(epoch: u64, release: &[u64]) -> Version {
    Version::new(release.iter().copied())
        .with_epoch(epoch)
        .with_dev(Some(0))
}

/// `release` with its last segment incremented, as a floor; `None` for an empty release.
fn next_release_floor(epoch: u64, release: &[u64]) -> Option<Version> {
    let (last, rest) = release.split_last()?;
    let mut next = rest.to_vec();
    next.push(last.saturating_add(1));
    Some(release_floor(epoch, &next))
}

/// `==R.*`: every version whose release starts with R (zero-padded, PEP 440), any pre, post,
/// dev or local part.
fn prefix(v: &Version) -> Ranges<Version> {
    let low = release_floor(v.epoch(), v.release());
    match next_release_floor(v.epoch(), v.release()) {
        Some(high) => Ranges::from_range_bounds(low..high),
        None => Ranges::higher_than(low),
    }
}

/// `~=V` is `>=V, ==P.*` with P the release of V without its last segment.
fn tilde(v: &Version) -> Ranges<Version> {
    let release = v.release();
    let lower = Ranges::higher_than(v.clone());
    // pep440_rs refuses `~=` on a one-segment release; keep the `>=` half if one gets here.
    match release.split_last() {
        Some((_, rest)) if !rest.is_empty() => match next_release_floor(v.epoch(), rest) {
            Some(high) => lower.intersection(&Ranges::strictly_lower_than(high)),
            None => lower,
        },
        _ => lower,
    }
}

/// `<V`: below V; when V is not a pre-release, no pre-release of V's release either.
fn less_than(v: &Version) -> Ranges<Version> {
    if v.any_prerelease() {
        return Ranges::strictly_lower_than(v.clone());
    }
    let floor = release_floor(v.epoch(), v.release());
    let base = Version::new(v.release().iter().copied()).with_epoch(v.epoch());
    // For `<R.postN`: R itself and its earlier post releases stay in.
    Ranges::strictly_lower_than(floor).union(&Ranges::from_range_bounds(base..v.clone()))
}

/// `>V`: above V; when V is not a post release, no post release or local version of V's
/// release either.
fn greater_than(v: &Version) -> Ranges<Version> {
    let base = Version::new(v.release().iter().copied()).with_epoch(v.epoch());
    // Above every version of the release: pep440_rs's internal "max" marker, which
    // displays as the plain release.
    let above_release = Ranges::strictly_higher_than(base.clone().with_max(Some(0)));
    if v.is_post() {
        return Ranges::higher_than(successor(v));
    }
    if v.any_prerelease() {
        // The rest of V's pre-releases and the final release, then the next releases.
        let within = Ranges::from_range_bounds((
            Bound::Included(successor(v)),
            Bound::Included(base.clone()),
        ));
        return within.union(&above_release);
    }
    above_release
}

impl VersionSet for Range {
    type V = Version;

    fn empty() -> Self {
        Self(Ranges::empty())
    }
    fn singleton(v: Version) -> Self {
        Self(Ranges::singleton(v))
    }
    fn complement(&self) -> Self {
        Self(self.0.complement())
    }
    fn intersection(&self, other: &Self) -> Self {
        Self(self.0.intersection(&other.0))
    }
    fn contains(&self, v: &Version) -> bool {
        self.0.contains(v)
    }
    fn full() -> Self {
        Self(Ranges::full())
    }
    fn union(&self, other: &Self) -> Self {
        Self(self.0.union(&other.0))
    }
    fn is_disjoint(&self, other: &Self) -> bool {
        self.0.is_disjoint(&other.0)
    }
    fn subset_of(&self, other: &Self) -> bool {
        self.0.subset_of(&other.0)
    }
}

/// Specifier syntax for the shapes the mapping above produces, plain bounds otherwise.
impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(no version)");
        }
        // `!=V`: everything but one version (or one public version and its locals).
        let rest = self.0.complement();
        if let Some((Bound::Included(a), high)) = rest.iter().next()
            && rest.iter().count() == 1
            && (matches!(high, Bound::Included(b) if b == a)
                || matches!(high, Bound::Excluded(b) if a.local().is_empty() && *b == successor(a)))
        {
            return write!(f, "!={a}");
        }
        let mut first = true;
        for (low, high) in self.0.iter() {
            if !first {
                f.write_str(" | ")?;
            }
            first = false;
            write_segment(f, low, high)?;
        }
        Ok(())
    }
}

fn write_segment(
    f: &mut fmt::Formatter<'_>,
    low: &Bound<Version>,
    high: &Bound<Version>,
) -> fmt::Result {
    use Bound::{Excluded, Included, Unbounded};
    match (low, high) {
        (Unbounded, Unbounded) => f.write_str("*"),
        (Included(a), Included(b)) if a == b => write!(f, "=={a}"),
        (Included(a), Excluded(b)) if a.local().is_empty() && *b == successor(a) => {
            write!(f, "=={a}")
        }
        (Included(a), Excluded(b))
            if is_floor(a) && next_release_floor(a.epoch(), a.release()).as_ref() == Some(b) =>
        {
            write!(f, "=={}.*", plain_release(a))
        }
        (low, high) => {
            let lower = match low {
                Unbounded => None,
                Included(a) => Some(format!(">={a}")),
                Excluded(a) => Some(format!(">{a}")),
            };
            let upper = match high {
                Unbounded => None,
                Included(b) => Some(format!("<={b}")),
                Excluded(b) => Some(upper_bound(b)),
            };
            let parts: Vec<String> = lower.into_iter().chain(upper).collect();
            f.write_str(&parts.join(", "))
        }
    }
}

/// `R.dev0`: the smallest version of release R.
fn is_floor(v: &Version) -> bool {
    v.dev() == Some(0) && v.pre().is_none() && v.post().is_none() && v.local().is_empty()
}

fn plain_release(v: &Version) -> Version {
    Version::new(v.release().iter().copied()).with_epoch(v.epoch())
}

/// An exclusive upper bound, written as the specifier that produces it.
fn upper_bound(b: &Version) -> String {
    if is_floor(b) {
        return format!("<{}", plain_release(b));
    }
    if b.dev() == Some(0) && b.local().is_empty() {
        // `successor(V)`: the bound of `<=V`.
        if let Some(post) = b.post() {
            let below = b.clone().with_dev(None);
            let v = if post == 0 {
                below.with_post(None)
            } else {
                below.with_post(Some(post - 1))
            };
            return format!("<={v}");
        }
    }
    format!("<{b}")
}
