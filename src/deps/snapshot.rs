//! The remembered `--deps` resolution: an unchanged night asks the upstream for no listing.
//!
//! A solve reads the listing of every project of the closure, so a no-op night with
//! `--deps` would cost one upstream request per project where the pinned no-op costs none.
//! When the upstream can name its content without being listed ([`UpstreamState`]: devpi's
//! serial, a find-links directory's entries, a find-links page), the solved closure is kept
//! under a key of everything the solve read: the requirement and constraint lines, the
//! interpreters, the options that shape candidates, the package settings, the binary
//! version, and that state. A later run with the same key takes the closure as it was,
//! without listing anything; any change of the inputs or of the upstream is a new key, and a
//! state that is only good for a while (a devpi mirror in the chain, see
//! [`UpstreamState::valid_for`]) is not taken after that while.
//!
//! Only successful solves are kept (a conflict is solved again, so its report is current);
//! an unreadable or foreign snapshot is ignored, never an error.

use std::sync::Arc;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pep440_rs::Version;
use pep508_rs::PackageName;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{DepsMode, Member, Solved};
use crate::index::UpstreamState;
use crate::interpreter::Interpreter;
use crate::package_settings::PackageSettings;
use crate::requirements::{HashDigest, ParsedRequirements, RequirementEntry};

/// Bumped when the meaning of a stored snapshot changes.
const FORMAT: u32 = 1;

/// What a solve depends on, hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Key {
    digest: String,
    valid_for: Option<Duration>,
}

/// The inputs of one run's solve.
pub(super) struct KeyInputs<'a> {
    pub mode: DepsMode,
    pub environments: &'a [Vec<usize>],
    pub written: &'a ParsedRequirements,
    pub interpreters: &'a [Arc<Interpreter>],
    pub pre: bool,
    pub versions_all: bool,
    pub packages: &'a PackageSettings,
    pub upstream: &'a UpstreamState,
}

impl Key {
    pub(super) fn new(inputs: &KeyInputs<'_>) -> Key {
        let mut hash = Sha256::new();
        let mut put = |part: &str| {
            hash.update(part.as_bytes());
            hash.update(b"\0");
        };
        put(&format!(
            "wheelwright {} closure snapshot {FORMAT}",
            env!("CARGO_PKG_VERSION")
        ));
        put(&format!(
            "mode {:?} pre {} versions-all {}",
            inputs.mode, inputs.pre, inputs.versions_all
        ));
        put(&format!("environments {:?}", inputs.environments));
        for entry in &inputs.written.requirements {
            put(&entry_key("requirement", entry));
        }
        for entry in &inputs.written.constraints {
            put(&entry_key("constraint", entry));
        }
        let options = &inputs.written.options;
        put(&format!(
            "no-binary {:?} only-binary {:?} pre {}",
            options.no_binary, options.only_binary, options.pre
        ));
        for interpreter in inputs.interpreters {
            put(&format!(
                "interpreter {} {} {:?}",
                interpreter.label,
                interpreter.executable.display(),
                interpreter.markers
            ));
        }
        put(&format!("packages {}", inputs.packages.fingerprint()));
        put(&format!("upstream {}", inputs.upstream.digest));
        Key {
            digest: hex::encode(hash.finalize()),
            valid_for: inputs.upstream.valid_for,
        }
    }

    fn path(&self, cache: &Path) -> PathBuf {
        cache
            .join("resolutions")
            .join(format!("{}.json", self.digest))
    }
}

fn entry_key(kind: &str, entry: &RequirementEntry) -> String {
    let hashes: Vec<String> = entry.hashes.iter().map(ToString::to_string).collect();
    format!(
        "{kind} {} at {} as `{}` hashes {hashes:?} config {:?}",
        entry.requirement, entry.origin, entry.text, entry.config_settings
    )
}

#[derive(Serialize, Deserialize)]
struct StoredFile {
    format: u32,
    key: String,
    /// Seconds since the epoch when the solve was stored.
    taken: u64,
    members: Vec<StoredMember>,
    failed: Vec<StoredFailure>,
}

/// A failed line's solve: (line, interpreter, pinned version under `--versions all`, why).
#[derive(Serialize, Deserialize)]
struct StoredFailure {
    line: usize,
    interpreter: String,
    version: Option<String>,
    reason: String,
}

#[derive(Serialize, Deserialize)]
struct StoredMember {
    name: String,
    version: String,
    via: BTreeMap<String, BTreeSet<String>>,
    roots: BTreeSet<usize>,
    derived_from: Option<usize>,
    hashes: Vec<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The solve stored under `key`, if there is one that is still good.
pub(super) fn load(cache: &Path, key: &Key) -> Option<Solved> {
    let bytes = std::fs::read(key.path(cache)).ok()?;
    let file: StoredFile = serde_json::from_slice(&bytes).ok()?;
    if file.format != FORMAT || file.key != key.digest {
        return None;
    }
    if let Some(valid_for) = key.valid_for
        && now().saturating_sub(file.taken) >= valid_for.as_secs()
    {
        return None;
    }
    let mut members = BTreeMap::new();
    for stored in file.members {
        let name = PackageName::from_str(&stored.name).ok()?;
        let version = Version::from_str(&stored.version).ok()?;
        let hashes = stored
            .hashes
            .iter()
            .map(|h| HashDigest::from_str(h).ok())
            .collect::<Option<Vec<_>>>()?;
        members.insert(
            (name, version),
            Member {
                via: stored.via,
                roots: stored.roots,
                derived_from: stored.derived_from,
                hashes,
            },
        );
    }
    let mut failed: BTreeMap<usize, BTreeMap<_, String>> = BTreeMap::new();
    for stored in file.failed {
        let version = match stored.version {
            Some(v) => Some(Version::from_str(&v).ok()?),
            None => None,
        };
        failed
            .entry(stored.line)
            .or_default()
            .insert((stored.interpreter, version), stored.reason);
    }
    Some(Solved { members, failed })
}

/// Stores `solved` under `key`. A cache that cannot be written costs the next run a solve,
/// nothing else, so failures are ignored; the file appears whole or not at all.
pub(super) fn save(cache: &Path, key: &Key, solved: &Solved) {
    let file = StoredFile {
        format: FORMAT,
        key: key.digest.clone(),
        taken: now(),
        members: solved
            .members
            .iter()
            .map(|((name, version), member)| StoredMember {
                name: name.to_string(),
                version: version.to_string(),
                via: member.via.clone(),
                roots: member.roots.clone(),
                derived_from: member.derived_from,
                hashes: member.hashes.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        failed: solved
            .failed
            .iter()
            .flat_map(|(line, failures)| {
                failures
                    .iter()
                    .map(move |((interpreter, version), reason)| StoredFailure {
                        line: *line,
                        interpreter: interpreter.clone(),
                        version: version.as_ref().map(ToString::to_string),
                        reason: reason.clone(),
                    })
            })
            .collect(),
    };
    let path = key.path(cache);
    let Some(dir) = path.parent() else {
        return;
    };
    let Ok(bytes) = serde_json::to_vec(&file) else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(mut temp) = tempfile::NamedTempFile::new_in(dir) else {
        return;
    };
    if std::io::Write::write_all(&mut temp, &bytes).is_ok() {
        let _ = temp.persist(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsed from the same path each time: the origin (`file:line`) is part of the key.
    fn written(test: &str, text: &str) -> ParsedRequirements {
        let dir = std::env::temp_dir().join(format!("ww-snapshot-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("requirements.txt");
        std::fs::write(&path, text).unwrap();
        crate::requirements::parse_files(&[path], &|_: &str| None).unwrap()
    }

    fn key(written: &ParsedRequirements, upstream: &UpstreamState) -> Key {
        Key::new(&KeyInputs {
            mode: DepsMode::Together,
            environments: &[vec![0]],
            written,
            interpreters: &[],
            pre: false,
            versions_all: false,
            packages: &PackageSettings::default(),
            upstream,
        })
    }

    fn state(digest: &str, valid_for: Option<Duration>) -> UpstreamState {
        UpstreamState {
            digest: digest.into(),
            valid_for,
        }
    }

    fn solved() -> Solved {
        let member = Member {
            via: BTreeMap::from([("cp311".into(), BTreeSet::from(["a 1.0".into()]))]),
            roots: BTreeSet::new(),
            derived_from: Some(0),
            hashes: vec![HashDigest::from_str(&format!("sha256:{}", "ab".repeat(32))).unwrap()],
        };
        Solved {
            members: BTreeMap::from([(
                (
                    PackageName::from_str("b").unwrap(),
                    Version::from_str("2.0").unwrap(),
                ),
                member,
            )]),
            failed: BTreeMap::from([(
                0,
                BTreeMap::from([
                    (("cp38".into(), None), "why".into()),
                    (
                        ("cp39".into(), Some(Version::from_str("1.0").unwrap())),
                        "why not".into(),
                    ),
                ]),
            )]),
        }
    }

    #[test]
    fn the_key_changes_with_the_lines_and_the_upstream() {
        const T: &str = "the_key_changes_with_the";
        let a = written(T, "a>=1\n");
        let upstream = state("u1", None);
        assert_eq!(key(&a, &upstream), key(&written(T, "a>=1\n"), &upstream));
        assert_ne!(key(&a, &upstream), key(&written(T, "a>=2\n"), &upstream));
        assert_ne!(key(&a, &upstream), key(&a, &state("u2", None)));
        assert_ne!(
            key(&a, &upstream),
            key(&written(T, "--only-binary :all:\na>=1\n"), &upstream)
        );
    }

    #[test]
    fn a_stored_solve_comes_back_whole_and_only_under_its_key() {
        const T: &str = "a_stored_solve_comes_bac";
        let cache = tempfile::tempdir().unwrap();
        let lines = written(T, "a\n");
        let here = key(&lines, &state("u1", None));
        assert_eq!(load(cache.path(), &here), None);
        save(cache.path(), &here, &solved());
        assert_eq!(load(cache.path(), &here), Some(solved()));
        assert_eq!(load(cache.path(), &key(&lines, &state("u2", None))), None);
    }

    #[test]
    fn a_state_good_for_a_while_is_not_taken_after_it() {
        const T: &str = "a_state_good_for_a_while";
        let cache = tempfile::tempdir().unwrap();
        let lines = written(T, "a\n");
        let expired = key(&lines, &state("u1", Some(Duration::ZERO)));
        save(cache.path(), &expired, &solved());
        assert_eq!(load(cache.path(), &expired), None);
        let fresh = key(&lines, &state("u1", Some(Duration::from_secs(3600))));
        save(cache.path(), &fresh, &solved());
        assert_eq!(load(cache.path(), &fresh), Some(solved()));
    }

    #[test]
    fn a_damaged_snapshot_is_ignored() {
        const T: &str = "a_damaged_snapshot_is_ig";
        let cache = tempfile::tempdir().unwrap();
        let here = key(&written(T, "a\n"), &state("u1", None));
        std::fs::create_dir_all(cache.path().join("resolutions")).unwrap();
        std::fs::write(here.path(cache.path()), b"{not json").unwrap();
        assert_eq!(load(cache.path(), &here), None);
    }
}
