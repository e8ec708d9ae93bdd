//! Which package pubgrub decides next, and what the solver learns about that order from its
//! conflicts (uv's answer to "backtracks on the wrong package", its issue 8157 and PR 9843).
//!
//! PubGrub keeps a decision and walks every later package through all its versions before it
//! gives the decision up: with `black` having taken the newest `packaging`, a `kombu` that
//! pins an older `packaging` is walked back to a release from 2013 whose sdist no longer
//! builds, although pip simply takes the older `packaging`. uv counts, per package, how often
//! a version is rejected because of another package decided earlier (the *affected* one and
//! the *culprit*); past a threshold the affected package is decided early, the culprit late,
//! and uv backtracks to before the culprit's decision with support it added to its pubgrub
//! fork.
//!
//! pubgrub 0.4's public API cannot backtrack to a chosen decision, and its conflict counts
//! (`PackageResolutionStatistics`) do not say who was the culprit. So the provider tracks both
//! itself: when the dependencies of a version it is asked for exclude the version last chosen
//! for one of their targets, that version will be rejected because of that target's decision.
//! Past [`THRESHOLD`] rejections the priorities change and the solve *restarts* (from the
//! root, through `should_cancel`) with what it learnt; listings and metadata stay cached, so a
//! restart costs solver time, never a request. A name only ever moves up (normal → late →
//! early), so restarts are bounded, and [`MAX_RESTARTS`] bounds them again. The learnt order
//! changes which of several solutions is found, never whether one is: pubgrub is complete
//! under any order.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::Range;
use super::provider::Edges;

/// Rejections of one package because of an earlier decision before it is decided early
/// (uv's `CONFLICT_THRESHOLD`).
pub(super) const THRESHOLD: u32 = 5;

/// Rejections a culprit causes before it is decided late: the first. pip's resolver
/// (resolvelib) does not reject a candidate because of an earlier *pin*, only because of the
/// earlier *requirements*: the earlier package is pinned again to a version that fits (kombu
/// 5.7.0 with `packaging==26.3` makes the pinned `packaging` 26.4 unsatisfied, and pip takes
/// 26.3). Deciding the culprit after the others is how a PubGrub solver gets the same answer.
pub(super) const CULPRIT_THRESHOLD: u32 = 1;

/// Restarts of one solve at most; past them the solve goes on with the order it has.
pub(super) const MAX_RESTARTS: usize = 32;

/// The order classes, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Tier {
    /// Often the culprit: decided after everything else, so that the requirements of the
    /// packages it rejected narrow it first (uv decides it after the affected packages only;
    /// without a backtrack to before its decision, only "last" makes sure of that).
    Late,
    Normal,
    /// Often rejected because of an earlier decision: decided as soon as it is required.
    Early,
    /// One version left (an `==` pin, an extra's own requirements).
    Pinned,
    /// No version left: decided at once, so the conflict is found before more work.
    Empty,
    Root,
}

/// pubgrub's priority: the tier, then pip's order within it (`PipProvider.get_preference`:
/// the shallowest in the dependency graph first, the requirement lines in their order, then
/// by name), a project before its extras (their version follows the project's). pip's order
/// matters beyond speed: where several solutions exist, the order decides which is found,
/// and wheelwright should find pip's.
pub(super) type Priority = (
    Tier,
    Reverse<u32>,
    Reverse<usize>,
    Reverse<PackageName>,
    bool,
);

/// What restarts keep: the names whose order changed.
#[derive(Debug, Default, Clone)]
pub(super) struct Learnt {
    early: BTreeSet<PackageName>,
    late: BTreeSet<PackageName>,
}

impl Learnt {
    /// The learnt order as the solution reports it.
    pub(super) fn order(&self, restarts: usize) -> super::LearntOrder {
        super::LearntOrder {
            late: self.late.clone(),
            early: self.early.clone(),
            restarts,
        }
    }

    pub(super) fn tier(&self, name: &PackageName) -> Tier {
        if self.early.contains(name) {
            Tier::Early
        } else if self.late.contains(name) {
            Tier::Late
        } else {
            Tier::Normal
        }
    }
}

/// Conflict counts of one attempt, and the change they call for.
#[derive(Default)]
pub(super) struct Tracker {
    /// The version `choose_version` last returned per project: its current decision, as far
    /// as the provider can tell (a backtrack that undid it goes unseen until it is chosen
    /// again; a stale entry only misplaces a count).
    chosen: RefCell<HashMap<PackageName, Version>>,
    /// pip's inferred depth: 1 for what the requirement lines name, else one more than the
    /// shallowest package seen requiring it.
    depth: RefCell<HashMap<PackageName, u32>>,
    affected: RefCell<HashMap<PackageName, u32>>,
    culprit: RefCell<HashMap<PackageName, u32>>,
    /// The order to restart with, once some count reached the threshold.
    restart: RefCell<Option<Learnt>>,
}

impl Tracker {
    pub(super) fn chose(&self, name: &PackageName, version: &Version) {
        self.chosen
            .borrow_mut()
            .insert(name.clone(), version.clone());
    }

    pub(super) fn chosen(&self, name: &PackageName) -> Option<Version> {
        self.chosen.borrow().get(name).cloned()
    }

    /// The depth of `name` (unknown: deepest).
    pub(super) fn depth(&self, name: &PackageName) -> u32 {
        self.depth.borrow().get(name).copied().unwrap_or(u32::MAX)
    }

    /// The targets of `edges` (of `from`, `None` for the root) are one level deeper.
    pub(super) fn deepen(&self, from: Option<&PackageName>, edges: &Edges) {
        let below = from.map_or(0, |name| self.depth(name)).saturating_add(1);
        let mut depth = self.depth.borrow_mut();
        for target in edges.keys().filter_map(|p| p.name()) {
            let entry = depth.entry(target.clone()).or_insert(below);
            *entry = (*entry).min(below);
        }
    }

    /// `name`'s version about to be tried has these edges: each edge that excludes the
    /// decision of its target makes `name` affected and the target a culprit.
    pub(super) fn edges(&self, name: &PackageName, edges: &Edges, learnt: &Learnt) {
        let culprits: BTreeSet<PackageName> = {
            let chosen = self.chosen.borrow();
            edges
                .iter()
                .filter_map(|(target, range)| {
                    let target = target.name()?;
                    let decided = chosen.get(target)?;
                    (target != name && !pubgrub::VersionSet::contains(range, decided))
                        .then(|| target.clone())
                })
                .collect()
        };
        if culprits.is_empty() {
            return;
        }
        let mut next = self
            .restart
            .borrow()
            .clone()
            .unwrap_or_else(|| learnt.clone());
        let mut changed = false;
        if bump(&self.affected, name) == THRESHOLD && !next.early.contains(name) {
            next.late.remove(name);
            next.early.insert(name.clone());
            changed = true;
        }
        for culprit in culprits {
            if bump(&self.culprit, &culprit) == CULPRIT_THRESHOLD
                && !next.early.contains(&culprit)
                && next.late.insert(culprit)
            {
                changed = true;
            }
        }
        if changed {
            *self.restart.borrow_mut() = Some(next);
        }
    }

    /// The order to restart with, if the counts changed it.
    pub(super) fn restart(&self) -> Option<Learnt> {
        self.restart.borrow().clone()
    }
}

fn bump(counts: &RefCell<HashMap<PackageName, u32>>, name: &PackageName) -> u32 {
    let mut counts = counts.borrow_mut();
    let n = counts.entry(name.clone()).or_default();
    *n += 1;
    *n
}

/// Whether a range leaves exactly one version.
pub(super) fn pinned(range: &Range) -> bool {
    range.ranges().as_singleton().is_some()
}
