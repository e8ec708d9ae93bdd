//! An in-memory `MetadataSource`: an index as a table of versions and their Requires-Dist.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, PackageName, Requirement};

use crate::resolve::{Candidate, Fault, Line, MetadataSource};

#[derive(Default)]
pub(super) struct Memory {
    projects: BTreeMap<PackageName, BTreeMap<Version, (bool, Vec<Requirement>)>>,
    /// How often each question was asked (the solver should ask once).
    pub(super) asked: RefCell<HashMap<String, usize>>,
    /// The prefetch hints, in order.
    pub(super) prefetched: RefCell<Vec<String>>,
    /// Versions whose metadata cannot be had, with why ([`Fault::Unusable`]).
    broken: HashMap<(PackageName, Version), String>,
    /// Projects the index cannot list, with why ([`Fault::Unusable`]).
    unlisted: HashMap<PackageName, String>,
}

pub(super) fn name(s: &str) -> PackageName {
    PackageName::from_str(s).expect("test names are valid")
}

pub(super) fn version(s: &str) -> Version {
    Version::from_str(s).expect("test versions are valid")
}

pub(super) fn req(s: &str) -> Requirement {
    Requirement::from_str(s).expect("test requirements are valid")
}

pub(super) fn lines(reqs: &[&str]) -> Vec<Line> {
    reqs.iter()
        .enumerate()
        .map(|(i, r)| Line::new(req(r), format!("requirements.txt:{}", i + 1)))
        .collect()
}

impl Memory {
    pub(super) fn add(&mut self, project: &str, v: &str, deps: &[&str]) -> &mut Self {
        self.insert(project, v, false, deps)
    }

    pub(super) fn add_yanked(&mut self, project: &str, v: &str, deps: &[&str]) -> &mut Self {
        self.insert(project, v, true, deps)
    }

    fn insert(&mut self, project: &str, v: &str, yanked: bool, deps: &[&str]) -> &mut Self {
        self.projects
            .entry(name(project))
            .or_default()
            .insert(version(v), (yanked, deps.iter().map(|d| req(d)).collect()));
        self
    }

    /// `project` `v` is listed but its metadata cannot be had (a failed prepare hook).
    pub(super) fn add_broken(&mut self, project: &str, v: &str, why: &str) -> &mut Self {
        self.insert(project, v, false, &[]);
        self.broken
            .insert((name(project), version(v)), why.to_string());
        self
    }

    /// The index cannot list `project` (a 404).
    pub(super) fn add_unlisted(&mut self, project: &str, why: &str) -> &mut Self {
        self.unlisted.insert(name(project), why.to_string());
        self
    }

    /// How often the metadata of `project` `v` was asked for.
    pub(super) fn metadata_asked(&self, project: &str, v: &str) -> usize {
        let key = format!("metadata {} {}", name(project), version(v));
        self.asked.borrow().get(&key).copied().unwrap_or(0)
    }

    fn count(&self, key: String) {
        *self.asked.borrow_mut().entry(key).or_default() += 1;
    }
}

impl MetadataSource for Memory {
    fn candidates(&self, project: &PackageName) -> Result<Vec<Candidate>, Fault> {
        self.count(format!("list {project}"));
        if let Some(why) = self.unlisted.get(project) {
            return Err(Fault::Unusable(why.clone().into()));
        }
        Ok(self
            .projects
            .get(project)
            .map(|versions| {
                versions
                    .iter()
                    .map(|(v, (yanked, _))| Candidate {
                        version: v.clone(),
                        yanked: *yanked,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn requires_dist(&self, project: &PackageName, v: &Version) -> Result<Vec<Requirement>, Fault> {
        self.count(format!("metadata {project} {v}"));
        if let Some(why) = self.broken.get(&(project.clone(), v.clone())) {
            return Err(Fault::Unusable(why.clone().into()));
        }
        let found = self
            .projects
            .get(project)
            .and_then(|versions| versions.get(v))
            .map(|(_, deps)| deps.clone());
        match found {
            Some(deps) => Ok(deps),
            None => Err(Fault::Fatal(
                format!("{project} {v} is not in the table").into(),
            )),
        }
    }

    fn prefetch(&self, names: &[PackageName]) {
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        self.prefetched.borrow_mut().push(names.join(" "));
    }
}

/// A Linux CPython environment of `python_version` (e.g. "3.8").
pub(super) fn python(python_version: &str, full: &str) -> MarkerEnvironment {
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: full,
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "6.1.0",
        platform_system: "Linux",
        platform_version: "#1 SMP",
        python_full_version: full,
        python_version,
        sys_platform: "linux",
    })
    .expect("test environments are valid")
}

pub(super) fn py312() -> MarkerEnvironment {
    python("3.12", "3.12.4")
}

pub(super) fn py38() -> MarkerEnvironment {
    python("3.8", "3.8.19")
}
