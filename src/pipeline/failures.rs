//! Failure memory: a build that failed for (project, version, interpreter, sdist) is
//! recorded in the cache dir, and the next nightly run reports it as a known failure instead
//! of compiling the same broken sdist again, until `--retry-failed` or the record expires
//! (`--failure-ttl`). piwheels does the same: failure is the normal case and must be cheap.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::builder::BuildError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KnownFailure {
    pub project: String,
    pub version: String,
    pub interpreter: String,
    pub sdist_sha256: String,
    /// The fingerprint of the package's build settings (patch contents included); empty
    /// when none applied. A changed patch or setting is a new build, not a known failure.
    #[serde(default)]
    pub settings: String,
    /// Seconds since the epoch.
    pub when: u64,
    pub reason: String,
}

/// What identifies a build for the failure memory.
pub(crate) struct FailureKey<'a> {
    pub project: &'a str,
    pub version: &'a str,
    pub interpreter: &'a str,
    pub sdist_sha256: &'a str,
    /// [`crate::package_settings::BuildSettings::fingerprint`].
    pub settings: &'a str,
}

pub(crate) struct FailureMemory {
    pub dir: PathBuf,
    pub ttl: Duration,
    /// `--retry-failed`: look nothing up, but still record new failures.
    pub retry: bool,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl FailureMemory {
    fn path(&self, key: &FailureKey<'_>) -> PathBuf {
        let FailureKey {
            project,
            version,
            interpreter,
            sdist_sha256,
            settings,
        } = key;
        // Without settings the key is what it was before they existed (old records hold).
        let mut text = format!("{project}\0{version}\0{interpreter}\0{sdist_sha256}");
        if !settings.is_empty() {
            text.push_str(&format!("\0{settings}"));
        }
        let digest = Sha256::digest(text.as_bytes());
        self.dir.join(format!("{}.json", hex::encode(digest)))
    }

    /// The recorded failure, if one is known and still fresh.
    pub(crate) fn lookup(&self, key: &FailureKey<'_>) -> Option<KnownFailure> {
        if self.retry {
            return None;
        }
        let bytes = std::fs::read(self.path(key)).ok()?;
        let known: KnownFailure = serde_json::from_slice(&bytes).ok()?;
        (now().saturating_sub(known.when) < self.ttl.as_secs()).then_some(known)
    }

    /// Remembers a failure that will happen again: the build itself failed. Failures of the
    /// machine or the network (sandbox set-up, provisioning, I/O) are not the sdist's fault.
    pub(crate) fn record(&self, key: &FailureKey<'_>, error: &BuildError) {
        let repeatable = error.is_sdist_fault();
        if !repeatable {
            return;
        }
        let known = KnownFailure {
            project: key.project.to_string(),
            version: key.version.to_string(),
            interpreter: key.interpreter.to_string(),
            sdist_sha256: key.sdist_sha256.to_string(),
            settings: key.settings.to_string(),
            when: now(),
            reason: error.to_string(),
        };
        let path = self.path(key);
        if std::fs::create_dir_all(&self.dir).is_ok()
            && let Ok(bytes) = serde_json::to_vec_pretty(&known)
        {
            let _ = std::fs::write(path, bytes);
        }
    }

    /// A success clears an old record (after `--retry-failed`).
    pub(crate) fn forget(&self, key: &FailureKey<'_>) {
        let _ = std::fs::remove_file(self.path(key));
    }
}

/// "3h ago", "2 days ago".
pub(super) fn age(when: u64) -> String {
    let secs = now().saturating_sub(when);
    match secs {
        0..=119 => format!("{secs}s ago"),
        120..=7199 => format!("{} min ago", secs / 60),
        7200..=172_799 => format!("{}h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(settings: &'a str) -> FailureKey<'a> {
        FailureKey {
            project: "six",
            version: "1.0",
            interpreter: "cp311 /usr/bin/python3.11",
            sdist_sha256: "ab",
            settings,
        }
    }

    #[test]
    fn settings_are_part_of_the_key_and_no_settings_keep_the_old_key() {
        let memory = FailureMemory {
            dir: PathBuf::from("/failures"),
            ttl: Duration::from_secs(60),
            retry: false,
        };
        let old = Sha256::digest(b"six\x001.0\x00cp311 /usr/bin/python3.11\x00ab");
        assert_eq!(
            memory.path(&key("")),
            PathBuf::from(format!("/failures/{}.json", hex::encode(old)))
        );
        assert_ne!(memory.path(&key("f1")), memory.path(&key("")));
        assert_ne!(memory.path(&key("f1")), memory.path(&key("f2")));
    }
}
