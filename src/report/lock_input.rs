//! What `plan --lock` and `fill --lock` give the lock writer: the hash each job's file has
//! on the target, from the plan's decisions or the fill's results.

use std::path::Path;
use std::sync::Arc;

use super::lock::{self, LockHash, LockHeader, LockInterpreter, LockJob};
use super::{JobResult, Outcome};
use crate::index::Target;
use crate::interpreter::Interpreter;
use crate::plan::{Decision, Job, Plan};

/// The jobs of the runtime set, and the labels of those that have no version to lock.
#[derive(Debug, Default)]
pub(crate) struct LockInput {
    pub jobs: Vec<LockJob>,
    pub unresolved: Vec<String>,
}

impl LockInput {
    fn push(&mut self, job: &Job, hash: LockHash) {
        match job.version() {
            Some(version) => self.jobs.push(LockJob {
                project: job.project.clone(),
                version: version.clone(),
                interpreter: job.interpreter.label.clone(),
                hash,
            }),
            None => self.unresolved.push(format!(
                "{} ({}): {}",
                job.label(),
                job.interpreter.label,
                job.reason
            )),
        }
    }
}

/// `plan --lock`: present files have the target's sha256; a fetch uploads the upstream
/// file, the same bytes; a build's wheel exists only after the fill.
pub(crate) fn from_plan(plan: &Plan) -> LockInput {
    let mut input = LockInput::default();
    for job in &plan.jobs {
        let hash = match &job.decision {
            Decision::Skipped(_) | Decision::Excluded(_) => continue,
            Decision::Present(chosen) | Decision::Fetch(chosen) => match &chosen.file.sha256 {
                Some(sha) => LockHash::Known(sha.clone()),
                None => {
                    LockHash::Missing(format!("no sha256 is listed for {}", chosen.file.filename))
                }
            },
            Decision::Build(_) => LockHash::AfterFill,
            Decision::Unavailable(_) => LockHash::Missing(job.reason.clone()),
        };
        input.push(job, hash);
    }
    input
}

/// `fill --lock`: what the target holds after the run. Jobs that failed, were not run or
/// were not uploaded (`--no-upload`) have no file there.
pub(crate) fn from_results(results: &[JobResult]) -> LockInput {
    let mut input = LockInput::default();
    for result in results {
        let job = &result.job;
        let hash = match result.outcome {
            Outcome::Skipped | Outcome::Excluded => continue,
            Outcome::Present | Outcome::Uploaded | Outcome::Built => {
                let sha = match &result.sha256 {
                    Some(hex) => crate::distribution::Sha256::new(hex).ok(),
                    None => job.file().and_then(|f| f.sha256.clone()),
                };
                match sha {
                    Some(sha) => LockHash::Known(sha),
                    None => LockHash::Missing("the target lists no sha256 for its file".into()),
                }
            }
            Outcome::Fetched => LockHash::Missing("not uploaded (--no-upload)".into()),
            Outcome::Failed | Outcome::NotRun => {
                LockHash::Missing(format!("{}: {}", result.outcome, result.detail))
            }
        };
        input.push(job, hash);
    }
    input
}

/// The target as the lock's header names it: a URL without credentials; never a
/// directory's path (a lock travels to other machines).
pub(crate) fn target_text(target: &Target) -> String {
    match target {
        Target::Directory { .. } => "a directory".to_string(),
        other => other.describe(),
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteLockError {
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error("cannot write the lock {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Renders and writes the lock atomically (temp file + rename, like the JSON report) and
/// tells on stderr which jobs it leaves out or cannot hash yet.
pub(crate) fn write(
    path: &Path,
    header: &LockHeader,
    interpreters: &[Arc<Interpreter>],
    input: &LockInput,
) -> Result<(), WriteLockError> {
    let interpreters: Vec<LockInterpreter> = interpreters
        .iter()
        .map(|i| LockInterpreter::of(i))
        .collect();
    let lock = lock::render(header, &interpreters, &input.jobs)?;
    super::write_atomically(path, lock.text.as_bytes()).map_err(|source| {
        WriteLockError::Write {
            path: path.to_path_buf(),
            source,
        }
    })?;
    for job in &lock.after_fill {
        eprintln!("lock: {job}: a build job, its hash is known after fill");
    }
    for job in input.unresolved.iter().chain(&lock.missing) {
        eprintln!("lock: missing {job}");
    }
    Ok(())
}
