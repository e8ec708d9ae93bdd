//! Jobs: one (project, version, interpreter) each, with the action the plan decided.

use serde::{Deserialize, Serialize};

use crate::dist::{SafeFilename, Sha256};

/// What has to happen for a job. Scripts match on these exact words (`plan --report-json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The target (or the pure index) already has a wheel the interpreter accepts.
    Present,
    /// Upstream publishes a wheel the interpreter accepts: download and upload it.
    Fetch,
    /// Only an sdist fits: build the wheel from it.
    Build,
    /// The requirement's marker is false for this interpreter.
    Skipped,
    /// An exclude (blacklist) entry matches.
    Excluded,
    /// Nothing fits: no such version, only incompatible wheels, no sdist.
    Unavailable,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Present,
        Action::Fetch,
        Action::Build,
        Action::Skipped,
        Action::Excluded,
        Action::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Present => "present",
            Action::Fetch => "fetch",
            Action::Build => "build",
            Action::Skipped => "skipped",
            Action::Excluded => "excluded",
            Action::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The file a job is about: the wheel found on the target, the wheel to fetch, or the sdist
/// to build from. `url` never carries credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFile {
    pub filename: SafeFilename,
    pub url: String,
    pub sha256: Option<Sha256>,
    /// PEP 700 `size` from the listing, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// PEP 503 normalised project name.
    pub project: String,
    /// The concrete version chosen (as the index spells it); `None` when none could be chosen.
    pub version: Option<String>,
    /// The requirement as written.
    pub requirement: String,
    /// `file:line` of the requirement.
    pub origin: String,
    /// The interpreter's label (e.g. `cp311`).
    pub interpreter: String,
    pub action: Action,
    pub reason: String,
    pub file: Option<JobFile>,
    /// The `[package.NAME]` settings that apply to a build job (or kept it from building).
    /// Written to the plan JSON as `settings`; not read back (the fill report's
    /// `build.settings` records what a build used).
    #[serde(
        default,
        skip_deserializing,
        skip_serializing_if = "crate::package_settings::BuildSettings::is_empty"
    )]
    pub settings: crate::package_settings::BuildSettings,
    /// Index of the requirement line in `ParsedRequirements::requirements` (its hashes and
    /// config settings travel with it).
    #[serde(skip)]
    pub entry: usize,
}

impl Job {
    /// `name==version` once a version is chosen; before that (a range that failed to
    /// resolve) the requirement as written, e.g. `six>=1`, never `six==-`.
    pub fn label(&self) -> String {
        match &self.version {
            Some(version) => format!("{}=={version}", self.project),
            None => self.requirement.clone(),
        }
    }
}

/// A plan: every job, plus requirement lines wheelwright cannot act on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub target: String,
    pub jobs: Vec<Job>,
    pub unsupported: Vec<UnsupportedLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnsupportedLine {
    pub origin: String,
    pub requirement: String,
    pub reason: String,
}

impl Plan {
    /// Jobs per action, in the order of [`Action::ALL`].
    pub fn counts(&self) -> Vec<(Action, usize)> {
        Action::ALL
            .iter()
            .map(|a| (*a, self.jobs.iter().filter(|j| j.action == *a).count()))
            .collect()
    }
}
