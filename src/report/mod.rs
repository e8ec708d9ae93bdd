//! Reports: the human table and summary, and the JSON report (schema 1).

mod json;
mod table;

pub use json::{write_json_atomically, plan_json};
pub use table::{render_table, summary_line};
