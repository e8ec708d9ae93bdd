//! Command-line interface (clap). Every devpi-builder flag is accepted with its meaning, so
//! a job switches by changing the command name: `fill REQUIREMENTS INDEX` (positional),
//! `--batch`, `--user`, `--password` (and `DEVPI_USER`/`DEVPI_PASSWORD`), `--blacklist`,
//! `--pure-index`, `--junit-xml`, `--run-id`, `--dry-run`, `--client-cert`.
//!
//! Environment variables are not declared here but in the one settings table
//! (the `settings` module), which attaches them to this definition.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::plan::PresentIn;

/// `--exclude-newer`, checked where it is given and kept as written (for messages).
fn exclude_newer(text: &str) -> Result<String, crate::index::ExcludeNewerError> {
    text.parse::<crate::index::ExcludeNewer>()?;
    Ok(text.to_string())
}

#[derive(Debug, Parser)]
#[command(
    name = "wheelwright",
    version,
    about = "Keeps a Python package index filled with wheels for requirements files",
    long_about = "Keeps a Python package index (devpi, any index with the standard upload API, or a \
                  directory) filled with wheels: reads requirements files, checks what the target \
                  already has, fetches what upstream publishes and builds the rest.\n\n\
                  Exit codes: 0 everything requested is on the target (plan: the plan could be made); \
                  1 some jobs failed; 2 bad input or configuration, nothing changed; 3 the target or \
                  an upstream index could not be used."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Dry run: report what is present and what would be fetched or built. Never builds,
    /// never uploads, never writes to the target.
    Plan(PlanArgs),
    /// Make the target hold every requested wheel: fetch, build, upload.
    Fill(FillArgs),
    /// Settings from wheelwright.toml, the environment and flags.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Work with reports: `report merge` joins the reports of several shards; `report html`
    /// and `report markdown` render saved JSON reports.
    Report(ReportArgs),
    /// Write the man pages and shell completions into a directory (for packaging).
    #[command(hide = true)]
    GenerateAssets(GenerateAssetsArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Requirements files (pip's format: -r/-c includes, options, hashes, markers).
    #[arg(required = true, value_name = "REQUIREMENTS")]
    pub requirements: Vec<PathBuf>,
    /// The target: a devpi index URL (http://host/USER/INDEX), a simple index URL ending in
    /// /simple/ (with --upload-url for other servers), or a directory.
    #[arg(long, default_value = "./wheelhouse", value_name = "URL|DIR")]
    pub target: String,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct FillArgs {
    /// Requirements files, optionally followed by the target (devpi-builder's form:
    /// `fill requirements.txt http://host/user/index`).
    #[arg(required = true, value_name = "REQUIREMENTS... [TARGET]")]
    pub positional: Vec<String>,
    /// The target (instead of the last positional argument).
    #[arg(long, value_name = "URL|DIR")]
    pub target: Option<String>,
    /// Everything but the upload: fetch and build into the cache only; nothing on the
    /// server changes and no login is sent (devpi-builder's --dry-run).
    #[arg(long, visible_alias = "dry-run")]
    pub no_upload: bool,
    /// With `--deps`: leave out the wheels of the build requirements used for this run's
    /// builds (by default they go to the target too, so pip can build the sdists from the
    /// target alone with build isolation on).
    #[arg(long)]
    pub no_build_deps: bool,
    /// Write a JUnit XML report (one test case per job) for Jenkins.
    #[arg(long, value_name = "FILE")]
    pub junit_xml: Option<PathBuf>,
    /// Write one SPDX 2.3 JSON document per wheel built (`<wheel>.spdx.json`) into DIR.
    #[arg(long, value_name = "DIR")]
    pub sbom: Option<PathBuf>,
    /// Suffix for JUnit test names, so runs for several platforms can be merged.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Upload URL of a non-devpi target, when it differs from the simple URL's parent.
    #[arg(long, value_name = "URL")]
    pub upload_url: Option<String>,
    /// Parallel builds (default: number of cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Build isolation, chosen once at start: `auto` uses bubblewrap when it works, else the
    /// built-in Landlock + seccomp layer, else refuses to build (exit 2; jobs that need no
    /// build still run); `bwrap` or `builtin` forces a layer; `required` is the old name of
    /// `auto`; `off` builds without isolation (limits only).
    #[arg(long, value_enum, default_value = "auto")]
    pub sandbox: SandboxArg,
    /// Wall-clock limit per build hook, in seconds; the whole process group is killed.
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    pub build_timeout: u64,
    /// Run after each build, before validation (cibuildwheel's convention), e.g.
    /// 'auditwheel repair {wheel} -w {dest_dir}'.
    #[arg(long, value_name = "COMMAND")]
    pub repair_command: Option<String>,
    /// Pins (with --hash) for build requirements, like `uv build --build-constraint`.
    #[arg(long, value_name = "FILE")]
    pub build_constraints: Option<PathBuf>,
    /// Extra environment variable for builds (repeatable); nothing else of the caller's
    /// environment reaches a build.
    #[arg(long, value_name = "KEY=VALUE")]
    pub build_env: Vec<String>,
    /// A toolchain directory (repeatable), e.g. `~/.cargo/bin` for rustup's cargo and rustc:
    /// bound read-only inside the sandbox and put on the build's PATH ahead of /usr/bin.
    /// Only that directory is visible, never its parent; one holding a credential file is
    /// refused.
    #[arg(long, value_name = "DIR")]
    pub build_path: Vec<PathBuf>,
    /// Build again what failed on an earlier run (known failures are skipped otherwise).
    #[arg(long)]
    pub retry_failed: bool,
    /// How long a recorded build failure is trusted, in days.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub failure_ttl: u64,
    /// Refuse sdists that unpack to more than this many MiB (tar bombs).
    #[arg(long, default_value_t = 2048, value_name = "MIB")]
    pub sdist_unpack_limit: u64,
    /// Keep build directories for debugging (in the cache; with `--sandbox off` in
    /// `$TMPDIR/wheelwright-build-<uid>`, until the next build of the same sdist).
    #[arg(long)]
    pub keep_build_dirs: bool,
    /// Uploads and downloads at once per host.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub transfer_concurrency: usize,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the settings `fill` (or `plan`) would run with, where each comes from (flag,
    /// environment, file, default); passwords masked. Extra arguments are taken as flags.
    Show {
        /// `fill` or `plan`.
        #[arg(value_parser = ["fill", "plan"], default_value = "fill")]
        command: String,
        /// Flags to include, as on the command line.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxArg {
    Auto,
    Bwrap,
    Builtin,
    Required,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Versions {
    /// The newest version a range allows.
    Newest,
    /// Every version a range allows (backfills).
    All,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Cut off and fail any download longer than this (bytes, or with a K, M, G or T
    /// suffix, powers of 1024: `500M`, `20G`). A listed PEP 700 size or a Content-Length
    /// is a tighter limit for its file.
    #[arg(long, default_value = "20G", value_name = "SIZE", value_parser = crate::store::parse_size)]
    pub max_download_size: u64,
    /// Settings file (default: ./wheelwright.toml when it exists; WHEELWRIGHT_CONFIG too).
    /// Flags beat environment variables, which beat the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Target interpreter (repeatable): markers and wheel tags are evaluated for each.
    #[arg(long = "python", value_name = "PATH", default_value = "python3")]
    pub pythons: Vec<PathBuf>,
    /// Upstream index (replaces pip's variable and any -i in the requirements files).
    #[arg(long, short = 'i', value_name = "URL")]
    pub index_url: Option<String>,
    /// Further upstream indexes (repeatable; pip's variable adds to them).
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,
    /// A directory or page of dists used as upstream (repeatable; pip's variable adds to them).
    #[arg(long, short = 'f', value_name = "DIR|URL")]
    pub find_links: Vec<String>,
    /// Ignore index URLs (from flags, files and environment); use only --find-links.
    #[arg(long)]
    pub no_index: bool,
    /// Consider pre-releases for every requirement.
    #[arg(long)]
    pub pre: bool,
    /// Which versions a range resolves to.
    #[arg(long, value_enum, default_value = "newest")]
    pub versions: Versions,
    /// Whether wheels inherited from devpi bases count as present.
    #[arg(long, value_enum, default_value = "inherited")]
    pub present_in: PresentIn,
    /// Requirements-style file of projects (and versions) never to touch.
    #[arg(long, alias = "blacklist", value_name = "FILE")]
    pub exclude: Vec<PathBuf>,
    /// Release-age cooldown: upstream versions with a file uploaded after DATE (RFC 3339, or
    /// a day), or younger than DURATION (`7 days`, `48 hours`, `2 weeks`, `P7D`), are not
    /// used, for ranges, pins, `--deps` and build requirements alike. Files whose index
    /// gives no upload time (PEP 700) are not used either.
    #[arg(long, value_name = "DATE|DURATION", value_parser = exclude_newer)]
    pub exclude_newer: Option<String>,
    /// Under `--exclude-newer`, use the files whose index gives no upload time (a local
    /// find-links directory, pypiserver) instead of refusing them.
    #[arg(long)]
    pub allow_undated: bool,
    /// devpi index for pure (py3-none-any) wheels; presence is checked on both indexes.
    #[arg(long, value_name = "URL")]
    pub pure_index: Option<String>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write the HTML report into DIR: `index.html` and its stylesheet, self-contained, for
    /// Jenkins' HTML Publisher (renders under its default Content-Security-Policy).
    #[arg(long, value_name = "DIR")]
    pub report_html: Option<PathBuf>,
    /// Write a short Markdown summary (for `$GITHUB_STEP_SUMMARY` or a GitLab note).
    #[arg(long, value_name = "FILE")]
    pub report_markdown: Option<PathBuf>,
    /// An earlier run's JSON report: the HTML and Markdown reports show what changed since
    /// (read before this run writes anything, so it may be the `--report-json` file).
    #[arg(long, value_name = "OLD.json")]
    pub previous: Option<PathBuf>,
    /// Write a pip requirements file of the runtime set with `--hash=sha256:` for the files
    /// the target serves (`pip install --require-hashes --no-deps -r FILE`). `plan` marks the
    /// build jobs whose hash only a fill knows. A FILE named `pylock.toml` or
    /// `pylock.NAME.toml` gets the PEP 751 format, with the target's URLs.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// User for the target (devpi login or HTTP basic).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Password or token. Prefer --password-file or a variable (below):
    /// arguments are visible to every user of the machine.
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
    /// Read the password or token from this file (first line).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// PEM bundle of extra CA certificates.
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// PEM file with the client certificate (and any intermediates) for mutual TLS, and its
    /// private key unless --client-key is given. X.509 v1 or v3;
    /// PKCS#8, PKCS#1 or SEC1 keys; blocks in any order.
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// PEM file with the private key of --client-cert, when it is not in that file.
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// Retries of transient network failures (connection errors, timeouts, HTTP 408, 429,
    /// 500, 502, 503, 504) per read, download or upload.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub retries: u32,
    /// Seconds without progress before a request counts as failed (and is retried).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    /// Treat an upload that would hide a devpi mirror's releases (a project missing from
    /// the target's mirror_whitelist) as an error instead of a warning.
    #[arg(long)]
    pub strict_whitelist: bool,
    /// Plan only this share of the projects (K from 0 to N-1, by a stable hash of the
    /// name): N copies with 0/N .. N-1/N split a list with no coordination.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::plan::Shard>,
    /// Also plan (and fill) the dependency closure: `together` (the default) solves each
    /// requirements file as one environment, as `pip install -r FILE`; `per-line` solves
    /// each line alone and fills the union. Per target interpreter.
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, default_missing_value = "together")]
    pub deps: Option<crate::deps::DepsMode>,
    /// Projects asked about at once (their target, pure-index and upstream pages).
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub index_concurrency: usize,
    /// Index requests at once per server: the bound of each server's limit, which is
    /// lowered while the server answers slowly or with 429/503 and raised again as it
    /// recovers (`-v` prints each change).
    #[arg(long, default_value_t = crate::index::http::DEFAULT_HOST_CONCURRENCY, value_name = "N", value_parser = at_least_one)]
    pub host_concurrency: usize,
    /// Cache directory (downloads, builds, logs).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Never prompt (devpi-builder's flag; wheelwright never prompts without a terminal either).
    #[arg(long)]
    pub batch: bool,
    /// Less output.
    #[arg(long, short = 'q', action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// More output.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Join the JSON reports and JUnit XML files that the shards of one run
    /// (`--shard K/N`) wrote into one JSON report and one JUnit XML file.
    #[command(after_help = "Example (the merge stage of a sharded Jenkins job):\n  \
        wheelwright report merge --report-json fill.json --junit-xml junit.xml \\\n      \
        shard-*.json shard-*.xml\n\n\
        Each input's kind is read from its content, not its name. JSON: every input must be \
        a schema-1 report of the same command (plan or fill) and target; jobs are sorted by \
        project, version and interpreter, the summary is recomputed, `unsupported` lines \
        are deduplicated and `stopped` reasons joined. JUnit: suites of the same name are \
        joined into one, the counters recomputed; other tools' elements and attributes are \
        kept. A file given twice counts once.\n\n\
        Exit codes: 0 merged (whatever the jobs' outcomes: publish the JUnit report to \
        judge those); 2 an input is unreadable, not a report, or the reports do not belong \
        together; nothing is written then.")]
    Merge(MergeArgs),
    /// Write the HTML report (`index.html` and `report.css`) from saved JSON reports; the
    /// reports of a run's shards give one page.
    #[command(
        after_help = "Example (after `report merge`, or straight from the shards):\n  \
        wheelwright report html shard-*.json --previous last-night.json -o html-report\n\n\
        The page renders under Jenkins' HTML Publisher default Content-Security-Policy: no \
        script, no inline style, nothing fetched.\n\n\
        Exit codes: 0 written; 2 an input is unreadable or not a JSON report, or the reports \
        do not belong together."
    )]
    Html(RenderArgs),
    /// Write the Markdown summary (for `$GITHUB_STEP_SUMMARY`) from saved JSON reports.
    Markdown(RenderArgs),
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// JSON reports (`--report-json` of plan or fill); several are merged as by `report
    /// merge`.
    #[arg(required = true, value_name = "REPORT.json")]
    pub inputs: Vec<PathBuf>,
    /// An earlier run's JSON report, for the changes since.
    #[arg(long, value_name = "OLD.json")]
    pub previous: Option<PathBuf>,
    /// `report html`: the directory to write into; `report markdown`: the file.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports to merge: JSON reports (`--report-json` of plan or fill) and/or JUnit XML
    /// files (`--junit-xml`), in any order.
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// Write the merged JSON report here (required when an input is a JSON report).
    #[arg(long, visible_alias = "json", value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write the merged JUnit XML here (required when an input is JUnit XML).
    #[arg(long, visible_alias = "junit", value_name = "FILE")]
    pub junit_xml: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateAssetsArgs {
    /// Output directory: `man/*.1` and `completions/{wheelwright.bash,_wheelwright,wheelwright.fish}`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Why a count flag's value was refused.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    #[error("must be at least 1")]
    Zero,
    #[error(transparent)]
    NotANumber(#[from] std::num::ParseIntError),
}

/// A count that must be at least one (a bound of zero would stop every request).
fn at_least_one(text: &str) -> Result<usize, CountError> {
    match text.parse::<usize>()? {
        0 => Err(CountError::Zero),
        n => Ok(n),
    }
}
