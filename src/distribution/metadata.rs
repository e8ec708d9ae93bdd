//! Reading a wheel's `*.dist-info/METADATA` (core metadata, RFC 822 headers) and `WHEEL`
//! (PEP 427) straight from the zip on disk, without extracting it or loading it whole.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use mailparse::{MailHeader, MailHeaderMap};
use pep440_rs::Version;
use pep508_rs::PackageName;
use zip::ZipArchive;
use zip::result::ZipError;

use crate::distribution::filename::split_name_version;
use crate::distribution::{FilenameError, WheelFilename};

/// METADATA carries the long description, which can be large but not unbounded.
pub(crate) const MAX_METADATA_BYTES: u64 = 64 * 1024 * 1024;
const MAX_WHEEL_FILE_BYTES: u64 = 1024 * 1024;

/// Why a wheel could not be read. Every variant names the wheel file.
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("cannot read wheel {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("wheel {} is not a valid zip archive: {source}", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: ZipError,
    },
    #[error("path {} has no wheel filename", path.display())]
    NoFileName { path: PathBuf },
    #[error(transparent)]
    Filename(#[from] FilenameError),
    #[error("wheel {} has no top-level `*.dist-info/` directory", path.display())]
    NoDistInfo { path: PathBuf },
    #[error("wheel {} has {} `.dist-info` directories ({}); PEP 427 allows exactly one", path.display(), dirs.len(), dirs.join(", "))]
    MultipleDistInfo { path: PathBuf, dirs: Vec<String> },
    #[error("wheel {} has directory `{dir}`, but its filename says {expected}", path.display())]
    DistInfoMismatch {
        path: PathBuf,
        dir: String,
        expected: String,
    },
    #[error("wheel {} has no `{member}`", path.display())]
    MissingMember { path: PathBuf, member: String },
    #[error("wheel {}: `{member}` is larger than {limit} bytes", path.display())]
    MemberTooLarge {
        path: PathBuf,
        member: String,
        limit: u64,
    },
    #[error("wheel {}: invalid `{member}`: {source}", path.display())]
    Metadata {
        path: PathBuf,
        member: String,
        #[source]
        source: MetadataError,
    },
    #[error("wheel {} has Wheel-Version {version}; only 1.x is supported (PEP 427)", path.display())]
    UnsupportedWheelVersion { path: PathBuf, version: String },
}

/// A problem inside a METADATA or WHEEL file (the caller attaches which file).
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("not RFC 822 headers: {0}")]
    Headers(#[from] mailparse::MailParseError),
    #[error("missing required field `{0}`")]
    MissingField(&'static str),
    #[error("field `{field}` has invalid value `{value}`: {message}")]
    InvalidField {
        field: &'static str,
        value: String,
        message: String,
    },
}

/// Core metadata (<https://packaging.python.org/specifications/core-metadata/>), every
/// standard field, values as written. Multiple-use fields keep file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreMetadata {
    pub metadata_version: String,
    /// As written (`Foo_Bar`); see [`Self::package_name`].
    pub name: String,
    /// As written (`1.0`); see [`Self::parsed_version`].
    pub version: String,
    pub summary: Option<String>,
    /// The message body (metadata ≥ 2.1) or else the `Description` header.
    pub description: Option<String>,
    pub description_content_type: Option<String>,
    pub keywords: Option<String>,
    pub home_page: Option<String>,
    pub download_url: Option<String>,
    pub author: Option<String>,
    pub author_email: Option<String>,
    pub maintainer: Option<String>,
    pub maintainer_email: Option<String>,
    pub license: Option<String>,
    pub license_expression: Option<String>,
    pub license_files: Vec<String>,
    pub classifiers: Vec<String>,
    pub platforms: Vec<String>,
    pub supported_platforms: Vec<String>,
    pub requires_dist: Vec<String>,
    pub provides_dist: Vec<String>,
    pub obsoletes_dist: Vec<String>,
    pub requires_python: Option<String>,
    pub requires_external: Vec<String>,
    /// `Label, URL` strings.
    pub project_urls: Vec<String>,
    pub provides_extra: Vec<String>,
    pub dynamic: Vec<String>,
}

impl CoreMetadata {
    /// Parses METADATA / PKG-INFO / a PEP 658 `.metadata` file.
    pub fn parse(content: &[u8]) -> Result<Self, MetadataError> {
        let (headers, body_start) = mailparse::parse_headers(content)?;
        let one = |key: &str| headers.get_first_header(key).map(|h| value(h));
        let all = |key: &str| {
            headers
                .get_all_headers(key)
                .into_iter()
                .map(value)
                .collect::<Vec<_>>()
        };
        let required = |key: &'static str| one(key).ok_or(MetadataError::MissingField(key));
        let body = String::from_utf8_lossy(&content[body_start.min(content.len())..]);
        let description = if body.trim().is_empty() {
            one("Description")
        } else {
            Some(body.into_owned())
        };
        Ok(Self {
            metadata_version: required("Metadata-Version")?,
            name: required("Name")?,
            version: required("Version")?,
            summary: one("Summary"),
            description,
            description_content_type: one("Description-Content-Type"),
            keywords: one("Keywords"),
            home_page: one("Home-page"),
            download_url: one("Download-URL"),
            author: one("Author"),
            author_email: one("Author-email"),
            maintainer: one("Maintainer"),
            maintainer_email: one("Maintainer-email"),
            license: one("License"),
            license_expression: one("License-Expression"),
            license_files: all("License-File"),
            classifiers: all("Classifier"),
            platforms: all("Platform"),
            supported_platforms: all("Supported-Platform"),
            requires_dist: all("Requires-Dist"),
            provides_dist: all("Provides-Dist"),
            obsoletes_dist: all("Obsoletes-Dist"),
            requires_python: one("Requires-Python"),
            requires_external: all("Requires-External"),
            project_urls: all("Project-URL"),
            provides_extra: all("Provides-Extra"),
            dynamic: all("Dynamic"),
        })
    }

    /// `Name`, PEP 503 normalised.
    pub fn package_name(&self) -> Result<PackageName, MetadataError> {
        PackageName::from_str(&self.name).map_err(|err| MetadataError::InvalidField {
            field: "Name",
            value: self.name.clone(),
            message: err.to_string(),
        })
    }

    /// `Version`, parsed as PEP 440.
    pub fn parsed_version(&self) -> Result<Version, MetadataError> {
        Version::from_str(&self.version).map_err(|err| MetadataError::InvalidField {
            field: "Version",
            value: self.version.clone(),
            message: err.to_string(),
        })
    }

    /// The metadata part of the standard upload API's multipart form (twine's
    /// `metadata_dictionary`, uv's `FormMetadata`), one entry per value of repeated fields.
    /// devpi reads extras from `provides_extras`, everyone else from `provides_extra`, so
    /// both are sent. Empty optional fields are left out.
    pub fn upload_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("metadata_version", self.metadata_version.clone()),
            ("name", self.name.clone()),
            ("version", self.version.clone()),
        ];
        let singles: &[(&'static str, &Option<String>)] = &[
            ("summary", &self.summary),
            ("description", &self.description),
            ("description_content_type", &self.description_content_type),
            ("keywords", &self.keywords),
            ("home_page", &self.home_page),
            ("download_url", &self.download_url),
            ("author", &self.author),
            ("author_email", &self.author_email),
            ("maintainer", &self.maintainer),
            ("maintainer_email", &self.maintainer_email),
            ("license", &self.license),
            ("license_expression", &self.license_expression),
            ("requires_python", &self.requires_python),
        ];
        for &(key, value) in singles {
            if let Some(value) = value {
                fields.push((key, value.clone()));
            }
        }
        let multis: &[(&'static str, &Vec<String>)] = &[
            ("license_file", &self.license_files),
            ("classifiers", &self.classifiers),
            ("platform", &self.platforms),
            ("supported_platform", &self.supported_platforms),
            ("requires_dist", &self.requires_dist),
            ("provides_dist", &self.provides_dist),
            ("obsoletes_dist", &self.obsoletes_dist),
            ("requires_external", &self.requires_external),
            ("project_urls", &self.project_urls),
            ("provides_extra", &self.provides_extra),
            ("provides_extras", &self.provides_extra),
            ("dynamic", &self.dynamic),
        ];
        for &(key, values) in multis {
            fields.extend(values.iter().map(|v| (key, v.clone())));
        }
        fields
    }
}

/// Header values are UTF-8 in practice (core metadata spec); fall back to mailparse's
/// latin-1 reading for the odd old file rather than failing.
fn value(header: &MailHeader<'_>) -> String {
    header
        .get_value_utf8()
        .unwrap_or_else(|_| header.get_value())
}

/// A wheel read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelInfo {
    pub filename: WheelFilename,
    pub metadata: CoreMetadata,
    /// `Root-Is-Purelib` from WHEEL.
    pub root_is_purelib: bool,
    /// `Tag` lines from WHEEL, as written.
    pub wheel_tags: Vec<String>,
    /// `Wheel-Version` from WHEEL.
    pub wheel_version: String,
    /// `Build` from WHEEL, if any.
    pub wheel_build: Option<String>,
    /// The `{name}-{version}.dist-info` directory (without the trailing `/`).
    pub dist_info: String,
}

/// Reads a wheel: filename, the single `*.dist-info/` directory (it must name the same
/// project and version as the filename, PEP 427), METADATA and WHEEL.
pub fn read_wheel(path: &Path) -> Result<WheelInfo, WheelError> {
    let filename = wheel_filename(path)?;
    let mut archive = open_archive(path)?;
    read_archive(path, filename, &mut archive)
}

/// The raw bytes of a wheel's METADATA (the one `.dist-info` directory, which must match the
/// filename), at most [`MAX_METADATA_BYTES`]: what a metadata cache keeps.
pub fn read_wheel_metadata_bytes(path: &Path) -> Result<Vec<u8>, WheelError> {
    let filename = wheel_filename(path)?;
    let mut archive = open_archive(path)?;
    let member = format!("{}/METADATA", find_dist_info(path, &filename, &archive)?);
    read_member(path, &mut archive, &member, MAX_METADATA_BYTES)
}

pub(crate) fn wheel_filename(path: &Path) -> Result<WheelFilename, WheelError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| WheelError::NoFileName {
            path: path.to_path_buf(),
        })?;
    Ok(WheelFilename::from_str(name)?)
}

pub(crate) fn open_archive(path: &Path) -> Result<ZipArchive<BufReader<File>>, WheelError> {
    let file = File::open(path).map_err(|source| WheelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    ZipArchive::new(BufReader::new(file)).map_err(|source| WheelError::Zip {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn read_archive<R: Read + Seek>(
    path: &Path,
    filename: WheelFilename,
    archive: &mut ZipArchive<R>,
) -> Result<WheelInfo, WheelError> {
    let dist_info = find_dist_info(path, &filename, archive)?;
    let metadata_member = format!("{dist_info}/METADATA");
    let metadata = read_member(path, archive, &metadata_member, MAX_METADATA_BYTES)?;
    let metadata = CoreMetadata::parse(&metadata).map_err(|source| WheelError::Metadata {
        path: path.to_path_buf(),
        member: metadata_member,
        source,
    })?;
    let wheel_member = format!("{dist_info}/WHEEL");
    let wheel = read_member(path, archive, &wheel_member, MAX_WHEEL_FILE_BYTES)?;
    let bad_wheel = |source| WheelError::Metadata {
        path: path.to_path_buf(),
        member: wheel_member.clone(),
        source,
    };
    let (headers, _) = mailparse::parse_headers(&wheel).map_err(|e| bad_wheel(e.into()))?;
    let field = |key: &'static str| {
        headers
            .get_first_header(key)
            .map(|h| value(h).trim().to_string())
            .ok_or(MetadataError::MissingField(key))
    };
    let wheel_version = field("Wheel-Version").map_err(bad_wheel)?;
    // Installers refuse a higher major Wheel-Version (PEP 427 "Recommended installer features").
    if wheel_version.split('.').next() != Some("1") {
        return Err(WheelError::UnsupportedWheelVersion {
            path: path.to_path_buf(),
            version: wheel_version,
        });
    }
    let purelib = field("Root-Is-Purelib").map_err(bad_wheel)?;
    let root_is_purelib = match purelib.to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(bad_wheel(MetadataError::InvalidField {
                field: "Root-Is-Purelib",
                value: purelib,
                message: "expected `true` or `false`".to_string(),
            }));
        }
    };
    let wheel_tags = headers
        .get_all_headers("Tag")
        .into_iter()
        .map(|h| value(h).trim().to_string())
        .collect();
    let wheel_build = field("Build").ok();
    Ok(WheelInfo {
        filename,
        metadata,
        root_is_purelib,
        wheel_tags,
        wheel_version,
        wheel_build,
        dist_info,
    })
}

/// The one top-level `*.dist-info` directory, checked against the filename's name and
/// version (compared normalised: `Foo_Bar-1.0.dist-info` fits `foo_bar-1.0.0-...whl`).
pub(crate) fn find_dist_info<R: Read + Seek>(
    path: &Path,
    filename: &WheelFilename,
    archive: &ZipArchive<R>,
) -> Result<String, WheelError> {
    let dirs: BTreeSet<&str> = archive
        .file_names_raw()
        .filter_map(|name| std::str::from_utf8(name).ok())
        .filter_map(|name| name.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    let dir = match dirs.len() {
        0 => {
            return Err(WheelError::NoDistInfo {
                path: path.to_path_buf(),
            });
        }
        1 => dirs.into_iter().next().unwrap_or_default(),
        _ => {
            return Err(WheelError::MultipleDistInfo {
                path: path.to_path_buf(),
                dirs: dirs.into_iter().map(str::to_string).collect(),
            });
        }
    };
    let stem = dir.trim_end_matches(".dist-info");
    let matches = split_name_version(stem, &filename.name)
        .and_then(|(_, version)| Version::from_str(version).ok())
        .is_some_and(|version| version == filename.version);
    if !matches {
        return Err(WheelError::DistInfoMismatch {
            path: path.to_path_buf(),
            dir: dir.to_string(),
            expected: format!("{} {}", filename.name, filename.version),
        });
    }
    Ok(dir.to_string())
}

/// Reads one member fully, refusing anything over `limit` bytes (checked against the real
/// decompressed stream, not only the size the central directory claims).
pub(crate) fn read_member<R: Read + Seek>(
    path: &Path,
    archive: &mut ZipArchive<R>,
    member: &str,
    limit: u64,
) -> Result<Vec<u8>, WheelError> {
    let entry = match archive.by_name(member) {
        Ok(entry) => entry,
        Err(ZipError::FileNotFound) => {
            return Err(WheelError::MissingMember {
                path: path.to_path_buf(),
                member: member.to_string(),
            });
        }
        Err(source) => {
            return Err(WheelError::Zip {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let too_large = || WheelError::MemberTooLarge {
        path: path.to_path_buf(),
        member: member.to_string(),
        limit,
    };
    if entry.size() > limit {
        return Err(too_large());
    }
    let mut content = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
    entry
        .take(limit + 1)
        .read_to_end(&mut content)
        .map_err(|source| WheelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if content.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\n\
        Summary: A package\nAuthor: Jos\u{e9}\nRequires-Python: >=3.8\n\
        Requires-Dist: requests>=2\nRequires-Dist: rich; extra == \"cli\"\n\
        Provides-Extra: cli\nClassifier: A :: B\nClassifier: C :: D\n\
        Project-URL: Source, https://example.invalid/src\n\
        Description-Content-Type: text/markdown\n\n# Foo\n\nLong text.\n";

    #[test]
    fn parses_core_metadata() {
        let meta = CoreMetadata::parse(METADATA.as_bytes()).unwrap();
        assert_eq!(meta.name, "Foo_Bar");
        assert_eq!(meta.package_name().unwrap().as_ref(), "foo-bar");
        assert_eq!(
            meta.parsed_version().unwrap(),
            Version::from_str("1.0.0").unwrap()
        );
        assert_eq!(meta.author.as_deref(), Some("Jos\u{e9}"));
        assert_eq!(
            meta.requires_dist,
            ["requests>=2", "rich; extra == \"cli\""]
        );
        assert_eq!(meta.description.as_deref(), Some("# Foo\n\nLong text.\n"));
        let err = CoreMetadata::parse(b"Metadata-Version: 2.1\nName: x\n").unwrap_err();
        assert_eq!(err.to_string(), "missing required field `Version`");
    }

    #[test]
    fn upload_fields_repeat_multi_use_fields() {
        let meta = CoreMetadata::parse(METADATA.as_bytes()).unwrap();
        let fields = meta.upload_fields();
        let get = |key: &str| -> Vec<&str> {
            fields
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(get("metadata_version"), ["2.1"]);
        assert_eq!(get("name"), ["Foo_Bar"]);
        assert_eq!(get("classifiers"), ["A :: B", "C :: D"]);
        assert_eq!(get("requires_dist").len(), 2);
        assert_eq!(get("provides_extra"), ["cli"]);
        assert_eq!(get("provides_extras"), ["cli"]);
        assert_eq!(get("project_urls"), ["Source, https://example.invalid/src"]);
        assert_eq!(get("requires_python"), [">=3.8"]);
        assert!(get("maintainer").is_empty());
        assert!(get("").is_empty());
    }
}
