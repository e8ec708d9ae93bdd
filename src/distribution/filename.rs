//! Distribution filenames: wheels (PEP 427, "binary distribution format") and sdists (PEP 625,
//! plus the older `Foo-Bar-1.0.zip` forms that indexes still list).
//!
//! Every type keeps the text it was parsed from, so `Display` prints the input back exactly;
//! comparisons go through the normalised `PackageName` (PEP 503) and `Version` (PEP 440).

use std::fmt;
use std::str::FromStr;

use pep440_rs::{Version, VersionParseError};
use pep508_rs::{InvalidNameError, PackageName};

/// Why a filename is not a valid distribution filename. Every variant names the file.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FilenameError {
    #[error("`{0}` is not a wheel filename: it does not end in `.whl`")]
    NotAWheel(String),
    #[error(
        "wheel filename `{filename}` has {parts} dash-separated parts; expected \
         `name-version[-build]-python-abi-platform.whl` (5 or 6 parts)"
    )]
    WheelPartCount { filename: String, parts: usize },
    #[error("wheel filename `{filename}` has an invalid project name `{name}`: {source}")]
    InvalidName {
        filename: String,
        name: String,
        #[source]
        source: InvalidNameError,
    },
    #[error("`{filename}` has an invalid version `{version}`: {source}")]
    InvalidVersion {
        filename: String,
        version: String,
        #[source]
        source: VersionParseError,
    },
    #[error(
        "wheel filename `{filename}` has build tag `{build}`, which must start with a digit (PEP 427)"
    )]
    InvalidBuildTag { filename: String, build: String },
    #[error("wheel filename `{filename}` has an empty {part} tag")]
    EmptyTag {
        filename: String,
        part: &'static str,
    },
    #[error(
        "`{0}` is not an sdist filename: expected `.tar.gz`, `.tgz`, `.tar.bz2`, `.tar.xz`, `.tar` or `.zip`"
    )]
    NotAnSdist(String),
    #[error("sdist filename `{filename}` does not start with `{expected}-<version>`")]
    SdistNameMismatch { filename: String, expected: String },
}

/// A parsed wheel filename:
/// `{name}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    /// PEP 503 normalised name (`Foo_Bar` → `foo-bar`).
    pub name: PackageName,
    pub version: Version,
    /// As written; PEP 427 requires it to start with a digit (see [`Self::build_number`]).
    pub build_tag: Option<String>,
    /// Compressed tag sets split on `.` (`py2.py3` → `["py2", "py3"]`), as written.
    pub python_tags: Vec<String>,
    pub abi_tags: Vec<String>,
    pub platform_tags: Vec<String>,
    /// The name and version exactly as written, so `Display` reproduces the input.
    raw_name: String,
    raw_version: String,
}

impl WheelFilename {
    /// The name as written in the filename (e.g. `Foo_Bar`).
    pub fn raw_name(&self) -> &str {
        &self.raw_name
    }

    /// The version as written in the filename (e.g. `1.0` where another file says `1.0.0`).
    pub fn raw_version(&self) -> &str {
        &self.raw_version
    }

    /// Every (python, abi, platform) triple of the compressed tag sets (PEP 425: the
    /// cartesian product of the `.`-separated alternatives).
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.python_tags.iter().flat_map(move |py| {
            self.abi_tags.iter().flat_map(move |abi| {
                self.platform_tags
                    .iter()
                    .map(move |plat| (py.as_str(), abi.as_str(), plat.as_str()))
            })
        })
    }

    /// `true` when the wheel runs anywhere its python tag allows: every ABI is `none` and
    /// every platform is `any`.
    pub fn is_pure(&self) -> bool {
        self.abi_tags.iter().all(|abi| abi == "none")
            && self.platform_tags.iter().all(|plat| plat == "any")
    }

    /// The python tag field as written (`py2.py3`), which the upload API calls `pyversion`.
    pub fn python_tag_field(&self) -> String {
        self.python_tags.join(".")
    }

    /// The build tag split as PEP 427 sorts it: `(leading digits as a number, rest)`.
    pub fn build_number(&self) -> Option<(u64, &str)> {
        let build = self.build_tag.as_deref()?;
        let digits = build.bytes().take_while(u8::is_ascii_digit).count();
        // Validated at parse time to start with a digit; saturate absurdly long numbers.
        let number = build[..digits].parse().unwrap_or(u64::MAX);
        Some((number, &build[digits..]))
    }
}

impl FromStr for WheelFilename {
    type Err = FilenameError;

    fn from_str(filename: &str) -> Result<Self, Self::Err> {
        let stem = filename
            .strip_suffix(".whl")
            .ok_or_else(|| FilenameError::NotAWheel(filename.to_string()))?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (raw_name, raw_version, build_tag, py, abi, plat) = match parts.as_slice() {
            [n, v, py, abi, plat] => (*n, *v, None, *py, *abi, *plat),
            [n, v, b, py, abi, plat] => (*n, *v, Some(*b), *py, *abi, *plat),
            _ => {
                return Err(FilenameError::WheelPartCount {
                    filename: filename.to_string(),
                    parts: parts.len(),
                });
            }
        };
        let name = parse_name(filename, raw_name)?;
        let version = parse_version(filename, raw_version)?;
        if let Some(build) = build_tag
            && !build.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(FilenameError::InvalidBuildTag {
                filename: filename.to_string(),
                build: build.to_string(),
            });
        }
        let split_tags = |field: &str, part: &'static str| -> Result<Vec<String>, FilenameError> {
            let tags: Vec<String> = field.split('.').map(str::to_string).collect();
            if tags.iter().any(String::is_empty) {
                return Err(FilenameError::EmptyTag {
                    filename: filename.to_string(),
                    part,
                });
            }
            Ok(tags)
        };
        Ok(Self {
            name,
            version,
            build_tag: build_tag.map(str::to_string),
            python_tags: split_tags(py, "python")?,
            abi_tags: split_tags(abi, "abi")?,
            platform_tags: split_tags(plat, "platform")?,
            raw_name: raw_name.to_string(),
            raw_version: raw_version.to_string(),
        })
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.raw_name, self.raw_version)?;
        if let Some(build) = &self.build_tag {
            write!(f, "-{build}")?;
        }
        write!(
            f,
            "-{}-{}-{}.whl",
            self.python_tags.join("."),
            self.abi_tags.join("."),
            self.platform_tags.join(".")
        )
    }
}

/// The archive formats sdists come in. PEP 625 allows only `.tar.gz`; the rest are older
/// forms pip still accepts (`pip._internal.utils.filetypes`) and devpi still stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdistExtension {
    TarGz,
    Tgz,
    TarBz2,
    TarXz,
    Tar,
    Zip,
}

impl SdistExtension {
    const ALL: [(Self, &'static str); 6] = [
        (Self::TarGz, ".tar.gz"),
        (Self::Tgz, ".tgz"),
        (Self::TarBz2, ".tar.bz2"),
        (Self::TarXz, ".tar.xz"),
        (Self::Tar, ".tar"),
        (Self::Zip, ".zip"),
    ];

    /// The extension including its leading dot.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(ext, _)| *ext == self)
            .map_or("", |(_, s)| s)
    }

    /// Splits `filename` into (stem, extension) when it ends in a known sdist extension.
    fn split(filename: &str) -> Option<(&str, Self)> {
        Self::ALL
            .iter()
            .find_map(|(ext, suffix)| Some((filename.strip_suffix(suffix)?, *ext)))
    }
}

impl fmt::Display for SdistExtension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed sdist filename `{name}-{version}{extension}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SdistFilename {
    pub name: PackageName,
    pub version: Version,
    pub extension: SdistExtension,
    raw_name: String,
    raw_version: String,
}

impl SdistFilename {
    /// Parses an sdist filename of the project `expected_name`.
    ///
    /// Older sdists put unescaped names with dashes in the filename, so `a-1-1.tar.gz` is
    /// either `a` version `1-1` (= `1.post1`) or `a-1` version `1`. Like pip
    /// (`_find_name_version_sep`), take the first `-` after which the prefix normalises to
    /// the expected project name.
    pub fn parse(filename: &str, expected_name: &PackageName) -> Result<Self, FilenameError> {
        let (stem, extension) = SdistExtension::split(filename)
            .ok_or_else(|| FilenameError::NotAnSdist(filename.to_string()))?;
        let (raw_name, raw_version) = split_name_version(stem, expected_name).ok_or_else(|| {
            FilenameError::SdistNameMismatch {
                filename: filename.to_string(),
                expected: expected_name.to_string(),
            }
        })?;
        Ok(Self {
            name: expected_name.clone(),
            version: parse_version(filename, raw_version)?,
            extension,
            raw_name: raw_name.to_string(),
            raw_version: raw_version.to_string(),
        })
    }

    pub fn raw_name(&self) -> &str {
        &self.raw_name
    }

    pub fn raw_version(&self) -> &str {
        &self.raw_version
    }
}

impl fmt::Display for SdistFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}{}",
            self.raw_name, self.raw_version, self.extension
        )
    }
}

/// A wheel or sdist of one project, as found in an index listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DistFilename {
    Wheel(WheelFilename),
    Sdist(SdistFilename),
}

/// Suffixes of files indexes list next to distributions that are not distributions we use:
/// PEP 658 metadata, signatures, devpi documentation zips, eggs and installers.
const NOT_DISTRIBUTIONS: &[&str] = &[
    ".metadata",
    ".asc",
    ".sig",
    ".doc.zip",
    ".egg",
    ".exe",
    ".msi",
    ".rpm",
    ".dmg",
    ".deb",
];

impl DistFilename {
    /// Parses an index entry of the project `expected_name`. Anything that is not a wheel or
    /// sdist of that project (devpi's bare version links, `.egg`, `.exe`, `.doc.zip`,
    /// `.whl.metadata`, a wheel of another project) is `None`; so is a malformed name
    /// (use [`Self::try_parse`] to see why).
    pub fn parse(filename: &str, expected_name: &PackageName) -> Option<Self> {
        Self::try_parse(filename, expected_name).ok().flatten()
    }

    /// Like [`Self::parse`], but a file that looks like a distribution of this project and
    /// still does not parse (bad version, bad build tag) is an error the caller can warn about.
    pub fn try_parse(
        filename: &str,
        expected_name: &PackageName,
    ) -> Result<Option<Self>, FilenameError> {
        let lower = filename.to_ascii_lowercase();
        if NOT_DISTRIBUTIONS
            .iter()
            .any(|suffix| lower.ends_with(suffix))
        {
            return Ok(None);
        }
        if filename.ends_with(".whl") {
            // A wheel name never contains `-`, so the first part says whose wheel it is.
            let first = filename.split('-').next().unwrap_or_default();
            if PackageName::from_str(first).ok().as_ref() != Some(expected_name) {
                return Ok(None);
            }
            return WheelFilename::from_str(filename).map(|w| Some(Self::Wheel(w)));
        }
        match SdistFilename::parse(filename, expected_name) {
            Ok(sdist) => Ok(Some(Self::Sdist(sdist))),
            Err(FilenameError::NotAnSdist(_) | FilenameError::SdistNameMismatch { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    pub fn name(&self) -> &PackageName {
        match self {
            Self::Wheel(w) => &w.name,
            Self::Sdist(s) => &s.name,
        }
    }

    pub fn version(&self) -> &Version {
        match self {
            Self::Wheel(w) => &w.version,
            Self::Sdist(s) => &s.version,
        }
    }
}

impl fmt::Display for DistFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wheel(w) => w.fmt(f),
            Self::Sdist(s) => s.fmt(f),
        }
    }
}

/// Splits `{name}-{version}` at the first `-` whose prefix normalises to `expected`
/// (pip's `_find_name_version_sep`). Also used for `*.dist-info` directory names.
pub(crate) fn split_name_version<'a>(
    stem: &'a str,
    expected: &PackageName,
) -> Option<(&'a str, &'a str)> {
    stem.match_indices('-').find_map(|(i, _)| {
        let prefix = &stem[..i];
        (PackageName::from_str(prefix).ok().as_ref() == Some(expected))
            .then(|| (prefix, &stem[i + 1..]))
    })
}

fn parse_name(filename: &str, raw: &str) -> Result<PackageName, FilenameError> {
    PackageName::from_str(raw).map_err(|source| FilenameError::InvalidName {
        filename: filename.to_string(),
        name: raw.to_string(),
        source,
    })
}

fn parse_version(filename: &str, raw: &str) -> Result<Version, FilenameError> {
    Version::from_str(raw).map_err(|source| FilenameError::InvalidVersion {
        filename: filename.to_string(),
        version: raw.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    #[test]
    fn wheel_round_trips_with_build_tag_and_compressed_sets() {
        for input in [
            "Foo_Bar-1.0.0-1build-py2.py3-none-any.whl",
            "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "six-1.16.0-py2.py3-none-any.whl",
            "zope.interface-6.0-cp39-cp39-macosx_10_9_x86_64.whl",
        ] {
            let wheel = WheelFilename::from_str(input).unwrap();
            assert_eq!(wheel.to_string(), input);
        }
        let wheel = WheelFilename::from_str("Foo_Bar-1.0.0-1build-py2.py3-none-any.whl").unwrap();
        assert_eq!(wheel.name, name("foo-bar"));
        assert_eq!(wheel.raw_name(), "Foo_Bar");
        assert_eq!(wheel.version, Version::from_str("1").unwrap());
        assert_eq!(wheel.build_number(), Some((1, "build")));
        assert_eq!(
            wheel.tags().collect::<Vec<_>>(),
            [("py2", "none", "any"), ("py3", "none", "any")]
        );
        assert!(wheel.is_pure());
        assert_eq!(wheel.python_tag_field(), "py2.py3");
    }

    #[test]
    fn wheel_expands_compressed_platforms() {
        let wheel = WheelFilename::from_str(
            "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(
            wheel.tags().collect::<Vec<_>>(),
            [
                ("cp311", "cp311", "manylinux_2_17_x86_64"),
                ("cp311", "cp311", "manylinux2014_x86_64")
            ]
        );
        assert!(!wheel.is_pure());
        assert!(
            !WheelFilename::from_str("a-1-py3-none-win_amd64.whl")
                .unwrap()
                .is_pure()
        );
    }

    #[test]
    fn wheel_errors_name_the_file_and_the_part() {
        let err = WheelFilename::from_str("foo-1.0-py3-none.whl").unwrap_err();
        assert!(
            err.to_string()
                .contains("`foo-1.0-py3-none.whl` has 4 dash-separated parts")
        );
        let err = WheelFilename::from_str("foo-1.0-x1-py3-none-any.whl").unwrap_err();
        assert!(
            matches!(err, FilenameError::InvalidBuildTag { .. }),
            "{err}"
        );
        let err = WheelFilename::from_str("foo-one-py3-none-any.whl").unwrap_err();
        assert!(err.to_string().contains("invalid version `one`"), "{err}");
        let err = WheelFilename::from_str("foo-1-py3..-none-any.whl").unwrap_err();
        assert!(err.to_string().contains("empty python tag"), "{err}");
        assert!(matches!(
            WheelFilename::from_str("foo-1.0.tar.gz"),
            Err(FilenameError::NotAWheel(_))
        ));
    }

    #[test]
    fn sdist_names_are_split_knowing_the_project() {
        let a = SdistFilename::parse("a-1-1.tar.gz", &name("a")).unwrap();
        assert_eq!(a.version, Version::from_str("1.post1").unwrap());
        let a1 = SdistFilename::parse("a-1-1.tar.gz", &name("a-1")).unwrap();
        assert_eq!(a1.version, Version::from_str("1").unwrap());
        assert_eq!(a1.to_string(), "a-1-1.tar.gz");
        let old = SdistFilename::parse("Foo.Bar-2.0.zip", &name("foo-bar")).unwrap();
        assert_eq!(old.extension, SdistExtension::Zip);
        assert_eq!(old.raw_name(), "Foo.Bar");
        assert_eq!(old.to_string(), "Foo.Bar-2.0.zip");
        let tgz = SdistFilename::parse("foo_bar-1.0.tgz", &name("Foo-Bar")).unwrap();
        assert_eq!(tgz.extension, SdistExtension::Tgz);
        let err = SdistFilename::parse("other-1.0.tar.gz", &name("foo")).unwrap_err();
        assert!(
            err.to_string()
                .contains("does not start with `foo-<version>`"),
            "{err}"
        );
    }

    #[test]
    fn index_noise_is_skipped_quietly() {
        let foo = name("foo");
        for noise in [
            "1.0",
            "foo-1.0.doc.zip",
            "foo-1.0-py2.7.egg",
            "foo-1.0.win32.exe",
            "foo-1.0-py3-none-any.whl.metadata",
            "foo-1.0.tar.gz.asc",
            "bar-1.0-py3-none-any.whl",
            "bar-1.0.tar.gz",
            "+searchhelp",
        ] {
            assert_eq!(DistFilename::parse(noise, &foo), None, "{noise}");
        }
        assert!(matches!(
            DistFilename::parse("Foo-1.0-py3-none-any.whl", &foo),
            Some(DistFilename::Wheel(_))
        ));
        let sdist = DistFilename::parse("foo-1.0.tar.gz", &foo).unwrap();
        assert_eq!(sdist.version(), &Version::from_str("1.0.0").unwrap());
        assert!(DistFilename::try_parse("foo-notaversion.tar.gz", &foo).is_err());
    }
}
