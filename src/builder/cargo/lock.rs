//! `Cargo.lock`, read as cargo writes it (lock format versions 1 to 4): one `[[package]]`
//! table per crate with `name`, `version`, and for crates from a registry `source` and
//! `checksum` (the sha256 of the `.crate` file). Packages without `source` are the sdist's own
//! (path) crates. Lock format 1 kept checksums in a `[metadata]` table
//! (`"checksum NAME VERSION (SOURCE)" = "HEX"`); those are read too.
//!
//! Everything from the lock reaches file names (the crate cache, the vendor directory), so
//! names, versions and checksums are checked here, once.

use std::fmt;

/// A crate's sha256, as `Cargo.lock` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CrateChecksum(pub [u8; 32]);

impl CrateChecksum {
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for CrateChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// One crate from a registry, pinned by the lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockedCrate {
    /// A crate name: ASCII letters, digits, `-` and `_` (cargo's rule).
    pub name: String,
    /// A SemVer version: ASCII letters, digits, `.`, `-` and `+`.
    pub version: String,
    /// The lock's `source`: `registry+URL` or `sparse+URL`.
    pub source: String,
    pub checksum: CrateChecksum,
}

impl LockedCrate {
    /// `NAME-VERSION`, the name cargo gives the crate's file and directory.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

/// What is wrong with one `[[package]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryProblem {
    NotATable,
    Missing(&'static str),
    NotAString(&'static str),
    BadName,
    BadVersion,
    BadChecksum(String),
    /// A registry crate whose checksum the lock does not record: nothing to verify it by.
    NoChecksum,
    /// `git+...`: a git checkout cannot be verified by a checksum nor fetched as a `.crate`.
    GitSource(String),
    UnknownSource(String),
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotATable => f.write_str("expected a table"),
            Self::Missing(key) => write!(f, "`{key}` is missing"),
            Self::NotAString(key) => write!(f, "`{key}` is not a string"),
            Self::BadName => f.write_str("expected a crate name (ASCII letters, digits, `-`, `_`)"),
            Self::BadVersion => f.write_str("expected a version (ASCII letters, digits, `.-+`)"),
            Self::BadChecksum(c) => write!(f, "checksum `{c}` is not 64 hex digits"),
            Self::NoChecksum => f.write_str(
                "a registry crate without a checksum: the lock cannot vouch for its bytes",
            ),
            Self::GitSource(s) => write!(
                f,
                "comes from git ({s}): offline builds take crates from a registry only"
            ),
            Self::UnknownSource(s) => write!(f, "unknown source kind `{s}`"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CargoLockError {
    #[error("not valid TOML: {0}")]
    Toml(String),
    #[error("`package` is not an array of tables")]
    NoPackages,
    #[error("[[package]] #{index} ({}): {problem}", .label.as_deref().unwrap_or("no name"))]
    Entry {
        /// 1-based position among the `[[package]]` tables.
        index: usize,
        /// `NAME VERSION` as far as they could be read.
        label: Option<String>,
        problem: EntryProblem,
    },
}

/// The registry crates of a lock, sorted and without duplicates.
pub fn parse_lock(text: &str) -> Result<Vec<LockedCrate>, CargoLockError> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| CargoLockError::Toml(e.to_string()))?;
    let old_checksums = table.get("metadata").and_then(|m| m.as_table());
    let packages = match table.get("package") {
        None => return Ok(Vec::new()),
        Some(toml::Value::Array(packages)) => packages,
        Some(_) => return Err(CargoLockError::NoPackages),
    };
    let mut crates = Vec::new();
    for (i, package) in packages.iter().enumerate() {
        let index = i + 1;
        let entry = |label: Option<String>, problem| CargoLockError::Entry {
            index,
            label,
            problem,
        };
        let table = package
            .as_table()
            .ok_or_else(|| entry(None, EntryProblem::NotATable))?;
        let string = |key: &'static str| match table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(EntryProblem::NotAString(key)),
        };
        let name = string("name")
            .and_then(|n| n.ok_or(EntryProblem::Missing("name")))
            .map_err(|p| entry(None, p))?;
        let label = Some(name.chars().take(80).collect::<String>());
        if !valid_name(name) {
            return Err(entry(label, EntryProblem::BadName));
        }
        let version = string("version")
            .and_then(|v| v.ok_or(EntryProblem::Missing("version")))
            .map_err(|p| entry(label.clone(), p))?;
        let label = Some(format!(
            "{name} {}",
            version.chars().take(80).collect::<String>()
        ));
        if !valid_version(version) {
            return Err(entry(label, EntryProblem::BadVersion));
        }
        let Some(source) = string("source").map_err(|p| entry(label.clone(), p))? else {
            // The sdist's own crate (a path dependency or workspace member).
            continue;
        };
        if source.starts_with("git+") {
            return Err(entry(label, EntryProblem::GitSource(source.to_string())));
        }
        if !(source.starts_with("registry+") || source.starts_with("sparse+")) {
            let kind = source.split('+').next().unwrap_or_default().to_string();
            return Err(entry(label, EntryProblem::UnknownSource(kind)));
        }
        let old = old_checksums
            .and_then(|m| m.get(&format!("checksum {name} {version} ({source})")))
            .and_then(|v| v.as_str());
        let checksum = match string("checksum").map_err(|p| entry(label.clone(), p))? {
            Some(c) => Some(c),
            None => old,
        }
        .ok_or_else(|| entry(label.clone(), EntryProblem::NoChecksum))?;
        let checksum = CrateChecksum::parse(checksum).ok_or_else(|| {
            entry(
                label.clone(),
                EntryProblem::BadChecksum(checksum.chars().take(80).collect()),
            )
        })?;
        crates.push(LockedCrate {
            name: name.to_string(),
            version: version.to_string(),
            source: source.to_string(),
            checksum,
        });
    }
    crates.sort();
    crates.dedup();
    Ok(crates)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 128
        && version.as_bytes()[0].is_ascii_digit()
        && !version.contains("..")
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SUM: &str = "65cd87c9a6d60536580b316ad985726104730a5151c99845f2490428ef91240a";

    fn lock(body: &str) -> String {
        format!("version = 4\n\n{body}")
    }

    #[test]
    fn registry_crates_are_read_and_the_sdists_own_crates_skipped() {
        let text = lock(&format!(
            "[[package]]\nname = \"libc\"\nversion = \"0.2.191\"\n\
             source = \"registry+https://example.invalid/index\"\nchecksum = \"{SUM}\"\n\n\
             [[package]]\nname = \"ww-own\"\nversion = \"1.0.0\"\ndependencies = [\"libc\"]\n"
        ));
        let crates = parse_lock(&text).unwrap();
        assert_eq!(crates.len(), 1);
        assert_eq!(crates[0].name, "libc");
        assert_eq!(crates[0].version, "0.2.191");
        assert_eq!(crates[0].checksum.hex(), SUM);
        assert_eq!(crates[0].dir_name(), "libc-0.2.191");
    }

    #[test]
    fn format_one_checksums_come_from_the_metadata_table() {
        let source = "registry+https://example.invalid/index";
        let text = format!(
            "[[package]]\nname = \"libc\"\nversion = \"0.2.1\"\nsource = \"{source}\"\n\n\
             [metadata]\n\"checksum libc 0.2.1 ({source})\" = \"{SUM}\"\n"
        );
        assert_eq!(parse_lock(&text).unwrap()[0].checksum.hex(), SUM);
    }

    fn problem(text: &str) -> (usize, EntryProblem) {
        match parse_lock(text) {
            Err(CargoLockError::Entry { index, problem, .. }) => (index, problem),
            other => panic!("expected an entry error, got {other:?}"),
        }
    }

    #[test]
    fn entries_that_cannot_be_verified_or_are_malformed_are_named() {
        let no_sum = lock(
            "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\
             [[package]]\nname = \"libc\"\nversion = \"0.2.1\"\n\
             source = \"registry+https://example.invalid/index\"\n",
        );
        assert_eq!(problem(&no_sum), (2, EntryProblem::NoChecksum));
        let err = parse_lock(&no_sum).unwrap_err().to_string();
        assert!(err.contains("#2 (libc 0.2.1)"), "{err}");
        let git = lock(
            "[[package]]\nname = \"g\"\nversion = \"0.1.0\"\n\
             source = \"git+https://example.invalid/g.git#abc\"\n",
        );
        assert!(matches!(problem(&git), (1, EntryProblem::GitSource(_))));
        let bad_sum = lock(&format!(
            "[[package]]\nname = \"b\"\nversion = \"1.0.0\"\n\
             source = \"registry+x\"\nchecksum = \"{}\"\n",
            &SUM[1..]
        ));
        assert!(matches!(
            problem(&bad_sum),
            (1, EntryProblem::BadChecksum(_))
        ));
        let traversal = lock(&format!(
            "[[package]]\nname = \"../x\"\nversion = \"1.0.0\"\n\
             source = \"registry+x\"\nchecksum = \"{SUM}\"\n"
        ));
        assert_eq!(problem(&traversal), (1, EntryProblem::BadName));
        let version = lock(&format!(
            "[[package]]\nname = \"x\"\nversion = \"1.0/../../y\"\n\
             source = \"registry+x\"\nchecksum = \"{SUM}\"\n"
        ));
        assert_eq!(problem(&version), (1, EntryProblem::BadVersion));
        assert!(matches!(
            parse_lock("package = 3"),
            Err(CargoLockError::NoPackages)
        ));
        assert!(matches!(
            parse_lock("[[package]"),
            Err(CargoLockError::Toml(_))
        ));
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]

        /// Whatever the text, parsing never panics, and whatever it accepts is safe to put in
        /// a file name.
        #[test]
        fn hostile_locks_never_panic_and_accepted_names_are_plain(
            name in "\\PC{0,20}",
            version in "\\PC{0,20}",
            source in prop_oneof![Just("registry+x".to_string()), "\\PC{0,12}"],
            checksum in prop_oneof![Just(SUM.to_string()), "[0-9a-fA-F]{0,70}", "\\PC{0,10}"],
            noise in "\\PC{0,40}",
        ) {
            let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
            let text = format!(
                "[[package]]\nname = {}\nversion = {}\nsource = {}\nchecksum = {}\n{noise}",
                quoted(&name), quoted(&version), quoted(&source), quoted(&checksum)
            );
            if let Ok(crates) = parse_lock(&text) {
                for c in crates {
                    let dir = c.dir_name();
                    prop_assert!(!dir.contains('/') && !dir.contains("..") && !dir.starts_with('.'));
                    prop_assert_eq!(c.checksum.hex().len(), 64);
                }
            }
            let _ = parse_lock(&noise);
        }
    }
}
