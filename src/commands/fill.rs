//! `wheelwright fill`: plan, then fetch, (build,) and upload until the target holds every
//! requested wheel. Reports are written even when the run stops halfway.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use std::time::{Duration, SystemTime};

use futures::TryStreamExt;

use crate::builder::{BuildConstraint, Builder, BuilderOptions, SandboxMode, Toolchains};
use crate::cli::{FillArgs, SandboxArg};
use crate::exit::{self, Failure};
use crate::package_settings::PackageSettings;
use crate::pipeline::UpstreamWheels;
use crate::pipeline::{BuilderSetupError, FillSettings, Pipeline, PipelineParts};
use crate::publish::{Session, SessionParts};
use crate::report::{self, JobResult, Outcome, Progress};
use crate::setup;
use crate::stop::{Signal, Stop, StopReason};
use crate::store::Store;

/// devpi-builder's form `fill requirements.txt http://host/user/index`: without `--target`,
/// a last positional argument that is a URL, an existing directory, or a path that is
/// neither an existing file nor named like a requirements file (`.txt`, `.in`) is the target.
pub fn split_positional(positional: &[String], target: Option<&str>) -> (Vec<PathBuf>, String) {
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

/// `packages`: the `[package.NAME]` tables of `wheelwright.toml` (per-package build settings).
pub async fn run(args: FillArgs, packages: &PackageSettings) -> Result<ExitCode, Failure> {
    let started = SystemTime::now();
    // Read first: it may be the file `--report-json` overwrites at the end.
    let previous =
        report::pages::load_previous(args.common.previous.as_deref()).map_err(Failure::input)?;
    let (requirements, target_spec) = split_positional(&args.positional, args.target.as_deref());
    let mut ctx = setup::context(
        &requirements,
        &target_spec,
        args.upload_url.as_deref(),
        &args.common,
        setup::Login::BeforeFirstUpload,
    )
    .await?;
    // A directory target filled by an earlier version may hold 0600 wheels that a web server
    // cannot read; widen those once (present wheels are never placed again).
    if let crate::index::Target::Directory { path, .. } = &ctx.target
        && !args.no_upload
    {
        crate::publish::directory::widen_legacy_modes(path).map_err(Failure::input)?;
    }
    let cache = setup::cache_dir(args.common.cache_dir.as_deref());
    std::fs::create_dir_all(&cache).map_err(|e| {
        Failure::input(anyhow::anyhow!(
            "cannot create the cache directory {}: {e}",
            cache.display()
        ))
    })?;

    let mode = sandbox_mode(args.sandbox);
    crate::builder::Sandbox::warm_up(mode);
    // A dependency published only as an sdist gets its metadata from the fill's own builder.
    let closure = crate::deps::for_run(
        &mut ctx,
        &requirements,
        &cache,
        args.common.max_download_size,
        args.common.deps,
        packages,
        crate::metadata::FailurePolicy {
            ttl: Duration::from_secs(args.failure_ttl.saturating_mul(86_400)),
            retry: args.retry_failed,
        },
        |ctx| {
            make_builder(&args, ctx, &cache)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        },
    )
    .await?;
    if let Some(closure) = &closure
        && args.common.verbose > 0
    {
        closure.print_resolution();
    }
    let stop = Arc::new(Stop::default());
    watch_signals(Arc::clone(&stop));

    let listings = ctx.listing_cache(&cache);
    // The planner reads METADATA of remote files that list no Requires-Python: the same
    // size limits as any download (an endless body must not be read to the end).
    let metadata_store = Store::new(&cache).with_max_download_size(args.common.max_download_size);
    let planner = ctx.planner(
        listings.as_ref(),
        args.common.shard,
        Some(&metadata_store),
        packages,
        closure.as_ref(),
    );
    let unsupported = crate::plan::unsupported_lines(&ctx.requirements);
    for line in &unsupported {
        eprintln!(
            "warning: {}: `{}`: {}",
            line.origin, line.requirement, line.reason
        );
    }
    // A bad --build-path is bad input whether or not anything needs building.
    Toolchains::new(&args.build_path, |key| std::env::var_os(key)).map_err(Failure::input)?;
    // The sandbox layer is chosen at start (the probes run in the background); when no layer
    // works, builds are refused (their jobs fail, exit 2) while the jobs that need no build
    // still run.
    if mode == SandboxMode::Off {
        eprintln!(
            "warning: --sandbox off: builds run without isolation (network, files and \
             processes open; only the limits apply)"
        );
    }
    let build_jobs = args.jobs.unwrap_or_else(default_build_jobs).max(1);
    let progress = Progress::new(0, args.common.quiet > 0);
    let hosts = Arc::new(crate::host_slots::HostSlots::new(args.transfer_concurrency));
    let session = Session::new(SessionParts {
        client: &ctx.client,
        target: &ctx.target,
        pure_index: ctx.pure_index.as_ref(),
        credentials: ctx.credentials.as_ref(),
        strict_whitelist: args.common.strict_whitelist,
        slots: Arc::clone(&hosts),
        stop: Arc::clone(&stop),
        progress: &progress,
    });
    let pipeline = Pipeline::new(PipelineParts {
        make_builder: Box::new(|| make_builder(&args, &ctx, &cache)),
        build_jobs,
        packages,
        hosts,
        failures: crate::pipeline::FailureMemory {
            dir: cache.join("failures"),
            ttl: Duration::from_secs(args.failure_ttl.saturating_mul(86_400)),
            retry: args.retry_failed,
        },
        build_times: crate::pipeline::BuildTimes {
            dir: cache.join("build-times"),
        },
        ctx: &ctx,
        store: Store::new(&cache).with_max_download_size(args.common.max_download_size),
        settings: FillSettings {
            no_upload: args.no_upload,
            verbose: args.common.verbose > 0,
            transfer_concurrency: args.transfer_concurrency,
        },
        stop: Arc::clone(&stop),
        progress: &progress,
        session,
    });
    let outcome =
        pipeline
            .run(planner.batches(&ctx.requirements, &ctx.exclusions).map_ok(
                |slots| match &closure {
                    Some(closure) => closure.adjust_slots(slots),
                    None => slots,
                },
            ))
            .await;
    // `--deps`: pip builds the closure's sdists from the target with build isolation, so
    // the build requirements this run's builds used go there too (unless --no-build-deps).
    let build_requirements_failed = if closure.is_some() && !args.no_build_deps {
        !pipeline
            .publish_build_requirements(&outcome.results)
            .await
            .is_empty()
    } else {
        false
    };
    // A directory target's root page, once per run.
    let root_page_failed = match pipeline.finish_publishing().await {
        Ok(()) => false,
        Err(error) => {
            eprintln!("error: {error}");
            true
        }
    };
    if let Some(listings) = &listings {
        let changed = outcome
            .results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Uploaded | Outcome::Built));
        if changed || stop.target_failed() {
            listings.discard();
        } else {
            listings.save();
        }
    }
    let stopped = stop.reason();
    let code = match &stopped {
        Some(StopReason::Interrupted(signal)) => signal.exit_code(),
        Some(StopReason::TargetUnusable(why)) => {
            eprintln!("error: the run stopped: {why}");
            exit::INDEX_UNUSABLE
        }
        // A build was needed and could not be set up (no sandbox layer, a bad build option):
        // a configuration error, whatever else the run did.
        None if let Some(refused) = pipeline.builder_refusal() => {
            eprintln!("error: {refused}");
            exit::BAD_INPUT
        }
        None if outcome.results.iter().all(|r| r.outcome.is_ok())
            && !build_requirements_failed
            && !root_page_failed =>
        {
            0
        }
        None => exit::JOBS_FAILED,
    };
    let run = report::RunInfo {
        started,
        finished: SystemTime::now(),
        exit_code: code,
        build_slots: Some(pipeline.build_slots()),
    };
    write_reports(
        &args,
        &ctx.target.describe(),
        &outcome.results,
        &unsupported,
        stopped.as_ref().map(ToString::to_string).as_deref(),
        closure.as_ref(),
        &run,
        previous.as_ref(),
    )?;
    if let Some(path) = &args.common.lock {
        let input = report::lock_input::from_results(&outcome.results);
        super::plan::write_lock(path, "fill", &ctx, &input)?;
    }
    print!("{}", report::fill_summary(&outcome.results));
    Ok(ExitCode::from(code))
}

fn sandbox_mode(arg: SandboxArg) -> SandboxMode {
    match arg {
        SandboxArg::Auto | SandboxArg::Required => SandboxMode::Auto,
        SandboxArg::Bwrap => SandboxMode::Bwrap,
        SandboxArg::Builtin => SandboxMode::Builtin,
        SandboxArg::Off => SandboxMode::Off,
    }
}

/// The builder, with the build requirements coming from the same upstream and store.
fn make_builder(
    args: &FillArgs,
    ctx: &setup::Context,
    cache: &Path,
) -> Result<Builder, BuilderSetupError> {
    let mut options = BuilderOptions::new(cache);
    options.sandbox = sandbox_mode(args.sandbox);
    options.limits.timeout = Duration::from_secs(args.build_timeout.max(1));
    options.repair_command = args.repair_command.clone();
    options.keep_build_dir = args.keep_build_dirs;
    options.unpack.max_bytes = args.sdist_unpack_limit.saturating_mul(1 << 20);
    for pair in &args.build_env {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| BuilderSetupError::BuildEnv { pair: pair.clone() })?;
        options.extra_env.push((key.to_string(), value.to_string()));
    }
    options.toolchains = Toolchains::new(&args.build_path, |key| std::env::var_os(key))
        .map_err(BuilderSetupError::Toolchains)?;
    if let Some(path) = &args.build_constraints {
        options.build_constraints = build_constraints(path)?;
    }
    let source = UpstreamWheels {
        client: ctx.client.clone(),
        upstream: Arc::clone(&ctx.upstream),
        store: Store::new(cache).with_max_download_size(args.common.max_download_size),
    };
    Builder::new(options, Arc::new(source)).map_err(BuilderSetupError::Sandbox)
}

/// `--build-constraints`: a requirements file of `name==version` pins, optionally with
/// `--hash=sha256:...`, that fix the build requirements' versions and bytes.
fn build_constraints(path: &Path) -> Result<Vec<BuildConstraint>, BuilderSetupError> {
    let lookup = |key: &str| std::env::var(key).ok();
    let parsed = crate::requirements::parse_files(&[path.to_path_buf()], &lookup)
        .map_err(BuilderSetupError::ConstraintsUnreadable)?;
    parsed
        .requirements
        .iter()
        .map(|entry| {
            let version = match &entry.requirement.version_or_url {
                Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) => {
                    crate::plan::pinned_version(specs)
                }
                _ => None,
            }
            .ok_or_else(|| BuilderSetupError::ConstraintNotPinned {
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

#[allow(clippy::too_many_arguments)]
fn write_reports(
    args: &FillArgs,
    target: &str,
    results: &[JobResult],
    unsupported: &[crate::plan::UnsupportedLine],
    stopped: Option<&str>,
    closure: Option<&crate::deps::Closure>,
    run: &report::RunInfo,
    previous: Option<&report::view::ReportView>,
) -> Result<(), Failure> {
    let mut json = report::fill_json(target, results, unsupported, stopped, run);
    if let Some(closure) = closure {
        json["summary"]["resolution"] = closure.resolution_json();
    }
    if let Some(path) = &args.common.report_json {
        report::write_json_atomically(path, &json).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JSON report {}: {e}",
                path.display()
            ))
        })?;
    }
    report::pages::write(&json, previous, report::pages::Outputs::of(&args.common))
        .map_err(Failure::input)?;
    if let Some(path) = &args.junit_xml {
        report::junit::write(path, results, args.run_id.as_deref()).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JUnit report {}: {e}",
                path.display()
            ))
        })?;
    }
    if let Some(dir) = &args.sbom {
        report::sbom::write_sboms(dir, results)
            .map_err(|e| Failure::input(anyhow::Error::new(e)))?;
    }
    Ok(())
}

/// The first Ctrl-C, SIGTERM or SIGHUP stops the launching of new work and kills running
/// builds; transfers in flight finish, the reports are written, and the exit code says which
/// signal it was (129/130/143). A second one stops at once, as nextest does: the user who
/// presses Ctrl-C twice does not want to wait for an upload (build processes die with
/// wheelwright: bwrap's `--die-with-parent`, the built-in layer's parent-death signal).
fn watch_signals(stop: Arc<Stop>) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut hangup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        let mut first = true;
        loop {
            let received = tokio::select! {
                Ok(()) = tokio::signal::ctrl_c() => Signal::Interrupt,
                Some(()) = term.recv() => Signal::Terminate,
                Some(()) = hangup.recv() => Signal::Hangup,
                else => return,
            };
            if !first {
                eprintln!("{received} again: stopping at once, without the reports");
                std::process::exit(received.exit_code().into());
            }
            first = false;
            stop.interrupted(received);
            eprintln!(
                "{received}: finishing transfers in flight, then writing the reports \
                 (a second signal stops at once)"
            );
        }
    });
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
