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

use clap::ArgAction;

use crate::package_settings::PackageSettings;
use crate::settings::{self, ProcessEnvironment};

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
    #[error(transparent)]
    Packages(#[from] crate::package_settings::PackageSettingsError),
}

/// The command line with the file's settings added, and which options came from the file.
pub struct Merged {
    pub args: Vec<OsString>,
    pub file: Option<PathBuf>,
    pub from_file: BTreeSet<String>,
    pub invocation: Invocation,
    /// The file's `[package.NAME]` tables.
    pub packages: PackageSettings,
}

/// What the command line asks for, read once: the file merge and `main` both need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `config show [fill|plan] [FLAGS]`: the settings that command would run with. Its flags
    /// are another command's, so clap does not parse them as `config show`'s own.
    ConfigShow { command: &'static str },
    /// Anything else, for clap (including `config show --help`).
    Run,
}

/// Reads [`Invocation`] from the process arguments (program name first).
pub fn invocation(args: &[OsString]) -> Invocation {
    let word = |i: usize| args.get(i).and_then(|a| a.to_str());
    let help = args.iter().any(|a| a == "--help" || a == "-h");
    if word(1) != Some("config") || word(2) != Some("show") || help {
        return Invocation::Run;
    }
    let command = if word(3) == Some("plan") {
        "plan"
    } else {
        "fill"
    };
    Invocation::ConfigShow { command }
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
    if let Some(path) = std::env::var_os(settings::CONFIG_FILE_VARIABLE).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Path::new(FILE_NAME)
        .is_file()
        .then(|| PathBuf::from(FILE_NAME))
}

/// Adds the file's settings to `args` (the process arguments, program name first).
pub fn merge(args: Vec<OsString>) -> Result<Merged, ConfigError> {
    let invocation = invocation(&args);
    let Some(path) = config_path(&args) else {
        return Ok(Merged {
            args,
            file: None,
            from_file: BTreeSet::new(),
            invocation,
            packages: PackageSettings::default(),
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
    let packages = PackageSettings::parse(&text, &path)?;
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
            invocation,
            packages,
        });
    };
    // `config show [fill|plan]` shows what that command would run with.
    let subcommand = match invocation {
        Invocation::ConfigShow { command } => command.to_string(),
        Invocation::Run => subcommand,
    };
    let command = settings::command();
    let Some(sub) = command.find_subcommand(&subcommand) else {
        return Ok(Merged {
            args,
            file: Some(path),
            from_file: BTreeSet::new(),
            invocation,
            packages,
        });
    };
    // Top-level keys apply to every command; a [plan] or [fill] table overrides them.
    let mut settings: Vec<(String, toml::Value)> = Vec::new();
    // `[package.NAME]` tables are per-package build settings, not flags (see
    // `crate::package_settings`).
    let sections = ["plan", "fill", "report", "config", "package"];
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
        // Own and borrowed variables alike (see `crate::settings`).
        let in_environment =
            settings::setting(&key).is_some_and(|s| s.in_environment(&ProcessEnvironment));
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
        invocation,
        packages,
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
    let command = settings::command();
    let matches = command.clone().try_get_matches_from(argv)?;
    let (_, sub) = matches.subcommand().expect("a subcommand was given");
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
        let mut values: Vec<String> = sub
            .get_raw(id)
            .map(|v| v.map(|x| x.to_string_lossy().to_string()).collect())
            .unwrap_or_default();
        let mut source = if merged.from_file.contains(id) {
            "file".to_string()
        } else {
            match sub.value_source(id) {
                Some(clap::parser::ValueSource::CommandLine) => "flag",
                Some(clap::parser::ValueSource::EnvVariable) => "environment",
                Some(clap::parser::ValueSource::DefaultValue) => "default",
                _ => "unset",
            }
            .to_string()
        };
        let row = settings::setting(long);
        // Borrowed variables (pip's, devpi-builder's) as set-up will read them.
        if let Some(row) = row
            && let Some(found) = row.borrowed_value(&ProcessEnvironment)
        {
            let unset = values.is_empty() || source == "default";
            let appended = row.form == settings::Form::Words && !unset;
            if unset || appended {
                if !appended {
                    values.clear();
                }
                source = if appended {
                    format!("{source} + environment {}", found.variable)
                } else {
                    format!("environment {}", found.variable)
                };
                match row.form {
                    settings::Form::Words => values.extend(row.borrowed_words(&ProcessEnvironment)),
                    settings::Form::Value => values.push(found.value),
                    settings::Form::Switch => {
                        values.push(row.borrowed_switch(&ProcessEnvironment).to_string())
                    }
                }
            }
        }
        let secret = row.is_some_and(|r| r.secret);
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
