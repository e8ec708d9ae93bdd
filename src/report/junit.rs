//! JUnit XML for Jenkins: one test case per job. Passed = uploaded or built; skipped =
//! present, excluded or marker-skipped, with the reason; failure = the reason and log tail.
//! `--run-id` suffixes names so runs for several platforms merge (devpi-builder's flag).

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::outcome::{JobResult, Outcome};

pub(crate) fn render(
    results: &[JobResult],
    run_id: Option<&str>,
) -> Result<String, quick_junit::SerializeError> {
    let suite_name = match run_id {
        Some(id) => format!("wheelwright.{id}"),
        None => "wheelwright".to_string(),
    };
    let mut suite = TestSuite::new(suite_name.clone());
    for result in results {
        let job = &result.job;
        let mut name = format!("{} ({})", job.label(), job.interpreter.label);
        if let Some(id) = run_id {
            name.push_str(&format!(" [{id}]"));
        }
        let status = match result.outcome {
            Outcome::Uploaded | Outcome::Built | Outcome::Fetched => TestCaseStatus::success(),
            Outcome::Present | Outcome::Excluded | Outcome::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(format!("{}: {}", result.outcome, result.detail));
                status
            }
            Outcome::Failed | Outcome::NotRun => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(result.detail.clone());
                status.set_type(result.outcome.as_str());
                if let Some(tail) = &result.log_tail {
                    status.set_description(tail.clone());
                }
                status
            }
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(format!("{suite_name}.{}", job.project));
        case.set_time(result.duration);
        if let Some(tail) = &result.log_tail {
            case.set_system_err_lossy(tail.as_bytes());
        }
        // The same as the JSON report's `build` (what protected the build).
        if let Some(build) = &result.build {
            let p = &build.protections;
            case.add_property(("sandbox", build.sandbox.as_str()));
            let protections = format!(
                "network={}; filesystem={}; pid-namespace={}; process-budget={}; limits={}",
                p.network, p.filesystem, p.pid_namespace, p.process_budget, p.limits
            );
            case.add_property(("sandbox.protections", protections.as_str()));
            if let Some(missing) = &build.missing {
                case.add_property(("build.missing", missing.summary.as_str()));
            }
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("wheelwright");
    report.add_test_suite(suite);
    report.to_string()
}

pub(crate) fn write(
    path: &Path,
    results: &[JobResult],
    run_id: Option<&str>,
) -> std::io::Result<()> {
    let xml = render(results, run_id).map_err(std::io::Error::other)?;
    super::write_atomically(path, xml.as_bytes())
}
