//! `wheelwright generate-assets DIR` (hidden): man pages and shell completions generated
//! from the clap definitions, so they never drift from the real flags. Packaging
//! (`scripts/package-deb.sh`) runs it on the release binary and ships the files.
//!
//! Layout: `DIR/man/wheelwright.1` plus one page per visible subcommand
//! (`wheelwright-fill.1`, ...); `DIR/completions/wheelwright.bash`, `_wheelwright` (zsh),
//! `wheelwright.fish`.

use std::process::ExitCode;

use clap_complete::Shell;

use crate::cli::GenerateAssetsArgs;
use crate::exit::Failure;

pub fn run(args: GenerateAssetsArgs) -> Result<ExitCode, Failure> {
    let man = args.dir.join("man");
    let completions = args.dir.join("completions");
    let failed = |what: &str, e: std::io::Error| {
        Failure::input(anyhow::anyhow!(
            "cannot write the {what} into {}: {e}",
            args.dir.display()
        ))
    };
    for dir in [&man, &completions] {
        std::fs::create_dir_all(dir).map_err(|e| failed("assets", e))?;
    }
    clap_mangen::generate_to(crate::settings::command(), &man)
        .map_err(|e| failed("man pages", e))?;
    let mut command = crate::settings::command();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command, "wheelwright", &completions)
            .map_err(|e| failed("completions", e))?;
    }
    Ok(ExitCode::SUCCESS)
}
