//! One module per subcommand.
pub mod assets;
pub mod fill;
pub mod plan;
pub mod report;
