//! `--no-binary` / `--only-binary` name selectors with pip's `:all:` / `:none:` rules
//! (`cmdoptions.handle_mutual_excludes`, `FormatControl.get_allowed_formats`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use pep508_rs::PackageName;

/// A set of projects named by `--no-binary` or `--only-binary`: `:all:` and/or names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageSelector {
    /// `:all:` is in the set.
    pub all: bool,
    /// PEP 503-normalised names.
    pub names: BTreeSet<PackageName>,
}

/// The selector type of `--no-binary` / `--only-binary`.
pub type BinarySelector = PackageSelector;

impl PackageSelector {
    pub fn is_empty(&self) -> bool {
        !self.all && self.names.is_empty()
    }

    fn clear(&mut self) {
        self.all = false;
        self.names.clear();
    }

    /// Adds a comma-separated value to `self`, removing the same names from `other`, exactly
    /// like pip: `:all:` clears both sets and then ignores the rest of the list unless a
    /// `:none:` follows; `:none:` clears `self`; a name moves from `other` to `self`.
    pub fn apply(
        &mut self,
        value: &str,
        other: &mut PackageSelector,
    ) -> Result<(), pep508_rs::InvalidNameError> {
        let mut items: Vec<&str> = value.split(',').collect();
        while let Some(i) = items.iter().position(|s| *s == ":all:") {
            other.clear();
            self.clear();
            self.all = true;
            items.drain(..=i);
            if !items.contains(&":none:") {
                return Ok(());
            }
        }
        for item in items {
            match item {
                ":none:" => self.clear(),
                // pip would add `canonicalize_name("")`, which matches nothing.
                "" => {}
                name => {
                    let name = PackageName::from_str(name)?;
                    other.names.remove(&name);
                    self.names.insert(name);
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for PackageSelector {
    /// The pip spelling, e.g. `:all:,lxml` or `:none:` for the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if self.all {
            parts.push(":all:".into());
        }
        parts.extend(self.names.iter().map(ToString::to_string));
        if parts.is_empty() {
            f.write_str(":none:")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

/// Which distribution formats pip would consider for a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedFormats {
    pub binary: bool,
    pub source: bool,
}

/// pip's `FormatControl.get_allowed_formats`: a name in `--only-binary` wins over the same name in
/// `--no-binary` (they cannot both hold it anyway), names win over `:all:`, and `:all:` in
/// `--only-binary` wins over `:all:` in `--no-binary`.
pub fn allowed_formats(
    no_binary: &PackageSelector,
    only_binary: &PackageSelector,
    name: &PackageName,
) -> AllowedFormats {
    let mut allowed = AllowedFormats {
        binary: true,
        source: true,
    };
    if only_binary.names.contains(name) {
        allowed.source = false;
    } else if no_binary.names.contains(name) {
        allowed.binary = false;
    } else if only_binary.all {
        allowed.source = false;
    } else if no_binary.all {
        allowed.binary = false;
    }
    allowed
}
