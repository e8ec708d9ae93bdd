use std::process::ExitCode;

use clap::Parser;
use wheelwright::cli::{Cli, Command};
use wheelwright::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(wheelwright::exit::BAD_INPUT);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Plan(args) => commands::plan::run(args).await,
            Command::Fill(args) => commands::fill::run(args).await,
            Command::Report(args) => commands::report::run(args),
            Command::GenerateAssets(args) => commands::assets::run(args),
        }
    });
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.error);
            for cause in failure.error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            failure.exit_code()
        }
    }
}
