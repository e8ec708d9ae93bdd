//! `wheelwright fill`: placeholder until the pipeline lands.
use std::process::ExitCode;

use crate::cli::FillArgs;
use crate::exit::Failure;

pub async fn run(_args: FillArgs) -> Result<ExitCode, Failure> {
    Err(Failure::input(anyhow::anyhow!("fill is not implemented yet")))
}
