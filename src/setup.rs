//! Turns settings into the things a run works with: parsed requirements, probed
//! interpreters, the HTTP client, the target, the pure index and the upstream.
//!
//! Order matters for "bad input changes nothing": everything local (requirements, exclude
//! files, interpreters, certificates) is read and checked before any index is contacted.

use std::path::PathBuf;

use anyhow::Context as _;
use futures::future::try_join_all;

use crate::cli::{CommonArgs, Versions};
use crate::exit::Failure;
use crate::index::tls::TlsFiles;
use crate::index::{
    ClientConfig, Credentials, DevpiIndex, HttpClient, Source, Target, Upstream, redact, redact_str,
};
use crate::interpreter::{self, Interpreter};
use crate::plan::{Policy, VersionPolicy};
use crate::requirements::{self, ParsedRequirements, RequirementEntry};
use crate::settings::{self, ProcessEnvironment};

pub struct Context {
    pub requirements: ParsedRequirements,
    pub exclusions: Vec<RequirementEntry>,
    pub interpreters: Vec<Interpreter>,
    pub client: HttpClient,
    pub target: Target,
    pub pure_index: Option<Target>,
    pub upstream: std::sync::Arc<Upstream>,
    pub policy: Policy,
    pub concurrency: usize,
    pub credentials: Option<(String, String)>,
}

/// A borrowed variable's value (pip's, requests', devpi-builder's; see [`crate::settings`]).
fn borrowed(flag: &str) -> Option<String> {
    settings::row(flag)
        .borrowed_value(&ProcessEnvironment)
        .map(|found| found.value)
}

/// The local half: requirements, exclusions, interpreters. No network.
pub(crate) async fn read_inputs(
    paths: &[PathBuf],
    common: &CommonArgs,
) -> Result<(ParsedRequirements, Vec<RequirementEntry>, Vec<Interpreter>), Failure> {
    let lookup = |key: &str| std::env::var(key).ok();
    let requirements = requirements::parse_files(paths, &lookup).map_err(Failure::input)?;
    for warning in &requirements.warnings {
        eprintln!("warning: {warning}");
    }
    let exclusions = if common.exclude.is_empty() {
        Vec::new()
    } else {
        requirements::parse_files(&common.exclude, &lookup)
            .map_err(Failure::input)?
            .requirements
    };
    let cache = cache_dir(common.cache_dir.as_deref());
    let interpreters = try_join_all(
        common
            .pythons
            .iter()
            .map(|p| interpreter::probe_cached(p, &cache)),
    )
    .await
    .map_err(Failure::input)?;
    Ok((requirements, exclusions, interpreters))
}

/// Credentials from flags, files and environment (devpi-builder's DEVPI_USER/DEVPI_PASSWORD
/// included). The password never comes back in any message.
pub(crate) fn credentials(common: &CommonArgs) -> Result<Option<(String, String)>, Failure> {
    let user = common.user.clone().or_else(|| borrowed("user"));
    let password = match &common.password_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the password file {}", path.display()))
                .map_err(Failure::input)?
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        ),
        None => common.password.clone().or_else(|| borrowed("password")),
    };
    match (user, password) {
        (Some(user), Some(password)) => Ok(Some((user, password))),
        (Some(user), None) => Err(Failure::input(anyhow::anyhow!(
            "a user (`{user}`) is given but no password: use --password-file, {}",
            settings::row("password").variables()
        ))),
        (None, Some(_)) => Err(Failure::input(anyhow::anyhow!(
            "a password is given but no user: use {}",
            settings::row("user").sources()
        ))),
        (None, None) => Ok(None),
    }
}

pub(crate) fn client(common: &CommonArgs) -> Result<HttpClient, Failure> {
    let ca_bundle = common
        .ca_bundle
        .clone()
        .or_else(|| borrowed("ca-bundle").map(PathBuf::from));
    // pip's variable; pip has no separate key file (its PEM holds both).
    let client_cert = common
        .client_cert
        .clone()
        .or_else(|| borrowed("client-cert").map(PathBuf::from));
    let config = ClientConfig {
        tls: TlsFiles {
            ca_bundle,
            client_cert,
            client_key: common.client_key.clone(),
        },
        retries: common.retries,
        read_timeout: std::time::Duration::from_secs(common.timeout.max(1)),
        host_concurrency: common.host_concurrency,
        verbose: common.verbose > 0,
        ..ClientConfig::default()
    };
    if common.verbose > 0 {
        eprintln!(
            "note: at most {} index requests at once per server (--host-concurrency), fewer \
             while a server answers slowly or with 429/503",
            common.host_concurrency
        );
    }
    Ok(HttpClient::new(config)?)
}

/// Upstream sources, pip's precedence: flags, then the requirements files' options, then
/// PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS. `None` when nothing at all is
/// configured (see [`default_upstream`]). Local only: a find-links directory that does not
/// exist is bad input (exit 2), found before any index is contacted.
pub(crate) fn configured_upstream(
    common: &CommonArgs,
    requirements: &ParsedRequirements,
    client: &HttpClient,
) -> Result<Option<Vec<Source>>, Failure> {
    let options = &requirements.options;
    let env = &ProcessEnvironment;
    // pip's precedence: the command line, then the requirements files, then its variables
    // (lists: the variable's words are added).
    let no_index =
        common.no_index || options.no_index || settings::row("no-index").borrowed_switch(env);
    let index_url = common
        .index_url
        .clone()
        .or_else(|| options.index_url.clone())
        .or_else(|| borrowed("index-url"));
    let mut extra: Vec<String> = common.extra_index_url.clone();
    extra.extend(options.extra_index_urls.iter().cloned());
    extra.extend(settings::row("extra-index-url").borrowed_words(env));
    let mut find_links: Vec<String> = common.find_links.clone();
    find_links.extend(options.find_links.iter().cloned());
    find_links.extend(settings::row("find-links").borrowed_words(env));
    if !no_index && index_url.is_none() && extra.is_empty() && find_links.is_empty() {
        return Ok(None);
    }

    let mut sources = Vec::new();
    if !no_index {
        if let Some(url) = &index_url {
            sources.push(Source::index_url(url, client)?);
        }
        for url in &extra {
            sources.push(Source::index_url(url, client)?);
        }
    }
    for link in &find_links {
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
pub(crate) async fn default_upstream(
    target: &Target,
    client: &HttpClient,
    cache_dir: &std::path::Path,
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
pub(crate) async fn target(
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

pub(crate) async fn pure_index(
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

pub(crate) fn policy(common: &CommonArgs, requirements: &ParsedRequirements) -> Policy {
    Policy {
        versions: match common.versions {
            Versions::Newest => VersionPolicy::Newest,
            Versions::All => VersionPolicy::All,
        },
        pre: common.pre || requirements.options.pre,
        present_in: common.present_in,
    }
}

/// Everything for a run, in the safe order (local checks first).
pub(crate) async fn context(
    paths: &[PathBuf],
    target_spec: &str,
    upload_url: Option<&str>,
    common: &CommonArgs,
    login: Login,
) -> Result<Context, Failure> {
    let mut credentials = credentials(common)?;
    let client = client(common)?;
    if credentials.is_none()
        && let Some(host) = url::Url::parse(target_spec)
            .ok()
            .filter(|u| u.username().is_empty())
            .and_then(|u| u.host_str().map(String::from))
    {
        credentials = crate::netrc::lookup(&host);
    }
    let (requirements, exclusions, interpreters) = read_inputs(paths, common).await?;
    let configured = configured_upstream(common, &requirements, &client)?;
    let target = target(target_spec, upload_url, &credentials, &client, login).await?;
    let pure_index = pure_index(common.pure_index.as_deref(), &credentials, &client, login).await?;
    let sources = match configured {
        Some(sources) => sources,
        None => default_upstream(&target, &client, &cache_dir(common.cache_dir.as_deref())).await?,
    };
    let upstream = Upstream::new(sources).with_cooldown(cooldown(common)?);
    let policy = policy(common, &requirements);
    Ok(Context {
        requirements,
        exclusions,
        interpreters,
        client,
        target,
        pure_index,
        upstream: std::sync::Arc::new(upstream),
        policy,
        concurrency: common.index_concurrency,
        credentials,
    })
}

/// `--exclude-newer`: the cut-off from this moment, said on stderr so the plan shows it.
fn cooldown(common: &CommonArgs) -> Result<Option<crate::index::Cooldown>, Failure> {
    let Some(text) = common.exclude_newer.as_deref() else {
        return Ok(None);
    };
    let exclude_newer = text
        .parse::<crate::index::ExcludeNewer>()
        .map_err(|e| Failure::input(anyhow::anyhow!("--exclude-newer: {e}")))?;
    let cooldown =
        crate::index::Cooldown::new(exclude_newer, text, crate::timestamp::Timestamp::now());
    eprintln!(
        "cooldown: upstream files uploaded after {} are not used (--exclude-newer {})",
        cooldown.cutoff, cooldown.given
    );
    Ok(Some(cooldown))
}

/// `--cache-dir`, else the user's cache directory (`$XDG_CACHE_HOME/wheelwright`).
pub(crate) fn cache_dir(flag: Option<&std::path::Path>) -> PathBuf {
    let dir = flag
        .map(std::path::Path::to_path_buf)
        .or_else(|| dirs::cache_dir().map(|d| d.join("wheelwright")))
        .unwrap_or_else(|| PathBuf::from(".wheelwright-cache"));
    // Absolute: build directories inside it are bound into the sandbox by path, and the
    // hooks run with another working directory.
    std::path::absolute(&dir).unwrap_or(dir)
}

impl Context {
    /// The remembered target listings for this run's presence policy (devpi only).
    pub fn listing_cache(
        &self,
        cache_dir: &std::path::Path,
    ) -> Option<crate::index::snapshot::ListingCache> {
        let own_only = self.policy.present_in == crate::plan::PresentIn::Own;
        crate::index::snapshot::ListingCache::open(cache_dir, &self.target, own_only)
    }

    pub fn planner<'a>(
        &'a self,
        listings: Option<&'a crate::index::snapshot::ListingCache>,
        shard: Option<crate::plan::Shard>,
        store: Option<&'a crate::store::Store>,
        packages: &'a crate::package_settings::PackageSettings,
        closure: Option<&'a crate::deps::Closure>,
    ) -> crate::plan::Planner<'a, crate::plan::IndexListings<'a>> {
        crate::plan::Planner {
            listings: crate::plan::IndexListings {
                client: &self.client,
                target: &self.target,
                pure_index: self.pure_index.as_ref(),
                upstream: &self.upstream,
                cache: listings,
                store,
            },
            interpreters: &self.interpreters,
            policy: &self.policy,
            concurrency: self.concurrency,
            shard,
            packages,
            closure,
        }
    }
}
