//! Reports: the human table and summary, the JSON report (schema 1), JUnit XML, and the
//! pages people read (HTML and Markdown, see `pages`).

pub(crate) mod html;
mod json;
pub(crate) mod junit;
pub(crate) mod lock;
pub(crate) mod lock_input;
pub(crate) mod markdown;
pub(crate) mod merge;
mod outcome;
pub(crate) mod pages;
mod progress;
pub(crate) mod provenance;
pub(crate) mod pylock;
pub(crate) mod sbom;
mod table;
pub(crate) mod view;

pub(crate) use json::{
    RunInfo, fill_json, plan_json, write_atomically, write_json_atomically, write_published,
};
pub(crate) use outcome::{BuildInfo, JobResult, Outcome};
pub(crate) use progress::Progress;
pub(crate) use provenance::{BuildSchedule, CrateInfo, MissingInfo, SourceFile, WheelFile};
pub(crate) use table::{fill_summary, render_table, summary_line};
