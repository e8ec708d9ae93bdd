//! From the command line to what a run works with, in two steps: [`Settings`] (everything
//! local, read and checked once, no network) and [`Services`] (the client, the indexes and
//! the store, built once from the settings). The commands pass both down; no stage mutates
//! them.

mod services;
mod settings;

pub(crate) use services::{Login, Services};
pub(crate) use settings::{FillSettings, Settings};
