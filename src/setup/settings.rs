//! The run's settings: every flag, variable, file and probe that is local, read and checked
//! once, before any index is contacted (ripgrep's `LowArgs` → `HiArgs`). A malformed
//! `--build-env`, an unpinned `--build-constraints` line or a missing `--build-path` is bad
//! input found here, not when the first build starts after the downloads have run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::future::try_join_all;

use crate::builder::{BuildConstraint, BuilderOptions, SandboxMode, Toolchains};
use crate::cli::{CommonArgs, FillArgs, PlanArgs, SandboxArg, Versions};
use crate::deps::DepsMode;
use crate::exit::Failure;
use crate::index::ClientConfig;
use crate::index::tls::TlsFiles;
use crate::interpreter::{self, Interpreter};
use crate::metadata::FailurePolicy;
use crate::package_settings::PackageSettings;
use crate::plan::{Policy, Shard, VersionPolicy};
use crate::report::pages::Outputs;
use crate::report::view::ReportView;
use crate::requirements::{self, ParsedRequirements, RequirementEntry};
use crate::settings::{self, ProcessEnvironment};

/// What `plan` and `fill` share, resolved from flags, `wheelwright.toml` and the environment.
pub(crate) struct Settings {
    /// The requirements files given on the command line (`--deps` solves one environment
    /// per file).
    pub requirement_files: Vec<PathBuf>,
    pub requirements: ParsedRequirements,
    pub exclusions: Vec<RequirementEntry>,
    pub interpreters: Vec<Arc<Interpreter>>,
    pub target: TargetSettings,
    /// From flags, files, the environment or `~/.netrc`. The password never appears in any
    /// message.
    pub credentials: Option<(String, String)>,
    pub client: ClientConfig,
    /// pip's upstream flags with pip's precedence applied (still unchecked URLs).
    pub upstream: UpstreamSettings,
    pub policy: Policy,
    /// Absolute (build directories inside it are bound into the sandbox by path).
    pub cache: PathBuf,
    pub max_download_size: u64,
    pub index_concurrency: usize,
    pub shard: Option<Shard>,
    pub deps: Option<DepsMode>,
    pub strict_whitelist: bool,
    pub verbose: bool,
    pub quiet: bool,
    pub report_json: Option<PathBuf>,
    pub report_html: Option<PathBuf>,
    pub report_markdown: Option<PathBuf>,
    /// `--previous OLD.json`, read and checked with the other local inputs: before the run
    /// writes any report (it may be the `--report-json` file).
    pub previous: Option<ReportView>,
    pub lock: Option<PathBuf>,
}

/// Where the wheels go.
pub(crate) struct TargetSettings {
    pub spec: String,
    pub upload_url: Option<String>,
    pub pure_index: Option<String>,
}

/// pip's sources in pip's precedence: the command line, then the requirements files'
/// options, then its variables (lists: the variable's words are added).
pub(crate) struct UpstreamSettings {
    pub no_index: bool,
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<String>,
    /// `--exclude-newer`, its cut-off taken from the moment the settings are read.
    pub cooldown: Option<crate::index::Cooldown>,
}

impl UpstreamSettings {
    /// Nothing configured at all: the target's default upstream applies.
    pub(crate) fn is_unset(&self) -> bool {
        !self.no_index
            && self.index_url.is_none()
            && self.extra_index_urls.is_empty()
            && self.find_links.is_empty()
    }
}

/// `fill`'s settings beyond the shared ones.
pub(crate) struct FillSettings {
    pub common: Settings,
    /// Every build's options, complete: sandbox, limits, `--build-env`, constraints,
    /// toolchains.
    pub builder: BuilderOptions,
    /// `--jobs`: builds at once (at least one).
    pub build_jobs: usize,
    pub failures: FailurePolicy,
    pub no_upload: bool,
    pub no_build_deps: bool,
    pub transfer_concurrency: usize,
    pub junit_xml: Option<PathBuf>,
    pub sbom: Option<PathBuf>,
    pub run_id: Option<String>,
}

impl Settings {
    /// Where `--report-html` and `--report-markdown` go.
    pub(crate) fn pages(&self) -> Outputs<'_> {
        Outputs {
            html: self.report_html.as_deref(),
            markdown: self.report_markdown.as_deref(),
        }
    }

    pub(crate) async fn for_plan(
        args: &PlanArgs,
        packages: &PackageSettings,
    ) -> Result<Settings, Failure> {
        let target = TargetSettings {
            spec: args.target.clone(),
            upload_url: None,
            pure_index: args.common.pure_index.clone(),
        };
        Settings::read(&args.requirements, target, &args.common, packages).await
    }

    async fn read(
        paths: &[PathBuf],
        target: TargetSettings,
        common: &CommonArgs,
        packages: &PackageSettings,
    ) -> Result<Settings, Failure> {
        let credentials = match credentials(common)? {
            Some(found) => Some(found),
            None => netrc_credentials(&target.spec),
        };
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
        .map_err(Failure::input)?
        .into_iter()
        .map(Arc::new)
        .collect();
        let upstream = upstream(common, &requirements, packages);
        let policy = Policy {
            versions: match common.versions {
                Versions::Newest => VersionPolicy::Newest,
                Versions::All => VersionPolicy::All,
            },
            pre: common.pre || requirements.options.pre,
            present_in: common.present_in,
        };
        Ok(Settings {
            requirement_files: paths.to_vec(),
            requirements,
            exclusions,
            interpreters,
            target,
            credentials,
            client: client_config(common),
            upstream,
            policy,
            cache,
            max_download_size: common.max_download_size,
            index_concurrency: common.index_concurrency,
            shard: common.shard,
            deps: common.deps,
            strict_whitelist: common.strict_whitelist,
            verbose: common.verbose > 0,
            quiet: common.quiet > 0,
            report_json: common.report_json.clone(),
            report_html: common.report_html.clone(),
            report_markdown: common.report_markdown.clone(),
            previous: crate::report::pages::load_previous(common.previous.as_deref())
                .map_err(Failure::input)?,
            lock: common.lock.clone(),
        })
    }
}

impl FillSettings {
    pub(crate) async fn for_fill(
        args: &FillArgs,
        packages: &PackageSettings,
    ) -> Result<FillSettings, Failure> {
        let (paths, spec) = split_positional(&args.positional, args.target.as_deref());
        let target = TargetSettings {
            spec,
            upload_url: args.upload_url.clone(),
            pure_index: args.common.pure_index.clone(),
        };
        let common = Settings::read(&paths, target, &args.common, packages).await?;
        std::fs::create_dir_all(&common.cache).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot create the cache directory {}: {e}",
                common.cache.display()
            ))
        })?;
        let builder = builder_options(args, &common.cache).map_err(Failure::input)?;
        let failures = FailurePolicy {
            ttl: Duration::from_secs(args.failure_ttl.saturating_mul(86_400)),
            retry: args.retry_failed,
        };
        Ok(FillSettings {
            common,
            builder,
            build_jobs: args.jobs.unwrap_or_else(default_build_jobs).max(1),
            failures,
            no_upload: args.no_upload,
            no_build_deps: args.no_build_deps,
            transfer_concurrency: args.transfer_concurrency,
            junit_xml: args.junit_xml.clone(),
            sbom: args.sbom.clone(),
            run_id: args.run_id.clone(),
        })
    }
}

/// devpi-builder's form `fill requirements.txt http://host/user/index`: without `--target`,
/// a last positional argument that is a URL, an existing directory, or a path that is
/// neither an existing file nor named like a requirements file (`.txt`, `.in`) is the target.
pub(super) fn split_positional(
    positional: &[String],
    target: Option<&str>,
) -> (Vec<PathBuf>, String) {
    if let Some(target) = target {
        return (
            positional.iter().map(PathBuf::from).collect(),
            target.to_string(),
        );
    }
    if positional.len() >= 2 {
        let last = positional.last().expect("len >= 2");
        let path = Path::new(last);
        let looks_like_requirements = last.ends_with(".txt") || last.ends_with(".in");
        if last.contains("://") || path.is_dir() || (!path.is_file() && !looks_like_requirements) {
            let files = positional[..positional.len() - 1]
                .iter()
                .map(PathBuf::from)
                .collect();
            return (files, last.clone());
        }
    }
    (
        positional.iter().map(PathBuf::from).collect(),
        "./wheelhouse".to_string(),
    )
}

/// A `--build-*` input that cannot be used: bad input, reported before any index is asked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BuildOptionError {
    #[error("--build-env `{pair}`: expected KEY=VALUE")]
    BuildEnv { pair: String },
    #[error(transparent)]
    Toolchains(crate::builder::ToolchainError),
    #[error(transparent)]
    ConstraintsUnreadable(crate::requirements::RequirementsError),
    /// A `--build-constraints` line that does not pin one version.
    #[error("{origin}: build constraints must pin one version with `==`, got `{text}`")]
    ConstraintNotPinned { origin: String, text: String },
}

fn builder_options(args: &FillArgs, cache: &Path) -> Result<BuilderOptions, BuildOptionError> {
    let mut options = BuilderOptions::new(cache);
    options.sandbox = sandbox_mode(args.sandbox);
    options.limits.timeout = Duration::from_secs(args.build_timeout.max(1));
    options.repair_command = args.repair_command.clone();
    options.keep_build_dir = args.keep_build_dirs;
    options.unpack.max_bytes = args.sdist_unpack_limit.saturating_mul(1 << 20);
    for pair in &args.build_env {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| BuildOptionError::BuildEnv { pair: pair.clone() })?;
        options.extra_env.push((key.to_string(), value.to_string()));
    }
    options.toolchains = Toolchains::new(&args.build_path, |key| std::env::var_os(key))
        .map_err(BuildOptionError::Toolchains)?;
    if let Some(path) = &args.build_constraints {
        options.build_constraints = build_constraints(path)?;
    }
    Ok(options)
}

pub(crate) fn sandbox_mode(arg: SandboxArg) -> SandboxMode {
    match arg {
        SandboxArg::Auto | SandboxArg::Required => SandboxMode::Auto,
        SandboxArg::Bwrap => SandboxMode::Bwrap,
        SandboxArg::Builtin => SandboxMode::Builtin,
        SandboxArg::Off => SandboxMode::Off,
    }
}

/// `--build-constraints`: a requirements file of `name==version` pins, optionally with
/// `--hash=sha256:...`, that fix the build requirements' versions and bytes.
fn build_constraints(path: &Path) -> Result<Vec<BuildConstraint>, BuildOptionError> {
    let lookup = |key: &str| std::env::var(key).ok();
    let parsed = crate::requirements::parse_files(&[path.to_path_buf()], &lookup)
        .map_err(BuildOptionError::ConstraintsUnreadable)?;
    parsed
        .requirements
        .iter()
        .map(|entry| {
            let version = match &entry.requirement.version_or_url {
                Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) => {
                    crate::version::pinned_version(specs)
                }
                _ => None,
            }
            .ok_or_else(|| BuildOptionError::ConstraintNotPinned {
                origin: entry.origin.to_string(),
                text: entry.text.clone(),
            })?;
            let sha256 = entry
                .hashes
                .iter()
                .filter(|h| h.algorithm == crate::requirements::HashAlgorithm::Sha256)
                .map(|h| h.hex.to_ascii_lowercase())
                .collect();
            Ok(BuildConstraint {
                name: entry.requirement.name.clone(),
                version,
                sha256,
            })
        })
        .collect()
}

/// Cores, but never more builds than fit in memory at the per-build address-space limit.
fn default_build_jobs() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let per_build = crate::builder::SandboxLimits::default()
        .address_space
        .max(1);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kib| kib * 1024);
    match memory {
        Some(bytes) => cores.min((bytes / per_build).max(1) as usize),
        None => cores,
    }
}

/// A borrowed variable's value (pip's, requests', devpi-builder's; see [`crate::settings`]).
fn borrowed(flag: &str) -> Option<String> {
    settings::row(flag)
        .borrowed_value(&ProcessEnvironment)
        .map(|found| found.value)
}

/// Credentials from flags, files and environment (devpi-builder's DEVPI_USER/DEVPI_PASSWORD
/// included). The password never comes back in any message.
fn credentials(common: &CommonArgs) -> Result<Option<(String, String)>, Failure> {
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

/// `~/.netrc` for a target URL that carries no user of its own (pip and requests do this).
fn netrc_credentials(target_spec: &str) -> Option<(String, String)> {
    let host = url::Url::parse(target_spec)
        .ok()
        .filter(|u| u.username().is_empty())
        .and_then(|u| u.host_str().map(String::from))?;
    crate::netrc::lookup(&host)
}

fn client_config(common: &CommonArgs) -> ClientConfig {
    let ca_bundle = common
        .ca_bundle
        .clone()
        .or_else(|| borrowed("ca-bundle").map(PathBuf::from));
    // pip's variable; pip has no separate key file (its PEM holds both).
    let client_cert = common
        .client_cert
        .clone()
        .or_else(|| borrowed("client-cert").map(PathBuf::from));
    ClientConfig {
        tls: TlsFiles {
            ca_bundle,
            client_cert,
            client_key: common.client_key.clone(),
        },
        retries: common.retries,
        read_timeout: Duration::from_secs(common.timeout.max(1)),
        host_concurrency: common.host_concurrency,
        verbose: common.verbose > 0,
        ..ClientConfig::default()
    }
}

fn upstream(
    common: &CommonArgs,
    requirements: &ParsedRequirements,
    packages: &PackageSettings,
) -> UpstreamSettings {
    let options = &requirements.options;
    let env = &ProcessEnvironment;
    let no_index =
        common.no_index || options.no_index || settings::row("no-index").borrowed_switch(env);
    let index_url = common
        .index_url
        .clone()
        .or_else(|| options.index_url.clone())
        .or_else(|| borrowed("index-url"));
    let mut extra_index_urls: Vec<String> = common.extra_index_url.clone();
    extra_index_urls.extend(options.extra_index_urls.iter().cloned());
    extra_index_urls.extend(settings::row("extra-index-url").borrowed_words(env));
    let mut find_links: Vec<String> = common.find_links.clone();
    find_links.extend(options.find_links.iter().cloned());
    find_links.extend(settings::row("find-links").borrowed_words(env));
    // clap checked the text (`cli::exclude_newer`), the configuration file's value too.
    let cooldown = common.exclude_newer.as_deref().and_then(|text| {
        let exclude_newer = text.parse::<crate::index::ExcludeNewer>().ok()?;
        let now = crate::timestamp::Timestamp::now();
        let mut cooldown = crate::index::Cooldown::new(exclude_newer, text, now);
        cooldown.allow_undated = common.allow_undated;
        cooldown.exempt = packages
            .cooldown_exemptions()
            .into_iter()
            .map(|e| (e.name, e.versions))
            .collect();
        Some(cooldown)
    });
    UpstreamSettings {
        no_index,
        index_url,
        extra_index_urls,
        find_links,
        cooldown,
    }
}

/// `--cache-dir`, else the user's cache directory (`$XDG_CACHE_HOME/wheelwright`).
pub(crate) fn cache_dir(flag: Option<&Path>) -> PathBuf {
    let dir = flag
        .map(Path::to_path_buf)
        .or_else(|| dirs::cache_dir().map(|d| d.join("wheelwright")))
        .unwrap_or_else(|| PathBuf::from(".wheelwright-cache"));
    // Absolute: build directories inside it are bound into the sandbox by path, and the
    // hooks run with another working directory.
    std::path::absolute(&dir).unwrap_or(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_positional_is_the_target_when_it_looks_like_one() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (files, target) = split_positional(&s(&["r.txt", "http://h/u/i"]), None);
        assert_eq!(
            (files, target.as_str()),
            (vec![PathBuf::from("r.txt")], "http://h/u/i")
        );
        let (files, target) = split_positional(&s(&["a.txt", "b.txt"]), None);
        assert_eq!((files.len(), target.as_str()), (2, "./wheelhouse"));
        let (files, target) = split_positional(&s(&["a.txt", "out-dir"]), None);
        assert_eq!((files.len(), target.as_str()), (1, "out-dir"));
        let (files, target) = split_positional(&s(&["a.txt", "b.txt"]), Some("x"));
        assert_eq!((files.len(), target.as_str()), (2, "x"));
    }
}
