//! The services a run works with, built once from [`Settings`] and passed down: the HTTP
//! client, the target, the pure index, the upstream and the download store. Nothing here
//! is mutated afterwards.
//!
//! Order matters for "bad input changes nothing": the client (certificates) and the
//! configured upstream (find-links directories) are checked before the first request.

use std::path::Path;
use std::sync::Arc;

use crate::exit::Failure;
use crate::index::snapshot::ListingCache;
use crate::index::{
    Credentials, DevpiIndex, HttpClient, Source, Target, Upstream, redact, redact_str,
};
use crate::plan::{IndexListings, Planner, PresentIn, WrittenLines};
use crate::store::Store;

use super::settings::{Settings, UpstreamSettings};

pub(crate) struct Services {
    pub client: HttpClient,
    pub target: Target,
    pub pure_index: Option<Target>,
    pub upstream: Arc<Upstream>,
    /// Downloads and built wheels, by sha256, within `--max-download-size`.
    pub store: Store,
}

impl Services {
    /// The client and the configured upstream first (local checks), then the target, the
    /// pure index and, when nothing is configured, the target's default upstream.
    pub(crate) async fn connect(settings: &Settings, login: Login) -> Result<Services, Failure> {
        let client = HttpClient::new(settings.client.clone())?;
        if settings.verbose {
            eprintln!(
                "note: at most {} index requests at once per server (--host-concurrency), \
                 fewer while a server answers slowly or with 429/503",
                settings.client.host_concurrency
            );
        }
        let configured = configured_upstream(&settings.upstream, &client)?;
        let credentials = &settings.credentials;
        let spec = &settings.target;
        let target = target(
            &spec.spec,
            spec.upload_url.as_deref(),
            credentials,
            &client,
            login,
        )
        .await?;
        let pure_index =
            pure_index(spec.pure_index.as_deref(), credentials, &client, login).await?;
        let sources = match configured {
            Some(sources) => sources,
            None => default_upstream(&target, &client, &settings.cache).await?,
        };
        let cooldown = settings.upstream.cooldown.clone();
        if let Some(cooldown) = &cooldown {
            // The plan shows the cut-off.
            eprintln!(
                "cooldown: upstream files uploaded after {} are not used (--exclude-newer {})",
                cooldown.cutoff, cooldown.given
            );
        }
        Ok(Services {
            client,
            target,
            pure_index,
            upstream: Arc::new(Upstream::new(sources).with_cooldown(cooldown)),
            store: Store::new(&settings.cache).with_max_download_size(settings.max_download_size),
        })
    }

    /// A builder with these options whose build requirements come from this run's upstream
    /// and store.
    pub(crate) fn builder(
        &self,
        options: &crate::builder::BuilderOptions,
    ) -> Result<crate::builder::Builder, crate::builder::SandboxError> {
        let source = crate::pipeline::UpstreamWheels {
            client: self.client.clone(),
            upstream: Arc::clone(&self.upstream),
            store: self.store.clone(),
        };
        crate::builder::Builder::new(options.clone(), Arc::new(source))
    }

    /// `deps::for_run`'s view of the run.
    pub(crate) fn deps_inputs<'a>(
        &'a self,
        settings: &'a Settings,
        packages: &'a crate::package_settings::PackageSettings,
        failures: crate::metadata::FailurePolicy,
    ) -> crate::deps::RunInputs<'a> {
        crate::deps::RunInputs {
            mode: settings.deps,
            requirement_files: &settings.requirement_files,
            requirements: &settings.requirements,
            interpreters: &settings.interpreters,
            policy: &settings.policy,
            concurrency: settings.index_concurrency,
            client: &self.client,
            upstream: &self.upstream,
            store: &self.store,
            cache: &settings.cache,
            packages,
            failures,
        }
    }

    /// The remembered target listings for this run's presence policy (devpi only).
    pub(crate) fn listing_cache(&self, settings: &Settings) -> Option<ListingCache> {
        let own_only = settings.policy.present_in == PresentIn::Own;
        ListingCache::open(&settings.cache, &self.target, own_only)
    }

    /// The planner over these indexes. `covered`: the written lines `--deps` plans as its
    /// pinned lines instead (the planner does not know how they were expanded).
    pub(crate) fn planner<'a>(
        &'a self,
        settings: &'a Settings,
        listings: Option<&'a ListingCache>,
        packages: &'a crate::package_settings::PackageSettings,
        covered: Option<&'a dyn WrittenLines>,
    ) -> Planner<'a, IndexListings<'a>> {
        Planner {
            listings: IndexListings {
                client: &self.client,
                target: &self.target,
                pure_index: self.pure_index.as_ref(),
                upstream: &self.upstream,
                cache: listings,
                store: Some(&self.store),
            },
            interpreters: &settings.interpreters,
            policy: &settings.policy,
            concurrency: settings.index_concurrency,
            shard: settings.shard,
            packages,
            covered,
        }
    }
}

/// Upstream sources from the configured flags, files and variables (see
/// [`UpstreamSettings`]). `None` when nothing at all is configured (see
/// [`default_upstream`]). Local only: a find-links directory that does not exist is bad
/// input (exit 2), found before any index is contacted.
fn configured_upstream(
    upstream: &UpstreamSettings,
    client: &HttpClient,
) -> Result<Option<Vec<Source>>, Failure> {
    if upstream.is_unset() {
        return Ok(None);
    }
    let mut sources = Vec::new();
    if !upstream.no_index {
        for url in upstream.index_url.iter().chain(&upstream.extra_index_urls) {
            sources.push(Source::index_url(url, client)?);
        }
    }
    for link in &upstream.find_links {
        let source = Source::find_links(link, client)?;
        if let Source::Directory { path, .. } = &source
            && !path.is_dir()
        {
            return Err(Failure::input(anyhow::anyhow!(
                "find-links `{}`: {} is not a directory",
                redact_str(link),
                path.display()
            )));
        }
        sources.push(source);
    }
    Ok(Some(sources))
}

/// With no upstream configured and a devpi target: the mirror indexes the target inherits
/// from (its bases, transitively, in devpi's resolution order), since that is where the
/// target's own users get what it lacks; else the server's `root/pypi`, only if it exists.
/// Neither is a configuration error (exit 2) that says what to give. Other targets have no
/// default upstream (their jobs say so).
async fn default_upstream(
    target: &Target,
    client: &HttpClient,
    cache_dir: &Path,
) -> Result<Vec<Source>, Failure> {
    let Target::Devpi(index) = target else {
        return Ok(Vec::new());
    };
    let stage = |name: &str| {
        let (user, idx) = name.split_once('/')?;
        Some(DevpiIndex {
            root: index.root.clone(),
            user: user.to_string(),
            index: idx.to_string(),
            serial: None,
        })
    };
    let policy = crate::policy::TargetPolicy::load_remembered(client, index, cache_dir).await?;
    let mirrors: Vec<DevpiIndex> = policy.mirrors.iter().filter_map(|m| stage(m)).collect();
    if !mirrors.is_empty() {
        eprintln!(
            "note: no upstream configured; using the mirror{} {} inherits from: {}",
            if mirrors.len() == 1 { "" } else { "s" },
            index.stage(),
            policy.mirrors.join(", ")
        );
        return Ok(mirrors
            .into_iter()
            .map(|m| Source::Simple {
                base: m.simple_url(),
            })
            .collect());
    }
    let pypi = stage("root/pypi").expect("a user/index name");
    match pypi.api(client).await {
        Ok(_) => Ok(vec![Source::Simple {
            base: pypi.simple_url(),
        }]),
        Err(crate::index::IndexError::NotAnIndex { .. }) => Err(Failure::input(anyhow::anyhow!(
            "no upstream: none is configured, {} inherits from no mirror index, and {} has no \
             root/pypi; give --index-url, --extra-index-url or --find-links (or PIP_INDEX_URL)",
            index.stage(),
            redact(&index.root)
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Detects the target (and the pure index) and logs in where credentials are given.
async fn target(
    spec: &str,
    upload_url: Option<&str>,
    credentials: &Option<(String, String)>,
    client: &HttpClient,
    login: Login,
) -> Result<Target, Failure> {
    let target = Target::detect(spec, upload_url, client).await?;
    authenticate(&target, credentials, client, login).await?;
    Ok(target)
}

/// When to log in to devpi: `plan` checks the credentials at once; `fill` leaves it to its
/// publish session (before its first upload or build), so a no-op night costs no login
/// (reads need none on devpi).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Login {
    Now,
    BeforeFirstUpload,
}

async fn authenticate(
    target: &Target,
    credentials: &Option<(String, String)>,
    client: &HttpClient,
    login: Login,
) -> Result<(), Failure> {
    let Some((user, password)) = credentials else {
        return Ok(());
    };
    match target {
        Target::Devpi(_) if login == Login::BeforeFirstUpload => {}
        Target::Devpi(index) => crate::publish::log_in(client, index, user, password).await?,
        Target::Simple { simple, upload } => {
            for url in [simple, upload] {
                client.set_credentials(
                    url,
                    Credentials::Basic {
                        user: user.clone(),
                        password: password.clone(),
                    },
                );
            }
        }
        Target::Directory { .. } => {}
    }
    Ok(())
}

async fn pure_index(
    spec: Option<&str>,
    credentials: &Option<(String, String)>,
    client: &HttpClient,
    login: Login,
) -> Result<Option<Target>, Failure> {
    let Some(spec) = spec else { return Ok(None) };
    let target = Target::detect(spec, None, client)
        .await
        .map_err(Failure::from)
        .map_err(|f| Failure {
            code: f.code,
            error: f
                .error
                .context(format!("--pure-index {}", redact_str(spec))),
        })?;
    if let (Target::Devpi(index), Some(_)) = (&target, credentials) {
        // Same server as the target: the login token is shared per origin.
        if client.credentials(&index.root).is_none() {
            authenticate(&target, credentials, client, login).await?;
        }
    }
    Ok(Some(target))
}
