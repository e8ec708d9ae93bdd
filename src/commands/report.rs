//! `wheelwright report merge`: one JSON report and one JUnit file from the shards of a run;
//! `report html` and `report markdown`: the pages of saved JSON reports. Every input is
//! read and checked before anything is written, so a bad input leaves the outputs as they
//! were (exit 2).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{MergeArgs, RenderArgs, ReportArgs, ReportCommand};
use crate::exit::Failure;
use crate::report::merge::{self, Format, Input};
use crate::report::pages;
use crate::report::{write_atomically, write_json_atomically};

pub fn run(args: ReportArgs) -> Result<ExitCode, Failure> {
    match args.command {
        ReportCommand::Merge(args) => merge(args),
        ReportCommand::Html(args) => render(args, Page::Html),
        ReportCommand::Markdown(args) => render(args, Page::Markdown),
    }
}

#[derive(Clone, Copy)]
enum Page {
    Html,
    Markdown,
}

/// `report html` and `report markdown`: the same pages as `fill --report-html` and
/// `--report-markdown`, from saved JSON reports (merged first when several).
fn render(args: RenderArgs, page: Page) -> Result<ExitCode, Failure> {
    let report = pages::load(&args.inputs).map_err(Failure::input)?;
    let previous = args
        .previous
        .as_deref()
        .map(|p| pages::load(&[p.to_path_buf()]))
        .transpose()
        .map_err(Failure::input)?;
    let outputs = match page {
        Page::Html => pages::Outputs {
            html: Some(&args.output),
            markdown: None,
        },
        Page::Markdown => pages::Outputs {
            html: None,
            markdown: Some(&args.output),
        },
    };
    pages::write_view(&report, previous.as_ref(), outputs).map_err(Failure::input)?;
    let written = match page {
        Page::Html => args.output.join("index.html"),
        Page::Markdown => args.output.clone(),
    };
    println!(
        "wrote {} ({} jobs from {} report{})",
        written.display(),
        report.jobs.len(),
        args.inputs.len(),
        if args.inputs.len() == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

fn merge(args: MergeArgs) -> Result<ExitCode, Failure> {
    let fail = |message: String| Failure::input(anyhow::anyhow!(message));
    let mut json = Vec::new();
    let mut junit = Vec::new();
    for path in &args.inputs {
        for (output, flag) in [
            (&args.report_json, "--report-json"),
            (&args.junit_xml, "--junit-xml"),
        ] {
            if let Some(output) = output
                && same_file(path, output)
            {
                return Err(fail(format!(
                    "{} is both an input and the {flag} output; write the merged report \
                     elsewhere",
                    path.display()
                )));
            }
        }
        let input = pages::read_input(path).map_err(Failure::input)?;
        match merge::sniff(&input).map_err(Failure::input)? {
            Format::Json => json.push(input),
            Format::Junit => junit.push(input),
        }
    }
    check_output(
        &json,
        args.report_json.as_deref(),
        "a JSON report",
        "--report-json",
    )?;
    check_output(
        &junit,
        args.junit_xml.as_deref(),
        "JUnit XML",
        "--junit-xml",
    )?;

    // Merge both before writing either: a bad JUnit file must not leave a new JSON report
    // next to an old JUnit file.
    let merged_json = match json.is_empty() {
        true => None,
        false => Some(merge::merge_json(&json).map_err(Failure::input)?),
    };
    let merged_junit = match junit.is_empty() {
        true => None,
        false => Some(merge::junit::merge(&junit).map_err(Failure::input)?),
    };
    let cannot_write =
        |path: &Path, e: std::io::Error| fail(format!("cannot write {}: {e}", path.display()));
    if let (Some(merged), Some(path)) = (&merged_json, &args.report_json) {
        write_json_atomically(path, &merged.report).map_err(|e| cannot_write(path, e))?;
        let summary = merged.report["summary"]
            .as_object()
            .map(|counts| {
                counts
                    .iter()
                    .filter(|(_, n)| n.as_u64().unwrap_or(0) > 0)
                    .map(|(word, n)| format!("{n} {word}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        println!(
            "merged {} JSON reports into {}: {} jobs{}",
            json.len(),
            path.display(),
            merged.jobs,
            if summary.is_empty() {
                String::new()
            } else {
                format!(" ({summary})")
            }
        );
    }
    if let (Some(merged), Some(path)) = (&merged_junit, &args.junit_xml) {
        write_atomically(path, merged.xml.as_bytes()).map_err(|e| cannot_write(path, e))?;
        let c = merged.counts;
        println!(
            "merged {} JUnit files into {}: {} suites, {} tests ({} failures, {} errors, {} skipped)",
            junit.len(),
            path.display(),
            merged.suites,
            c.tests,
            c.failures,
            c.errors,
            c.skipped
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// An input kind without its output flag (or a flag without inputs) is a mistake in the
/// command line, not something to skip quietly.
fn check_output(
    inputs: &[Input],
    output: Option<&Path>,
    kind: &str,
    flag: &str,
) -> Result<(), Failure> {
    match (inputs.first(), output) {
        (Some(first), None) => Err(Failure::input(anyhow::anyhow!(
            "{} is {kind}: give {flag} FILE for the merged result",
            first.name
        ))),
        (None, Some(_)) => Err(Failure::input(anyhow::anyhow!(
            "{flag} was given but no input is {kind}"
        ))),
        _ => Ok(()),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| -> Option<PathBuf> { p.canonicalize().ok() };
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}
