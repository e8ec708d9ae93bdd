//! Reports: the human table and summary, the JSON report (schema 1) and JUnit XML.

mod json;
pub(crate) mod junit;
pub(crate) mod lock;
pub(crate) mod lock_input;
pub(crate) mod merge;
mod outcome;
mod progress;
pub(crate) mod provenance;
pub(crate) mod pylock;
pub(crate) mod sbom;
mod table;

pub(crate) use json::{fill_json, plan_json, write_atomically, write_json_atomically};
pub(crate) use outcome::{BuildInfo, JobResult, Outcome};
pub(crate) use progress::Progress;
pub(crate) use provenance::{CrateInfo, MissingInfo, SourceFile, WheelFile};
pub(crate) use table::{fill_summary, render_table, summary_line};
