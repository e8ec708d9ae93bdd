use std::process::ExitCode;

use wheelwright::cli::Command;
use wheelwright::commands;

fn main() -> ExitCode {
    // The sandbox launcher (and its test helper) run before anything else: no configuration
    // file (the build's cwd is untrusted) and no async runtime (it must stay single-threaded).
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match argv.get(1).and_then(|a| a.to_str()) {
        Some(wheelwright::builder::SANDBOX_EXEC) => {
            return exit_status(wheelwright::builder::sandbox_exec_main(&argv[2..]));
        }
        Some(wheelwright::builder::TEST_JAIL) => {
            return exit_status(wheelwright::builder::test_jail_main(&argv[2..]));
        }
        _ => {}
    }
    // wheelwright.toml settings join the command line before clap sees it (config.rs).
    let merged = match wheelwright::config::merge(std::env::args_os().collect()) {
        Ok(merged) => merged,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(wheelwright::exit::BAD_INPUT);
        }
    };
    // `config show` reads its arguments itself (they are another command's flags).
    if let wheelwright::config::Invocation::ConfigShow { command } = merged.invocation {
        return match wheelwright::config::show(&merged, command) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => e.exit(),
        };
    }
    let cli = wheelwright::settings::parse(merged.args.clone());
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
            Command::Plan(args) => commands::plan::run(args, &merged.packages).await,
            Command::Fill(args) => commands::fill::run(args, &merged.packages).await,
            Command::Report(args) => commands::report::run(args),
            Command::GenerateAssets(args) => commands::assets::run(args),
            Command::Config(_) => unreachable!("handled before the runtime starts"),
        }
    });
    match result {
        Ok(code) => code,
        Err(failure) => {
            // Errors may quote input (a requirement line, a URL): never print a credential.
            let redact = wheelwright::index::redact_text;
            eprintln!("error: {}", redact(&failure.error.to_string()));
            for cause in failure.error.chain().skip(1) {
                eprintln!("  caused by: {}", redact(&cause.to_string()));
            }
            failure.exit_code()
        }
    }
}

fn exit_status(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
