//! The in-memory [`Listings`], listing entries, interpreters and requirements for the
//! planner's unit tests.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use pep508_rs::PackageName;

use crate::index::{IndexError, IndexFile, Listing, RejectedEntry};
use crate::interpreter::Interpreter;
use crate::plan::{Job, Listings, Plan, Planner, Policy, PresentIn, VersionPolicy};
use crate::requirements::{ParsedRequirements, RequirementEntry, parse_str};

/// Indexes held in memory. `upstream: None` is a run without upstream sources.
#[derive(Default)]
pub(super) struct Memory {
    pub target: Vec<IndexFile>,
    /// The target's devpi stage; files listed with another stage are inherited.
    pub stage: Option<String>,
    pub pure: Vec<IndexFile>,
    pub upstream: Option<Listing>,
    /// Requires-Python in a file's own metadata, by file name.
    pub metadata: HashMap<String, String>,
    /// Whether remote files may be read (the real listings: a store is configured).
    pub downloads: bool,
    /// Every question asked, in order: `target x`, `pure x`, `upstream x`, `read <file>`.
    pub asked: Mutex<Vec<String>>,
    /// Indexes that do not answer (`target`, `pure`, `upstream`).
    pub down: Vec<&'static str>,
    /// (index, project) pages that time out, every other page of that index answering.
    pub timing_out: Vec<(&'static str, &'static str)>,
}

impl Memory {
    pub(super) fn with_upstream(files: Vec<IndexFile>) -> Memory {
        Memory {
            upstream: Some(Listing {
                files,
                rejected: Vec::new(),
            }),
            ..Memory::default()
        }
    }

    pub(super) fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }

    /// Records the question; an index that is down answers with an error.
    fn ask(&self, index: &str, name: &PackageName) -> Result<(), IndexError> {
        self.asked.lock().unwrap().push(format!("{index} {name}"));
        if self.down.contains(&index) {
            return Err(IndexError::Unreachable {
                url: format!("https://{index}.test/simple/{name}/"),
                detail: "connection refused".into(),
                failure: crate::retry::TransportFailure::Connect,
            });
        }
        if self
            .timing_out
            .iter()
            .any(|(i, project)| *i == index && *project == name.as_ref())
        {
            return Err(IndexError::Unreachable {
                url: format!("https://{index}.test/simple/{name}/"),
                detail: "timed out".into(),
                failure: crate::retry::TransportFailure::Timeout,
            });
        }
        Ok(())
    }
}

impl Listings for Memory {
    async fn target_files(
        &self,
        name: &PackageName,
        own_only: bool,
    ) -> Result<Vec<IndexFile>, IndexError> {
        self.ask("target", name)?;
        // devpi's own-stage listing leaves out what the stage inherits.
        Ok(self
            .target
            .iter()
            .filter(|f| !own_only || f.stage.is_none() || f.stage == self.stage)
            .cloned()
            .collect())
    }

    async fn pure_files(
        &self,
        name: &PackageName,
        _own_only: bool,
    ) -> Result<Vec<IndexFile>, IndexError> {
        self.ask("pure", name)?;
        Ok(self.pure.clone())
    }

    fn has_upstream(&self) -> bool {
        self.upstream.is_some()
    }

    async fn upstream_listing(&self, name: &PackageName) -> Result<Listing, IndexError> {
        self.ask("upstream", name)?;
        Ok(self.upstream.clone().unwrap_or_default())
    }

    fn reads_remote_files(&self) -> bool {
        self.downloads
    }

    async fn requires_python(&self, file: &IndexFile) -> Option<String> {
        let read = format!("read {}", file.filename);
        self.asked.lock().unwrap().push(read);
        self.metadata.get(file.filename.as_str()).cloned()
    }

    fn target_description(&self) -> String {
        "memory".into()
    }

    fn target_stage(&self) -> Option<String> {
        self.stage.clone()
    }
}

/// A listed file of a remote index, with no hash, Requires-Python or yank. (Read from JSON,
/// so fields the index boundary adds later keep their defaults here.)
pub(super) fn file(filename: &str) -> IndexFile {
    serde_json::from_value(serde_json::json!({
        "filename": filename,
        "url": format!("https://upstream.test/files/{filename}"),
    }))
    .unwrap()
}

pub(super) fn requiring(python: &str, mut f: IndexFile) -> IndexFile {
    f.requires_python = Some(python.into());
    f
}

pub(super) fn yanked(mut f: IndexFile) -> IndexFile {
    f.yanked = Some(String::new());
    f
}

pub(super) fn staged(stage: &str, mut f: IndexFile) -> IndexFile {
    f.stage = Some(stage.into());
    f
}

/// An entry the index boundary refused (a malformed sha256), claiming to be `listed`.
pub(super) fn rejected(listed: &str) -> RejectedEntry {
    RejectedEntry {
        index: "https://upstream.test/simple/ww-a/".into(),
        listed: listed.into(),
        problem: crate::index::EntryProblem::Sha256 {
            value: "ab".into(),
            source: crate::distribution::Sha256::new("ab").unwrap_err(),
        },
    }
}

/// CPython 3.`minor` on x86_64 Linux (glibc 2.17), with the tags `packaging` gives it in
/// its order: its own ABI, abi3 down to 3.2, `none`, then the pure tags.
pub(super) use crate::interpreter::test_cpython as cpython;

pub(super) fn requirements(text: &str) -> ParsedRequirements {
    parse_str(text, Path::new("reqs.txt"), &|_| None).unwrap()
}

pub(super) fn exclusions(text: &str) -> Vec<RequirementEntry> {
    parse_str(text, Path::new("exclude.txt"), &|_| None)
        .unwrap()
        .requirements
}

pub(super) fn policy() -> Policy {
    Policy {
        versions: VersionPolicy::Newest,
        pre: false,
        present_in: PresentIn::Inherited,
    }
}

/// Plans `requirements` for `interpreters` against `listings`; hands the listings back to
/// show what was asked.
pub(super) async fn plan_with(
    listings: Memory,
    requirements: &ParsedRequirements,
    exclusions: &[RequirementEntry],
    interpreters: &[Interpreter],
    policy: &Policy,
) -> (Plan, Memory) {
    let interpreters: Vec<Arc<Interpreter>> = interpreters.iter().cloned().map(Arc::new).collect();
    let planner = Planner {
        listings,
        interpreters: &interpreters,
        policy,
        concurrency: 2,
        shard: None,
        packages: &crate::package_settings::PackageSettings::default(),
        covered: None,
    };
    let plan = planner.plan(requirements, exclusions).await.unwrap();
    (plan, planner.listings)
}

/// The common case: one requirements text, default policy, no exclusions.
pub(super) async fn plan(listings: Memory, text: &str, interpreters: &[Interpreter]) -> Plan {
    plan_with(listings, &requirements(text), &[], interpreters, &policy())
        .await
        .0
}

/// `interpreter action version file` for a job, `-` for what it lacks.
pub(super) fn row(job: &Job) -> String {
    format!(
        "{} {} {} {}",
        job.interpreter.label,
        job.action(),
        job.version()
            .map_or_else(|| "-".into(), ToString::to_string),
        job.file().map_or("-", |f| f.filename.as_str())
    )
}

pub(super) fn rows(plan: &Plan) -> Vec<String> {
    plan.jobs.iter().map(row).collect()
}

pub(super) fn reasons(plan: &Plan) -> Vec<&str> {
    plan.jobs.iter().map(|j| j.reason.as_str()).collect()
}
