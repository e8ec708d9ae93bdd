//! The target session of a fill run: everything that writes to the target and the pure
//! index.
//!
//! It owns their credentials and the devpi login (once per server, once more on a 401), the
//! target's upload permission and mirror-whitelist policy (read once), the shadowing warning
//! (printed once per project; `--strict-whitelist` refuses the upload), the choice between
//! writing a directory and uploading over HTTP, and the credentials check before the first
//! build. It decides nothing about what to upload: the pipeline hands it stored wheels.
//!
//! May: read the target's listing and configuration, log in, upload, write a directory
//! target, stop the run when the target becomes unusable. May not: fetch, build, or read
//! upstream indexes.

pub(crate) mod directory;
mod login;
mod pages;
#[cfg(test)]
mod tests;
pub(crate) mod upload;

use std::collections::HashSet;
use std::sync::Arc;

use pep508_rs::PackageName;
use tokio::sync::OnceCell;

pub(crate) use login::{Logins, log_in};
pub(crate) use upload::{Attempts, UploadError, UploadOutcome};

use crate::distribution::{SafeFilename, WheelInfo};
use crate::host_slots::HostSlots;
use crate::index::{HttpClient, IndexError, Target};
use crate::policy::{Refusal, Shadowing, TargetPolicy};
use crate::report::Progress;
use crate::stop::{Stop, StopReason};
use crate::store::StoredFile;
use upload::{HttpRemote, UploadForm};

/// A wheel that is on its destination.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    pub outcome: UploadOutcome,
    pub attempts: Attempts,
    /// The target or pure index, for messages (no credentials).
    pub destination: String,
    /// Set when the upload hid a mirror's releases (the warning was printed once).
    pub warning: Option<Shadowing>,
}

impl Published {
    /// The report's `detail`.
    pub(crate) fn detail(&self) -> String {
        let mut detail = match self.outcome {
            UploadOutcome::Uploaded => format!("uploaded to {}", self.destination),
            UploadOutcome::AlreadyPresent => {
                format!("already on {} with identical bytes", self.destination)
            }
        };
        if let Some(warning) = &self.warning {
            detail.push_str(&format!("; warning: {warning}"));
        }
        detail
    }
}

/// Why the target cannot be used at all (the run stops; exit 3). Remembered for the run, so
/// it is `Clone`; the texts of index errors are kept as their messages.
/// Why the target cannot be used at all. Kept for the whole run (the policy is read and
/// the credentials checked once), so the index errors are shared.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum TargetProblem {
    #[error("cannot read the target's configuration: {0}")]
    PolicyUnreadable(Arc<IndexError>),
    #[error("{0}; nothing was built or uploaded")]
    Refused(Refusal),
    /// The devpi login failed.
    #[error("{0}")]
    Login(Arc<IndexError>),
    /// The credentials check before the first build failed (the devpi login, or an
    /// upload-API index's answer to an upload without a file).
    #[error("{0} (checked before the first build; nothing was built)")]
    Credentials(Arc<IndexError>),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PublishError {
    /// The run stopped before this upload began (`not-run` in the reports).
    #[error("{}", .0.not_attempted())]
    NotAttempted(StopReason),
    #[error("not uploaded (--strict-whitelist): {0}")]
    StrictWhitelist(Shadowing),
    #[error(transparent)]
    Target(TargetProblem),
    #[error("{error}")]
    Upload {
        error: UploadError,
        attempts: Attempts,
    },
}

impl PublishError {
    /// POSTs sent and why each retry happened (none for errors before the first POST).
    pub(crate) fn attempts(&self) -> Attempts {
        match self {
            PublishError::Upload { attempts, .. } => attempts.clone(),
            _ => Attempts::default(),
        }
    }
}

/// The target and pure index of a run, with what the session needs from the rest of it.
pub(crate) struct Session<'a> {
    client: &'a HttpClient,
    target: &'a Target,
    pure_index: Option<&'a Target>,
    credentials: Option<&'a (String, String)>,
    strict_whitelist: bool,
    slots: Arc<HostSlots>,
    stop: Arc<Stop>,
    progress: &'a Progress,
    policy: OnceCell<Result<Option<TargetPolicy>, TargetProblem>>,
    logins: Logins,
    credentials_checked: OnceCell<Result<(), TargetProblem>>,
    /// Projects whose shadowing warning was printed.
    warned: std::sync::Mutex<HashSet<PackageName>>,
    /// Directory targets whose root page has to be written at the end of the run.
    stale_roots: std::sync::Mutex<std::collections::BTreeSet<std::path::PathBuf>>,
}

/// Where a wheel goes.
enum Destination<'a> {
    Target(&'a Target),
    PureIndex(&'a Target),
}

pub(crate) struct SessionParts<'a> {
    pub client: &'a HttpClient,
    pub target: &'a Target,
    pub pure_index: Option<&'a Target>,
    pub credentials: Option<&'a (String, String)>,
    /// `--strict-whitelist`.
    pub strict_whitelist: bool,
    pub slots: Arc<HostSlots>,
    pub stop: Arc<Stop>,
    pub progress: &'a Progress,
}

impl<'a> Session<'a> {
    pub(crate) fn new(parts: SessionParts<'a>) -> Session<'a> {
        Session {
            client: parts.client,
            target: parts.target,
            pure_index: parts.pure_index,
            credentials: parts.credentials,
            strict_whitelist: parts.strict_whitelist,
            slots: parts.slots,
            stop: parts.stop,
            progress: parts.progress,
            policy: OnceCell::new(),
            logins: Logins::default(),
            credentials_checked: OnceCell::new(),
            warned: std::sync::Mutex::default(),
            stale_roots: std::sync::Mutex::default(),
        }
    }

    /// Writes what is written once per run: the root page of each directory target this
    /// run placed a wheel into.
    pub(crate) async fn finish(&self) -> Result<(), UploadError> {
        let dirs = std::mem::take(&mut *self.stale_roots.lock().expect("stale roots lock"));
        for dir in dirs {
            tokio::task::spawn_blocking(move || directory::write_root_page(&dir))
                .await
                .expect("writing a page does not panic")?;
        }
        Ok(())
    }

    /// Puts a stored wheel on the pure index (a pure wheel, when one is given) or the target:
    /// uploaded, or found there with the same sha256.
    pub(crate) async fn publish(
        &self,
        stored: &StoredFile,
        wheel: &WheelInfo,
    ) -> Result<Published, PublishError> {
        if let Some(reason) = self.stop.reason() {
            return Err(PublishError::NotAttempted(reason));
        }
        let destination = match (self.pure_index, wheel.filename.is_pure()) {
            (Some(pure), true) => Destination::PureIndex(pure),
            _ => Destination::Target(self.target),
        };
        let project: &PackageName = &wheel.filename.name;
        let mut warning = None;
        let target = match destination {
            Destination::Target(target) => {
                if let Some(policy) = self.target_policy().await.map_err(PublishError::Target)?
                    && let Some(shadowing) = policy.shadowing(project)
                {
                    if self.strict_whitelist {
                        return Err(PublishError::StrictWhitelist(shadowing));
                    }
                    if self
                        .warned
                        .lock()
                        .expect("warned lock")
                        .insert(project.clone())
                    {
                        self.progress.line(&format!("warning: {shadowing}"));
                    }
                    warning = Some(shadowing);
                }
                target
            }
            Destination::PureIndex(pure) => pure,
        };
        if let Target::Devpi(index) = target
            && let Err(error) = self.logins.once(self.client, index, self.credentials).await
        {
            self.stop.target_unusable(&error.to_string());
            return Err(PublishError::Target(TargetProblem::Login(error)));
        }
        let mut attempts = Attempts::default();
        let outcome = match HttpRemote::new(self.client, target, self.credentials) {
            Err(directory) => {
                // The project's files as the run's listing found them (read once, grouped
                // by project): hand-copied wheels join the page without a directory scan.
                // The listing itself, not `Target::project_files`, which also reads the
                // page that `place` reads.
                let known: Vec<SafeFilename> = match target {
                    Target::Directory { listing, .. } => listing
                        .project_files(self.client, project)
                        .await
                        .ok()
                        .flatten()
                        .map(|listing| listing.files)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|file| file.filename)
                        .collect(),
                    _ => Vec::new(),
                };
                let (path, project, stored) =
                    (directory.to_path_buf(), project.clone(), stored.clone());
                let placed = tokio::task::spawn_blocking(move || {
                    directory::place(&path, &project, &stored, &known)
                })
                .await
                .expect("placing a file does not panic");
                placed.map(|placed| {
                    if placed.root_stale || placed.outcome == UploadOutcome::Uploaded {
                        self.stale_roots
                            .lock()
                            .expect("stale roots lock")
                            .insert(directory.to_path_buf());
                    }
                    placed.outcome
                })
            }
            Ok(remote) => {
                let _permit = self.slots.permit(remote.url()).await;
                // The run may have stopped while this upload waited for its slot.
                if let Some(reason) = self.stop.reason() {
                    return Err(PublishError::NotAttempted(reason));
                }
                let form = UploadForm::of(wheel);
                let retry = self.client.retry_policy();
                upload::upload(&remote, project, stored, &form, retry, &mut attempts).await
            }
        };
        match outcome {
            Ok(outcome) => {
                let published = Published {
                    outcome,
                    attempts,
                    destination: target.describe(),
                    warning,
                };
                self.log_published(stored, &published);
                Ok(published)
            }
            Err(error) => {
                let message = error.to_string();
                self.progress
                    .line(&format!("failed   {}: {message}", stored.filename));
                if error.target_unusable() {
                    self.stop.target_unusable(&message);
                }
                if matches!(error, UploadError::Conflict { .. }) {
                    eprintln!("CONFLICT: {message}");
                }
                Err(PublishError::Upload { error, attempts })
            }
        }
    }

    fn log_published(&self, stored: &StoredFile, published: &Published) {
        self.progress.transferred(stored.size, &stored.filename);
        let verb = match published.outcome {
            UploadOutcome::Uploaded => "uploaded",
            UploadOutcome::AlreadyPresent => "present ",
        };
        let retries = &published.attempts.retries;
        let retries = if retries.is_empty() {
            String::new()
        } else {
            format!(" after {} retries ({})", retries.len(), retries.join(", "))
        };
        self.progress.line(&format!(
            "{verb} {} -> {}{retries}",
            stored.filename, published.destination
        ));
    }

    /// Before the first build: would the target take the wheel (upload permission), and are
    /// the credentials accepted? A run that would end in 403 or 401 after an hour of
    /// compiling stops at once.
    pub(crate) async fn check_before_build(&self) -> Result<(), TargetProblem> {
        self.target_policy().await?;
        self.verify_credentials().await
    }

    /// May this user upload to the devpi target at all? Also reads what the shadowing check
    /// needs. Read once; other targets have no such policies.
    async fn target_policy(&self) -> Result<Option<&TargetPolicy>, TargetProblem> {
        let Target::Devpi(index) = self.target else {
            return Ok(None);
        };
        let loaded = self
            .policy
            .get_or_init(|| async {
                let policy = TargetPolicy::load(self.client, index)
                    .await
                    .map_err(|e| TargetProblem::PolicyUnreadable(Arc::new(e)))?;
                let user = self.credentials.map(|(user, _)| user.as_str());
                policy.may_upload(user).map_err(TargetProblem::Refused)?;
                Ok(Some(policy))
            })
            .await;
        match loaded {
            Ok(policy) => Ok(policy.as_ref()),
            Err(problem) => Err(self.unusable(problem.clone())),
        }
    }

    /// The target's (and pure index's) credentials, verified once, before the first build:
    /// a wrong password must not cost a compile that is then thrown away. Only a run that
    /// would upload asks (a no-op night sends no login at all).
    ///
    /// devpi: the login itself (its token then serves the uploads). An upload-API index
    /// (pypiserver, Artifactory, Nexus): an upload request without a file, which such a
    /// server authenticates before it looks at the form.
    async fn verify_credentials(&self) -> Result<(), TargetProblem> {
        let verdict = self
            .credentials_checked
            .get_or_init(|| async {
                for destination in std::iter::once(self.target).chain(self.pure_index) {
                    match destination {
                        Target::Devpi(index) => self
                            .logins
                            .once(self.client, index, self.credentials)
                            .await
                            .map_err(TargetProblem::Credentials)?,
                        Target::Simple { upload, .. }
                            if self.client.credentials(upload).is_some() =>
                        {
                            upload::check_upload_credentials(self.client, upload)
                                .await
                                .map_err(|e| TargetProblem::Credentials(Arc::new(e)))?
                        }
                        Target::Simple { .. } | Target::Directory { .. } => {}
                    }
                }
                Ok(())
            })
            .await;
        verdict.clone().map_err(|problem| self.unusable(problem))
    }

    /// The target cannot be used: the run stops; the first such problem is printed.
    fn unusable(&self, problem: TargetProblem) -> TargetProblem {
        let message = problem.to_string();
        if self.stop.target_unusable(&message) {
            self.progress.line(&format!("error: {message}"));
        }
        problem
    }
}
