//! Reading indexes: PEP 503/691 simple pages, devpi's JSON API, local directories. Writing
//! to a target (uploads, the directory target's files, devpi login) is the `publish` module's.
//!
//! The index layer fetches and parses; it decides nothing. What counts as present, which
//! file to fetch, is the planner's business.
mod body;
mod by_project;
mod cooldown;
mod der;
pub mod devpi;
mod error;
mod file;
pub mod host_limit;
pub mod http;
mod identity;
mod pem;
mod probe;
#[cfg(test)]
mod proptests;
mod safe_url;
pub mod simple;
pub mod snapshot;
mod status;
mod target;
pub mod tls;
mod upstream_source;
mod upstream_state;

pub use by_project::ByProject;
pub use cooldown::{Cooldown, CooldownProblem, ExcludeNewer, ExcludeNewerError};
pub use devpi::DevpiIndex;
pub use error::{IndexError, ListingError};
pub use file::{EntryProblem, IndexFile, Listing, MetadataFile, RawEntry, RejectedEntry};
pub use http::{ClientConfig, Credentials, HttpClient};
pub use safe_url::{SafeUrl, redact, redact_str, redact_text, split_credentials};
pub use status::{ProjectStatus, StatusMarker};
pub use target::{Target, directory_project_page};
pub use upstream_source::{Source, Upstream, read_directory};
pub use upstream_state::UpstreamState;
