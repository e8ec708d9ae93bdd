//! `wheelwright plan`: the dry run. Reads, asks the indexes, prints; writes nothing to the target.

use std::process::ExitCode;

use crate::cli::PlanArgs;
use crate::exit::Failure;
use std::collections::BTreeSet;

use crate::index::Target;
use crate::metadata::{FailurePolicy, NoBuilder};
use crate::package_settings::PackageSettings;
use crate::plan::WrittenLines;
use crate::plan::{Action, Plan};
use crate::policy::{Refusal, Shadowing, TargetPolicy};
use crate::report;
use crate::setup::{Login, Services, Settings};
use std::sync::Arc;

/// `packages`: the `[package.NAME]` tables of `wheelwright.toml` (the plan shows which apply).
pub async fn run(args: PlanArgs, packages: &PackageSettings) -> Result<ExitCode, Failure> {
    let started = std::time::SystemTime::now();
    let settings = Settings::for_plan(&args, packages).await?;
    let services = Services::connect(&settings, Login::Now).await?;
    let inputs = services.deps_inputs(&settings, packages, FailurePolicy::default());
    let closure = crate::deps::for_run(inputs, || metadata_builder(&settings, &services)).await?;
    if let Some(closure) = &closure
        && settings.verbose
    {
        closure.print_resolution();
    }
    // `--deps`: the closure's pinned lines are the run's lines.
    let requirements = closure
        .as_ref()
        .map_or(&settings.requirements, |c| &c.requirements);
    let listings = services.listing_cache(&settings);
    let planner = services.planner(
        &settings,
        listings.as_ref(),
        packages,
        closure.as_ref().map(|c| c as &dyn WrittenLines),
    );
    let mut plan = planner.plan(requirements, &settings.exclusions).await?;
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
    let policy = policy_warnings(&settings, &services, &plan).await?;
    let warnings = policy.texts();
    if !settings.quiet {
        print!("{}", report::render_table(&plan));
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    println!("{}", report::summary_line(&plan));
    let refused = settings.strict_whitelist && !policy.shadowing.is_empty();
    let run = report::RunInfo {
        started,
        finished: std::time::SystemTime::now(),
        exit_code: if refused { crate::exit::BAD_INPUT } else { 0 },
        build_slots: None,
    };
    let mut json = report::plan_json(&plan, &run);
    // The target's policies, then the projects upstream marks archived or deprecated.
    let mut all_warnings = warnings.clone();
    all_warnings.extend(services.upstream.status_warnings());
    json["warnings"] = serde_json::json!(all_warnings);
    if let Some(closure) = &closure {
        json["summary"]["resolution"] = closure.resolution_json();
    }
    // `--exclude-newer`: the cut-off the plan held upstream to.
    if let Some(cooldown) = &settings.upstream.cooldown {
        json["cooldown"] = cooldown.report_json();
    }
    if let Some(path) = &settings.report_json {
        report::write_json_atomically(path, &json).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JSON report {}: {e}",
                path.display()
            ))
        })?;
    }
    report::pages::write(&json, settings.previous.as_ref(), settings.pages())
        .map_err(Failure::input)?;
    if let Some(path) = &settings.lock {
        let input = report::lock_input::from_plan(&plan);
        write_lock(path, "plan", &settings, &services, &input).await?;
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
fn metadata_builder(settings: &Settings, services: &Services) -> crate::deps::MetadataBuilder {
    let options = crate::builder::BuilderOptions::new(&settings.cache);
    services
        .builder(&options)
        .map(Arc::new)
        .map_err(|e| NoBuilder::NoSandbox(Arc::new(e)))
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
async fn policy_warnings(
    settings: &Settings,
    services: &Services,
    plan: &Plan,
) -> Result<PolicyWarnings, Failure> {
    let Target::Devpi(index) = &services.target else {
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
    let policy = TargetPolicy::load(&services.client, index).await?;
    let refusal = policy
        .may_upload(settings.credentials.as_ref().map(|(u, _)| u.as_str()))
        .err();
    let shadowing = projects
        .into_iter()
        .filter_map(|project| policy.shadowing(project))
        .collect();
    Ok(PolicyWarnings { refusal, shadowing })
}

/// `--lock FILE` of `plan` and `fill`: a failure to write it is bad input (exit 2). A file
/// named `pylock.toml` or `pylock.NAME.toml` gets PEP 751's format, with the files the
/// target lists; any other name pip's requirements format.
pub(crate) async fn write_lock(
    path: &std::path::Path,
    command: &'static str,
    settings: &Settings,
    services: &Services,
    input: &report::lock_input::LockInput,
) -> Result<(), Failure> {
    let pylock = path
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(report::pylock::is_pylock_name);
    let format = if pylock {
        let origin =
            report::lock_input::pylock_origin(&services.client, &services.target, path, input);
        report::lock_input::LockFormat::Pylock(origin.await)
    } else {
        report::lock_input::LockFormat::Requirements(report::lock::LockHeader {
            command,
            target: report::lock_input::target_text(&services.target),
        })
    };
    report::lock_input::write(path, &format, &settings.interpreters, input)
        .map_err(|e| Failure::input(anyhow::anyhow!("--lock: {e}")))
}
