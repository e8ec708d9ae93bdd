//! `wheelwright plan`: the dry run. Reads, asks the indexes, prints; writes nothing to the target.

use std::process::ExitCode;

use crate::cli::PlanArgs;
use crate::exit::Failure;
use crate::index::snapshot::ListingCache;
use crate::plan::{Planner, PresentIn};
use crate::report;
use crate::setup;

pub async fn run(args: PlanArgs) -> Result<ExitCode, Failure> {
    let ctx = setup::context(
        &args.requirements,
        &args.target,
        None,
        &args.common,
        setup::Login::Now,
    )
    .await?;
    let cache = setup::cache_dir(args.common.cache_dir.as_deref());
    let listings = ListingCache::open(
        &cache,
        &ctx.target,
        args.common.present_in == PresentIn::Own,
    );
    let planner = Planner {
        listings: listings.as_ref(),
        client: &ctx.client,
        target: &ctx.target,
        pure_index: ctx.pure_index.as_ref(),
        upstream: &ctx.upstream,
        interpreters: &ctx.interpreters,
        policy: &ctx.policy,
        concurrency: ctx.concurrency,
        shard: args.common.shard,
    };
    let plan = planner.plan(&ctx.requirements, &ctx.exclusions).await?;
    if let Some(listings) = &listings {
        listings.save();
    }
    if args.common.quiet == 0 {
        print!("{}", report::render_table(&plan));
    }
    println!("{}", report::summary_line(&plan));
    if let Some(path) = &args.common.report_json {
        report::write_json_atomically(path, &report::plan_json(&plan)).map_err(|e| {
            Failure::input(anyhow::anyhow!(
                "cannot write the JSON report {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(ExitCode::SUCCESS)
}
