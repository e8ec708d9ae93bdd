//! Reports: the human table and summary, the JSON report (schema 1) and JUnit XML.

mod json;
pub mod junit;
pub mod lock;
pub mod lock_input;
pub mod merge;
mod outcome;
mod progress;
pub mod provenance;
pub mod sbom;
mod table;

pub use json::{fill_json, plan_json, write_atomically, write_json_atomically};
pub use outcome::{BuildInfo, JobResult, Outcome};
pub use progress::{BuildLine, Progress, timestamp};
pub use provenance::{CrateInfo, MissingInfo, SourceFile, WheelFile};
pub use table::{fill_summary, render_table, summary_line};
