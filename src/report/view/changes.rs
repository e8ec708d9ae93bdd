//! What changed since the previous report (`--previous OLD.json`): what this run put on the
//! target, which jobs fail now that did not fail then, which failed then and work now, and
//! which projects' versions changed. A job is the same job when project, version and
//! environment match.

use std::collections::{BTreeMap, BTreeSet};

use super::{JobView, ReportView};
use crate::report::Outcome;

/// `project version` and the environments it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub label: String,
    pub environments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionChange {
    pub project: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// Uploaded (fetched or built) by this run.
    pub uploaded: Vec<Item>,
    pub newly_failing: Vec<Item>,
    pub fixed: Vec<Item>,
    pub versions: Vec<VersionChange>,
}

impl Changes {
    pub(crate) fn is_empty(&self) -> bool {
        self.uploaded.is_empty()
            && self.newly_failing.is_empty()
            && self.fixed.is_empty()
            && self.versions.is_empty()
    }
}

type Key<'a> = (&'a str, Option<&'a str>, &'a str);

fn key(job: &JobView) -> Key<'_> {
    (&job.project, job.version.as_deref(), &job.interpreter)
}

pub(crate) fn changes(now: &ReportView, before: &ReportView) -> Changes {
    let failed_before: BTreeSet<Key> = before.failures().map(key).collect();
    let failing_now: BTreeSet<Key> = now.failures().map(key).collect();
    let uploaded = now
        .jobs
        .iter()
        .filter(|j| matches!(j.outcome, Some(Outcome::Uploaded | Outcome::Built)));
    let newly_failing = now.failures().filter(|j| !failed_before.contains(&key(j)));
    // Failed then, and this run has the same job, done: a fill's job that ended well, or a
    // plan's job already present (a plan's `build` has not worked yet).
    let fixed = before.failures().filter(|j| {
        let k = key(j);
        !failing_now.contains(&k) && now.jobs.iter().any(|n| key(n) == k && n.is_done())
    });
    Changes {
        uploaded: grouped(uploaded),
        newly_failing: grouped(newly_failing),
        fixed: grouped(fixed),
        versions: versions(now, before),
    }
}

/// Jobs of one `project version` together, environments in order of appearance.
fn grouped<'a>(jobs: impl Iterator<Item = &'a JobView>) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    for job in jobs {
        let label = job.label();
        match items.iter_mut().find(|i| i.label == label) {
            Some(item) => {
                if !item.environments.contains(&job.interpreter) {
                    item.environments.push(job.interpreter.clone());
                }
            }
            None => items.push(Item {
                label,
                environments: vec![job.interpreter.clone()],
            }),
        }
    }
    items
}

/// Projects in both reports whose set of versions differs.
fn versions(now: &ReportView, before: &ReportView) -> Vec<VersionChange> {
    let of = |report: &ReportView| {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for job in &report.jobs {
            if let Some(version) = &job.version {
                map.entry(job.project.clone())
                    .or_default()
                    .insert(version.clone());
            }
        }
        map
    };
    let (now, before) = (of(now), of(before));
    now.into_iter()
        .filter_map(|(project, after)| {
            let then = before.get(&project)?;
            (then != &after).then(|| VersionChange {
                project,
                before: pep440_sorted(then.iter().cloned().collect()),
                after: pep440_sorted(after.into_iter().collect()),
            })
        })
        .collect()
}

/// PEP 440 order where the versions parse (10.0 after 9.0), text order otherwise.
fn pep440_sorted(mut versions: Vec<String>) -> Vec<String> {
    versions.sort_by_key(|v| (v.parse::<pep440_rs::Version>().ok(), v.clone()));
    versions
}
