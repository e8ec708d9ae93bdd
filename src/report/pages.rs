//! The pages people read, from one JSON report: `--report-html DIR`, `--report-markdown
//! FILE` and their `--previous OLD.json`, for `fill`, `plan` and `report html|markdown`.
//! Saved reports are read as `report merge` reads them (several shards give one page),
//! then through the typed view both renderers share.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::merge::{self, Format, Input, MergeError};
use super::view::{ReportView, ViewError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum PagesError {
    // `error`, not `source`: the message already says it, a "caused by" line would repeat it.
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: not UTF-8 (invalid byte at offset {offset}); reports are UTF-8")]
    NotUtf8 { path: String, offset: usize },
    #[error("{path} is JUnit XML; give a JSON report (--report-json of plan or fill)")]
    NotJson { path: String },
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    View(#[from] ViewError),
    #[error(transparent)]
    Html(#[from] super::html::WriteError),
    #[error("cannot write the Markdown report {path}: {error}")]
    Markdown { path: String, error: std::io::Error },
}

/// A report file as `report merge` takes it: read whole, UTF-8, named as given.
pub(crate) fn read_input(path: &Path) -> Result<Input, PagesError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| PagesError::Read {
        path: name.clone(),
        error,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| PagesError::NotUtf8 {
        path: name.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    Ok(Input { name, text })
}

/// One view of the JSON reports at `paths` (the shards of a run, merged as `report merge`
/// merges them; a single report goes through the same checks).
pub(crate) fn load(paths: &[PathBuf]) -> Result<ReportView, PagesError> {
    let mut inputs = Vec::new();
    for path in paths {
        let input = read_input(path)?;
        if merge::sniff(&input)? == Format::Junit {
            return Err(PagesError::NotJson { path: input.name });
        }
        inputs.push(input);
    }
    let name = match inputs.as_slice() {
        [one] => one.name.clone(),
        _ => format!("the {} merged reports", inputs.len()),
    };
    let merged = merge::merge_json(&inputs)?;
    Ok(ReportView::from_value(&name, merged.report)?)
}

/// `--previous OLD.json`: one report (a merged one is fine), read and checked at the start
/// of the run, before the run writes any report.
pub(crate) fn load_previous(path: Option<&Path>) -> Result<Option<ReportView>, PagesError> {
    path.map(|p| load(&[p.to_path_buf()])).transpose()
}

/// Where the pages go.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Outputs<'a> {
    pub html: Option<&'a Path>,
    pub markdown: Option<&'a Path>,
}

impl Outputs<'_> {
    pub(crate) fn any(&self) -> bool {
        self.html.is_some() || self.markdown.is_some()
    }
}

/// Writes the pages of the report `json` (as `--report-json` writes it) that `outputs` asks
/// for.
pub(crate) fn write(
    json: &Value,
    previous: Option<&ReportView>,
    outputs: Outputs<'_>,
) -> Result<(), PagesError> {
    if !outputs.any() {
        return Ok(());
    }
    let report = ReportView::from_value("this run's report", json.clone())?;
    write_view(&report, previous, outputs)
}

pub(crate) fn write_view(
    report: &ReportView,
    previous: Option<&ReportView>,
    outputs: Outputs<'_>,
) -> Result<(), PagesError> {
    if let Some(dir) = outputs.html {
        super::html::write(dir, report, previous)?;
    }
    if let Some(path) = outputs.markdown {
        let text = super::markdown::render(report, previous);
        super::write_published(path, text.as_bytes()).map_err(|error| PagesError::Markdown {
            path: path.display().to_string(),
            error,
        })?;
    }
    Ok(())
}
