//! Compatibility tags (PEP 425, PEP 600 manylinux, PEP 656 musllinux): which wheels an
//! interpreter accepts, and how much it prefers each.
//!
//! The supported list comes from the interpreter probe, ordered like
//! `packaging.tags.sys_tags()` (most preferred first). A wheel fits if any triple of its
//! expanded tag sets is in the list; its priority is the best position among them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::distribution::WheelFilename;

/// One `python-abi-platform` triple, lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    pub python: String,
    pub abi: String,
    pub platform: String,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "invalid compatibility tag `{0}`: expected `python-abi-platform` with three non-empty parts"
)]
pub struct ParseTagError(String);

impl FromStr for Tag {
    type Err = ParseTagError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split('-').collect::<Vec<_>>().as_slice() {
            [py, abi, plat] if !py.is_empty() && !abi.is_empty() && !plat.is_empty() => Ok(Self {
                python: py.to_ascii_lowercase(),
                abi: abi.to_ascii_lowercase(),
                platform: plat.to_ascii_lowercase(),
            }),
            _ => Err(ParseTagError(s.to_string())),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.python, self.abi, self.platform)
    }
}

/// Which part of a wheel's tags an interpreter rejects. Ordered from the furthest miss to
/// the closest (`Python < Abi < Platform`), so the maximum over several files is the most
/// useful reason to print ("only wheels for platform win_amd64"). Each variant carries the
/// wheel's tag field as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IncompatibleTag {
    /// No python tag of the wheel is supported (e.g. `cp27` on 3.11).
    Python(String),
    /// The python tag fits but no ABI tag does (e.g. `cp311d` on a release build).
    Abi(String),
    /// Python and ABI fit, the platform does not (e.g. `win_amd64` on Linux).
    Platform(String),
}

impl fmt::Display for IncompatibleTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Python(tag) => write!(f, "python tag `{tag}` is not supported"),
            Self::Abi(tag) => write!(f, "ABI tag `{tag}` is not supported"),
            Self::Platform(tag) => write!(f, "platform tag `{tag}` is not supported"),
        }
    }
}

/// The outcome of matching one wheel against a [`TagSet`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Compatibility {
    /// Position of the best matching triple in the interpreter's list: 0 is the most
    /// preferred, so a lower number is a better wheel.
    Compatible(u32),
    Incompatible(IncompatibleTag),
}

impl Compatibility {
    pub fn is_compatible(&self) -> bool {
        matches!(self, Self::Compatible(_))
    }

    /// The preference rank when compatible (lower is better).
    pub fn priority(&self) -> Option<u32> {
        match self {
            Self::Compatible(rank) => Some(*rank),
            Self::Incompatible(_) => None,
        }
    }
}

/// An interpreter's supported tags, most preferred first, with O(1) lookup.
///
/// Stored as nested maps `python → abi → platform → rank` (like uv-platform-tags) so a wheel
/// triple is looked up with borrowed `&str`s, and the outer levels tell *why* a miss missed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagSet {
    ordered: Vec<Tag>,
    map: HashMap<String, HashMap<String, HashMap<String, u32>>>,
}

impl TagSet {
    /// Builds the set from tags in preference order. A repeated tag keeps its first rank.
    pub fn new(tags: impl IntoIterator<Item = Tag>) -> Self {
        let mut set = Self::default();
        for tag in tags {
            let rank = u32::try_from(set.ordered.len()).unwrap_or(u32::MAX);
            let slot = set
                .map
                .entry(tag.python.clone())
                .or_default()
                .entry(tag.abi.clone())
                .or_default();
            if !slot.contains_key(&tag.platform) {
                slot.insert(tag.platform.clone(), rank);
                set.ordered.push(tag);
            }
        }
        set
    }

    /// Parses `python-abi-platform` strings (the probe's and the serde format).
    pub fn from_strings<S: AsRef<str>>(
        tags: impl IntoIterator<Item = S>,
    ) -> Result<Self, ParseTagError> {
        let tags = tags
            .into_iter()
            .map(|s| Tag::from_str(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(tags))
    }

    /// The tags in preference order.
    pub fn tags(&self) -> &[Tag] {
        &self.ordered
    }

    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// The rank of one triple, if supported.
    pub fn rank(&self, python: &str, abi: &str, platform: &str) -> Option<u32> {
        let (python, abi, platform) = (lower(python), lower(abi), lower(platform));
        self.map.get(&*python)?.get(&*abi)?.get(&*platform).copied()
    }

    /// Matches a wheel: one hash lookup per expanded triple of the wheel (never a scan of
    /// this set). The best (lowest) rank wins; on a miss, the closest kind of mismatch is
    /// reported.
    pub fn compatibility(&self, wheel: &WheelFilename) -> Compatibility {
        let mut best: Option<u32> = None;
        let mut closest = IncompatibleTag::Python(wheel.python_tags.join("."));
        for (python, abi, platform) in wheel.tags() {
            let Some(abis) = self.map.get(&*lower(python)) else {
                continue;
            };
            let Some(platforms) = abis.get(&*lower(abi)) else {
                if matches!(closest, IncompatibleTag::Python(_)) {
                    closest = IncompatibleTag::Abi(wheel.abi_tags.join("."));
                }
                continue;
            };
            match platforms.get(&*lower(platform)) {
                Some(&rank) => best = Some(best.map_or(rank, |b| b.min(rank))),
                None => closest = IncompatibleTag::Platform(wheel.platform_tags.join(".")),
            }
        }
        match best {
            Some(rank) => Compatibility::Compatible(rank),
            None => Compatibility::Incompatible(closest),
        }
    }
}

/// Tags are case-insensitive (packaging lowercases them); avoid allocating in the common case.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

impl Serialize for TagSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.ordered.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for TagSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let strings = Vec::<String>::deserialize(deserializer)?;
        Self::from_strings(strings).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(tags: &[&str]) -> TagSet {
        TagSet::from_strings(tags).unwrap()
    }

    fn wheel(s: &str) -> WheelFilename {
        s.parse().unwrap()
    }

    const LINUX_311: &[&str] = &[
        "cp311-cp311-manylinux_2_17_x86_64",
        "cp311-cp311-manylinux2014_x86_64",
        "cp311-abi3-manylinux_2_17_x86_64",
        "cp311-none-manylinux_2_17_x86_64",
        "cp310-abi3-manylinux_2_17_x86_64",
        "py311-none-manylinux_2_17_x86_64",
        "py3-none-manylinux_2_17_x86_64",
        "cp311-none-any",
        "py311-none-any",
        "py3-none-any",
        "py310-none-any",
    ];

    #[test]
    fn best_triple_wins() {
        let tags = set(LINUX_311);
        let numpy = wheel("numpy-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
        assert_eq!(tags.compatibility(&numpy), Compatibility::Compatible(0));
        let six = wheel("six-1.0-py2.py3-none-any.whl");
        assert_eq!(tags.compatibility(&six), Compatibility::Compatible(9));
        let abi3 = wheel("x-1.0-cp310-abi3-manylinux_2_17_x86_64.whl");
        assert_eq!(tags.compatibility(&abi3), Compatibility::Compatible(4));
        assert_eq!(tags.rank("PY3", "none", "ANY"), Some(9));
    }

    #[test]
    fn closest_mismatch_is_reported() {
        let tags = set(LINUX_311);
        let win = wheel("x-1.0-cp311-cp311-win_amd64.whl");
        assert_eq!(
            tags.compatibility(&win),
            Compatibility::Incompatible(IncompatibleTag::Platform("win_amd64".into()))
        );
        assert_eq!(
            IncompatibleTag::Platform("win_amd64".into()).to_string(),
            "platform tag `win_amd64` is not supported"
        );
        let debug = wheel("x-1.0-cp311-cp311d-manylinux_2_17_x86_64.whl");
        assert_eq!(
            tags.compatibility(&debug),
            Compatibility::Incompatible(IncompatibleTag::Abi("cp311d".into()))
        );
        let py2 = wheel("x-1.0-cp27-cp27mu-manylinux1_x86_64.whl");
        assert_eq!(
            tags.compatibility(&py2),
            Compatibility::Incompatible(IncompatibleTag::Python("cp27".into()))
        );
        // One python tag fits, the other does not: the closer miss (platform) is reported.
        let mixed = wheel("x-1.0-cp27.cp311-cp311-win_amd64.whl");
        assert!(matches!(
            tags.compatibility(&mixed),
            Compatibility::Incompatible(IncompatibleTag::Platform(_))
        ));
    }

    #[test]
    fn serde_round_trip_and_duplicates() {
        let tags = set(&["py3-none-any", "py3-none-any", "py2-none-any"]);
        assert_eq!(tags.len(), 2);
        let json = serde_json::to_string(&tags).unwrap();
        assert_eq!(json, r#"["py3-none-any","py2-none-any"]"#);
        let back: TagSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, tags);
        let err = serde_json::from_str::<TagSet>(r#"["py3-none"]"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid compatibility tag `py3-none`"),
            "{err}"
        );
    }
}
