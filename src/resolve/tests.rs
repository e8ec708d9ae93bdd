//! Unit tests with an in-memory metadata source; property tests in `prop`.

mod listing;
mod memory;
mod prop;
mod ranges;
mod real_shapes;
mod solve;
