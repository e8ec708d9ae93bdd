//! `wheelwright plan`: the dry run. Reads, asks the indexes, prints; writes nothing to the target.

use std::process::ExitCode;

use crate::cli::PlanArgs;
use crate::exit::Failure;
use std::collections::BTreeSet;

use crate::index::Target;
use crate::package_settings::PackageSettings;
use crate::plan::{Action, Plan};
use crate::policy::{Refusal, Shadowing, TargetPolicy};
use crate::report;
use crate::setup;

/// `packages`: the `[package.NAME]` tables of `wheelwright.toml` (the plan shows which apply).
pub async fn run(args: PlanArgs, packages: &PackageSettings) -> Result<ExitCode, Failure> {
    let started = std::time::SystemTime::now();
    // Read first: it may be the file `--report-json` overwrites at the end.
    let previous =
        report::pages::load_previous(args.common.previous.as_deref()).map_err(Failure::input)?;
    let mut ctx = setup::context(
        &args.requirements,
        &args.target,
        None,
        &args.common,
        setup::Login::Now,
    )
    .await?;
    let cache = setup::cache_dir(args.common.cache_dir.as_deref());
    let closure = crate::deps::for_run(
        &mut ctx,
        &args.requirements,
        &cache,
        args.common.max_download_size,
        args.common.deps,
        packages,
        crate::metadata::FailurePolicy::default(),
        |ctx| metadata_builder(ctx, &cache, args.common.max_download_size),
    )
    .await?;
    if let Some(closure) = &closure
        && args.common.verbose > 0
    {
        closure.print_resolution();
    }
    let listings = ctx.listing_cache(&cache);
    let store =
        crate::store::Store::new(&cache).with_max_download_size(args.common.max_download_size);
    let planner = ctx.planner(
        listings.as_ref(),
        args.common.shard,
        Some(&store),
        packages,
        closure.as_ref(),
    );
    let mut plan = planner.plan(&ctx.requirements, &ctx.exclusions).await?;
    if let Some(closure) = &closure {
        plan.jobs = plan
            .jobs
            .into_iter()
            .filter_map(|j| closure.adjust(j))
            .collect();
    }
    if let Some(listings) = &listings {
        listings.save();
    }
    let policy = policy_warnings(&ctx, &plan).await?;
    let warnings = policy.texts();
    if args.common.quiet == 0 {
        print!("{}", report::render_table(&plan));
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    println!("{}", report::summary_line(&plan));
    let refused = args.common.strict_whitelist && !policy.shadowing.is_empty();
    let run = report::RunInfo {
        started,
        finished: std::time::SystemTime::now(),
        exit_code: if refused { crate::exit::BAD_INPUT } else { 0 },
        build_slots: None,
    };
    let mut json = report::plan_json(&plan, &run);
    json["warnings"] = serde_json::json!(warnings);
    if let Some(closure) = &closure {
        json["summary"]["resolution"] = closure.resolution_json();
    }
    report::pages::write(
        &json,
        previous.as_ref(),
        report::pages::Outputs::of(&args.common),
    )
    .map_err(Failure::input)?;
    if let Some(path) = &args.common.report_json {
        report::write_json_atomically(path, &json).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JSON report {}: {e}",
                path.display()
            ))
        })?;
    }
    if let Some(path) = &args.common.lock {
        write_lock(path, "plan", &ctx, &report::lock_input::from_plan(&plan))?;
    }
    if refused {
        return Err(Failure::input(anyhow::anyhow!(
            "--strict-whitelist: uploads would hide mirror releases (see the warnings above)"
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// The dry run prepares an sdist dependency's metadata only in a sandbox (the default layer
/// choice of `fill`); when no layer works, the reason is the answer.
fn metadata_builder(
    ctx: &setup::Context,
    cache: &std::path::Path,
    max_download_size: u64,
) -> crate::deps::MetadataBuilder {
    let mut options = crate::builder::BuilderOptions::new(cache);
    options.sandbox = crate::builder::SandboxMode::Auto;
    let source = crate::pipeline::UpstreamWheels {
        client: ctx.client.clone(),
        upstream: std::sync::Arc::clone(&ctx.upstream),
        store: crate::store::Store::new(cache).with_max_download_size(max_download_size),
    };
    crate::builder::Builder::new(options, std::sync::Arc::new(source))
        .map(std::sync::Arc::new)
        .map_err(|e| format!("no sandbox to prepare it in: {e}"))
}

/// What the target's policies say about the plan's uploads.
#[derive(Default)]
struct PolicyWarnings {
    /// The user may not upload at all (fill would stop before the first build).
    refusal: Option<Refusal>,
    /// Each project whose upload would hide a mirror's releases.
    shadowing: Vec<Shadowing>,
}

impl PolicyWarnings {
    fn texts(&self) -> Vec<String> {
        self.refusal
            .iter()
            .map(|refusal| format!("{refusal}; fill would stop"))
            .chain(self.shadowing.iter().map(ToString::to_string))
            .collect()
    }
}

/// For a devpi target with work to do: would the user be allowed to upload, and would an
/// upload hide a mirror's releases? Costs requests only when something would be uploaded.
async fn policy_warnings(ctx: &setup::Context, plan: &Plan) -> Result<PolicyWarnings, Failure> {
    let Target::Devpi(index) = &ctx.target else {
        return Ok(PolicyWarnings::default());
    };
    let projects: BTreeSet<&pep508_rs::PackageName> = plan
        .jobs
        .iter()
        .filter(|j| matches!(j.action(), Action::Fetch | Action::Build))
        .map(|j| &j.project)
        .collect();
    if projects.is_empty() {
        return Ok(PolicyWarnings::default());
    }
    let policy = TargetPolicy::load(&ctx.client, index).await?;
    let refusal = policy
        .may_upload(ctx.credentials.as_ref().map(|(u, _)| u.as_str()))
        .err();
    let shadowing = projects
        .into_iter()
        .filter_map(|project| policy.shadowing(project))
        .collect();
    Ok(PolicyWarnings { refusal, shadowing })
}

/// `--lock FILE` of `plan` and `fill`: a failure to write it is bad input (exit 2).
pub fn write_lock(
    path: &std::path::Path,
    command: &'static str,
    ctx: &setup::Context,
    input: &report::lock_input::LockInput,
) -> Result<(), Failure> {
    let header = report::lock::LockHeader {
        command,
        target: report::lock_input::target_text(&ctx.target),
    };
    report::lock_input::write(path, &header, &ctx.interpreters, input)
        .map_err(|e| Failure::input(anyhow::anyhow!("--lock: {e}")))
}
