//! What `plan --lock` and `fill --lock` give the lock writer: the hash each job's file has
//! on the target, from the plan's decisions or the fill's results.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use pep508_rs::PackageName;

use super::lock::{self, LockHash, LockHeader, LockInterpreter, LockJob};
use super::pylock::{Location, LockedFile, Origin, relative_path};
use super::{JobResult, Outcome};
use crate::index::{HttpClient, Target, redact};
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

/// What a PEP 751 lock names for the jobs' files: the target's listing of each locked
/// project, read once, gives each file's URL, size and upload time. A directory target's
/// files are named by their path relative to the lock file. A listing that cannot be read
/// is said on stderr; its files are then missing from the lock, and named as such.
pub(crate) async fn pylock_origin(
    client: &HttpClient,
    target: &Target,
    lock_path: &Path,
    input: &LockInput,
) -> Origin {
    let lock_dir = std::path::absolute(lock_path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let projects: BTreeSet<&PackageName> = input.jobs.iter().map(|job| &job.project).collect();
    let mut origin = Origin {
        index: match target {
            Target::Devpi(index) => Some(redact(&index.simple_url())),
            Target::Simple { simple, .. } => Some(redact(simple)),
            Target::Directory { .. } => None,
        },
        files: BTreeMap::new(),
    };
    for project in projects {
        let listed = match target {
            // The page as this run left it: the run's listing of the directory was read
            // before its placements.
            Target::Directory { path, .. } => Ok(crate::index::directory_project_page(
                &path.join("simple").join(project.as_ref()),
            )
            .map(|page| page.files)),
            _ => target.project_files(client, project, false).await,
        };
        let files = match listed {
            Ok(files) => files.unwrap_or_default(),
            Err(e) => {
                eprintln!("lock: cannot read the target's listing of {project}: {e}");
                continue;
            }
        };
        for file in files {
            let Some(sha256) = file.sha256.clone() else {
                continue;
            };
            let location = match (target, &lock_dir, file.url.to_file_path()) {
                (Target::Directory { .. }, Some(dir), Ok(path)) => {
                    Location::Path(relative_path(dir, &path))
                }
                _ => Location::Url(redact(&file.url)),
            };
            origin.files.insert(
                sha256,
                LockedFile {
                    filename: file.filename,
                    location,
                    size: file.size,
                    upload_time: file.upload_time,
                },
            );
        }
    }
    origin
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteLockError {
    #[error(transparent)]
    Lock(#[from] lock::HashLockError),
    #[error("cannot write the lock {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The format `--lock` writes, told from the file's name.
pub(crate) enum LockFormat {
    /// pip's requirements format with `--hash` options.
    Requirements(LockHeader),
    /// PEP 751, for `pylock.toml` and `pylock.NAME.toml`, with the target's files.
    Pylock(super::pylock::Origin),
}

/// Renders and writes the lock atomically (temp file + rename, like the JSON report) and
/// tells on stderr which jobs it leaves out or cannot hash yet.
pub(crate) fn write(
    path: &Path,
    format: &LockFormat,
    interpreters: &[Arc<Interpreter>],
    input: &LockInput,
) -> Result<(), WriteLockError> {
    let interpreters: Vec<LockInterpreter> = interpreters
        .iter()
        .map(|i| LockInterpreter::of(i))
        .collect();
    let lock = match format {
        LockFormat::Requirements(header) => lock::render(header, &interpreters, &input.jobs)?,
        LockFormat::Pylock(origin) => super::pylock::render(&interpreters, &input.jobs, origin)?,
    };
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
