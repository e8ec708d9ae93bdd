//! Why [`super::IndexMetadataSource`] cannot answer, and whether that stops the solve.
//!
//! Only what makes every answer doubtful stops it: the upstream's probe failing (the index is
//! down), credentials refused, a TLS or configuration problem, the local store failing. A
//! project whose listing fails or is a 404, and a version whose metadata cannot be had (a
//! failed prepare hook, a broken METADATA, a file that cannot be downloaded) rule out only
//! that project or version, with the reason (see `docs/resolver.md`).

use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::FetchError;
use crate::index::{IndexError, Source, Upstream};
use crate::resolve::Fault;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub(super) enum SourceFailure {
    /// The upstream's probe failed: no listing can be trusted.
    #[error("{0}")]
    Down(Arc<IndexError>),
    #[error("listing {name}: {source}")]
    Listing {
        name: PackageName,
        #[source]
        source: Arc<IndexError>,
    },
    #[error("{}", not_found(.name, .sources))]
    NotFound {
        name: PackageName,
        /// Each source as asked: a project page URL, a directory, a page.
        sources: Vec<Asked>,
    },
    #[error("{why}")]
    NoFit { why: String },
    #[error("{name} {version}: {why}")]
    NoFile {
        name: PackageName,
        version: Version,
        why: String,
    },
    /// The fetch error names the file or the release itself.
    #[error("{source}")]
    Fetch {
        name: PackageName,
        version: Version,
        #[source]
        source: Box<FetchError>,
    },
    #[error("{name} {version}: {file} has Requires-Dist `{line}`, which is not PEP 508: {message}")]
    BadRequirement {
        name: PackageName,
        version: Version,
        file: String,
        line: String,
        message: String,
    },
}

/// One source asked for a project's page.
#[derive(Debug, Clone)]
pub(super) struct Asked {
    /// The project page's URL (credentials stripped), or the directory or page.
    pub place: String,
    /// An index that answered 404 (else a find-links directory or page without its files).
    pub index: bool,
    /// A devpi stage (`USER/INDEX/+simple/`): a mirror there answers 404 when its own
    /// upstream does not answer in time on first contact.
    pub devpi: bool,
}

impl Asked {
    pub(super) fn all(upstream: &Upstream, name: &PackageName) -> Vec<Asked> {
        upstream
            .sources
            .iter()
            .map(|source| match source {
                Source::Simple { base } => Asked {
                    place: crate::index::redact(&crate::index::simple::project_url(base, name)),
                    index: true,
                    devpi: is_devpi_stage(base),
                },
                other => Asked {
                    place: other.describe(),
                    index: matches!(other, Source::Devpi { .. }),
                    devpi: matches!(other, Source::Devpi { .. }),
                },
            })
            .collect()
    }
}

/// devpi's stage layout: `/USER/INDEX/+simple/`.
fn is_devpi_stage(base: &url::Url) -> bool {
    let segments: Vec<&str> = base
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    segments.len() >= 3 && segments.last() == Some(&"+simple")
}

fn not_found(name: &PackageName, sources: &[Asked]) -> String {
    let places: Vec<String> = sources
        .iter()
        .map(|s| match s.index {
            true => format!("{} answered 404", s.place),
            false => format!("{} has no file of it", s.place),
        })
        .collect();
    let mut text = format!("no source lists {name}: {}", places.join("; "));
    if sources.iter().any(|s| s.devpi) {
        text.push_str(
            "; a devpi mirror answers 404 while its own upstream is slow to answer, \
             so the same run may succeed a minute later",
        );
    }
    text
}

impl SourceFailure {
    /// What this failure means for the solve.
    pub(super) fn fault(self) -> Fault {
        let fatal = match &self {
            SourceFailure::Down(_) => true,
            SourceFailure::Listing { source, .. } => index_fatal(source),
            SourceFailure::Fetch { source, .. } => {
                matches!(**source, FetchError::Store(StoreError::Io { .. }))
            }
            SourceFailure::NotFound { .. }
            | SourceFailure::NoFit { .. }
            | SourceFailure::NoFile { .. }
            | SourceFailure::BadRequirement { .. } => false,
        };
        if fatal {
            Fault::Fatal(Box::new(self))
        } else {
            Fault::Unusable(Box::new(self))
        }
    }
}

/// An index error that no other project's listing would escape: credentials refused, TLS,
/// configuration. Unreachable or a status after the probe answered concerns one page.
fn index_fatal(error: &IndexError) -> bool {
    matches!(
        error,
        IndexError::Unauthorized { .. }
            | IndexError::Tls { .. }
            | IndexError::TlsSetup(_)
            | IndexError::Config(_)
    )
}
