//! One distribution file as an index lists it (PEP 503 / PEP 691 / devpi `+links` / a directory).

use url::Url;

/// A file listed by an index for one project. Every index flavour (simple HTML, simple JSON,
/// devpi JSON, a local directory) is read into this one shape, so the planner and the
/// build-requirement resolver never care where a listing came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexFile {
    /// The basename, exactly as listed (anchor text, `filename` key, or last path segment).
    pub filename: String,
    /// Absolute URL (`file://` for local directories), without the hash fragment.
    pub url: Url,
    /// Lowercase hex sha256 when the index gives one (URL fragment or `hashes`).
    pub sha256: Option<String>,
    /// `requires-python` / `data-requires-python`; an empty string is read as `None`.
    pub requires_python: Option<String>,
    /// PEP 592: `Some(reason)` when yanked (reason may be empty).
    pub yanked: Option<String>,
    /// devpi only: the `user/index` stage that holds the file, read from the href path.
    pub stage: Option<String>,
}
