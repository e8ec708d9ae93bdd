//! Jobs: one (project, version, interpreter) each, with the action the plan decided.

use pep440_rs::Version;
use pep508_rs::PackageName;
use serde::{Deserialize, Serialize};

use crate::distribution::{SafeFilename, Sha256};
use crate::index::SafeUrl;

/// What has to happen for a job. Scripts match on these exact words (`plan --report-json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
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
    pub(crate) const ALL: [Action; 6] = [
        Action::Present,
        Action::Fetch,
        Action::Build,
        Action::Skipped,
        Action::Excluded,
        Action::Unavailable,
    ];

    pub(crate) fn as_str(self) -> &'static str {
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
/// to build from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct JobFile {
    pub filename: SafeFilename,
    pub url: SafeUrl,
    pub sha256: Option<Sha256>,
    /// PEP 700 `size` from the listing, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A concrete version and the file that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chosen {
    pub version: Version,
    pub file: JobFile,
}

/// What the plan decided for a job, with the data that decision needs: a job that is
/// present, to fetch or to build always has a version and a file; the others may have a
/// version (the one they were planned for) and never have a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Present(Chosen),
    Fetch(Chosen),
    Build(Chosen),
    /// The marker is false; the version when the line pins one.
    Skipped(Option<Version>),
    Excluded(Version),
    /// `None` when no version could be chosen (a range that matched nothing).
    Unavailable(Option<Version>),
}

impl Decision {
    pub(crate) fn action(&self) -> Action {
        match self {
            Decision::Present(_) => Action::Present,
            Decision::Fetch(_) => Action::Fetch,
            Decision::Build(_) => Action::Build,
            Decision::Skipped(_) => Action::Skipped,
            Decision::Excluded(_) => Action::Excluded,
            Decision::Unavailable(_) => Action::Unavailable,
        }
    }

    pub(crate) fn version(&self) -> Option<&Version> {
        match self {
            Decision::Present(c) | Decision::Fetch(c) | Decision::Build(c) => Some(&c.version),
            Decision::Excluded(v) => Some(v),
            Decision::Skipped(v) | Decision::Unavailable(v) => v.as_ref(),
        }
    }

    pub(crate) fn file(&self) -> Option<&JobFile> {
        self.chosen().map(|c| &c.file)
    }

    pub(crate) fn chosen(&self) -> Option<&Chosen> {
        match self {
            Decision::Present(c) | Decision::Fetch(c) | Decision::Build(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// PEP 503 normalised project name.
    pub project: PackageName,
    /// The requirement as written.
    pub requirement: String,
    /// `file:line` of the requirement.
    pub origin: String,
    /// The interpreter the job is for (reports show its label, e.g. `cp311`).
    pub interpreter: std::sync::Arc<crate::interpreter::Interpreter>,
    pub decision: Decision,
    pub reason: String,
    /// `--deps`: why the job is in the closure (`requests 2.31.0`), pip-compile's `# via`.
    pub via: Vec<String>,
    /// The `[package.NAME]` settings that apply to a build job (or kept it from building):
    /// the plan JSON's `settings`, left out when empty.
    pub settings: crate::package_settings::BuildSettings,
    /// Index of the requirement line in `ParsedRequirements::requirements` (its hashes and
    /// config settings travel with it).
    pub entry: usize,
}

impl Job {
    pub(crate) fn action(&self) -> Action {
        self.decision.action()
    }

    /// The concrete version chosen; `None` when none could be chosen.
    pub(crate) fn version(&self) -> Option<&Version> {
        self.decision.version()
    }

    pub(crate) fn file(&self) -> Option<&JobFile> {
        self.decision.file()
    }

    /// `name==version` once a version is chosen; before that (a range that failed to
    /// resolve) the requirement as written, e.g. `six>=1`, never `six==-`.
    pub(crate) fn label(&self) -> String {
        match self.version() {
            Some(version) => format!("{}=={version}", self.project),
            None => self.requirement.clone(),
        }
    }
}

/// `plan --report-json` and `fill --report-json` spell a job as the flat object scripts read:
/// `project`, `version` (text or null), `requirement`, `origin`, `interpreter`, `action`,
/// `reason`, `file` (or null), in this order, then `settings` when any apply and `via`
/// when `--deps` set it. Typed values are written through Display.
impl Serialize for Job {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Job", 10)?;
        out.serialize_field("project", self.project.as_ref())?;
        out.serialize_field("version", &self.version().map(ToString::to_string))?;
        out.serialize_field("requirement", &self.requirement)?;
        out.serialize_field("origin", &self.origin)?;
        out.serialize_field("interpreter", &self.interpreter.label)?;
        out.serialize_field("action", &self.action())?;
        out.serialize_field("reason", &self.reason)?;
        out.serialize_field("file", &self.file())?;
        if self.settings.is_empty() {
            out.skip_field("settings")?;
        } else {
            out.serialize_field("settings", &self.settings)?;
        }
        if self.via.is_empty() {
            out.skip_field("via")?;
        } else {
            out.serialize_field("via", &self.via)?;
        }
        out.end()
    }
}

/// A plan: every job, plus requirement lines wheelwright cannot act on.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Plan {
    pub target: String,
    pub jobs: Vec<Job>,
    pub unsupported: Vec<UnsupportedLine>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct UnsupportedLine {
    pub origin: String,
    pub requirement: String,
    pub reason: String,
}

impl Plan {
    /// Jobs per action, in the order of [`Action::ALL`].
    pub(crate) fn counts(&self) -> Vec<(Action, usize)> {
        Action::ALL
            .iter()
            .map(|a| (*a, self.jobs.iter().filter(|j| j.action() == *a).count()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(decision: Decision) -> Job {
        Job {
            project: "ww-a".parse().unwrap(),
            requirement: "ww-a>=1".into(),
            origin: "reqs.txt:3".into(),
            interpreter: crate::interpreter::test_labelled("cp311"),
            decision,
            reason: "why".into(),
            via: Vec::new(),
            settings: Default::default(),
            entry: 7,
        }
    }

    #[test]
    fn serialises_as_the_flat_object_reports_have_always_written() {
        let url = url::Url::parse("https://u:secret@h/f/ww_a-1.0-py3-none-any.whl").unwrap();
        let fetch = job(Decision::Fetch(Chosen {
            version: "1.0".parse().unwrap(),
            file: JobFile {
                filename: "ww_a-1.0-py3-none-any.whl".parse().unwrap(),
                url: SafeUrl::new(&url),
                sha256: Some(Sha256::new(&"ab".repeat(32)).unwrap()),
                size: Some(12),
            },
        }));
        assert_eq!(
            serde_json::to_string(&fetch).unwrap(),
            format!(
                "{{\"project\":\"ww-a\",\"version\":\"1.0\",\"requirement\":\"ww-a>=1\",\
                 \"origin\":\"reqs.txt:3\",\"interpreter\":\"cp311\",\"action\":\"fetch\",\
                 \"reason\":\"why\",\"file\":{{\"filename\":\"ww_a-1.0-py3-none-any.whl\",\
                 \"url\":\"https://h/f/ww_a-1.0-py3-none-any.whl\",\"sha256\":\"{}\",\
                 \"size\":12}}}}",
                "ab".repeat(32)
            )
        );
        assert_eq!(fetch.label(), "ww-a==1.0");
        let unresolved = job(Decision::Unavailable(None));
        assert_eq!(
            serde_json::to_string(&unresolved).unwrap(),
            "{\"project\":\"ww-a\",\"version\":null,\"requirement\":\"ww-a>=1\",\
             \"origin\":\"reqs.txt:3\",\"interpreter\":\"cp311\",\"action\":\"unavailable\",\
             \"reason\":\"why\",\"file\":null}"
        );
        assert_eq!(unresolved.label(), "ww-a>=1");
    }

    #[test]
    fn only_present_fetch_and_build_have_a_file() {
        let v: Version = "2.0".parse().unwrap();
        for decision in [
            Decision::Skipped(Some(v.clone())),
            Decision::Excluded(v.clone()),
            Decision::Unavailable(Some(v.clone())),
        ] {
            assert_eq!(decision.version(), Some(&v));
            assert!(decision.file().is_none());
        }
        assert_eq!(Decision::Skipped(None).version(), None);
    }
}
