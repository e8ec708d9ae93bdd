//! Per-package build settings: `[package.NAME]` tables in `wheelwright.toml`.
//!
//! ```toml
//! [package.numpy]
//! env = { NPY_BLAS_ORDER = "openblas" }
//! config-settings = { setup-args = ["-Dblas=openblas", "-Dlapack=openblas"] }
//! extra-build-requires = ["cython>=3"]
//! build-constraints = ["meson-python==0.16.0"]
//! patches = ["patches/numpy-no-native.diff"]   # relative to the file
//! jobs = 1                                     # build alone (heavy)
//!
//! [[package.urllib3]]                          # a reviewed security fix, newer than
//! versions = "==2.6.1"                         # --exclude-newer's cut-off
//! exclude-newer = false
//!
//! [[package.pyyaml]]                           # several tables, each for some versions
//! versions = "<6"
//! build = false
//! reason = "5.x does not build with Cython 3; use the wheels"
//! ```
//!
//! Every table whose `versions` contains the job's version applies, in file order: maps
//! (`env`, `config-settings`) are merged, later keys winning; lists are concatenated;
//! `jobs` and `build` take the last value given. Like fromager's per-package settings, but
//! in the one configuration file. Unknown keys and bad values are errors naming the file,
//! line and column; nothing runs then.

mod patch;

pub use patch::{PatchError, apply_patch};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, Requirement};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum PackageSettingsError {
    /// Bad TOML or an unknown key or value (toml's message gives the line and column).
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    AtLine {
        path: String,
        line: usize,
        message: String,
    },
}

/// One `[package.NAME]` table as written. `deny_unknown_fields`: a misspelt key is an error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    versions: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    config_settings: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    extra_build_requires: Vec<String>,
    #[serde(default)]
    build_constraints: Vec<String>,
    #[serde(default)]
    patches: Vec<String>,
    jobs: Option<u32>,
    build: Option<bool>,
    reason: Option<String>,
    /// `exclude-newer = false`: the release-age cooldown does not apply (a reviewed fix).
    exclude_newer: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Only the `package` key; the file's other keys are the command line's (see `config.rs`).
/// Each value is one table (`[package.NAME]`) or several (`[[package.NAME]]`).
#[derive(Debug, Deserialize)]
struct RawFile {
    #[serde(default)]
    package: BTreeMap<toml::Spanned<String>, toml::Value>,
}

/// A checked table: for which project and versions, from where, and what it sets.
#[derive(Debug, Clone)]
struct Rule {
    name: PackageName,
    versions: Option<VersionSpecifiers>,
    /// `file:line` of the table's name, for the plan and the report.
    origin: String,
    settings: BuildSettings,
    /// `exclude-newer = false`.
    cooldown_exempt: bool,
}

/// What applies to one build. Serialised into the plan and the report (`settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuildSettings {
    /// Variables for the build (beside `--build-env`; these win).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// PEP 517 `config_settings` (beside the requirement line's `--config-settings`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub config_settings: BTreeMap<String, Vec<String>>,
    /// More build requirements than the sdist's `pyproject.toml` names.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "display_all")]
    pub extra_build_requires: Vec<Requirement>,
    /// Pins for this package's build requirements (`name==version`).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "display_all")]
    pub build_constraints: Vec<Requirement>,
    /// Unified diffs applied to the unpacked sdist before the build, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<PathBuf>,
    /// `jobs = 1`: no other build runs beside this one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
    /// `build = false`: never built; fetched when upstream has a wheel, else unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_build: Option<NoBuild>,
    /// The tables that applied (`wheelwright.toml:12`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<String>,
}

/// A project (and versions) that `--exclude-newer` does not hold back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CooldownExemption {
    pub name: PackageName,
    pub versions: Option<VersionSpecifiers>,
    /// Where `exclude-newer = false` was written.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NoBuild {
    pub reason: String,
    /// Where `build = false` was set.
    pub origin: String,
}

fn display_all<S: serde::Serializer, T: std::fmt::Display>(
    items: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(items.iter().map(ToString::to_string))
}

impl BuildSettings {
    pub fn is_empty(&self) -> bool {
        self.from.is_empty()
    }

    /// What identifies these settings for a build's keys (the failure memory, the keyed build
    /// dir): a sha256 over the serialised settings and every patch file's content, so an
    /// edited patch is a different build. Empty when nothing applies.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        if self.is_empty() {
            return String::new();
        }
        let mut hash = Sha256::new();
        hash.update(serde_json::to_vec(self).unwrap_or_default());
        for patch in &self.patches {
            hash.update(b"\0");
            // An unreadable patch fails the build at the patch step; its key still differs.
            match std::fs::read(patch) {
                Ok(bytes) => hash.update(Sha256::digest(&bytes)),
                Err(_) => hash.update(b"unreadable"),
            }
        }
        hex::encode(hash.finalize())
    }

    /// Later tables win for maps and single values; lists add up.
    fn apply(&mut self, other: &BuildSettings) {
        self.env.extend(other.env.clone());
        self.config_settings.extend(other.config_settings.clone());
        self.extra_build_requires
            .extend(other.extra_build_requires.iter().cloned());
        self.build_constraints
            .extend(other.build_constraints.iter().cloned());
        self.patches.extend(other.patches.iter().cloned());
        self.exclusive |= other.exclusive;
        if other.no_build.is_some() {
            self.no_build.clone_from(&other.no_build);
        }
        self.from.extend(other.from.iter().cloned());
    }

    /// One line for the plan table: `settings from wheelwright.toml:12 (env, patches)`.
    pub fn summary(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut kinds = Vec::new();
        let mut add = |present: bool, what: &'static str| {
            if present {
                kinds.push(what);
            }
        };
        add(!self.env.is_empty(), "env");
        add(!self.config_settings.is_empty(), "config-settings");
        add(
            !self.extra_build_requires.is_empty(),
            "extra-build-requires",
        );
        add(!self.build_constraints.is_empty(), "build-constraints");
        add(!self.patches.is_empty(), "patches");
        add(self.exclusive, "jobs = 1");
        add(self.no_build.is_some(), "build = false");
        Some(format!(
            "settings from {} ({})",
            self.from.join(", "),
            kinds.join(", ")
        ))
    }
}

/// Every `[package.*]` table of a file.
#[derive(Debug, Clone, Default)]
pub struct PackageSettings {
    rules: Vec<Rule>,
}

impl PackageSettings {
    /// Reads the `[package.*]` tables of `text` (the file at `path`). Patch paths are taken
    /// relative to the file's directory and must exist.
    pub fn parse(text: &str, path: &Path) -> Result<PackageSettings, PackageSettingsError> {
        let shown = path.display().to_string();
        let invalid = |message: String| PackageSettingsError::Invalid {
            path: shown.clone(),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let at = |line: usize, message: String| PackageSettingsError::AtLine {
            path: shown.clone(),
            line,
            message,
        };
        let headers = table_headers(text);
        let mut rules = Vec::new();
        for (key, value) in raw.package {
            let key_line = line_of(text, key.span().start);
            let name = PackageName::from_str(key.get_ref()).map_err(|e| {
                at(
                    key_line,
                    format!("`[package.{}]`: not a project name: {e}", key.get_ref()),
                )
            })?;
            let tables = match value {
                toml::Value::Array(items) => items,
                table => vec![table],
            };
            // The line of each table's own header, for messages and the report.
            let lines: Vec<usize> = headers
                .iter()
                .filter(|(header, _)| *header == name)
                .map(|(_, line)| *line)
                .collect();
            for (position, table) in tables.into_iter().enumerate() {
                let line = lines.get(position).copied().unwrap_or(key_line);
                let raw: RawRule = table.try_into().map_err(|e: toml::de::Error| {
                    at(line, format!("`[package.{name}]`: {}", e.message()))
                })?;
                let origin = format!("{shown}:{line}");
                rules.push(check_rule(raw, &name, &origin, base, &|message| {
                    at(line, format!("`[package.{name}]`: {message}"))
                })?);
            }
        }
        // Tables in file order (the map is sorted by name; the origins' lines are not).
        rules.sort_by_key(|r| line_number(&r.origin));
        Ok(PackageSettings { rules })
    }

    /// What applies to `name` at `version`.
    pub fn for_build(&self, name: &PackageName, version: &Version) -> BuildSettings {
        let mut applied = BuildSettings::default();
        for rule in &self.rules {
            let covers = rule
                .versions
                .as_ref()
                .is_none_or(|specs| specs.contains(version));
            if rule.name == *name && covers {
                applied.apply(&rule.settings);
            }
        }
        applied
    }

    /// The `exclude-newer = false` tables: the projects (and versions) that `--exclude-newer`
    /// does not hold back, with where each was written.
    pub fn cooldown_exemptions(&self) -> Vec<CooldownExemption> {
        self.rules
            .iter()
            .filter(|rule| rule.cooldown_exempt)
            .map(|rule| CooldownExemption {
                name: rule.name.clone(),
                versions: rule.versions.clone(),
                origin: rule.origin.clone(),
            })
            .collect()
    }

    /// What identifies every table for a key that depends on all of them (the `--deps`
    /// snapshot): each table's project, versions and [`BuildSettings::fingerprint`], in
    /// file order. Empty when there are no tables.
    pub fn fingerprint(&self) -> String {
        self.rules
            .iter()
            .map(|rule| {
                let versions = rule.versions.as_ref().map(ToString::to_string);
                format!(
                    "{} {:?} {}{}\n",
                    rule.name,
                    versions,
                    rule.settings.fingerprint(),
                    if rule.cooldown_exempt {
                        " exclude-newer=false"
                    } else {
                        ""
                    }
                )
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn check_rule(
    raw: RawRule,
    name: &PackageName,
    origin: &str,
    base: &Path,
    at: &dyn Fn(String) -> PackageSettingsError,
) -> Result<Rule, PackageSettingsError> {
    let versions = match &raw.versions {
        Some(text) => Some(
            VersionSpecifiers::from_str(text)
                .map_err(|e| at(format!("`versions = \"{text}\"`: {e}")))?,
        ),
        None => None,
    };
    let requirements = |items: &[String], what: &str| {
        items
            .iter()
            .map(|item| {
                crate::requirements::parse_requirement(item)
                    .map_err(|e| at(format!("`{what}`: `{item}` is not a requirement: {e}")))
            })
            .collect::<Result<Vec<Requirement>, _>>()
    };
    let extra_build_requires = requirements(&raw.extra_build_requires, "extra-build-requires")?;
    let build_constraints = requirements(&raw.build_constraints, "build-constraints")?;
    for (item, requirement) in raw.build_constraints.iter().zip(&build_constraints) {
        let pinned = match &requirement.version_or_url {
            Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) => {
                crate::version::pinned_version(specs)
            }
            _ => None,
        };
        if pinned.is_none() {
            return Err(at(format!(
                "`build-constraints`: `{item}` must pin one version with `==`"
            )));
        }
    }
    let mut patches = Vec::new();
    for item in &raw.patches {
        let path = base.join(item);
        if !path.is_file() {
            return Err(at(format!("`patches`: {} is not a file", path.display())));
        }
        patches.push(std::path::absolute(&path).unwrap_or(path));
    }
    let exclusive = match raw.jobs {
        None => false,
        Some(1) => true,
        Some(jobs) => {
            return Err(at(format!(
                "`jobs = {jobs}`: only `jobs = 1` (an exclusive build) is supported"
            )));
        }
    };
    let no_build = match (raw.build, raw.reason) {
        (Some(false), Some(reason)) if !reason.trim().is_empty() => Some(NoBuild {
            reason,
            origin: origin.to_string(),
        }),
        (Some(false), _) => {
            return Err(at(
                "`build = false` needs a `reason = \"...\"` (the report shows it)".into(),
            ));
        }
        _ => None,
    };
    let cooldown_exempt = match raw.exclude_newer {
        None => false,
        Some(false) => true,
        Some(true) => {
            return Err(at(
                "`exclude-newer = true`: only `exclude-newer = false` (exempt this project from \
                 --exclude-newer) is meaningful here"
                    .into(),
            ));
        }
    };
    Ok(Rule {
        name: name.clone(),
        versions,
        origin: origin.to_string(),
        cooldown_exempt,
        settings: BuildSettings {
            env: raw.env,
            config_settings: raw
                .config_settings
                .into_iter()
                .map(|(key, value)| match value {
                    OneOrMany::One(v) => (key, vec![v]),
                    OneOrMany::Many(vs) => (key, vs),
                })
                .collect(),
            extra_build_requires,
            build_constraints,
            patches,
            exclusive,
            no_build,
            from: vec![origin.to_string()],
        },
    })
}

/// `[package.NAME]` and `[[package.NAME]]` header lines, in order, with their 1-based line.
fn table_headers(text: &str) -> Vec<(PackageName, usize)> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.trim();
            let inner = line
                .strip_prefix("[[package.")
                .and_then(|rest| rest.split_once("]]"))
                .or_else(|| {
                    line.strip_prefix("[package.")
                        .and_then(|r| r.split_once(']'))
                })?
                .0;
            let name = inner.trim().trim_matches(|c| c == '"' || c == '\'');
            PackageName::from_str(name).ok().map(|n| (n, index + 1))
        })
        .collect()
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn line_number(origin: &str) -> usize {
    origin
        .rsplit_once(':')
        .and_then(|(_, line)| line.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
