//! The JSON report (`--report-json`), schema 1:
//! `{"schema": 1, "target": ..., "jobs": [...], "unsupported": [...], "summary": {...}}`.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::plan::Plan;

pub fn plan_json(plan: &Plan) -> Value {
    let summary: serde_json::Map<String, Value> = plan
        .counts()
        .into_iter()
        .map(|(action, n)| (action.to_string(), json!(n)))
        .collect();
    json!({
        "schema": 1,
        "target": plan.target,
        "jobs": plan.jobs,
        "unsupported": plan.unsupported,
        "summary": summary,
    })
}

/// Writes next to the destination and renames, so a reader never sees half a report.
pub fn write_json_atomically(path: &Path, value: &Value) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut tmp, value)?;
    tmp.write_all(b"\n")?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
