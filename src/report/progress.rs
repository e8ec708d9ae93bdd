//! Live progress. On a terminal (and `CI` unset): an overall bar with counts per outcome, a
//! line per running build with its elapsed time, and a transfer line with bytes and rate.
//! Elsewhere: plain, timestamped lines on stderr, one per finished unit of work, which is
//! what a Jenkins console wants. `-q` silences both.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::outcome::Outcome;

enum Mode {
    Quiet,
    Plain,
    Bars {
        multi: MultiProgress,
        overall: ProgressBar,
        transfers: ProgressBar,
    },
}

pub(crate) struct Progress {
    mode: Mode,
    counts: Mutex<BTreeMap<Outcome, usize>>,
}

/// A running build's line; it disappears when dropped.
/// A running build's spinner, or (plain output) the build's name: its `ended` line is
/// printed when it is dropped, before the build gives back its `--jobs` slots, so the plain
/// log shows which builds ran beside which.
pub(crate) struct BuildLine {
    bar: Option<ProgressBar>,
    plain: Option<String>,
}

impl Drop for BuildLine {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let Some(what) = self.plain.take() {
            eprintln!("[{}] ended    building {what}", timestamp());
        }
    }
}

impl Progress {
    pub(crate) fn new(total_jobs: usize, quiet: bool) -> Progress {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let mode = if quiet {
            Mode::Quiet
        } else if interactive {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(total_jobs as u64));
            overall.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} jobs  {msg}")
                    .expect("valid template"),
            );
            let transfers = multi.add(ProgressBar::new_spinner());
            transfers.set_style(
                ProgressStyle::with_template(
                    "uploads: {binary_bytes} at {binary_bytes_per_sec}  {msg}",
                )
                .expect("valid template"),
            );
            overall.enable_steady_tick(Duration::from_millis(200));
            Mode::Bars {
                multi,
                overall,
                transfers,
            }
        } else {
            Mode::Plain
        };
        Progress {
            mode,
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// A message line: above the bars, or timestamped on stderr.
    pub(crate) fn line(&self, text: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Plain => eprintln!("[{}] {text}", timestamp()),
            Mode::Bars { multi, .. } => {
                let _ = multi.println(text);
            }
        }
    }

    /// The plan added `jobs` more jobs (it arrives project by project).
    pub(crate) fn planned(&self, jobs: usize) {
        if let Mode::Bars { overall, .. } = &self.mode {
            overall.inc_length(jobs as u64);
        }
    }

    /// `jobs` jobs reached `outcome`.
    pub(crate) fn finished(&self, jobs: usize, outcome: Outcome) {
        let mut counts = self.counts.lock().expect("progress lock");
        *counts.entry(outcome).or_default() += jobs;
        if let Mode::Bars { overall, .. } = &self.mode {
            overall.inc(jobs as u64);
            let text: Vec<String> = counts.iter().map(|(o, n)| format!("{n} {o}")).collect();
            overall.set_message(text.join(", "));
        }
    }

    /// An upload of `bytes` finished.
    pub(crate) fn transferred(&self, bytes: u64, filename: &str) {
        if let Mode::Bars { transfers, .. } = &self.mode {
            transfers.inc(bytes);
            transfers.set_message(filename.to_string());
        }
    }

    /// A line for a running build, showing its elapsed time.
    pub(crate) fn build_started(&self, what: &str) -> BuildLine {
        match &self.mode {
            Mode::Bars { multi, .. } => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  building {msg} ({elapsed})")
                        .expect("valid template"),
                );
                bar.set_message(what.to_string());
                bar.enable_steady_tick(Duration::from_millis(500));
                BuildLine {
                    bar: Some(bar),
                    plain: None,
                }
            }
            Mode::Plain => {
                self.line(&format!("building {what}"));
                BuildLine {
                    bar: None,
                    plain: Some(what.to_string()),
                }
            }
            Mode::Quiet => BuildLine {
                bar: None,
                plain: None,
            },
        }
    }

    pub(crate) fn finish(&self) {
        if let Mode::Bars {
            overall, transfers, ..
        } = &self.mode
        {
            overall.finish_and_clear();
            transfers.finish_and_clear();
        }
    }
}

/// `HH:MM:SS` UTC, without pulling in a date crate.
pub(crate) fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{:02}:{:02}:{:02}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}
