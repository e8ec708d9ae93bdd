//! Where listings come from: simple indexes, devpi indexes, find-links directories and pages.
//! Upstream is an ordered set of sources whose answers are merged per project.

use std::path::{Path, PathBuf};

use futures::future::try_join_all;
use pep508_rs::PackageName;
use tokio::sync::OnceCell;
use url::Url;

use super::IndexFile;
use super::body::listing_text;
use super::by_project::ByProject;
use super::cooldown::Cooldown;
use super::devpi::DevpiIndex;
use super::error::IndexError;
use super::file::{EntryProblem, Listing, RejectedEntry};
use super::http::{HttpClient, status_error};
use super::safe_url::redact;
use super::simple::{ProjectPage, SIMPLE_ACCEPT, fetch_project_page, parse_html};
use super::status::{ProjectStatus, StatusMarker};
use crate::distribution::SafeFilename;

/// One place that lists distribution files.
pub enum Source {
    /// A PEP 503/691 index base (`.../simple/`, devpi `.../+simple/`).
    Simple { base: Url },
    /// A devpi index read through its JSON API.
    Devpi { index: DevpiIndex, own_only: bool },
    /// A local directory of dists (pip `--find-links DIR`), read once.
    Directory {
        path: PathBuf,
        listing: OnceCell<ByProject>,
    },
    /// An HTML page linking dists (pip `--find-links URL`), fetched once.
    Page {
        url: Url,
        listing: OnceCell<PageListing>,
    },
}

impl Source {
    pub fn directory(path: impl Into<PathBuf>) -> Source {
        Source::Directory {
            path: path.into(),
            listing: OnceCell::new(),
        }
    }

    /// pip's `--find-links`: a path, a `file:` URL, or an http(s) page.
    pub fn find_links(spec: &str, client: &HttpClient) -> Result<Source, IndexError> {
        if let Ok(url) = Url::parse(spec) {
            match url.scheme() {
                "http" | "https" => {
                    return Ok(Source::Page {
                        url: client.adopt_url_credentials(&url),
                        listing: OnceCell::new(),
                    });
                }
                "file" => {
                    let path = url.to_file_path().map_err(|_| {
                        IndexError::Config(format!("find-links `{spec}` is not a usable file URL"))
                    })?;
                    return Ok(Source::directory(path));
                }
                _ if spec.len() > 2 => {
                    return Err(IndexError::Config(format!(
                        "find-links `{}`: unsupported URL scheme `{}`",
                        redact(&url),
                        url.scheme()
                    )));
                }
                _ => {}
            }
        }
        Ok(Source::directory(spec))
    }

    /// An index URL (`--index-url`): a devpi `+simple` base or any simple index.
    pub fn index_url(spec: &str, client: &HttpClient) -> Result<Source, IndexError> {
        let url = Url::parse(spec).map_err(|e| {
            IndexError::Config(format!(
                "index URL `{}` is not a URL: {e}",
                super::redact_str(spec)
            ))
        })?;
        Ok(Source::Simple {
            base: client.adopt_url_credentials(&url),
        })
    }

    /// Human description, credentials stripped.
    pub fn describe(&self) -> String {
        match self {
            Source::Simple { base } => redact(base),
            Source::Devpi { index, .. } => redact(&index.url()),
            Source::Directory { path, .. } => path.display().to_string(),
            Source::Page { url, .. } => redact(url),
        }
    }

    /// What this source lists for `name`; `None` when it does not know the project.
    pub async fn project_files(
        &self,
        client: &HttpClient,
        name: &PackageName,
    ) -> Result<Option<Listing>, IndexError> {
        Ok(self
            .project_page(client, name)
            .await?
            .map(|page| page.listing))
    }

    /// [`Self::project_files`] with the PEP 792 status a simple index gives (the other
    /// sources have none: their projects are `active`).
    pub async fn project_page(
        &self,
        client: &HttpClient,
        name: &PackageName,
    ) -> Result<Option<ProjectPage>, IndexError> {
        let listing = match self {
            Source::Simple { base } => return fetch_project_page(client, base, name).await,
            Source::Devpi { index, own_only } => {
                index.project_files(client, name, *own_only).await?
            }
            Source::Directory { path, listing } => {
                let all = listing
                    .get_or_try_init(|| async { read_directory(path).await.map(ByProject::new) })
                    .await?;
                let files = all.project(name);
                (!files.is_empty()).then_some(Listing {
                    files,
                    rejected: Vec::new(),
                })
            }
            Source::Page { url, listing } => {
                let all = listing.get_or_try_init(|| fetch_page(client, url)).await?;
                let files = all.files.project(name);
                // A page lists every project at once; a rejected entry belongs to this
                // project when its last component names one of its distributions.
                let rejected: Vec<_> = all
                    .rejected
                    .iter()
                    .filter(|r| r.version_of(name).is_some())
                    .cloned()
                    .collect();
                (!files.is_empty() || !rejected.is_empty()).then_some(Listing { files, rejected })
            }
        };
        Ok(listing.map(|listing| ProjectPage {
            listing,
            status: None,
        }))
    }
}

/// A find-links page: its files grouped by project, and the entries refused at the boundary.
pub struct PageListing {
    pub files: ByProject,
    pub rejected: Vec<super::RejectedEntry>,
}

/// Every regular file of a directory as an index file (`file:` URLs, no hashes yet), sorted.
/// Names that are not safe file names (hidden files, a run's own temp files) are no
/// distributions and are left out.
pub async fn read_directory(path: &Path) -> Result<Vec<IndexFile>, IndexError> {
    let dir_error = |source| IndexError::Directory {
        path: path.display().to_string(),
        source,
    };
    let absolute = std::path::absolute(path).map_err(dir_error)?;
    let mut entries = tokio::fs::read_dir(&absolute).await.map_err(dir_error)?;
    let mut files = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(dir_error)? {
        let Some(filename) = entry
            .file_name()
            .to_str()
            .and_then(|name| SafeFilename::new(name).ok())
        else {
            continue;
        };
        if !entry
            .file_type()
            .await
            .map(|t| t.is_file())
            .unwrap_or(false)
        {
            continue;
        }
        let Ok(url) = Url::from_file_path(absolute.join(filename.as_path())) else {
            continue;
        };
        files.push(IndexFile {
            filename,
            url,
            // Hashed on demand: a directory may be large and only chosen files matter.
            sha256: None,
            size: None,
            upload_time: None,
            requires_python: None,
            yanked: None,
            stage: None,
            metadata_file: super::MetadataFile::NotOffered,
        });
    }
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(files)
}

pub(super) async fn fetch_page(client: &HttpClient, url: &Url) -> Result<PageListing, IndexError> {
    let response = client.get(url, SIMPLE_ACCEPT).await?;
    if !response.status().is_success() {
        return Err(status_error(url, response).await);
    }
    let final_url = response.url().clone();
    let body = listing_text(url, response).await?;
    let listing = parse_html(&body, &final_url).map_err(|source| IndexError::Listing {
        url: redact(url),
        source,
    })?;
    Ok(PageListing {
        files: ByProject::new(listing.files),
        rejected: listing.rejected,
    })
}

/// The upstream: sources in priority order (index URL, extra index URLs, find-links).
#[derive(Default)]
pub struct Upstream {
    pub sources: Vec<Source>,
    /// Whether every source is usable, asked once before the first listing (see
    /// [`super::probe`]): a no-op night that needs nothing from upstream asks nothing.
    /// The verdict keeps each source's devpi serial, if it sent one.
    checked: OnceCell<Result<Vec<Option<u64>>, IndexError>>,
    /// `--exclude-newer`, applied to every source's listing (cooldown.rs).
    pub(super) cooldown: Option<Cooldown>,
    /// Sources already said to give no upload times (said once per source).
    undated: std::sync::Mutex<std::collections::HashSet<usize>>,
    /// Projects already said to be archived or deprecated (PEP 792; said once), with the
    /// warning, for the report.
    warned_status: std::sync::Mutex<std::collections::BTreeMap<PackageName, String>>,
}

impl Upstream {
    pub fn new(sources: Vec<Source>) -> Upstream {
        Upstream {
            sources,
            checked: OnceCell::new(),
            cooldown: None,
            undated: Default::default(),
            warned_status: Default::default(),
        }
    }

    /// The upstream under a release-age cooldown.
    pub fn with_cooldown(mut self, cooldown: Option<Cooldown>) -> Upstream {
        self.cooldown = cooldown;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Every source answers as an index (once per run; later calls repeat the verdict).
    pub async fn check(&self, client: &HttpClient) -> Result<(), IndexError> {
        self.serials(client).await.map(|_| ())
    }

    /// [`Self::check`], with the `X-Devpi-Serial` each source sent at that first request.
    pub(super) async fn serials(&self, client: &HttpClient) -> Result<&[Option<u64>], IndexError> {
        let verdict = self
            .checked
            .get_or_init(|| {
                try_join_all(
                    self.sources
                        .iter()
                        .map(|s| super::probe::check_source(s, client)),
                )
            })
            .await;
        verdict
            .as_ref()
            .map(Vec::as_slice)
            .map_err(super::probe::replay)
    }

    /// Every source is asked at once; files are merged by filename, the earlier source wins.
    /// Rejected entries of every source are kept. `None` when no source knows the project.
    pub async fn project_listing(
        &self,
        client: &HttpClient,
        name: &PackageName,
    ) -> Result<Option<Listing>, IndexError> {
        self.check(client).await?;
        let answers =
            try_join_all(self.sources.iter().map(|s| s.project_page(client, name))).await?;
        let mut merged = Listing::default();
        let mut names = std::collections::HashSet::new();
        let mut known = false;
        for (at, page) in answers.into_iter().enumerate() {
            let Some(ProjectPage {
                mut listing,
                status,
            }) = page
            else {
                continue;
            };
            known = true;
            if let Some(status) = status {
                self.obey_status(name, &self.sources[at], &status, &mut listing);
            }
            if let Some(cooldown) = &self.cooldown {
                let source = &self.sources[at];
                if cooldown.apply(name, &source.describe(), &mut listing)
                    && self.undated.lock().expect("undated lock").insert(at)
                {
                    // Fail closed, said once per source: its versions are refused.
                    eprintln!(
                        "warning: {} gives no upload times (PEP 700); under --exclude-newer \
                         {} its files are not used",
                        source.describe(),
                        cooldown.given
                    );
                }
            }
            for file in listing.files {
                if names.insert(file.filename.clone()) {
                    merged.files.push(file);
                }
            }
            merged.rejected.extend(listing.rejected);
        }
        Ok(known.then_some(merged))
    }

    /// PEP 792: a quarantined project's files are not used (an index must not offer them;
    /// one that still lists them is not followed): each becomes a rejected entry, so its
    /// jobs are unavailable with the status and the index's reason. An archived or
    /// deprecated project is used, with a warning once per project.
    fn obey_status(
        &self,
        name: &PackageName,
        source: &Source,
        status: &ProjectStatus,
        listing: &mut Listing,
    ) {
        let because = status
            .reason
            .as_deref()
            .map(|r| format!(": {}", super::redact_text(r).replace(char::is_control, "?")))
            .unwrap_or_default();
        match status.marker {
            StatusMarker::Active => {}
            StatusMarker::Quarantined => {
                for file in std::mem::take(&mut listing.files) {
                    listing.rejected.push(RejectedEntry {
                        index: source.describe(),
                        listed: file.filename.to_string(),
                        problem: EntryProblem::Quarantined {
                            reason: status.reason.clone(),
                        },
                    });
                }
            }
            StatusMarker::Archived | StatusMarker::Deprecated => {
                let mut warned = self.warned_status.lock().expect("warned lock");
                if !warned.contains_key(name) {
                    let warning = format!(
                        "{name} is {} on {} (PEP 792){because}",
                        status.marker,
                        source.describe()
                    );
                    eprintln!("warning: {warning}");
                    warned.insert(name.clone(), warning);
                }
            }
        }
    }

    /// The PEP 792 warnings of this run so far (archived and deprecated projects), one per
    /// project, for the report.
    pub fn status_warnings(&self) -> Vec<String> {
        self.warned_status
            .lock()
            .expect("warned lock")
            .values()
            .cloned()
            .collect()
    }

    /// The usable files of [`Self::project_listing`].
    pub async fn project_files(
        &self,
        client: &HttpClient,
        name: &PackageName,
    ) -> Result<Option<Vec<IndexFile>>, IndexError> {
        Ok(self
            .project_listing(client, name)
            .await?
            .map(|listing| listing.files))
    }

    pub fn describe(&self) -> String {
        self.sources
            .iter()
            .map(Source::describe)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
