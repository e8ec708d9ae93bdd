//! Running the `wheelwright` binary and reading what it said: one [`Run`] for every test
//! that inspects a run's exit code, stdout, stderr or JSON report, and the two commands
//! most tests run, [`fill`] and [`plan`], with their requirements written into the test's
//! home and a `--report-json` report read back.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::wheelwright_with_home;

/// What one run of the binary left: exit code (`-1` when a signal ended it), stdout and
/// stderr (lossy UTF-8), and its JSON report (`Value::Null` when none was written, as
/// when the run stopped before planning).
#[derive(Debug)]
pub(crate) struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    pub report: Value,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            report: Value::Null,
        }
    }
}

impl Run {
    pub(crate) fn code(&self) -> i32 {
        self.code
    }

    pub(crate) fn stdout(&self) -> &str {
        &self.stdout
    }

    pub(crate) fn stderr(&self) -> &str {
        &self.stderr
    }

    /// The run with the JSON report at `path` attached (`Null` when the file is missing; a
    /// file that is not JSON fails the test).
    pub(crate) fn with_report(mut self, path: &Path) -> Run {
        self.report = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display())),
            Err(_) => Value::Null,
        };
        self
    }

    /// Fails the test unless the run exited with `code`, showing both streams.
    #[track_caller]
    pub(crate) fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The report's jobs (fails the test when there is no report).
    #[track_caller]
    pub(crate) fn jobs(&self) -> &[Value] {
        self.report["jobs"].as_array().unwrap_or_else(|| {
            panic!(
                "no jobs in the report; stdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// `(project, version, outcome)` per job of a fill report (`-` for a range that did
    /// not resolve).
    pub(crate) fn outcomes(&self) -> Vec<(String, String, String)> {
        self.jobs()
            .iter()
            .map(|j| (text(j, "project"), text(j, "version"), text(j, "outcome")))
            .collect()
    }

    /// `(project, action)` per job of a plan report.
    pub(crate) fn actions(&self) -> Vec<(String, String)> {
        self.jobs()
            .iter()
            .map(|j| (text(j, "project"), text(j, "action")))
            .collect()
    }

    /// The summary's count of `key` (an outcome, an action or `builds`); 0 when absent.
    pub(crate) fn count(&self, key: &str) -> u64 {
        self.report["summary"][key].as_u64().unwrap_or(0)
    }
}

/// A job's string field, `-` when it has none.
fn text(job: &Value, key: &str) -> String {
    job[key].as_str().unwrap_or("-").to_string()
}

/// The first job of `project` in the run's report.
#[track_caller]
pub(crate) fn job<'a>(run: &'a Run, project: &str) -> &'a Value {
    run.jobs()
        .iter()
        .find(|j| j["project"] == project)
        .unwrap_or_else(|| panic!("no job for {project} in {:#}", run.report))
}

/// The first job of `project` in a JSON report read from a file.
#[track_caller]
pub(crate) fn report_job<'a>(report: &'a Value, project: &str) -> &'a Value {
    report["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in {report}"))
        .iter()
        .find(|j| j["project"] == project)
        .unwrap_or_else(|| panic!("no job for {project} in {report:#}"))
}

/// Runs `command` to its end.
pub(crate) fn run(command: &mut Command) -> Run {
    Run::from(command.output().expect("run wheelwright"))
}

/// `wheelwright fill HOME/requirements.txt ARGS --report-json HOME/report.json` with
/// `HOME` (and the cache under it) shared by the runs of one test, and `env` added.
pub(crate) fn fill(home: &Path, requirements: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    with_report(home, "fill", requirements, args, env, "report.json")
}

/// `wheelwright plan HOME/requirements.txt ARGS --report-json HOME/plan.json`, as [`fill`].
pub(crate) fn plan(home: &Path, requirements: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    with_report(home, "plan", requirements, args, env, "plan.json")
}

fn with_report(
    home: &Path,
    command: &str,
    requirements: &str,
    args: &[&str],
    env: &[(&str, &str)],
    report_name: &str,
) -> Run {
    let reqs = home.join("requirements.txt");
    std::fs::write(&reqs, requirements).unwrap();
    let report = home.join(report_name);
    let _ = std::fs::remove_file(&report);
    let mut cmd = wheelwright_with_home(home);
    cmd.arg(command)
        .arg(&reqs)
        .args(args)
        .arg("--report-json")
        .arg(&report)
        .envs(env.iter().copied());
    run(&mut cmd).with_report(&report)
}
