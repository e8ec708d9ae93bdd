//! `--lock FILE`: a pip requirements file of the runtime set the target serves, one
//! `name==version` line per project version with a `--hash=sha256:` option for each file the
//! target serves for it, so that `pip install --require-hashes --no-deps -r FILE` installs
//! exactly those bytes (pip accepts a file when its hash is any of the listed ones).
//!
//! Interpreters that were given different versions (Requires-Python picked an older one), or
//! for which a requirement's marker is false, are told apart by environment markers derived
//! from the interpreters' own marker values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::distribution::Sha256;
use crate::interpreter::Interpreter;

/// What the lock knows about the file that serves one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LockHash {
    /// The sha256 of the file the target serves (or, for `plan`, will serve: the upstream
    /// file a fetch uploads is the same bytes).
    Known(Sha256),
    /// A build job in `plan`: only the fill produces the wheel.
    AfterFill,
    /// The job has no file on the target (failed, not run, unavailable, or the target lists
    /// no sha256 for it); the text says why.
    Missing(String),
}

/// One job as the lock sees it. Jobs whose marker is false for their interpreter (skipped)
/// and excluded jobs are not given to the lock: they are not part of the runtime set.
#[derive(Debug, Clone)]
pub(crate) struct LockJob {
    pub project: PackageName,
    pub version: Version,
    /// The interpreter's label (`cp311`), as on the job.
    pub interpreter: String,
    pub hash: LockHash,
}

/// The marker values of one target interpreter that a lock line can be restricted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockInterpreter {
    pub label: String,
    /// `python_version`: major and minor.
    pub python_version: (u8, u8),
    pub implementation_name: String,
    pub sys_platform: String,
    pub platform_machine: String,
}

impl LockInterpreter {
    pub(crate) fn of(interpreter: &Interpreter) -> LockInterpreter {
        LockInterpreter {
            label: interpreter.label.clone(),
            python_version: interpreter.python_version,
            implementation_name: interpreter.markers.implementation_name().to_string(),
            sys_platform: interpreter.markers.sys_platform().to_string(),
            platform_machine: interpreter.markers.platform_machine().to_string(),
        }
    }

    fn python_version_clause(&self) -> String {
        let (major, minor) = self.python_version;
        format!("python_version == \"{major}.{minor}\"")
    }

    /// Every marker value this lock knows of, for interpreters that share a Python version.
    pub(crate) fn full_clause(&self) -> Result<String, HashLockError> {
        let mut clause = self.python_version_clause();
        for (key, value) in [
            ("implementation_name", &self.implementation_name),
            ("sys_platform", &self.sys_platform),
            ("platform_machine", &self.platform_machine),
        ] {
            write!(clause, " and {key} == {}", quote(key, value)?).expect("a String takes text");
        }
        Ok(clause)
    }

    /// The values a marker can tell apart (never the label: no marker carries the ABI).
    fn environment(&self) -> (&(u8, u8), &str, &str, &str) {
        (
            &self.python_version,
            &self.implementation_name,
            &self.sys_platform,
            &self.platform_machine,
        )
    }
}

/// PEP 508 marker strings have no escapes: a value is quoted with whichever quote it lacks.
fn quote(key: &str, value: &str) -> Result<String, HashLockError> {
    if !value.contains('"') {
        Ok(format!("\"{value}\""))
    } else if !value.contains('\'') {
        Ok(format!("'{value}'"))
    } else {
        Err(HashLockError::Unquotable {
            key: key.to_string(),
            value: value.to_string(),
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum HashLockError {
    #[error(
        "{project} has versions {first} and {second} for {interpreter}: a lock holds one \
         version per project and interpreter (lock each list of versions on its own)"
    )]
    SeveralVersions {
        project: PackageName,
        interpreter: String,
        first: Version,
        second: Version,
    },
    #[error(
        "{project}=={version} is locked for {included} but not for {excluded}, and no \
         environment marker tells these interpreters apart"
    )]
    Indistinguishable {
        project: PackageName,
        version: Version,
        included: String,
        excluded: String,
    },
    #[error("the marker value {key} = {value} holds both quote characters")]
    Unquotable { key: String, value: String },
    #[error("a job names the interpreter {0}, which is not one of this run's")]
    UnknownInterpreter(String),
}

/// What made the lock, for its header.
#[derive(Debug, Clone)]
pub(crate) struct LockHeader {
    /// `plan` or `fill`.
    pub command: &'static str,
    /// The target as it may be shown: a URL without credentials, or the words for a directory.
    pub target: String,
}

/// The lock's text, and what the caller has to tell the user on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lock {
    pub text: String,
    /// `name==version (interpreter): why` for each job whose file is not in the lock.
    pub missing: Vec<String>,
    /// `name==version (interpreter)` for each build job whose hash a fill will know.
    pub after_fill: Vec<String>,
}

/// One project version: the interpreters it serves and what is known of their files.
pub(crate) type Groups = BTreeMap<(PackageName, Version), BTreeMap<String, Vec<LockHash>>>;

/// The jobs grouped by project version, with what the caller tells the user on stderr.
/// Shared by both lock formats (this file's and PEP 751's, `pylock.rs`).
pub(crate) struct Grouped {
    pub groups: Groups,
    /// `name==version (interpreter): why` for each job whose file is not in the lock.
    pub missing: Vec<String>,
    /// `name==version (interpreter)` for each build job whose hash a fill will know.
    pub after_fill: Vec<String>,
}

impl Grouped {
    /// The hashes known for a group's files, in order.
    pub(crate) fn hashes(by_interpreter: &BTreeMap<String, Vec<LockHash>>) -> BTreeSet<&Sha256> {
        by_interpreter
            .values()
            .flatten()
            .filter_map(|h| match h {
                LockHash::Known(sha) => Some(sha),
                _ => None,
            })
            .collect()
    }
}

/// Groups the jobs by project version; one version per project and interpreter.
pub(crate) fn group(
    interpreters: &[LockInterpreter],
    jobs: &[LockJob],
) -> Result<Grouped, HashLockError> {
    let mut groups: Groups = BTreeMap::new();
    let mut versions: BTreeMap<(&PackageName, &str), &Version> = BTreeMap::new();
    for job in jobs {
        if !interpreters.iter().any(|i| i.label == job.interpreter) {
            return Err(HashLockError::UnknownInterpreter(job.interpreter.clone()));
        }
        let seen = versions
            .entry((&job.project, job.interpreter.as_str()))
            .or_insert(&job.version);
        if **seen != job.version {
            let (first, second) = if **seen < job.version {
                ((*seen).clone(), job.version.clone())
            } else {
                (job.version.clone(), (*seen).clone())
            };
            return Err(HashLockError::SeveralVersions {
                project: job.project.clone(),
                interpreter: job.interpreter.clone(),
                first,
                second,
            });
        }
        groups
            .entry((job.project.clone(), job.version.clone()))
            .or_default()
            .entry(job.interpreter.clone())
            .or_default()
            .push(job.hash.clone());
    }
    let mut missing = Vec::new();
    let mut after_fill = Vec::new();
    for ((project, version), by_interpreter) in &groups {
        let label = format!("{project}=={version}");
        for (interpreter, states) in by_interpreter {
            for state in states {
                match state {
                    LockHash::Known(_) => {}
                    LockHash::AfterFill => {
                        after_fill.push(format!("{label} ({})", comment_text(interpreter)))
                    }
                    LockHash::Missing(why) => missing.push(format!(
                        "{label} ({}): {}",
                        comment_text(interpreter),
                        comment_text(why)
                    )),
                }
            }
        }
    }
    Ok(Grouped {
        groups,
        missing,
        after_fill,
    })
}

pub(crate) fn render(
    header: &LockHeader,
    interpreters: &[LockInterpreter],
    jobs: &[LockJob],
) -> Result<Lock, HashLockError> {
    let Grouped {
        groups,
        missing,
        after_fill,
    } = group(interpreters, jobs)?;
    let mut text = header_text(header, interpreters);
    for ((project, version), by_interpreter) in &groups {
        let label = format!("{project}=={version}");
        let hashes = Grouped::hashes(by_interpreter);
        let marker = marker(project, version, interpreters, by_interpreter)?;
        for (interpreter, states) in by_interpreter {
            if states.contains(&LockHash::AfterFill) {
                writeln!(
                    text,
                    "# {label} ({}): build job, hash known after fill",
                    comment_text(interpreter)
                )
                .expect("a String takes text");
            }
        }
        if hashes.is_empty() {
            continue;
        }
        text.push_str(&label);
        if let Some(marker) = marker {
            write!(text, " ; {marker}").expect("a String takes text");
        }
        for sha in hashes {
            write!(text, " \\\n    --hash=sha256:{sha}").expect("a String takes text");
        }
        text.push('\n');
    }
    Ok(Lock {
        text,
        missing,
        after_fill,
    })
}

/// `None` when the line serves every interpreter of the run; else a marker true exactly for
/// the interpreters it serves. `python_version` ("3.8"), not `python_full_version`
/// ("3.8.20"): wheel tags and the Requires-Python choices differ per minor release, and a
/// lock must keep working when the interpreter gets a patch release.
pub(crate) fn marker(
    project: &PackageName,
    version: &Version,
    interpreters: &[LockInterpreter],
    served: &BTreeMap<String, Vec<LockHash>>,
) -> Result<Option<String>, HashLockError> {
    let (inside, outside): (Vec<&LockInterpreter>, Vec<&LockInterpreter>) = interpreters
        .iter()
        .partition(|i| served.contains_key(&i.label));
    if outside.is_empty() {
        return Ok(None);
    }
    if let Some((a, b)) = inside.iter().find_map(|a| {
        outside
            .iter()
            .find(|b| a.environment() == b.environment())
            .map(|b| (a, b))
    }) {
        return Err(HashLockError::Indistinguishable {
            project: project.clone(),
            version: version.clone(),
            included: a.label.clone(),
            excluded: b.label.clone(),
        });
    }
    let by_minor = inside
        .iter()
        .all(|a| outside.iter().all(|b| a.python_version != b.python_version));
    let mut clauses: Vec<((u8, u8), String)> = Vec::new();
    for interpreter in inside {
        let clause = if by_minor {
            interpreter.python_version_clause()
        } else {
            format!("({})", interpreter.full_clause()?)
        };
        clauses.push((interpreter.python_version, clause));
    }
    clauses.sort();
    clauses.dedup();
    Ok(Some(
        clauses
            .into_iter()
            .map(|(_, clause)| clause)
            .collect::<Vec<_>>()
            .join(" or "),
    ))
}

fn header_text(header: &LockHeader, interpreters: &[LockInterpreter]) -> String {
    let labels: Vec<String> = interpreters
        .iter()
        .map(|i| {
            let (major, minor) = i.python_version;
            format!(
                "{} (python_version {major}.{minor})",
                comment_text(&i.label)
            )
        })
        .collect();
    format!(
        "# Written by wheelwright {} `{} --lock` for the target {}.\n\
         # The files the target serves, for the interpreters {}.\n\
         # Install with: pip install --require-hashes --no-deps -r THIS_FILE --index-url TARGET\n",
        env!("CARGO_PKG_VERSION"),
        header.command,
        comment_text(&header.target),
        labels.join(", "),
    )
}

/// Text from outside inside a comment line: a line break or control character would end
/// the comment and start a requirement, so each becomes `?`.
pub(crate) fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
