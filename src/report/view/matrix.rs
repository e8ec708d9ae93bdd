//! The environment matrix: per environment (today: per interpreter label), how many jobs
//! were present, fetched, built, unavailable or failed, and which projects are missing
//! where. The HTML and Markdown reports draw it from this one model.

use std::collections::BTreeMap;

use super::{ReportView, Standing};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Row {
    pub environment: String,
    pub present: usize,
    pub fetched: usize,
    pub built: usize,
    pub unavailable: usize,
    pub failed: usize,
    /// Skipped (a false marker) or excluded: not wanted here.
    pub not_wanted: usize,
    /// `project version` of each job missing here (unavailable or failed), sorted.
    pub missing: Vec<String>,
}

/// One project missing somewhere: where it stands in each environment (`None`: no job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingProject {
    pub label: String,
    pub standings: Vec<Option<Standing>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Matrix {
    pub rows: Vec<Row>,
    pub missing: Vec<MissingProject>,
}

impl Standing {
    pub(crate) fn is_missing(self) -> bool {
        matches!(self, Standing::Unavailable | Standing::Failed)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Standing::Present => "present",
            Standing::Fetched => "fetched",
            Standing::Built => "built",
            Standing::Unavailable => "unavailable",
            Standing::Failed => "failed",
            Standing::NotWanted => "not wanted",
        }
    }
}

pub(crate) fn matrix(report: &ReportView) -> Matrix {
    let environments = report.environments();
    let mut rows: Vec<Row> = environments
        .iter()
        .map(|e| Row {
            environment: e.to_string(),
            ..Row::default()
        })
        .collect();
    // label → standing per environment; the worst standing wins when a project has two
    // jobs in one environment (two requirement lines).
    let mut by_label: BTreeMap<String, Vec<Option<Standing>>> = BTreeMap::new();
    for job in &report.jobs {
        let Some(column) = environments.iter().position(|e| *e == job.interpreter) else {
            continue;
        };
        let standing = job.standing();
        let row = &mut rows[column];
        match standing {
            Standing::Present => row.present += 1,
            Standing::Fetched => row.fetched += 1,
            Standing::Built => row.built += 1,
            Standing::Unavailable => row.unavailable += 1,
            Standing::Failed => row.failed += 1,
            Standing::NotWanted => row.not_wanted += 1,
        }
        if standing.is_missing() && !row.missing.contains(&job.label()) {
            row.missing.push(job.label());
        }
        let cells = by_label
            .entry(job.label())
            .or_insert_with(|| vec![None; environments.len()]);
        let worse = match cells[column] {
            Some(old) if old.is_missing() && !standing.is_missing() => old,
            _ => standing,
        };
        cells[column] = Some(worse);
    }
    for row in &mut rows {
        row.missing.sort();
    }
    let missing = by_label
        .into_iter()
        .filter(|(_, cells)| cells.iter().flatten().any(|s| s.is_missing()))
        .map(|(label, standings)| MissingProject { label, standings })
        .collect();
    Matrix { rows, missing }
}
