//! What the solver asks of the outside world, and nothing more.
//!
//! pubgrub's `DependencyProvider` is synchronous, so this trait is too. Callers on tokio run
//! the solver inside `spawn_blocking` and implement the trait with `Handle::block_on` over
//! their listings (the upstream index, `--find-links`, the serial-snapshot cache), or fetch
//! ahead and serve from memory. The solver asks each question at most once per project or
//! candidate, and keeps the answers across its policy restarts.

use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement};

/// A version a project publishes that can be installed in the environment being solved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version: Version,
    /// PEP 592: every file of this version that fits is yanked. The solver picks it only for
    /// an exact pin (`==V`, `===V`) from a root or a constraint.
    pub yanked: bool,
}

impl Candidate {
    pub fn new(version: Version) -> Self {
        Self {
            version,
            yanked: false,
        }
    }

    pub fn yanked(version: Version) -> Self {
        Self {
            version,
            yanked: true,
        }
    }
}

/// An error of a metadata source, kept whole for the report (`source()` chain).
pub type SourceError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a source could not answer, and what that means for the solve.
///
/// pip and uv stop when one candidate's metadata cannot be generated; a nightly fill over a
/// real index meets old sdists whose build hooks no longer run, so here only what makes every
/// answer doubtful stops the solve ([`Fault::Fatal`]: the index is down, it refuses the
/// credentials, the local store fails). Everything else rules out only what was asked about
/// ([`Fault::Unusable`]): the solver tries the next candidate and the reason shows in the
/// derivation if nothing fits.
#[derive(Debug)]
pub enum Fault {
    Fatal(SourceError),
    /// A project whose listing failed (a 404 included), or one version whose metadata cannot
    /// be had (a failed prepare hook, a broken METADATA, a file that cannot be downloaded).
    Unusable(SourceError),
}

impl From<SourceError> for Fault {
    fn from(error: SourceError) -> Self {
        Fault::Fatal(error)
    }
}

/// Listings and metadata for one environment (one interpreter).
pub trait MetadataSource {
    /// The versions of `name` that have a file this environment can use: wheel tags that fit
    /// the interpreter (or an sdist, when building is allowed), `Requires-Python` admitting
    /// it. Pre-release and yanked filtering is the solver's (it knows the specifiers). An
    /// unknown project is an empty list, or [`Fault::Unusable`] when the source can say why
    /// (the index answered 404, no file fits the interpreter).
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, Fault>;

    /// The `Requires-Dist` of `name` at `version` (one of its candidates), unevaluated: the
    /// solver evaluates markers, extras included. The source chooses which file's metadata
    /// it reads (PEP 658 file, a range request into the wheel, the built wheel).
    /// [`Fault::Unusable`] makes this one version unusable.
    fn requires_dist(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, Fault>;

    /// Why `name` at `version` cannot be installed here after all, when only its metadata
    /// says so (a `Requires-Python` the listing did not give: pip then skips the candidate
    /// too). Asked after [`Self::requires_dist`] of the same version; `None` by default.
    fn unusable(&self, _name: &PackageName, _version: &Version) -> Option<String> {
        None
    }

    /// A hint, sent as soon as a chosen version's dependencies are known: the solver will
    /// probably ask for the candidates of these projects next. A source over the network
    /// starts fetching their listings concurrently (uv does the same), so that a closure of
    /// hundreds of projects costs round trips in parallel, not in series. Never required.
    fn prefetch(&self, _names: &[PackageName]) {}
}
