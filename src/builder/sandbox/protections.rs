//! What protected a build, in the words reports write (the JSON report's
//! `jobs[].build.protections`, JUnit's `sandbox.protections`, the build log's first line).

use serde::Serialize;

/// What kept a build off the network. Reports write these words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NetworkProtection {
    /// An empty network namespace (bwrap).
    #[serde(rename = "namespace")]
    Namespace,
    /// seccomp refuses new sockets but AF_UNIX; Landlock (ABI ≥ 4) refuses TCP bind/connect.
    #[serde(rename = "seccomp+landlock")]
    SeccompLandlock,
    /// seccomp alone (a kernel whose Landlock cannot scope TCP).
    #[serde(rename = "seccomp")]
    Seccomp,
    #[serde(rename = "none")]
    None,
}

/// What kept a build from writing outside its directories. Reports write these words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FilesystemProtection {
    /// Read-only binds in a mount namespace (bwrap).
    #[serde(rename = "namespace")]
    Namespace,
    #[serde(rename = "landlock")]
    Landlock,
    #[serde(rename = "none")]
    None,
}

/// The word a report uses, as serde writes it.
fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

impl std::fmt::Display for NetworkProtection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&word(self))
    }
}

impl std::fmt::Display for FilesystemProtection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&word(self))
    }
}

/// Whose processes a build's process cap (`RLIMIT_NPROC`) counts. Reports write these words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProcessBudget {
    /// Only the build's own: its own user namespace (bwrap, Linux ≥ 5.14) or its own uid
    /// (wheelwright runs as root).
    #[serde(rename = "per-build")]
    PerBuild,
    /// Every process of wheelwright's uid: builds running at the same time share one budget,
    /// so one that uses it up starves the others (the built-in layer without root).
    #[serde(rename = "shared")]
    Shared,
    /// No process cap (`--sandbox off`).
    #[serde(rename = "none")]
    None,
}

impl std::fmt::Display for ProcessBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&word(self))
    }
}

/// What protected a build, for reports and the build log's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protections {
    pub network: NetworkProtection,
    pub filesystem: FilesystemProtection,
    pub pid_namespace: bool,
    pub process_budget: ProcessBudget,
    /// The limits that apply under every layer.
    pub limits: String,
}
