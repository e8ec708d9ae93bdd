//! wheelwright: keeps a Python package index filled with wheels.
//!
//! Modules follow the pipeline: `requirements` → `plan` (with `index`, `interpreter`,
//! `distribution`) → acquisition (`store`, `builder`) → `publish` (the target session) → `report`;
//! `retry` is the one retry policy of every request, `stop` why a run stopped.
pub mod builder;
pub mod cli;
pub mod commands;
pub mod config;
pub(crate) mod deps;
pub mod distribution;
pub mod exit;
pub(crate) mod host_slots;
pub mod index;
pub mod interpreter;
pub mod metadata;
pub(crate) mod netrc;
pub(crate) mod package_settings;
pub(crate) mod pipeline;
pub(crate) mod plan;
pub mod platform;
pub(crate) mod policy;
pub(crate) mod publish;
pub(crate) mod report;
pub mod requirements;
pub mod resolve;
pub mod retry;
pub mod settings;
pub(crate) mod setup;
pub(crate) mod stop;
pub mod store;
pub mod timestamp;
pub mod version;

/// The patch step of the per-package settings, reachable for its fuzz target (`fuzz/`).
#[doc(hidden)]
pub use package_settings::{PatchError, apply_patch};

#[cfg(test)]
mod tests;

/// Property-test settings: a bounded 256 cases per property in the test command, or
/// `PROPTEST_CASES` for a longer run.
#[cfg(test)]
pub(crate) fn proptest_config() -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    proptest::test_runner::Config {
        cases,
        ..proptest::test_runner::Config::default()
    }
}
