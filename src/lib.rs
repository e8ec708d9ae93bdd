//! wheelwright: keeps a Python package index filled with wheels.
//!
//! Modules follow the pipeline: `requirements` → `plan` (with `index`, `interpreter`,
//! `dist`) → acquisition (`store`, `build`) → upload (`index`) → `report`.
pub mod build;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dist;
pub mod exit;
pub mod index;
pub mod interpreter;
pub mod netrc;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod report;
pub mod requirements;
pub mod resolve;
pub mod setup;
pub mod store;
