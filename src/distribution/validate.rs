//! Checks a freshly built wheel before it is uploaded: it must be the wheel the job asked
//! for (name and version, in the filename *and* in METADATA), internally consistent
//! (RECORD, WHEEL, PEP 427), installable by the target interpreter, and of sane size.
//!
//! Root-Is-Purelib policy (PEP 427 leaves the pairing to the builder; this is what
//! setuptools, hatchling, flit and maturin produce): `Root-Is-Purelib: true` with any
//! platform tag other than `any` is refused (platform code installed into purelib), and
//! `Root-Is-Purelib: false` with an all-`none-any` tag set is refused (a pure wheel claiming
//! platlib). ABI-only tags such as `cp311-cp311-any` are left alone either way.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::distribution::hash::{record_hash, sha256_reader};
use crate::distribution::metadata::{
    WheelError, open_archive, read_archive, read_member, wheel_filename,
};
use crate::distribution::{IncompatibleTag, TagSet, WheelInfo};

/// Size caps for a built wheel (zip bombs and runaway builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WheelLimits {
    pub max_file_size: u64,
    pub max_members: usize,
    pub max_uncompressed_size: u64,
}

impl Default for WheelLimits {
    fn default() -> Self {
        Self {
            max_file_size: 2 << 30,
            max_members: 100_000,
            max_uncompressed_size: 8 << 30,
        }
    }
}

/// One variant per check; each message names the wheel file and what differed.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    #[error(transparent)]
    Read(#[from] WheelError),
    #[error("wheel {wheel} is {size} bytes, over the limit of {limit}")]
    FileTooLarge {
        wheel: String,
        size: u64,
        limit: u64,
    },
    #[error("wheel {wheel} has {count} members, over the limit of {limit}")]
    TooManyMembers {
        wheel: String,
        count: usize,
        limit: usize,
    },
    #[error("wheel {wheel} unpacks to {size} bytes, over the limit of {limit}")]
    UncompressedTooLarge {
        wheel: String,
        size: u64,
        limit: u64,
    },
    #[error("wheel {wheel} has the same member name more than once")]
    DuplicateMembers { wheel: String },
    #[error("wheel {wheel} has unsafe member path `{member}` (absolute, `..`, or backslashes)")]
    UnsafePath { wheel: String, member: String },
    #[error("wheel {wheel} is for project {found} but the job is {name} {version}")]
    NameMismatch {
        wheel: String,
        found: String,
        name: PackageName,
        version: Version,
    },
    #[error("wheel {wheel} has version {found} but the job is {name} {version}")]
    VersionMismatch {
        wheel: String,
        found: String,
        name: PackageName,
        version: Version,
    },
    #[error("wheel {wheel}: METADATA has Name `{found}` but the job is {name} {version}")]
    MetadataNameMismatch {
        wheel: String,
        found: String,
        name: PackageName,
        version: Version,
    },
    #[error("wheel {wheel}: METADATA has Version `{found}` but the job is {name} {version}")]
    MetadataVersionMismatch {
        wheel: String,
        found: String,
        name: PackageName,
        version: Version,
    },
    #[error(
        "wheel {wheel}: WHEEL lists tags [{wheel_tags}] but the filename has [{filename_tags}]"
    )]
    WheelTagMismatch {
        wheel: String,
        wheel_tags: String,
        filename_tags: String,
    },
    #[error("wheel {wheel}: WHEEL has Build `{found}` but the filename has build tag `{expected}`")]
    BuildTagMismatch {
        wheel: String,
        found: String,
        expected: String,
    },
    #[error("wheel {wheel} says Root-Is-Purelib: {purelib}, which contradicts its tags {tags}")]
    PurelibMismatch {
        wheel: String,
        purelib: bool,
        tags: String,
    },
    #[error("wheel {wheel} does not fit the target interpreter: {reason}")]
    Incompatible {
        wheel: String,
        reason: IncompatibleTag,
    },
    #[error("wheel {wheel}: RECORD line {line}: {message}")]
    InvalidRecord {
        wheel: String,
        line: usize,
        message: String,
    },
    #[error("wheel {wheel}: `{member}` is not listed in RECORD")]
    NotInRecord { wheel: String, member: String },
    #[error("wheel {wheel}: RECORD lists `{member}`, which is not in the archive")]
    MissingFromArchive { wheel: String, member: String },
    #[error("wheel {wheel}: RECORD hash for `{member}` is `{hash}`; a sha256 hash is required")]
    UnsupportedRecordHash {
        wheel: String,
        member: String,
        hash: String,
    },
    #[error("wheel {wheel}: `{member}` has hash {actual} but RECORD says {expected}")]
    HashMismatch {
        wheel: String,
        member: String,
        expected: String,
        actual: String,
    },
    #[error("wheel {wheel}: `{member}` is {actual} bytes but RECORD says {expected}")]
    SizeMismatch {
        wheel: String,
        member: String,
        expected: String,
        actual: u64,
    },
    #[error("wheel {wheel}: cannot read `{member}`: {source}")]
    ReadMember {
        wheel: String,
        member: String,
        #[source]
        source: std::io::Error,
    },
}

/// Validates a built wheel for the job `expected_name` `expected_version` targeting the
/// interpreter whose supported tags are `tags`. Returns what was read on success.
pub fn validate_built_wheel(
    path: &Path,
    expected_name: &PackageName,
    expected_version: &Version,
    tags: &TagSet,
    limits: &WheelLimits,
) -> Result<WheelInfo, ValidationError> {
    let filename = wheel_filename(path)?;
    let wheel = filename.to_string();
    let io_err = |source| WheelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io_err)?.len();
    if size > limits.max_file_size {
        return Err(ValidationError::FileTooLarge {
            wheel,
            size,
            limit: limits.max_file_size,
        });
    }
    let (name, version) = (expected_name.clone(), expected_version.clone());
    if &filename.name != expected_name {
        let found = filename.raw_name().to_string();
        return Err(ValidationError::NameMismatch {
            wheel,
            found,
            name,
            version,
        });
    }
    if &filename.version != expected_version {
        let found = filename.raw_version().to_string();
        return Err(ValidationError::VersionMismatch {
            wheel,
            found,
            name,
            version,
        });
    }

    let mut archive = open_archive(path)?;
    check_members(&wheel, &archive, limits)?;
    let info = read_archive(path, filename, &mut archive)?;

    let meta = &info.metadata;
    if meta.package_name().ok().as_ref() != Some(expected_name) {
        let found = meta.name.clone();
        return Err(ValidationError::MetadataNameMismatch {
            wheel,
            found,
            name,
            version,
        });
    }
    if meta.parsed_version().ok().as_ref() != Some(expected_version) {
        let found = meta.version.clone();
        return Err(ValidationError::MetadataVersionMismatch {
            wheel,
            found,
            name,
            version,
        });
    }
    check_wheel_file(&wheel, &info)?;
    if let crate::distribution::Compatibility::Incompatible(reason) =
        tags.compatibility(&info.filename)
    {
        // A pure wheel is accepted whatever its python tag: the backend chose it and the
        // planner decides per interpreter where it may be used.
        if !info.filename.is_pure() {
            return Err(ValidationError::Incompatible { wheel, reason });
        }
    }
    check_record(path, &wheel, &info.dist_info, &mut archive)?;
    Ok(info)
}

/// Central-directory checks: counts, sizes, duplicate names, path traversal.
fn check_members<R: Read + std::io::Seek>(
    wheel: &str,
    archive: &zip::ZipArchive<R>,
    limits: &WheelLimits,
) -> Result<(), ValidationError> {
    let wheel = wheel.to_string();
    if archive.len() > limits.max_members {
        let (count, limit) = (archive.len(), limits.max_members);
        return Err(ValidationError::TooManyMembers {
            wheel,
            count,
            limit,
        });
    }
    if archive.has_duplicate_names() {
        return Err(ValidationError::DuplicateMembers { wheel });
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_data(i).map_err(|source| WheelError::Zip {
            path: wheel.clone().into(),
            source,
        })?;
        let member = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if is_unsafe_path(&member) {
            return Err(ValidationError::UnsafePath { wheel, member });
        }
        total = total.saturating_add(entry.size());
    }
    if total > limits.max_uncompressed_size {
        let limit = limits.max_uncompressed_size;
        return Err(ValidationError::UncompressedTooLarge {
            wheel,
            size: total,
            limit,
        });
    }
    Ok(())
}

/// Absolute paths, drive letters, `..` components, backslashes and NULs could write outside
/// the install root (installers reject them too).
fn is_unsafe_path(member: &str) -> bool {
    member.is_empty()
        || member.starts_with('/')
        || member.contains('\\')
        || member.contains('\0')
        || member.as_bytes().get(1) == Some(&b':')
        || member.split('/').any(|part| part == "..")
}

/// WHEEL `Tag` lines and `Build` must agree with the filename; Root-Is-Purelib with the tags.
fn check_wheel_file(wheel: &str, info: &WheelInfo) -> Result<(), ValidationError> {
    let filename = &info.filename;
    let from_name: BTreeSet<String> = filename
        .tags()
        .map(|(py, abi, plat)| format!("{py}-{abi}-{plat}").to_ascii_lowercase())
        .collect();
    let from_wheel: BTreeSet<String> = info
        .wheel_tags
        .iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    if from_name != from_wheel {
        let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
        return Err(ValidationError::WheelTagMismatch {
            wheel: wheel.to_string(),
            wheel_tags: join(&from_wheel),
            filename_tags: join(&from_name),
        });
    }
    if let Some(expected) = &filename.build_tag
        && info.wheel_build.as_ref() != Some(expected)
    {
        return Err(ValidationError::BuildTagMismatch {
            wheel: wheel.to_string(),
            found: info.wheel_build.clone().unwrap_or_default(),
            expected: expected.clone(),
        });
    }
    let platform_specific = filename.platform_tags.iter().any(|p| p != "any");
    if (info.root_is_purelib && platform_specific) || (!info.root_is_purelib && filename.is_pure())
    {
        return Err(ValidationError::PurelibMismatch {
            wheel: wheel.to_string(),
            purelib: info.root_is_purelib,
            tags: from_name.into_iter().collect::<Vec<_>>().join("."),
        });
    }
    Ok(())
}

/// PEP 427: every member but RECORD (and its signatures) is listed with a matching sha256
/// and size, and RECORD lists nothing that is not there.
fn check_record<R: Read + std::io::Seek>(
    path: &Path,
    wheel: &str,
    dist_info: &str,
    archive: &mut zip::ZipArchive<R>,
) -> Result<(), ValidationError> {
    let record_name = format!("{dist_info}/RECORD");
    let unsigned = [
        record_name.clone(),
        format!("{dist_info}/RECORD.jws"),
        format!("{dist_info}/RECORD.p7s"),
    ];
    let content = read_member(path, archive, &record_name, 256 * 1024 * 1024)?;
    let invalid = |line: usize, message: String| ValidationError::InvalidRecord {
        wheel: wheel.to_string(),
        line,
        message,
    };
    let content = String::from_utf8(content).map_err(|_| invalid(0, "not UTF-8".into()))?;
    let mut rows: HashMap<String, (String, String)> = HashMap::new();
    for (line, fields) in parse_csv(&content).map_err(|(l, m)| invalid(l, m))? {
        let [member, hash, size]: [String; 3] = fields
            .try_into()
            .map_err(|f: Vec<String>| invalid(line, format!("{} fields, expected 3", f.len())))?;
        if rows.insert(member.clone(), (hash, size)).is_some() {
            return Err(invalid(line, format!("`{member}` is listed twice")));
        }
    }
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|source| WheelError::Zip {
            path: path.to_path_buf(),
            source,
        })?;
        let member = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if member.ends_with('/') || unsigned.contains(&member) {
            continue;
        }
        let Some((hash, size)) = rows.remove(&member) else {
            return Err(ValidationError::NotInRecord {
                wheel: wheel.to_string(),
                member,
            });
        };
        let expected_hash =
            hash.strip_prefix("sha256=")
                .ok_or_else(|| ValidationError::UnsupportedRecordHash {
                    wheel: wheel.to_string(),
                    member: member.clone(),
                    hash: hash.clone(),
                })?;
        // Read at most one byte past the larger of both claimed sizes, so a lying header
        // cannot make us stream without end.
        let cap = entry
            .size()
            .max(size.parse().unwrap_or(0))
            .saturating_add(1);
        let (digest, actual_size) = sha256_reader((&mut entry).take(cap)).map_err(|source| {
            ValidationError::ReadMember {
                wheel: wheel.to_string(),
                member: member.clone(),
                source,
            }
        })?;
        let actual = record_hash(&digest);
        if actual["sha256=".len()..] != *expected_hash {
            return Err(ValidationError::HashMismatch {
                wheel: wheel.to_string(),
                member,
                expected: hash,
                actual,
            });
        }
        if size.parse::<u64>().ok() != Some(actual_size) {
            return Err(ValidationError::SizeMismatch {
                wheel: wheel.to_string(),
                member,
                expected: size,
                actual: actual_size,
            });
        }
    }
    // Whatever is left was listed but is not in the archive (RECORD's own rows excepted).
    let mut missing: Vec<String> = rows.into_keys().filter(|m| !unsigned.contains(m)).collect();
    missing.sort();
    if let Some(member) = missing.into_iter().next() {
        return Err(ValidationError::MissingFromArchive {
            wheel: wheel.to_string(),
            member,
        });
    }
    Ok(())
}

/// A RECORD row: its 1-based line number and its fields.
type CsvRow = (usize, Vec<String>);

/// A small RFC 4180 reader (RECORD is written by Python's `csv` module): `,` separates,
/// `"` quotes with `""` as an escaped quote, rows end at `\n` or `\r\n`. Blank lines are
/// skipped. Returns (1-based line, fields) per row, or (line, message).
fn parse_csv(content: &str) -> Result<Vec<CsvRow>, (usize, String)> {
    let mut rows = Vec::new();
    let (mut line, mut row_line) = (1usize, 1usize);
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = content.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => in_quotes = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => in_quotes = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                if !(fields.len() == 1 && fields[0].is_empty()) {
                    rows.push((row_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                row_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if in_quotes {
        return Err((row_line, "unterminated quoted field".to_string()));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        rows.push((row_line, fields));
    }
    Ok(rows)
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
