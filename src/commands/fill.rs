//! `wheelwright fill`: plan, then fetch, (build,) and upload until the target holds every
//! requested wheel. Reports are written even when the run stops halfway.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::cli::FillArgs;
use crate::exit::{self, Failure};
use crate::pipeline::{FillSettings, Pipeline, STOP_NONE, STOP_SIGINT, STOP_SIGTERM};
use crate::plan::Planner;
use crate::report::{self, JobResult};
use crate::setup;
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

pub fn cache_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| dirs::cache_dir().map(|d| d.join("wheelwright")))
        .unwrap_or_else(|| PathBuf::from(".wheelwright-cache"))
}

pub async fn run(args: FillArgs) -> Result<ExitCode, Failure> {
    let (requirements, target_spec) = split_positional(&args.positional, args.target.as_deref());
    let ctx = setup::context(
        &requirements,
        &target_spec,
        args.upload_url.as_deref(),
        &args.common,
    )
    .await?;
    let cache = cache_dir(args.common.cache_dir.as_deref());
    std::fs::create_dir_all(&cache).map_err(|e| {
        Failure::input(anyhow::anyhow!(
            "cannot create the cache directory {}: {e}",
            cache.display()
        ))
    })?;

    let stop = Arc::new(AtomicU8::new(STOP_NONE));
    watch_signals(stop.clone());

    let planner = Planner {
        client: &ctx.client,
        target: &ctx.target,
        pure_index: ctx.pure_index.as_ref(),
        upstream: &ctx.upstream,
        interpreters: &ctx.interpreters,
        policy: &ctx.policy,
        concurrency: ctx.concurrency,
    };
    let plan = planner.plan(&ctx.requirements, &ctx.exclusions).await?;
    for line in &plan.unsupported {
        eprintln!(
            "warning: {}: `{}`: {}",
            line.origin, line.requirement, line.reason
        );
    }
    let pipeline = Pipeline {
        ctx: &ctx,
        store: Store::new(&cache),
        settings: FillSettings {
            no_upload: args.no_upload,
            transfer_concurrency: args.transfer_concurrency,
            retries: args.common.retries,
            quiet: args.common.quiet > 0,
        },
        stop: stop.clone(),
    };
    let outcome = pipeline.run(&plan).await;
    let stopped = match stop.load(Ordering::SeqCst) {
        STOP_SIGINT => Some("interrupted (SIGINT)".to_string()),
        STOP_SIGTERM => Some("interrupted (SIGTERM)".to_string()),
        _ => outcome.target_failure.clone(),
    };
    write_reports(
        &args,
        &plan.target,
        &outcome.results,
        &plan.unsupported,
        stopped.as_deref(),
    )?;
    print!("{}", report::fill_summary(&outcome.results));
    let code = match stop.load(Ordering::SeqCst) {
        STOP_SIGINT => exit::INTERRUPTED_SIGINT,
        STOP_SIGTERM => exit::INTERRUPTED_SIGTERM,
        _ if outcome.target_failure.is_some() => {
            eprintln!(
                "error: the target became unusable: {}",
                outcome.target_failure.as_deref().unwrap_or_default()
            );
            exit::INDEX_UNUSABLE
        }
        _ if outcome.results.iter().all(|r| r.outcome.is_ok()) => 0,
        _ => exit::JOBS_FAILED,
    };
    Ok(ExitCode::from(code))
}

fn write_reports(
    args: &FillArgs,
    target: &str,
    results: &[JobResult],
    unsupported: &[crate::plan::UnsupportedLine],
    stopped: Option<&str>,
) -> Result<(), Failure> {
    if let Some(path) = &args.common.report_json {
        report::write_json_atomically(
            path,
            &report::fill_json(target, results, unsupported, stopped),
        )
        .map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JSON report {}: {e}",
                path.display()
            ))
        })?;
    }
    if let Some(path) = &args.junit_xml {
        report::junit::write(path, results, args.run_id.as_deref()).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JUnit report {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}

/// Ctrl-C and SIGTERM stop the launching of new work; transfers in flight finish, the
/// reports are written, and the exit code says which signal it was (130/143).
fn watch_signals(stop: Arc<AtomicU8>) {
    let on_int = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_int.store(STOP_SIGINT, Ordering::SeqCst);
            eprintln!("interrupted: finishing transfers in flight, then writing the reports");
        }
    });
    tokio::spawn(async move {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            && term.recv().await.is_some()
        {
            stop.store(STOP_SIGTERM, Ordering::SeqCst);
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
