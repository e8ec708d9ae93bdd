//! `wheelwright fill`: plan, then fetch, (build,) and upload until the target holds every
//! requested wheel. Reports are written even when the run stops halfway.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use futures::TryStreamExt;

use crate::builder::SandboxMode;
use crate::cli::FillArgs;
use crate::exit::{self, Failure};
use crate::metadata::NoBuilder;
use crate::package_settings::PackageSettings;
use crate::pipeline::{Pipeline, PipelineParts, PipelineSettings};
use crate::plan::WrittenLines;
use crate::publish::{Session, SessionParts};
use crate::report::{self, JobResult, Outcome, Progress};
use crate::setup::{FillSettings, Login, Services};
use crate::stop::{Signal, Stop, StopReason};

/// `packages`: the `[package.NAME]` tables of `wheelwright.toml` (per-package build settings).
pub async fn run(args: FillArgs, packages: &PackageSettings) -> Result<ExitCode, Failure> {
    let started = SystemTime::now();
    let settings = FillSettings::for_fill(&args, packages).await?;
    let common = &settings.common;
    let services = Services::connect(common, Login::BeforeFirstUpload).await?;
    // A directory target filled by an earlier version may hold 0600 wheels that a web server
    // cannot read; widen those once (present wheels are never placed again).
    if let crate::index::Target::Directory { path, .. } = &services.target
        && !settings.no_upload
    {
        crate::publish::directory::widen_legacy_modes(path).map_err(Failure::input)?;
    }
    crate::builder::Sandbox::warm_up(settings.builder.sandbox);
    // One builder for the run, set up when first needed: a dependency published only as an
    // sdist gets its metadata from it, and the builds run in it.
    let builder = std::sync::OnceLock::new();
    let shared_builder = || {
        builder
            .get_or_init(|| {
                services
                    .builder(&settings.builder)
                    .map(Arc::new)
                    .map_err(Arc::new)
            })
            .clone()
    };
    let closure = crate::deps::for_run(
        services.deps_inputs(common, packages, settings.failures),
        || shared_builder().map_err(NoBuilder::NoSandbox),
    )
    .await?;
    if let Some(closure) = &closure
        && common.verbose
    {
        closure.print_resolution();
    }
    // `--deps`: the closure's pinned lines are the run's lines.
    let requirements = closure
        .as_ref()
        .map_or(&common.requirements, |c| &c.requirements);
    let stop = Arc::new(Stop::default());
    watch_signals(Arc::clone(&stop));

    let listings = services.listing_cache(common);
    let planner = services.planner(
        common,
        listings.as_ref(),
        packages,
        closure.as_ref().map(|c| c as &dyn WrittenLines),
    );
    let unsupported = crate::plan::unsupported_lines(requirements);
    for line in &unsupported {
        eprintln!(
            "warning: {}: `{}`: {}",
            line.origin, line.requirement, line.reason
        );
    }
    // The sandbox layer is chosen at start (the probes run in the background); when no layer
    // works, builds are refused (their jobs fail, exit 2) while the jobs that need no build
    // still run.
    if settings.builder.sandbox == SandboxMode::Off {
        eprintln!(
            "warning: --sandbox off: builds run without isolation (network, files and \
             processes open; only the limits apply)"
        );
    }
    let progress = Progress::new(0, common.quiet);
    let hosts = Arc::new(crate::host_slots::HostSlots::new(
        settings.transfer_concurrency,
    ));
    let session = Session::new(SessionParts {
        client: &services.client,
        target: &services.target,
        pure_index: services.pure_index.as_ref(),
        credentials: common.credentials.as_ref(),
        strict_whitelist: common.strict_whitelist,
        slots: Arc::clone(&hosts),
        stop: Arc::clone(&stop),
        progress: &progress,
    });
    let pipeline = Pipeline::new(PipelineParts {
        make_builder: Box::new(shared_builder),
        build_jobs: settings.build_jobs,
        packages,
        hosts,
        failures: crate::pipeline::FailureMemory {
            dir: common.cache.join("failures"),
            ttl: settings.failures.ttl,
            retry: settings.failures.retry,
        },
        build_times: crate::pipeline::BuildTimes {
            dir: common.cache.join("build-times"),
        },
        requirements,
        client: &services.client,
        store: services.store.clone(),
        settings: PipelineSettings {
            no_upload: settings.no_upload,
            verbose: common.verbose,
            transfer_concurrency: settings.transfer_concurrency,
        },
        stop: Arc::clone(&stop),
        progress: &progress,
        session,
    });
    let outcome = pipeline
        .run(
            planner
                .batches(requirements, &common.exclusions)
                .map_ok(|slots| match &closure {
                    Some(closure) => closure.adjust_slots(slots),
                    None => slots,
                }),
        )
        .await;
    // `--deps`: pip builds the closure's sdists from the target with build isolation, so
    // the build requirements this run's builds used go there too (unless --no-build-deps).
    let build_requirements_failed = if closure.is_some() && !settings.no_build_deps {
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
    // The reports say how the run ended, so the exit code is chosen first.
    let run = report::RunInfo {
        started,
        finished: SystemTime::now(),
        exit_code: code,
        build_slots: Some(pipeline.build_slots()),
    };
    write_reports(
        &settings,
        &services,
        &outcome.results,
        &unsupported,
        stopped.as_ref().map(ToString::to_string).as_deref(),
        closure.as_ref(),
        &run,
    )?;
    if let Some(path) = &common.lock {
        let input = report::lock_input::from_results(&outcome.results);
        super::plan::write_lock(path, "fill", common, &services, &input).await?;
    }
    print!("{}", report::fill_summary(&outcome.results));
    Ok(ExitCode::from(code))
}

fn write_reports(
    settings: &FillSettings,
    services: &Services,
    results: &[JobResult],
    unsupported: &[crate::plan::UnsupportedLine],
    stopped: Option<&str>,
    closure: Option<&crate::deps::Closure>,
    run: &report::RunInfo,
) -> Result<(), Failure> {
    let target = services.target.describe();
    let mut json = report::fill_json(&target, results, unsupported, stopped, run);
    // Projects upstream marks archived or deprecated (PEP 792), once each.
    let warnings = services.upstream.status_warnings();
    if !warnings.is_empty() {
        json["warnings"] = serde_json::json!(warnings);
    }
    if let Some(closure) = closure {
        json["summary"]["resolution"] = closure.resolution_json();
    }
    let common = &settings.common;
    // `--exclude-newer`: the cut-off the run held upstream to.
    if let Some(cooldown) = &common.upstream.cooldown {
        json["cooldown"] = cooldown.report_json();
    }
    if let Some(path) = &common.report_json {
        report::write_json_atomically(path, &json).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JSON report {}: {e}",
                path.display()
            ))
        })?;
    }
    report::pages::write(&json, common.previous.as_ref(), common.pages())
        .map_err(Failure::input)?;
    if let Some(path) = &settings.junit_xml {
        report::junit::write(path, results, settings.run_id.as_deref()).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JUnit report {}: {e}",
                path.display()
            ))
        })?;
    }
    if let Some(dir) = &settings.sbom {
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
