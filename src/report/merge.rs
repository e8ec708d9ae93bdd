//! `wheelwright report merge`: joins the reports that shards of one run (`--shard K/N`)
//! wrote into one JSON report (schema 1) and one JUnit XML file, so a Jenkins matrix or a
//! Kubernetes Indexed Job publishes a single result.
//!
//! JSON: jobs in a stable order (project, version, interpreter), the summary recomputed
//! from the jobs, `unsupported` deduplicated (every shard reads every requirements file),
//! `stopped` joined. JUnit: see [`junit`].

pub(crate) mod junit;

use std::cmp::Ordering;
use std::collections::HashSet;
use std::str::FromStr;

use serde_json::{Map, Value, json};

use super::Outcome;
use crate::plan::Action;

/// One file to merge: its name as the user gave it (for messages) and its text.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub name: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum MergeError {
    #[error("{file}:{line}:{column}: invalid JSON: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: not a wheelwright JSON report (schema 1): {reason}")]
    NotReport { file: String, reason: String },
    #[error(
        "the reports are for different targets: {first_file} has `{first}`, {file} has \
         `{target}`; merge only the shards of one run"
    )]
    TargetMismatch {
        first_file: String,
        first: String,
        file: String,
        target: String,
    },
    #[error(
        "{file} is a {kind} report but {first_file} is a {first_kind} report; merge plan and \
         fill reports separately"
    )]
    KindMismatch {
        first_file: String,
        first_kind: &'static str,
        file: String,
        kind: &'static str,
    },
    #[error("{file}:{line}:{column}: malformed XML: {message}")]
    Xml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: not a JUnit XML report: {reason}")]
    NotJunit { file: String, reason: String },
}

/// What a file holds, from its first character (after a BOM and whitespace): reports are
/// told apart by content, not by name, because shard files are often named alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Junit,
}

pub(crate) fn sniff(input: &Input) -> Result<Format, MergeError> {
    let text = input.text.trim_start_matches('\u{feff}').trim_start();
    match text.chars().next() {
        Some('{') => Ok(Format::Json),
        Some('<') => Ok(Format::Junit),
        Some(c) => Err(MergeError::NotReport {
            file: input.name.clone(),
            reason: format!("starts with `{c}`; expected a JSON report (`{{`) or JUnit XML (`<`)"),
        }),
        None => Err(MergeError::NotReport {
            file: input.name.clone(),
            reason: "the file is empty".to_string(),
        }),
    }
}

/// A plan report counts jobs by `action`; a fill report adds `outcome` (and `stopped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plan,
    Fill,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Plan => "plan",
            Kind::Fill => "fill",
        }
    }
}

/// The merged report and what went into it.
#[derive(Debug)]
pub(crate) struct MergedJson {
    pub report: Value,
    pub jobs: usize,
}

struct Parsed<'a> {
    name: &'a str,
    kind: Kind,
    target: String,
    jobs: Vec<Value>,
    unsupported: Vec<Value>,
    stopped: Option<String>,
    /// `run` (absent in reports of older versions).
    run: Option<Value>,
}

/// Merges JSON reports (schema 1) of one plan or fill split into shards.
pub(crate) fn merge_json(inputs: &[Input]) -> Result<MergedJson, MergeError> {
    let parsed = inputs.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
    let Some(first) = parsed.first() else {
        return Err(MergeError::NotReport {
            file: "(none)".to_string(),
            reason: "no JSON report to merge".to_string(),
        });
    };
    for other in &parsed[1..] {
        if other.target != first.target {
            return Err(MergeError::TargetMismatch {
                first_file: first.name.to_string(),
                first: first.target.clone(),
                file: other.name.to_string(),
                target: other.target.clone(),
            });
        }
        if other.kind != first.kind {
            return Err(MergeError::KindMismatch {
                first_file: first.name.to_string(),
                first_kind: first.kind.as_str(),
                file: other.name.to_string(),
                kind: other.kind.as_str(),
            });
        }
    }
    let kind = first.kind;

    let (run, offsets) = merge_runs(&parsed);
    // The same file given twice (overlapping globs) must not count its jobs twice; jobs
    // that merely share a key (two platforms' cp311) are different jobs and both stay.
    let mut seen = HashSet::new();
    let mut jobs: Vec<Value> = parsed
        .iter()
        .zip(offsets)
        .flat_map(|(p, offset)| p.jobs.iter().map(move |job| renumber_slot(job, offset)))
        .filter(|job| seen.insert(job.to_string()))
        .collect();
    jobs.sort_by(compare_jobs);

    let mut unsupported: Vec<Value> = Vec::new();
    for line in parsed.iter().flat_map(|p| p.unsupported.iter()) {
        if !unsupported.contains(line) {
            unsupported.push(line.clone());
        }
    }

    let counted = match kind {
        Kind::Plan => "action",
        Kind::Fill => "outcome",
    };
    let mut summary: Map<String, Value> = match kind {
        Kind::Plan => Action::ALL
            .iter()
            .map(|a| (a.to_string(), json!(0)))
            .collect(),
        Kind::Fill => Outcome::ALL
            .iter()
            .map(|o| (o.to_string(), json!(0)))
            .collect(),
    };
    for job in &jobs {
        // Validated by `parse`: the counted field is a string.
        let word = job[counted].as_str().unwrap_or_default();
        let count = summary.entry(word.to_string()).or_insert(json!(0));
        *count = json!(count.as_u64().unwrap_or(0) + 1);
    }
    if kind == Kind::Fill {
        let builds = jobs.iter().filter(|j| j["built"] == json!(true)).count();
        summary.insert("builds".into(), json!(builds));
    }

    let mut report = json!({
        "schema": 1,
        "target": first.target,
        "jobs": jobs,
        "unsupported": unsupported,
        "summary": summary,
    });
    if let Some(run) = run {
        report["run"] = run;
    }
    if kind == Kind::Fill {
        let mut reasons: Vec<String> = Vec::new();
        for p in &parsed {
            if let Some(reason) = &p.stopped {
                let line = format!("{}: {reason}", p.name);
                if !reasons.contains(&line) {
                    reasons.push(line);
                }
            }
        }
        let stopped = (!reasons.is_empty()).then(|| reasons.join("; "));
        report["stopped"] = json!(stopped);
    }
    let count = report["jobs"].as_array().map_or(0, Vec::len);
    Ok(MergedJson {
        report,
        jobs: count,
    })
}

fn parse(input: &Input) -> Result<Parsed<'_>, MergeError> {
    let name = input.name.as_str();
    let not_report = |reason: String| MergeError::NotReport {
        file: name.to_string(),
        reason,
    };
    let value: Value =
        serde_json::from_str(input.text.trim_start_matches('\u{feff}')).map_err(|e| {
            MergeError::Json {
                file: name.to_string(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            }
        })?;
    let Value::Object(mut object) = value else {
        return Err(not_report("the top level is not an object".to_string()));
    };
    match object.get("schema") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(v) => return Err(not_report(format!("`schema` is {v}, expected 1"))),
        None => return Err(not_report("no `schema` field".to_string())),
    }
    let target = match object.get("target") {
        Some(Value::String(t)) => t.clone(),
        _ => {
            return Err(not_report(
                "`target` is missing or not a string".to_string(),
            ));
        }
    };
    let Some(Value::Array(jobs)) = object.remove("jobs") else {
        return Err(not_report("`jobs` is missing or not an array".to_string()));
    };
    let Some(Value::Array(unsupported)) = object.remove("unsupported") else {
        return Err(not_report(
            "`unsupported` is missing or not an array".to_string(),
        ));
    };
    let stopped = match object.get("stopped") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(not_report(format!(
                "`stopped` is {other}, expected a string or null"
            )));
        }
    };
    let run = object.get("run").filter(|r| r.is_object()).cloned();
    // `fill` always writes `stopped` (null when the run finished); `plan` never does.
    let kind = if object.contains_key("stopped") || jobs.iter().any(|j| j.get("outcome").is_some())
    {
        Kind::Fill
    } else {
        Kind::Plan
    };
    for (i, job) in jobs.iter().enumerate() {
        let field = |key: &str| job.get(key).and_then(Value::as_str);
        let Some(project) = field("project") else {
            return Err(not_report(format!("job {} has no `project` string", i + 1)));
        };
        let version = match job.get("version") {
            None | Some(Value::Null) => "-",
            Some(Value::String(v)) => v.as_str(),
            Some(_) => {
                return Err(not_report(format!(
                    "job {} ({project}): `version` is not a string or null",
                    i + 1
                )));
            }
        };
        let mut required = vec!["interpreter", "action"];
        if kind == Kind::Fill {
            required.push("outcome");
        }
        for key in required {
            if field(key).is_none() {
                return Err(not_report(format!(
                    "job {} ({project} {version}): `{key}` is missing or not a string",
                    i + 1
                )));
            }
        }
    }
    Ok(Parsed {
        name,
        kind,
        target,
        jobs,
        unsupported,
        stopped,
        run,
    })
}

/// One `run` for the merged report (the earliest start, the latest finish, the highest exit
/// code, every shard's build slots), and per input the number its build slots start at:
/// each shard's slot 0 gets its own row in the HTML report's timeline. A report given twice
/// (the same `run`) keeps the same numbers, so its jobs still count once.
fn merge_runs(parsed: &[Parsed]) -> (Option<Value>, Vec<u64>) {
    let mut distinct: Vec<&Value> = Vec::new();
    let mut starts: Vec<u64> = Vec::new();
    let mut offsets = Vec::new();
    let slots = |run: &Value| run["build_slots"].as_u64().unwrap_or(0);
    for p in parsed {
        let Some(run) = &p.run else {
            offsets.push(0);
            continue;
        };
        match distinct.iter().position(|d| *d == run) {
            Some(i) => offsets.push(starts[i]),
            None => {
                let start = distinct.iter().map(|d| slots(d)).sum();
                distinct.push(run);
                starts.push(start);
                offsets.push(start);
            }
        }
    }
    if distinct.is_empty() {
        return (None, offsets);
    }
    let numbers = |key: &'static str| distinct.iter().filter_map(move |r| r[key].as_f64());
    let mut run = json!({
        "started": numbers("started").fold(f64::INFINITY, f64::min),
        "finished": numbers("finished").fold(f64::NEG_INFINITY, f64::max),
        "exit_code": distinct.iter().filter_map(|r| r["exit_code"].as_u64()).max().unwrap_or(0),
    });
    if distinct.iter().any(|r| r.get("build_slots").is_some()) {
        run["build_slots"] = json!(distinct.iter().map(|d| slots(d)).sum::<u64>());
    }
    (Some(run), offsets)
}

/// The job with its `build.schedule.slot` moved up by `offset`.
fn renumber_slot(job: &Value, offset: u64) -> Value {
    let mut job = job.clone();
    if offset > 0
        && let Some(slot) = job.pointer_mut("/build/schedule/slot")
        && let Some(n) = slot.as_u64()
    {
        *slot = json!(n + offset);
    }
    job
}

/// Project, then version (PEP 440 order when both parse, so 10.0 follows 9.0; jobs without
/// a version first), then interpreter. `sort_by` is stable: equal keys keep input order.
fn compare_jobs(a: &Value, b: &Value) -> Ordering {
    let text = |job: &Value, key: &str| job[key].as_str().unwrap_or_default().to_string();
    text(a, "project")
        .cmp(&text(b, "project"))
        .then_with(|| compare_versions(a["version"].as_str(), b["version"].as_str()))
        .then_with(|| text(a, "interpreter").cmp(&text(b, "interpreter")))
}

fn compare_versions(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (
            pep440_rs::Version::from_str(a),
            pep440_rs::Version::from_str(b),
        ) {
            (Ok(va), Ok(vb)) => va.cmp(&vb).then_with(|| a.cmp(b)),
            // Parsable versions before unparsable ones, which compare as text.
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => a.cmp(b),
        },
        (a, b) => a.cmp(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, value: Value) -> Input {
        Input {
            name: name.to_string(),
            text: value.to_string(),
        }
    }

    fn fill_job(project: &str, version: &str, outcome: &str) -> Value {
        json!({"project": project, "version": version, "requirement": project,
               "origin": "r.txt:1", "interpreter": "cp311", "action": "fetch",
               "reason": "", "file": null, "outcome": outcome, "detail": "",
               "sha256": null, "attempts": 0, "retries": [], "duration": 0.5})
    }

    fn fill_report(target: &str, jobs: Vec<Value>, stopped: Option<&str>) -> Value {
        json!({"schema": 1, "target": target, "jobs": jobs,
               "unsupported": [{"origin": "r.txt:9", "requirement": "-e .", "reason": "editable"}],
               "summary": {"bogus": 99}, "stopped": stopped})
    }

    #[test]
    fn each_jobs_build_provenance_is_carried_through_unchanged() {
        let build = json!({
            "sandbox": "bwrap",
            "protections": {"network": "namespace", "filesystem": "namespace",
                            "pid_namespace": true, "limits": "rlimits"},
            "sdist": {"filename": "ww_hatch-1.0.tar.gz", "sha256": "a".repeat(64),
                      "url": "https://devpi.example.org/root/pypi/+f/ww_hatch-1.0.tar.gz"},
            "environment": [{"filename": "hatchling-1.33.0-py3-none-any.whl",
                             "sha256": "b".repeat(64)}],
            "settings": {},
            "interpreter": {"label": "cp311", "path": "/opt/py/bin/python3.11",
                            "version": "3.11.9"},
            "source_date_epoch": 1_700_000_000,
            "duration": 1.25,
            "wheel": {"filename": "ww_hatch-1.0-py3-none-any.whl", "sha256": "c".repeat(64)},
        });
        let mut built = fill_job("ww-hatch", "1.0", "built");
        built["built"] = json!(true);
        built["build"] = build.clone();
        let mut failed = fill_job("ww-no-header", "1.0", "failed");
        failed["build"] = json!({"sandbox": "bwrap", "sdist": null, "environment": [],
                                 "missing": {"kind": "header", "name": "ffi.h",
                                             "debian": "libffi-dev", "summary": "s"}});
        let a = fill_report("./wh", vec![built], None);
        let b = fill_report("./wh", vec![failed.clone()], None);
        let merged = merge_json(&[input("a.json", a), input("b.json", b)]).unwrap();
        let jobs = merged.report["jobs"].as_array().unwrap();
        assert_eq!(jobs[0]["build"], build);
        assert_eq!(jobs[1]["build"], failed["build"]);
        assert_eq!(merged.report["summary"]["builds"], 1);
    }

    #[test]
    fn runs_merge_and_each_shards_build_slots_get_their_own_numbers() {
        let shard = |project: &str, slot: u64, started: f64, code: u64| {
            let mut job = fill_job(project, "1.0", "built");
            job["build"] = json!({"schedule": {"slot": slot, "queued": started,
                                               "started": started, "finished": started + 1.0}});
            let mut report = fill_report("./wh", vec![job], None);
            report["run"] = json!({"started": started, "finished": started + 5.0,
                                   "exit_code": code, "build_slots": 2});
            report
        };
        let a = shard("ww-a", 1, 100.0, 0);
        let b = shard("ww-b", 1, 90.0, 1);
        let merged = merge_json(&[
            input("a.json", a.clone()),
            input("b.json", b),
            input("a-again.json", a),
        ])
        .unwrap();
        let report = &merged.report;
        assert_eq!(
            report["run"],
            json!({"started": 90.0, "finished": 105.0, "exit_code": 1, "build_slots": 4})
        );
        assert_eq!(merged.jobs, 2, "a report given twice counts once");
        let slot = |i: usize| report["jobs"][i]["build"]["schedule"]["slot"].clone();
        assert_eq!((slot(0), slot(1)), (json!(1), json!(3)));
    }

    #[test]
    fn fill_reports_merge_sorted_with_a_recomputed_summary() {
        let a = fill_report(
            "./wh",
            vec![
                fill_job("ww-bravo", "10.0", "uploaded"),
                fill_job("ww-alpha", "2.0", "present"),
            ],
            None,
        );
        let b = fill_report(
            "./wh",
            vec![
                fill_job("ww-bravo", "9.0", "failed"),
                fill_job("ww-alpha", "1.0", "uploaded"),
            ],
            Some("interrupted (SIGTERM)"),
        );
        let merged = merge_json(&[input("a.json", a), input("b.json", b)]).unwrap();
        assert!(merged.report.get("stopped").is_some(), "a fill report");
        let keys: Vec<(String, String)> = merged.report["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| {
                (
                    j["project"].as_str().unwrap().to_string(),
                    j["version"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected = [
            ("ww-alpha", "1.0"),
            ("ww-alpha", "2.0"),
            ("ww-bravo", "9.0"),
            ("ww-bravo", "10.0"),
        ];
        assert_eq!(keys, expected.map(|(p, v)| (p.to_string(), v.to_string())));
        let summary = &merged.report["summary"];
        assert_eq!(summary["uploaded"], 2);
        assert_eq!(summary["present"], 1);
        assert_eq!(summary["failed"], 1);
        assert_eq!(summary["not-run"], 0);
        assert!(summary.get("bogus").is_none());
        assert_eq!(merged.report["unsupported"].as_array().unwrap().len(), 1);
        assert_eq!(merged.report["stopped"], "b.json: interrupted (SIGTERM)");
        assert_eq!(merged.report["schema"], 1);
    }

    #[test]
    fn the_same_file_twice_counts_once_and_plan_reports_count_actions() {
        let job = json!({"project": "ww-alpha", "version": null, "requirement": "ww-alpha",
                         "origin": "r.txt:1", "interpreter": "cp311",
                         "action": "unavailable", "reason": "no such version", "file": null});
        let plan = json!({"schema": 1, "target": "t", "jobs": [job], "unsupported": [],
                          "summary": {}});
        let merged = merge_json(&[input("a.json", plan.clone()), input("a.json", plan)]).unwrap();
        assert!(merged.report.get("stopped").is_none(), "a plan report");
        assert_eq!(merged.jobs, 1);
        assert_eq!(merged.report["summary"]["unavailable"], 1);
        assert_eq!(merged.report["summary"]["fetch"], 0);
        assert!(merged.report.get("stopped").is_none());
    }

    #[test]
    fn different_targets_and_kinds_are_refused_naming_the_files() {
        let a = fill_report("http://h/u/one", vec![], None);
        let b = fill_report("http://h/u/two", vec![], None);
        let err = merge_json(&[input("a.json", a.clone()), input("b.json", b)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.json has `http://h/u/one`"), "{err}");
        assert!(err.contains("b.json has `http://h/u/two`"), "{err}");

        let plan = json!({"schema": 1, "target": "http://h/u/one", "jobs": [],
                          "unsupported": [], "summary": {}});
        let err = merge_json(&[input("a.json", a), input("p.json", plan)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("p.json is a plan report"), "{err}");
    }

    #[test]
    fn files_that_are_not_schema_1_reports_are_refused_with_why() {
        let cases = [
            (json!([1, 2]), "the top level is not an object"),
            (json!({"target": "t"}), "no `schema` field"),
            (
                json!({"schema": 2, "target": "t"}),
                "`schema` is 2, expected 1",
            ),
            (
                json!({"schema": 1, "target": "t", "unsupported": []}),
                "`jobs` is missing",
            ),
            (
                json!({"schema": 1, "target": "t", "jobs": [{"project": "x", "version": "1",
                        "interpreter": "cp311", "action": "fetch"}],
                       "unsupported": [], "stopped": null}),
                "job 1 (x 1): `outcome` is missing",
            ),
        ];
        for (value, why) in cases {
            let err = merge_json(&[input("x.json", value)])
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("x.json: not a wheelwright JSON report"),
                "{err}"
            );
            assert!(err.contains(why), "{err} (expected: {why})");
        }
        let err = merge_json(&[Input {
            name: "bad.json".into(),
            text: "{\n  \"schema\": 1,\n  oops".into(),
        }])
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("bad.json:3:3: invalid JSON"), "{err}");
    }

    #[test]
    fn sniffing_tells_json_from_xml_by_content() {
        let of = |text: &str| {
            sniff(&Input {
                name: "f".into(),
                text: text.into(),
            })
        };
        assert_eq!(of("\u{feff}  {}").unwrap(), Format::Json);
        assert_eq!(of("\n<?xml version=\"1.0\"?><a/>").unwrap(), Format::Junit);
        assert!(of("").unwrap_err().to_string().contains("empty"));
        assert!(of("name,version").unwrap_err().to_string().contains("`n`"));
    }
}
