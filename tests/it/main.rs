//! All integration tests compile into this one binary (as uv does), so that one real
//! devpi-server per test process serves every test; each test works on its own user and
//! indexes.

mod support;

mod build;
mod build_deps;
mod build_paths;
mod build_reasons;
mod config;
mod cooldown;
mod declared_envs;
mod deps;
mod deps_options;
mod deps_real;
mod deps_shards;
mod deps_snapshot;
mod devpi_builder;
mod devpi_layout;
mod directory_target;
mod faults;
mod fill;
mod harness;
mod hostile_index;
mod lock;
mod metadata;
mod noop;
mod package_settings;
mod plan;
mod policies;
mod project_status;
mod provenance;
mod pylock;
mod report;
mod report_html;
mod requires_python;
mod rust_build;
mod sandbox;
mod sandbox_budget;
mod served_directory;
mod tls;
mod tls_certs;
mod upstream;
