//! `--exclude-newer DATE|DURATION`: a release-age cooldown, uv's option of that name. Most
//! malicious releases are found and yanked within days, so a release younger than the
//! cooldown does not enter the target.
//!
//! Applied where upstream listings are read (`Upstream::project_listing`), so every reader of
//! upstream obeys it alike: range resolution, `--deps` and build requirements. A version is refused whole when any of its files was uploaded after the
//! cut-off (a wheel added late to an old release is as new as a new release), and so is a
//! file whose index gives no upload time (PEP 700): what cannot be dated is not trusted. The
//! refused files become rejected entries of the listing, so a job that pins such a version
//! fails saying when it was uploaded, and a range falls back to the newest older version.

use std::str::FromStr;

use pep508_rs::PackageName;

use super::file::{EntryProblem, Listing, RejectedEntry};
use crate::distribution::DistFilename;
use crate::timestamp::Timestamp;

const MICROS_PER_SECOND: i64 = 1_000_000;
const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;

/// What the user gave: a moment, or an age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExcludeNewer {
    /// Files uploaded after this moment are refused.
    Before(Timestamp),
    /// Files younger than this many seconds (at the run's start) are refused.
    Age(i64),
}

/// Why `--exclude-newer` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is neither a date (`2026-12-01`, `2026-12-01T00:00:00Z`) nor an age (`7 days`, \
     `48 hours`, `2 weeks`, `P7D`, `PT48H`)"
)]
pub struct ExcludeNewerError(pub String);

impl FromStr for ExcludeNewer {
    type Err = ExcludeNewerError;

    fn from_str(text: &str) -> Result<ExcludeNewer, ExcludeNewerError> {
        let bad = || ExcludeNewerError(text.to_string());
        let trimmed = text.trim();
        if let Ok(time) = trimmed.parse::<Timestamp>() {
            return Ok(ExcludeNewer::Before(time));
        }
        // A date alone is its first moment, UTC (uv reads it so).
        if trimmed.len() == 10
            && let Ok(time) = format!("{trimmed}T00:00:00Z").parse::<Timestamp>()
        {
            return Ok(ExcludeNewer::Before(time));
        }
        let seconds = iso_duration(trimmed)
            .or_else(|| friendly_duration(trimmed))
            .ok_or_else(bad)?;
        if seconds <= 0 {
            return Err(bad());
        }
        Ok(ExcludeNewer::Age(seconds))
    }
}

/// `P7D`, `P2W`, `PT48H`, `P1DT12H`: the ISO 8601 durations of whole weeks, days and hours.
fn iso_duration(text: &str) -> Option<i64> {
    let rest = text.strip_prefix('P').or_else(|| text.strip_prefix('p'))?;
    let (date, time) = match rest.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    let mut total = 0i64;
    let mut parts = 0;
    let mut read = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = units
                .iter()
                .find(|(u, _)| u.eq_ignore_ascii_case(&c))
                .map(|(_, seconds)| *seconds)?;
            let value: i64 = number.parse().ok()?;
            total = total.checked_add(value.checked_mul(unit)?)?;
            number.clear();
            parts += 1;
        }
        number.is_empty().then_some(())
    };
    read(date, &[('W', 7 * DAY), ('D', DAY)])?;
    if let Some(time) = time {
        read(time, &[('H', HOUR), ('M', 60), ('S', 1)])?;
    }
    (parts > 0).then_some(total)
}

/// `7 days`, `1 day`, `48 hours`, `2 weeks` (the form of the configuration file's examples).
fn friendly_duration(text: &str) -> Option<i64> {
    let (number, unit) = text.split_once(char::is_whitespace)?;
    let value: i64 = number.trim().parse().ok()?;
    let unit_seconds = match unit.trim().to_ascii_lowercase().as_str() {
        "week" | "weeks" => 7 * DAY,
        "day" | "days" => DAY,
        "hour" | "hours" => HOUR,
        _ => return None,
    };
    value.checked_mul(unit_seconds)
}

impl ExcludeNewer {
    /// The cut-off for a run that starts at `now`.
    pub fn cutoff(self, now: Timestamp) -> Timestamp {
        match self {
            ExcludeNewer::Before(time) => time,
            ExcludeNewer::Age(seconds) => Timestamp::from_unix_micros(
                now.unix_micros()
                    .saturating_sub(seconds.saturating_mul(MICROS_PER_SECOND)),
            ),
        }
    }
}

/// A run's cooldown: the cut-off, and what the user wrote (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cooldown {
    pub cutoff: Timestamp,
    pub now: Timestamp,
    pub given: String,
    /// `--allow-undated`: files whose index gives no upload time are used (the user's
    /// explicit opt-out of failing closed, for a local find-links directory or pypiserver).
    pub allow_undated: bool,
    /// `[package.NAME] exclude-newer = false`: versions the cooldown does not hold back (a
    /// reviewed security fix); `None` versions: every version of the project.
    pub exempt: Vec<(PackageName, Option<pep440_rs::VersionSpecifiers>)>,
}

/// Why a file was refused under the cooldown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CooldownProblem {
    #[error("uploaded {uploaded}, {age}; cooldown {given} (files after {cutoff} are not used)")]
    TooNew {
        uploaded: Timestamp,
        age: String,
        given: String,
        cutoff: Timestamp,
    },
    #[error(
        "its version has a file uploaded after the cut-off {cutoff} (cooldown {given}), so \
         the whole version is refused"
    )]
    SiblingTooNew { given: String, cutoff: Timestamp },
    #[error(
        "the index gives no upload time (PEP 700) for its version; under the cooldown {given} \
         what cannot be dated is not used"
    )]
    Undated { given: String },
}

impl Cooldown {
    pub fn new(exclude_newer: ExcludeNewer, given: &str, now: Timestamp) -> Cooldown {
        Cooldown {
            cutoff: exclude_newer.cutoff(now),
            now,
            given: given.trim().to_string(),
            allow_undated: false,
            exempt: Vec::new(),
        }
    }

    /// Whether `name` `version` is exempt from the cooldown.
    fn exempts(&self, name: &PackageName, version: &pep440_rs::Version) -> bool {
        self.exempt.iter().any(|(exempt, versions)| {
            exempt == name && versions.as_ref().is_none_or(|v| v.contains(version))
        })
    }

    /// What the JSON report records (`cooldown`): the cut-off and how it was given.
    pub fn report_json(&self) -> serde_json::Value {
        serde_json::json!({
            "exclude_newer": self.given,
            "cutoff": self.cutoff.to_string(),
            "allow_undated": self.allow_undated,
            "exempt": self
                .exempt
                .iter()
                .map(|(name, versions)| match versions {
                    Some(v) => format!("{name}{v}"),
                    None => name.to_string(),
                })
                .collect::<Vec<_>>(),
        })
    }

    /// Moves the files of every version of `name` that has a file uploaded after the
    /// cut-off, or without an upload time, into `listing.rejected` (`index` names the
    /// listing's index, credential-free). Returns whether any file lacked an upload time.
    pub fn apply(&self, name: &PackageName, index: &str, listing: &mut Listing) -> bool {
        use std::collections::HashMap;
        let mut verdicts: HashMap<pep440_rs::Version, Verdict> = HashMap::new();
        for file in &listing.files {
            let Some(version) =
                DistFilename::parse(&file.filename, name).map(|d| d.version().clone())
            else {
                continue;
            };
            let verdict = match file.upload_time {
                _ if self.exempts(name, &version) => Verdict::Fine,
                None if self.allow_undated => Verdict::Fine,
                None => Verdict::Undated,
                Some(time) if time > self.cutoff => Verdict::TooNew,
                Some(_) => Verdict::Fine,
            };
            let entry = verdicts.entry(version).or_insert(Verdict::Fine);
            *entry = (*entry).max(verdict);
        }
        let mut undated = false;
        let files = std::mem::take(&mut listing.files);
        for file in files {
            let version = DistFilename::parse(&file.filename, name).map(|d| d.version().clone());
            let verdict = version
                .as_ref()
                .and_then(|v| verdicts.get(v))
                .copied()
                .unwrap_or(Verdict::Fine);
            let problem = match (verdict, file.upload_time) {
                (Verdict::Fine, _) => {
                    listing.files.push(file);
                    continue;
                }
                (_, Some(uploaded)) if uploaded > self.cutoff => CooldownProblem::TooNew {
                    uploaded,
                    age: self.age(uploaded),
                    given: self.given.clone(),
                    cutoff: self.cutoff,
                },
                (Verdict::Undated, _) => {
                    undated = true;
                    CooldownProblem::Undated {
                        given: self.given.clone(),
                    }
                }
                (Verdict::TooNew, _) => CooldownProblem::SiblingTooNew {
                    given: self.given.clone(),
                    cutoff: self.cutoff,
                },
            };
            listing.rejected.push(RejectedEntry {
                index: index.to_string(),
                listed: file.filename.to_string(),
                problem: EntryProblem::Cooldown(problem),
            });
        }
        undated
    }

    /// `2 days ago`, `5 hours ago`, `in the future`.
    fn age(&self, uploaded: Timestamp) -> String {
        let seconds = (self.now.unix_micros() - uploaded.unix_micros()) / MICROS_PER_SECOND;
        match seconds {
            s if s < 0 => "in the future".to_string(),
            s if s < 2 * HOUR => format!("{} minutes ago", s / 60),
            s if s < 2 * DAY => format!("{} hours ago", s / HOUR),
            s => format!("{} days ago", s / DAY),
        }
    }
}

/// A version's standing; the worst of its files' wins (`Ord` follows the declaration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Fine,
    TooNew,
    Undated,
}

#[cfg(test)]
mod tests;
