//! Unit tests of the planner against in-memory listings ([`memory::Memory`]): what each
//! requirement, interpreter and index state plans to, down to the version, the file and the
//! reason. The integration tests plan against real servers.

mod memory;
mod presence;
mod python;
mod selection;
mod settings;
mod tags;
