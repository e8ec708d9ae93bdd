//! Uploads, idempotent by content, as uv's `publish --check-url` (docs/devpi-protocol.md,
//! Uploads).
//!
//! Before sending, the target is asked for the filename: the same sha256 there means done,
//! a different one is a conflict that is never overwritten. Status codes and message texts
//! never decide anything a hash check can decide: after every failure the target is asked
//! again, because the last attempt may have landed (a 500 after storing, a reset after the
//! body was read). After a success the file must be listed with our sha256, or the upload
//! failed (devpi answers 200 to a POST on `+simple` and stores nothing).
//!
//! The decisions ([`upload`]) ask a [`Remote`] for two things: the stage's own files of a
//! project, and one POST. [`HttpRemote`] is the real target; the unit tests use an in-memory
//! one. Every transient failure of either request counts against one [`RetryState`]: the
//! listing reads make one attempt each, so no retry loop runs inside the upload's.

use std::time::Duration;

use pep508_rs::PackageName;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use thiserror::Error;
use tokio_util::io::ReaderStream;
use url::Url;

use crate::distribution::{SafeFilename, Sha256, WheelInfo};
use crate::index::http::{status_error, transport_error};
use crate::index::{HttpClient, IndexError, Target, redact};
use crate::retry::{RetryPolicy, RetryState, TransportFailure, is_transient_status, retry_after};
use crate::store::StoredFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum UploadOutcome {
    /// We sent it and it is now listed with our sha256.
    Uploaded,
    /// It was already there with our sha256 before we sent anything.
    AlreadyPresent,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Attempts {
    /// POSTs sent.
    pub sent: u32,
    /// Why each POST after the first was sent (`HTTP 503`, `connection reset`, ...). Retries
    /// of the listing reads count against the same budget but send nothing, and are not here.
    pub retries: Vec<String>,
}

#[derive(Debug, Error)]
pub(crate) enum UploadError {
    #[error(
        "conflict: {url} already holds {filename} with sha256 {existing}, ours is {ours}; not overwritten"
    )]
    Conflict {
        url: String,
        filename: String,
        existing: String,
        ours: String,
    },
    #[error("{url} refused {filename}: HTTP {status} {message}")]
    Refused {
        url: String,
        filename: String,
        status: u16,
        message: String,
    },
    #[error(
        "{url} answered HTTP {status} to the upload of {filename}, but does not list it afterwards"
    )]
    NotListed {
        url: String,
        filename: String,
        status: u16,
    },
    #[error("upload of {filename} failed after {attempts} attempts: {last}")]
    GaveUp {
        filename: String,
        attempts: u32,
        last: String,
    },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl UploadError {
    /// Errors that say the target itself cannot be used (exit 3), as opposed to a problem
    /// with this one file.
    pub(crate) fn target_unusable(&self) -> bool {
        match self {
            UploadError::Refused { status, .. } => {
                *status == 401 || *status == 403 || *status == 404
            }
            UploadError::GaveUp { .. } => true,
            UploadError::Index(e) => !matches!(
                e,
                IndexError::BadResponse { .. } | IndexError::Listing { .. }
            ),
            _ => false,
        }
    }
}

/// A file the target lists for a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedFile {
    pub filename: SafeFilename,
    pub sha256: Option<Sha256>,
}

/// What the target answered to one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    /// 2xx: stored, if the listing agrees.
    Accepted { status: u16 },
    /// A transient status or transport failure (`reason` goes into [`Attempts::retries`]).
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Any other status, with the server's message.
    Refused { status: u16, message: String },
}

/// What the upload decisions ask of a remote target.
pub(crate) trait Remote {
    /// The stage's own files of a project (devpi: `?ignore_bases`, since we upload to the
    /// stage itself), one request, no retry; empty when the project is unknown.
    async fn own_files(&self, project: &PackageName) -> Result<Vec<ListedFile>, IndexError>;
    /// One upload POST.
    async fn send(&self, file: &StoredFile, form: &UploadForm) -> Result<Sent, UploadError>;
    /// After a 401: logs in again. `false` when the target has no login to repeat.
    async fn relogin(&self) -> Result<bool, IndexError>;
    /// The target, for messages (no credentials).
    fn describe(&self) -> String;
    /// The upload URL, for messages (no credentials).
    fn upload_url(&self) -> String;
}

/// The form fields of an upload besides the file (the core metadata, PEP 643 names).
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadForm {
    pub pyversion: String,
    pub fields: Vec<(&'static str, String)>,
}

impl UploadForm {
    pub(crate) fn of(wheel: &WheelInfo) -> UploadForm {
        UploadForm {
            pyversion: wheel.filename.python_tag_field(),
            fields: wheel.metadata.upload_fields(),
        }
    }
}

/// What the target says about one filename.
enum Listed {
    Absent,
    Same,
    Different(String),
}

/// Where the upload stands: looking at the listing (before the first POST or after a failed
/// one), about to POST, or confirming an answered POST with the listing.
enum Step {
    Look,
    Send,
    Confirm { status: u16 },
    AfterRefusal { status: u16, message: String },
}

/// Uploads `file` unless the target holds it; see the module text for the rules.
pub(crate) async fn upload<R: Remote>(
    remote: &R,
    project: &PackageName,
    file: &StoredFile,
    form: &UploadForm,
    retry: RetryPolicy,
    attempts: &mut Attempts,
) -> Result<UploadOutcome, UploadError> {
    let mut retry = retry.start();
    let mut relogged = false;
    let mut step = Step::Look;
    loop {
        step = match step {
            Step::Send => {
                attempts.sent += 1;
                match remote.send(file, form).await? {
                    Sent::Accepted { status } => Step::Confirm { status },
                    Sent::Refused { status: 401, .. } if !relogged && remote.relogin().await? => {
                        relogged = true;
                        attempts.retries.push("HTTP 401: logged in again".into());
                        Step::Send
                    }
                    // 400/403/409 and friends: look before deciding.
                    Sent::Refused { status, message } => Step::AfterRefusal { status, message },
                    Sent::Transient {
                        reason,
                        retry_after,
                    } => {
                        let Some(wait) = retry.next_wait(retry_after) else {
                            return Err(UploadError::GaveUp {
                                filename: file.filename.to_string(),
                                attempts: attempts.sent,
                                last: reason,
                            });
                        };
                        attempts.retries.push(reason);
                        tokio::time::sleep(wait).await;
                        // The failed attempt may have landed: look before sending again.
                        Step::Look
                    }
                }
            }
            looking => {
                let Some(listed) = look(remote, project, file, &mut retry).await? else {
                    // A transient failure of the read, waited for: read again.
                    step = looking;
                    continue;
                };
                match (listed, looking) {
                    (Listed::Same, _) if attempts.sent == 0 => {
                        return Ok(UploadOutcome::AlreadyPresent);
                    }
                    (Listed::Same, _) => return Ok(UploadOutcome::Uploaded),
                    (Listed::Different(existing), _) => {
                        return Err(conflict(remote, file, existing));
                    }
                    (Listed::Absent, Step::Confirm { status }) => {
                        return Err(UploadError::NotListed {
                            url: remote.upload_url(),
                            filename: file.filename.to_string(),
                            status,
                        });
                    }
                    (Listed::Absent, Step::AfterRefusal { status, message }) => {
                        return Err(UploadError::Refused {
                            url: remote.upload_url(),
                            filename: file.filename.to_string(),
                            status,
                            message,
                        });
                    }
                    (Listed::Absent, _) => Step::Send,
                }
            }
        };
    }
}

/// One read of the listing. `Ok(None)`: a transient failure, waited for, to be read again.
async fn look<R: Remote>(
    remote: &R,
    project: &PackageName,
    file: &StoredFile,
    retry: &mut RetryState,
) -> Result<Option<Listed>, UploadError> {
    let files = match remote.own_files(project).await {
        Ok(files) => files,
        Err(error) if retry.wait_after(&error).await => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    Ok(Some(
        match files.iter().find(|f| f.filename == file.filename) {
            None => Listed::Absent,
            Some(f) => match &f.sha256 {
                Some(sha) if *sha == file.sha256 => Listed::Same,
                Some(sha) => Listed::Different(sha.to_string()),
                // No hash listed: we cannot prove it is ours; treat as a conflict to look at.
                None => Listed::Different("(not listed)".into()),
            },
        },
    ))
}

fn conflict<R: Remote>(remote: &R, file: &StoredFile, existing: String) -> UploadError {
    UploadError::Conflict {
        url: remote.describe(),
        filename: file.filename.to_string(),
        existing,
        ours: file.sha256.to_string(),
    }
}

/// A devpi index or an upload-API index, over HTTP.
pub(crate) struct HttpRemote<'a> {
    /// Reads make one attempt: [`upload`] retries.
    client: HttpClient,
    target: &'a Target,
    upload_url: Url,
    /// For devpi: log in again once when a token expired (401).
    credentials: Option<&'a (String, String)>,
}

impl<'a> HttpRemote<'a> {
    /// `Err` with the directory for a directory target (written, not uploaded to).
    pub(crate) fn new(
        client: &HttpClient,
        target: &'a Target,
        credentials: Option<&'a (String, String)>,
    ) -> Result<HttpRemote<'a>, &'a std::path::Path> {
        let upload_url = match target {
            Target::Devpi(index) => index.upload_url(),
            Target::Simple { upload, .. } => upload.clone(),
            Target::Directory { path, .. } => return Err(path),
        };
        Ok(HttpRemote {
            client: client.single_attempt(),
            target,
            upload_url,
            credentials,
        })
    }

    pub(crate) fn url(&self) -> &Url {
        &self.upload_url
    }
}

impl Remote for HttpRemote<'_> {
    async fn own_files(&self, project: &PackageName) -> Result<Vec<ListedFile>, IndexError> {
        let files = self
            .target
            .project_files(&self.client, project, true)
            .await?
            .unwrap_or_default();
        Ok(files
            .into_iter()
            .map(|f| ListedFile {
                filename: f.filename,
                sha256: f.sha256,
            })
            .collect())
    }

    /// The body streams from the store file.
    async fn send(&self, file: &StoredFile, form: &UploadForm) -> Result<Sent, UploadError> {
        let url = &self.upload_url;
        let handle = tokio::fs::File::open(&file.path)
            .await
            .map_err(|source| UploadError::Io {
                path: file.path.display().to_string(),
                source,
            })?;
        let body = reqwest::Body::wrap_stream(ReaderStream::with_capacity(handle, 256 * 1024));
        let part = Part::stream_with_length(body, file.size)
            .file_name(file.filename.to_string())
            .mime_str("application/octet-stream")
            .expect("static mime type");
        let mut multipart = Form::new()
            .text(":action", "file_upload")
            .text("protocol_version", "1")
            .text("filetype", "bdist_wheel")
            .text("pyversion", form.pyversion.clone())
            .text("sha256_digest", file.sha256.to_string());
        for (key, value) in &form.fields {
            multipart = multipart.text(*key, value.clone());
        }
        multipart = multipart.part("content", part);
        let request = self
            .client
            .reqwest()
            .post(url.clone())
            .headers(self.client.auth_headers(url))
            .header(
                reqwest::header::ACCEPT,
                "application/json;q=0.9, text/plain;q=0.8, text/html;q=0.7",
            )
            .multipart(multipart);
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) if TransportFailure::of(&error).is_transient() => {
                return Ok(Sent::Transient {
                    reason: transport_error(url, &error).to_string(),
                    retry_after: None,
                });
            }
            Err(error) => return Err(UploadError::Index(transport_error(url, &error))),
        };
        let status = response.status();
        if status.is_success() {
            return Ok(Sent::Accepted {
                status: status.as_u16(),
            });
        }
        if is_transient_status(status.as_u16()) {
            return Ok(Sent::Transient {
                reason: format!("HTTP {}", status.as_u16()),
                retry_after: retry_after(&response),
            });
        }
        let message = status_error(url, response).await.to_string();
        Ok(Sent::Refused {
            status: status.as_u16(),
            message,
        })
    }

    async fn relogin(&self) -> Result<bool, IndexError> {
        let (Target::Devpi(index), Some((user, password))) = (self.target, self.credentials) else {
            return Ok(false);
        };
        super::login::log_in(&self.client, index, user, password).await?;
        Ok(true)
    }

    fn describe(&self) -> String {
        self.target.describe()
    }

    fn upload_url(&self) -> String {
        redact(&self.upload_url)
    }
}

/// Are the credentials for an upload-API index accepted? A form with `:action` but no
/// file: servers authenticate the POST before reading the form (pypiserver answers 401/403
/// first, 400 "missing content" to an accepted user), and a form without `content` can
/// store nothing. Only 401/403 count as a refusal; anything else is left to the uploads.
pub(crate) async fn check_upload_credentials(
    client: &HttpClient,
    url: &Url,
) -> Result<(), IndexError> {
    let form = Form::new()
        .text(":action", "file_upload")
        .text("protocol_version", "1");
    let response = client
        .reqwest()
        .post(url.clone())
        .headers(client.auth_headers(url))
        .multipart(form)
        .send()
        .await
        .map_err(|e| transport_error(url, &e))?;
    match response.status() {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(status_error(url, response).await),
        _ => Ok(()),
    }
}
