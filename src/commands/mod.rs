//! One module per subcommand.
pub mod fill;
pub mod plan;
