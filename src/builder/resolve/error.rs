//! Why a build environment could not be resolved.

use pep440_rs::{Version, VersionSpecifiers};

use super::WheelSourceError;

#[derive(Debug, thiserror::Error)]
pub enum BuildRequiresError {
    #[error(
        "build requirement `{requirement}` of {origin} is only published as an sdist; wheelwright provisions build requirements from wheels only"
    )]
    SdistOnly { requirement: String, origin: String },
    #[error(
        "build requirement `{requirement}` of {origin}: no wheel fits {interpreter} ({reason})"
    )]
    NoMatch {
        requirement: String,
        origin: String,
        interpreter: String,
        reason: Box<NoWheel>,
    },
    #[error(
        "build requirement `{requirement}` of {origin} is a URL; only index requirements are supported"
    )]
    Url { requirement: String, origin: String },
    /// Every requirement has wheels, but no choice of versions satisfies them together:
    /// the solver's derivation (`crate::resolve::Conflict`), one "Because …" per line.
    #[error("build requirements of {origin} conflict on {interpreter}:\n{report}")]
    Conflict {
        origin: String,
        interpreter: String,
        report: String,
    },
    #[error("listing {name}: {source}")]
    List {
        name: String,
        source: WheelSourceError,
    },
    #[error("fetching {file}: {source}")]
    Fetch {
        file: String,
        source: WheelSourceError,
    },
    #[error("{file}: sha256 {actual} is not among the --build-constraints hashes for {name}")]
    HashMismatch {
        file: String,
        name: String,
        actual: String,
    },
    #[error("reading {file}: {message}")]
    Metadata { file: String, message: String },
    /// The solver refused its input (a `--build-constraints` line it cannot use).
    #[error("build requirements of {origin}: {message}")]
    Setup { origin: String, message: String },
}

/// Why no wheel of a build requirement fits.
#[derive(Debug)]
pub enum NoWheel {
    NothingPublished,
    /// No listed wheel fits the specifiers, pins, tags and listed Requires-Python.
    NoneFits {
        /// Each specifier with where it came from.
        wanted: Vec<(VersionSpecifiers, String)>,
        /// `--build-constraints`' pin.
        pinned: Option<Version>,
        python: Version,
        /// Versions left out by their listed Requires-Python.
        other_python: Vec<(Version, String)>,
    },
    /// The candidates' METADATA (read when the listing gave no Requires-Python) excludes
    /// this Python.
    MetadataExcludes {
        python: Version,
        /// `filename (Requires-Python `spec`)`, one per candidate.
        excluded: Vec<String>,
    },
}

impl std::fmt::Display for NoWheel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoWheel::NothingPublished => f.write_str("no files are published for it"),
            NoWheel::NoneFits {
                wanted,
                pinned,
                python,
                other_python,
            } => {
                let wanted: Vec<String> = wanted
                    .iter()
                    .map(|(s, from)| {
                        if s.is_empty() {
                            format!("`*` from {from}")
                        } else {
                            format!("`{s}` from {from}")
                        }
                    })
                    .collect();
                write!(f, "wanted {}", wanted.join(", "))?;
                if let Some(pin) = pinned {
                    write!(f, "; --build-constraints pins {pin}")?;
                }
                if !other_python.is_empty() {
                    let needs: Vec<String> = other_python
                        .iter()
                        .map(|(version, rp)| format!("{version} needs Python `{rp}`"))
                        .collect();
                    write!(f, "; none is for Python {python} ({})", needs.join(", "))?;
                }
                Ok(())
            }
            NoWheel::MetadataExcludes { python, excluded } => write!(
                f,
                "no wheel is for Python {python}: the METADATA of {} excludes it",
                excluded.join(", ")
            ),
        }
    }
}
