//! Declared target environments: a platform and a Python named on the command line
//! (`--env cp312-win_amd64`) rather than probed from an interpreter we can run. From the
//! spelling alone this module computes what a probe would have reported there: the ordered
//! compatibility tags (`packaging.tags.sys_tags()` on that machine) and the PEP 508 marker
//! environment. See `docs/environments.md`.

mod markers;
mod spelling;
mod tags;

pub use spelling::{
    DeclaredEnvironment, EnvironmentSpellingError, Implementation, LinuxArch, MacArch,
    OLDEST_PYTHON, Platform, SpellingProblem, WindowsArch,
};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
