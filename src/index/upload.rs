//! Uploads, idempotent by content, as uv's `publish --check-url` (docs/devpi-protocol.md, Uploads).
//!
//! Before sending, the target is asked for the filename: the same sha256 there means done,
//! a different one is a conflict that is never overwritten. Status codes and message texts
//! never decide anything a hash check can decide: after every failure the target is asked
//! again, because the last attempt may have landed (a 500 after storing, a reset after the
//! body was read). After a success the file must be listed with our sha256, or the upload
//! failed (devpi answers 200 to a POST on `+simple` and stores nothing).

use pep508_rs::PackageName;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use thiserror::Error;
use tokio_util::io::ReaderStream;
use url::Url;

use super::http::{
    HttpClient, is_tls_failure, is_transient_status, retry_after, status_error, transport_error,
};
use super::redact::redact;
use super::{DevpiIndex, IndexError, Target};
use crate::dist::CoreMetadata;
use crate::store::StoredFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UploadOutcome {
    /// We sent it and it is now listed with our sha256.
    Uploaded,
    /// It was already there with our sha256 before we sent anything.
    AlreadyPresent,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Attempts {
    /// POSTs sent.
    pub sent: u32,
    /// Why each retry happened (`HTTP 503`, `connection reset`, ...).
    pub retries: Vec<String>,
}

#[derive(Debug, Error)]
pub enum UploadError {
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
    pub fn target_unusable(&self) -> bool {
        match self {
            UploadError::Refused { status, .. } => {
                *status == 401 || *status == 403 || *status == 404
            }
            UploadError::GaveUp { .. } => true,
            UploadError::Index(e) => !matches!(e, IndexError::BadResponse { .. }),
            _ => false,
        }
    }
}

/// What the target says about one filename.
enum Listed {
    Absent,
    Same,
    Different(String),
}

pub struct Uploader<'a> {
    pub client: &'a HttpClient,
    pub target: &'a Target,
    /// For devpi: log in again once when a token expired (401).
    pub credentials: Option<&'a (String, String)>,
    pub retries: u32,
}

impl Uploader<'_> {
    pub async fn upload(
        &self,
        project: &PackageName,
        file: &StoredFile,
        metadata: &CoreMetadata,
        pyversion: &str,
        attempts: &mut Attempts,
    ) -> Result<UploadOutcome, UploadError> {
        match self.listed(project, file).await? {
            Listed::Same => return Ok(UploadOutcome::AlreadyPresent),
            Listed::Different(existing) => return Err(self.conflict(file, existing)),
            Listed::Absent => {}
        }
        let url = self.upload_url();
        let mut relogged = false;
        loop {
            attempts.sent += 1;
            let sent = self.send(&url, file, metadata, pyversion).await?;
            let retry_reason = match sent {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        return match self.listed(project, file).await? {
                            Listed::Same => Ok(UploadOutcome::Uploaded),
                            Listed::Different(existing) => Err(self.conflict(file, existing)),
                            Listed::Absent => Err(UploadError::NotListed {
                                url: redact(&url),
                                filename: file.filename.clone(),
                                status: status.as_u16(),
                            }),
                        };
                    }
                    if status == StatusCode::UNAUTHORIZED
                        && !relogged
                        && let (Target::Devpi(index), Some((user, password))) =
                            (self.target, self.credentials)
                    {
                        relogged = true;
                        relogin(self.client, index, user, password).await?;
                        attempts.retries.push("HTTP 401: logged in again".into());
                        continue;
                    }
                    if is_transient_status(status) {
                        let wait = retry_after(&response);
                        Some((format!("HTTP {}", status.as_u16()), wait))
                    } else {
                        // 400/403/409 and friends: look before deciding.
                        let refusal = status_error(&url, response).await;
                        return match self.listed(project, file).await? {
                            Listed::Same => Ok(UploadOutcome::Uploaded),
                            Listed::Different(existing) => Err(self.conflict(file, existing)),
                            Listed::Absent => Err(UploadError::Refused {
                                url: redact(&url),
                                filename: file.filename.clone(),
                                status: status.as_u16(),
                                message: refusal.to_string(),
                            }),
                        };
                    }
                }
                Err(error) => Some((error, None)),
            };
            let Some((reason, wait)) = retry_reason else {
                continue;
            };
            if attempts.retries.len() as u32 >= self.retries {
                return Err(UploadError::GaveUp {
                    filename: file.filename.clone(),
                    attempts: attempts.sent,
                    last: reason,
                });
            }
            let attempt = attempts.retries.len() as u32;
            attempts.retries.push(reason);
            tokio::time::sleep(wait.unwrap_or_else(|| self.client.backoff(attempt))).await;
            // The failed attempt may have landed: look before sending the bytes again.
            match self.listed(project, file).await {
                Ok(Listed::Same) => return Ok(UploadOutcome::Uploaded),
                Ok(Listed::Different(existing)) => return Err(self.conflict(file, existing)),
                Ok(Listed::Absent) => {}
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn upload_url(&self) -> Url {
        match self.target {
            Target::Devpi(index) => index.upload_url(),
            Target::Simple { upload, .. } => upload.clone(),
            Target::Directory { .. } => unreachable!("directories are written, not uploaded to"),
        }
    }

    fn conflict(&self, file: &StoredFile, existing: String) -> UploadError {
        UploadError::Conflict {
            url: self.target.describe(),
            filename: file.filename.clone(),
            existing,
            ours: file.sha256.clone(),
        }
    }

    /// The target's own listing for the project (devpi: `?ignore_bases`, since we upload to
    /// the stage itself), searched for the filename. Reads retry transient failures.
    async fn listed(&self, project: &PackageName, file: &StoredFile) -> Result<Listed, IndexError> {
        let files = self
            .target
            .project_files(self.client, project, true)
            .await?
            .unwrap_or_default();
        Ok(match files.iter().find(|f| f.filename == file.filename) {
            None => Listed::Absent,
            Some(f) => match &f.sha256 {
                Some(sha) if sha.eq_ignore_ascii_case(&file.sha256) => Listed::Same,
                Some(sha) => Listed::Different(sha.clone()),
                // No hash listed: we cannot prove it is ours; treat as a conflict to look at.
                None => Listed::Different("(not listed)".into()),
            },
        })
    }

    /// One POST; the body streams from the store file. `Err(reason)` for transport failures
    /// worth a retry.
    async fn send(
        &self,
        url: &Url,
        file: &StoredFile,
        metadata: &CoreMetadata,
        pyversion: &str,
    ) -> Result<Result<reqwest::Response, String>, UploadError> {
        let handle = tokio::fs::File::open(&file.path)
            .await
            .map_err(|source| UploadError::Io {
                path: file.path.display().to_string(),
                source,
            })?;
        let body = reqwest::Body::wrap_stream(ReaderStream::with_capacity(handle, 256 * 1024));
        let part = Part::stream_with_length(body, file.size)
            .file_name(file.filename.clone())
            .mime_str("application/octet-stream")
            .expect("static mime type");
        let mut form = Form::new()
            .text(":action", "file_upload")
            .text("protocol_version", "1")
            .text("filetype", "bdist_wheel")
            .text("pyversion", pyversion.to_string())
            .text("sha256_digest", file.sha256.clone());
        for (key, value) in metadata.upload_fields() {
            form = form.text(key, value);
        }
        form = form.part("content", part);
        let request = self
            .client
            .reqwest()
            .post(url.clone())
            .headers(self.client.auth_headers(url))
            .header(
                reqwest::header::ACCEPT,
                "application/json;q=0.9, text/plain;q=0.8, text/html;q=0.7",
            )
            .multipart(form);
        match request.send().await {
            Ok(response) => Ok(Ok(response)),
            Err(error) if is_tls_failure(&error) => {
                Err(UploadError::Index(transport_error(url, &error)))
            }
            Err(error) => Ok(Err(transport_error(url, &error).to_string())),
        }
    }
}

/// Are the credentials for an upload-API index accepted? A form with `:action` but no
/// file: servers authenticate the POST before reading the form (pypiserver answers 401/403
/// first, 400 "missing content" to an accepted user), and a form without `content` can
/// store nothing. Only 401/403 count as a refusal; anything else is left to the uploads.
pub async fn check_upload_credentials(client: &HttpClient, url: &Url) -> Result<(), IndexError> {
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

async fn relogin(
    client: &HttpClient,
    index: &DevpiIndex,
    user: &str,
    password: &str,
) -> Result<(), IndexError> {
    let proxy_basic = match client.credentials(&index.root) {
        Some(super::Credentials::Devpi { proxy_basic, .. }) => proxy_basic,
        _ => None,
    };
    index.login(client, user, password, proxy_basic).await
}
