//! The one table of settings: for every option that an environment variable can set, which
//! variables, in what form, and with what precedence. clap (through [`command`]), the
//! configuration file (`config`), `config show` and set-up (`setup`) all
//! read this table; no variable name is written anywhere else.
//!
//! A setting's config-file key is its long flag (`index-url`, `ca-bundle`), so the flag is the
//! key of the table. Two kinds of variables:
//!
//! * **Own** (`WHEELWRIGHT_*`): given to clap, so they behave like the flag: flag > variable >
//!   file > default.
//! * **Borrowed** from the tools wheelwright replaces (pip, requests, devpi-builder). They keep
//!   those tools' meaning: pip reads `PIP_INDEX_URL` only when neither the command line nor a
//!   requirements file gives `--index-url`, and appends `PIP_EXTRA_INDEX_URL` (a
//!   whitespace-separated list) to the other index URLs. Set-up reads them where pip does;
//!   a borrowed variable that is set still beats the configuration file.

use clap::{Arg, Command, CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// The variable naming the configuration file (the `--config` flag beats it).
pub const CONFIG_FILE_VARIABLE: &str = "WHEELWRIGHT_CONFIG";

/// How a borrowed variable's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// One value.
    Value,
    /// pip's lists: whitespace-separated values.
    Words,
    /// pip's booleans: set and not `0`, `false`, `no` or `off`.
    Switch,
}

#[derive(Debug)]
pub struct Setting {
    /// The long flag without dashes, which is also the key in `wheelwright.toml`.
    pub flag: &'static str,
    /// wheelwright's own variable, handed to clap.
    pub own: Option<&'static str>,
    /// Other tools' variables, in the order they are consulted.
    pub borrowed: &'static [&'static str],
    pub form: Form,
    /// Never shown: not in `config show`, not in help (`hide_env_values`).
    pub secret: bool,
}

const fn own(flag: &'static str, variable: &'static str) -> Setting {
    Setting {
        flag,
        own: Some(variable),
        borrowed: &[],
        form: Form::Value,
        secret: false,
    }
}

const fn borrowed(flag: &'static str, variables: &'static [&'static str], form: Form) -> Setting {
    Setting {
        flag,
        own: None,
        borrowed: variables,
        form,
        secret: false,
    }
}

pub const SETTINGS: &[Setting] = &[
    own("target", "WHEELWRIGHT_TARGET"),
    own("shard", "WHEELWRIGHT_SHARD"),
    own("cache-dir", "WHEELWRIGHT_CACHE_DIR"),
    own("client-key", "WHEELWRIGHT_CLIENT_KEY"),
    Setting {
        borrowed: &["PIP_CLIENT_CERT"],
        ..own("client-cert", "WHEELWRIGHT_CLIENT_CERT")
    },
    // devpi-builder's variables, so a job switches by changing the command name.
    Setting {
        borrowed: &["DEVPI_USER"],
        ..own("user", "WHEELWRIGHT_USER")
    },
    Setting {
        borrowed: &["DEVPI_PASSWORD"],
        secret: true,
        ..own("password", "WHEELWRIGHT_PASSWORD")
    },
    borrowed("index-url", &["PIP_INDEX_URL"], Form::Value),
    borrowed("extra-index-url", &["PIP_EXTRA_INDEX_URL"], Form::Words),
    borrowed("find-links", &["PIP_FIND_LINKS"], Form::Words),
    borrowed("no-index", &["PIP_NO_INDEX"], Form::Switch),
    // pip's own variable first, then what requests (pip's HTTP library) and OpenSSL read.
    borrowed(
        "ca-bundle",
        &["PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"],
        Form::Value,
    ),
];

/// The table's row for a flag.
pub fn setting(flag: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.flag == flag)
}

/// The command-line definition with the own variables attached: what parsing, the file
/// merge, `config show`, the man pages and the completions all use.
pub fn command() -> Command {
    Cli::command().mut_subcommands(|sub| {
        sub.mut_args(|arg| {
            let Some(setting) = arg.get_long().and_then(setting) else {
                return arg;
            };
            let arg = match setting.own {
                Some(variable) => arg.env(variable).hide_env_values(setting.secret),
                None => arg,
            };
            if setting.borrowed.is_empty() {
                return arg;
            }
            // Shown like clap's own `[env: ...]`, so `--help` and the man pages list them.
            let note = format!("[also read: {}]", setting.borrowed.join(", "));
            let help = arg.get_help().map(|h| format!("{h} {note}"));
            let long_help = arg.get_long_help().map(|h| format!("{h}\n\n{note}"));
            let arg = match help {
                Some(help) => arg.help(help),
                None => arg.help(note),
            };
            match long_help {
                Some(long_help) => arg.long_help(long_help),
                None => arg,
            }
        })
    })
}

/// Parses the command line against [`command`], exiting on a clap error as clap's own
/// `parse_from` does (usage errors exit 2, `--help` and `--version` exit 0).
pub fn parse(args: Vec<std::ffi::OsString>) -> Cli {
    let parsed = command()
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    match parsed {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    }
}

/// The environment as set-up reads it; a seam so tests pass their own.
pub trait Environment {
    fn get(&self, variable: &str) -> Option<String>;
}

/// The process environment. Empty values count as unset, as pip treats them.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn get(&self, variable: &str) -> Option<String> {
        std::env::var(variable).ok().filter(|v| !v.is_empty())
    }
}

/// A borrowed variable that is set, with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromVariable {
    pub variable: &'static str,
    pub value: String,
}

impl Setting {
    /// The first borrowed variable that is set.
    pub fn borrowed_value(&self, env: &dyn Environment) -> Option<FromVariable> {
        self.borrowed.iter().find_map(|variable| {
            env.get(variable)
                .map(|value| FromVariable { variable, value })
        })
    }

    /// A [`Form::Words`] setting's values from its borrowed variable.
    pub fn borrowed_words(&self, env: &dyn Environment) -> Vec<String> {
        self.borrowed_value(env)
            .map(|v| v.value.split_whitespace().map(String::from).collect())
            .unwrap_or_default()
    }

    /// A [`Form::Switch`] setting from its borrowed variable.
    pub fn borrowed_switch(&self, env: &dyn Environment) -> bool {
        self.borrowed_value(env).is_some_and(|v| {
            !matches!(
                v.value.trim().to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            )
        })
    }

    /// Whether any variable of this setting (own or borrowed) is set: then the configuration
    /// file does not set it.
    pub fn in_environment(&self, env: &dyn Environment) -> bool {
        self.own
            .iter()
            .chain(self.borrowed)
            .any(|v| env.get(v).is_some())
    }

    /// `--flag, VAR or VAR` for messages that tell the user where a value can come from.
    pub fn sources(&self) -> String {
        let mut names = vec![format!("--{}", self.flag)];
        names.extend(self.own.iter().chain(self.borrowed).map(|v| v.to_string()));
        or_list(&names)
    }

    /// `VAR or VAR`: the variables alone.
    pub fn variables(&self) -> String {
        let names: Vec<String> = self
            .own
            .iter()
            .chain(self.borrowed)
            .map(|v| v.to_string())
            .collect();
        or_list(&names)
    }
}

fn or_list(names: &[String]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The row for `flag`, which must be in the table (a programming error otherwise).
pub fn row(flag: &str) -> &'static Setting {
    match setting(flag) {
        Some(row) => row,
        None => panic!("`{flag}` is not in the settings table"),
    }
}

/// Every argument that carries a value or a switch, for `config show`.
pub fn shown_arguments(command: &Command) -> impl Iterator<Item = &Arg> {
    command.get_arguments().filter(|a| {
        a.get_long()
            .is_some_and(|l| !matches!(l, "help" | "version"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fake(HashMap<&'static str, &'static str>);
    impl Environment for Fake {
        fn get(&self, variable: &str) -> Option<String> {
            self.0
                .get(variable)
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string())
        }
    }

    #[test]
    fn every_flag_in_the_table_exists_on_a_command() {
        let command = command();
        for setting in SETTINGS {
            assert!(
                command.get_subcommands().any(|s| s
                    .get_arguments()
                    .any(|a| a.get_long() == Some(setting.flag))),
                "--{} is in the table but no command has it",
                setting.flag
            );
        }
    }

    #[test]
    fn own_variables_reach_clap_and_secrets_stay_hidden() {
        let command = command();
        let fill = command.find_subcommand("fill").unwrap();
        let user = fill
            .get_arguments()
            .find(|a| a.get_long() == Some("user"))
            .unwrap();
        assert_eq!(user.get_env().unwrap(), "WHEELWRIGHT_USER");
        let password = fill
            .get_arguments()
            .find(|a| a.get_long() == Some("password"))
            .unwrap();
        assert!(password.is_hide_env_values_set());
        let plan = command.find_subcommand("plan").unwrap();
        let target = plan
            .get_arguments()
            .find(|a| a.get_long() == Some("target"))
            .unwrap();
        assert_eq!(target.get_env().unwrap(), "WHEELWRIGHT_TARGET");
    }

    #[test]
    fn borrowed_variables_are_read_in_order_and_in_their_form() {
        let env = Fake(HashMap::from([
            ("REQUESTS_CA_BUNDLE", "/etc/ca.pem"),
            ("SSL_CERT_FILE", "/other.pem"),
            (
                "PIP_EXTRA_INDEX_URL",
                " http://a/simple/  http://b/simple/ ",
            ),
            ("PIP_NO_INDEX", "off"),
        ]));
        assert_eq!(
            row("ca-bundle").borrowed_value(&env),
            Some(FromVariable {
                variable: "REQUESTS_CA_BUNDLE",
                value: "/etc/ca.pem".into()
            })
        );
        assert_eq!(
            row("extra-index-url").borrowed_words(&env),
            ["http://a/simple/", "http://b/simple/"]
        );
        assert!(!row("no-index").borrowed_switch(&env));
        let on = Fake(HashMap::from([("PIP_NO_INDEX", "1")]));
        assert!(row("no-index").borrowed_switch(&on));
        assert!(row("ca-bundle").in_environment(&env));
        assert!(!row("index-url").in_environment(&env));
    }

    #[test]
    fn sources_name_the_flag_and_every_variable() {
        assert_eq!(
            row("password").sources(),
            "--password, WHEELWRIGHT_PASSWORD or DEVPI_PASSWORD"
        );
        assert_eq!(row("index-url").sources(), "--index-url or PIP_INDEX_URL");
        assert_eq!(
            row("ca-bundle").variables(),
            "PIP_CERT, REQUESTS_CA_BUNDLE or SSL_CERT_FILE"
        );
    }
}
