//! `wheelwright.toml`: every command-line option can be set there. Precedence is flags >
//! environment > file > built-in default, as users of pip and Jenkins expect.
//!
//! The file is read before clap parses the command line: each setting the file gives, for
//! an option that neither the command line nor its environment variable sets, is added to the
//! arguments as if it had been typed. So clap stays the one definition of every option, its
//! value checks and its error messages; the file cannot introduce anything clap would refuse.
//!
//! ```toml
//! index-url = "https://devpi.example.internal/root/pypi/+simple/"
//! python = ["python3.11", "python3.12"]
//! retries = 3
//! [fill]                 # only for `fill` (likewise [plan])
//! junit-xml = "junit.xml"
//! ```

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{ArgAction, CommandFactory};

use crate::cli::Cli;

pub const FILE_NAME: &str = "wheelwright.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// The command line with the file's settings added, and which options came from the file.
pub struct Merged {
    pub args: Vec<OsString>,
    pub file: Option<PathBuf>,
    pub from_file: BTreeSet<String>,
}

/// `--config FILE`, else `WHEELWRIGHT_CONFIG`, else `./wheelwright.toml` when it exists.
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(value) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(value));
        }
    }
    if let Some(path) = std::env::var_os("WHEELWRIGHT_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Path::new(FILE_NAME)
        .is_file()
        .then(|| PathBuf::from(FILE_NAME))
}

/// Adds the file's settings to `args` (the process arguments, program name first).
pub fn merge(args: Vec<OsString>) -> Result<Merged, ConfigError> {
    let Some(path) = config_path(&args) else {
        return Ok(Merged {
            args,
            file: None,
            from_file: BTreeSet::new(),
        });
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    // The subcommand: the first argument that is not an option.
    let Some(subcommand) = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().to_string())
        .find(|a| !a.starts_with('-'))
    else {
        return Ok(Merged {
            args,
            file: Some(path),
            from_file: BTreeSet::new(),
        });
    };
    // `config show [fill|plan]` shows what that command would run with.
    let subcommand = if subcommand == "config" {
        let words: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().to_string())
            .collect();
        if words.iter().any(|w| w == "plan") {
            "plan".to_string()
        } else {
            "fill".to_string()
        }
    } else {
        subcommand
    };
    let command = Cli::command();
    let Some(sub) = command.find_subcommand(&subcommand) else {
        return Ok(Merged {
            args,
            file: Some(path),
            from_file: BTreeSet::new(),
        });
    };
    // Top-level keys apply to every command; a [plan] or [fill] table overrides them.
    let mut settings: Vec<(String, toml::Value)> = Vec::new();
    let sections = ["plan", "fill", "report", "config"];
    for (key, value) in &table {
        if sections.contains(&key.as_str()) {
            continue;
        }
        settings.push((key.replace('_', "-"), value.clone()));
    }
    if let Some(toml::Value::Table(section)) = table.get(&subcommand) {
        for (key, value) in section {
            let key = key.replace('_', "-");
            settings.retain(|(k, _)| *k != key);
            settings.push((key, value.clone()));
        }
    }
    let given: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().to_string())
        .collect();
    let mut merged = args.clone();
    let mut from_file = BTreeSet::new();
    for (key, value) in settings {
        let Some(arg) = sub
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()))
        else {
            // Settings of other commands (a top-level `junit-xml` seen by `plan`) are fine;
            // a name no command knows is a typo worth an error.
            if !command.get_subcommands().any(|s| {
                s.get_arguments()
                    .any(|a| a.get_long() == Some(key.as_str()))
            }) {
                return Err(ConfigError::Invalid {
                    path: shown,
                    message: format!("unknown setting `{key}`"),
                });
            }
            continue;
        };
        let long = format!("--{key}");
        let on_command_line = given
            .iter()
            .any(|g| *g == long || g.starts_with(&format!("{long}=")))
            || arg
                .get_short()
                .is_some_and(|s| given.iter().any(|g| g == &format!("-{s}")))
            || arg
                .get_visible_aliases()
                .into_iter()
                .flatten()
                .any(|alias| given.iter().any(|g| *g == format!("--{alias}")));
        let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
        // Variables wheelwright reads itself (pip's, devpi-builder's) count as environment too.
        let also_read: &[&str] = match key.as_str() {
            "index-url" => &["PIP_INDEX_URL"],
            "extra-index-url" => &["PIP_EXTRA_INDEX_URL"],
            "find-links" => &["PIP_FIND_LINKS"],
            "ca-bundle" => &["PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"],
            "client-cert" => &["PIP_CLIENT_CERT"],
            "user" => &["DEVPI_USER"],
            "password" => &["DEVPI_PASSWORD"],
            _ => &[],
        };
        let in_environment = arg.get_env().is_some_and(|var| set(&var.to_string_lossy()))
            || also_read.iter().any(|var| set(var));
        if on_command_line || in_environment {
            continue;
        }
        let bad = |what: &str| ConfigError::Invalid {
            path: shown.clone(),
            message: format!("`{key}`: expected {what}"),
        };
        match arg.get_action() {
            ArgAction::SetTrue | ArgAction::Count => match value {
                toml::Value::Boolean(true) => merged.push(long.into()),
                toml::Value::Boolean(false) => {}
                toml::Value::Integer(n) if n >= 0 => {
                    merged.extend((0..n).map(|_| OsString::from(&long)))
                }
                _ => return Err(bad("true or false")),
            },
            _ => {
                let values = match value {
                    toml::Value::Array(items) => items,
                    other => vec![other],
                };
                for item in values {
                    let text = match item {
                        toml::Value::String(s) => s,
                        toml::Value::Integer(n) => n.to_string(),
                        toml::Value::Float(f) => f.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        _ => return Err(bad("a string, number or list of them")),
                    };
                    merged.push(format!("{long}={text}").into());
                }
            }
        }
        from_file.insert(arg.get_id().to_string());
    }
    Ok(Merged {
        args: merged,
        file: Some(path),
        from_file,
    })
}

/// `config show`: the settings `wheelwright <command>` would run with, where each came from,
/// secrets masked.
pub fn show(merged: &Merged, subcommand: &str) -> Result<String, clap::Error> {
    let mut args: Vec<OsString> = merged.args.clone();
    // `wheelwright config show [fill|plan] [ARGS]` → `wheelwright fill ARGS` (with a
    // placeholder requirements file so the required positional does not stop us).
    let position = args
        .iter()
        .position(|a| a == "show")
        .map(|p| p + 1)
        .unwrap_or(args.len());
    let mut rest: Vec<OsString> = args.split_off(position);
    if rest.first().is_some_and(|a| a == "fill" || a == "plan") {
        rest.remove(0);
    }
    let mut argv: Vec<OsString> = vec!["wheelwright".into(), subcommand.into()];
    argv.extend(rest);
    // The required requirements positional is not a setting; a placeholder satisfies it.
    argv.push("<requirements>".into());
    let matches = Cli::command().try_get_matches_from(argv)?;
    let (_, sub) = matches.subcommand().expect("a subcommand was given");
    let command = Cli::command();
    let definition = command
        .find_subcommand(subcommand)
        .expect("known subcommand");
    let mut out = String::new();
    if let Some(file) = &merged.file {
        out.push_str(&format!("# config file: {}\n", file.display()));
    }
    for arg in definition.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        let values: Vec<String> = sub
            .get_raw(id)
            .map(|v| v.map(|x| x.to_string_lossy().to_string()).collect())
            .unwrap_or_default();
        let source = if merged.from_file.contains(id) {
            "file"
        } else {
            match sub.value_source(id) {
                Some(clap::parser::ValueSource::CommandLine) => "flag",
                Some(clap::parser::ValueSource::EnvVariable) => "environment",
                Some(clap::parser::ValueSource::DefaultValue) => "default",
                _ => "unset",
            }
        };
        let secret = long.contains("password");
        let shown = if values.is_empty() {
            String::from("-")
        } else if secret {
            "********".to_string()
        } else {
            crate::index::redact_text(&values.join(", "))
        };
        out.push_str(&format!("{long:<22} = {shown:<40} ({source})\n"));
    }
    Ok(out)
}
