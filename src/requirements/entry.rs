//! Deciding what the requirement part of a line is, following pip's
//! `constructors.parse_req_from_line`: a PEP 508 requirement (what we support), or an editable,
//! a direct URL, a VCS URL or a local path/archive (reported as unsupported).

use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use pep508_rs::{PackageName, Requirement, VersionOrUrl};

use super::UnsupportedKind;
use super::error::RequirementsError;
use super::lines::LogicalLine;

const EXPECTED_REQUIREMENT: &str =
    "a PEP 508 requirement such as `name[extra]>=1.0 ; python_version >= \"3.8\"`";
const EXPECTED_ARBITRARY: &str = "a PEP 440 version after `===` (pep508_rs cannot compare \
     arbitrary strings), or a `==` pin";

/// The outcome for a requirement part.
#[derive(Debug)]
pub(crate) enum Classified {
    Requirement(Box<Requirement>),
    Unsupported {
        kind: UnsupportedKind,
        name: Option<PackageName>,
    },
}

/// pip's VCS schemes (`vcs.all_schemes`) and the plain schemes `is_url` accepts.
const VCS_SCHEMES: &[&str] = &[
    "git",
    "git+http",
    "git+https",
    "git+ssh",
    "git+git",
    "git+file",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn",
    "svn+ssh",
    "svn+http",
    "svn+https",
    "svn+svn",
    "svn+file",
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
    "bzr+file",
];
const URL_SCHEMES: &[&str] = &["http", "https", "file", "ftp"];

/// pip's `ARCHIVE_EXTENSIONS` (with its `splitext` that keeps `.tar`).
const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
    ".tar.gz",
    ".tgz",
    ".tar",
];

fn scheme(text: &str) -> Option<String> {
    text.split_once(':').map(|(s, _)| s.to_ascii_lowercase())
}

/// pip's `is_url`: a known scheme before the first `:`.
fn is_url(text: &str) -> bool {
    scheme(text).is_some_and(|s| URL_SCHEMES.contains(&s.as_str()) || is_vcs_scheme(&s))
}

fn is_vcs_scheme(scheme: &str) -> bool {
    VCS_SCHEMES.contains(&scheme)
}

/// pip's `_looks_like_path` on POSIX: contains `/` or starts with `.`.
fn looks_like_path(text: &str) -> bool {
    text.contains('/') || text.starts_with('.')
}

fn is_archive(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// The kind of a URL (or path) target.
fn url_kind(target: &str) -> UnsupportedKind {
    match scheme(target) {
        Some(s) if is_vcs_scheme(&s) || s.contains('+') => UnsupportedKind::Vcs,
        Some(s) if s == "file" => UnsupportedKind::LocalPath,
        // `C:` style drive letters and scheme-less targets are paths.
        Some(s) if s.len() > 1 && !looks_like_path(&s) => UnsupportedKind::DirectUrl,
        _ => UnsupportedKind::LocalPath,
    }
}

/// The project name a URL or path carries: `#egg=name` or a wheel filename.
fn name_from_target(target: &str) -> Option<PackageName> {
    if let Some(i) = target.find("#egg=").or_else(|| target.find("&egg=")) {
        let egg = target[i + 5..].split('&').next().unwrap_or_default();
        return PackageName::from_str(egg).ok();
    }
    let path = target.split(['#', '?']).next().unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or_default();
    let stem = file.strip_suffix(".whl")?;
    PackageName::from_str(stem.split('-').next()?).ok()
}

/// Classifies the requirement part `range` of `line`; `base_dir` is the requirements file's
/// directory (used only to recognise a mistyped `-r`).
pub(crate) fn classify(
    line: &LogicalLine,
    range: Range<usize>,
    base_dir: &Path,
) -> Result<Classified, RequirementsError> {
    let text = &line.text[range.clone()];
    let unsupported = |kind, name| Ok(Classified::Unsupported { kind, name });

    // pip: a line that *is* a URL has its marker after "; ", anything else after the first ";".
    if is_url(text) {
        let target = text.split("; ").next().unwrap_or(text).trim();
        return unsupported(url_kind(target), name_from_target(target));
    }
    let before_marker = text.split(';').next().unwrap_or(text).trim_end();

    // `name[extras] @ target`: pip hands it to packaging, which accepts any target; pep508_rs
    // only takes absolute URLs and wants a space before `;`, so it is recognised here.
    if let Some((left, target)) = before_marker.split_once('@')
        && !looks_like_path(left)
        && bad_name_end(left.trim()).is_none()
        && let Ok(named) = super::parse_requirement(left.trim())
        && named.version_or_url.is_none()
    {
        let target = target.trim();
        return unsupported(url_kind(target), Some(named.name));
    }

    if looks_like_path(before_marker) || is_archive(before_marker) {
        let path = before_marker.split('[').next().unwrap_or(before_marker);
        return unsupported(UnsupportedKind::LocalPath, name_from_target(path));
    }

    // uv's hint: `reqs.txt` alone is a valid project name, but most likely a forgotten `-r`.
    let lower = before_marker.to_ascii_lowercase();
    if (lower.ends_with(".txt") || lower.ends_with(".in")) && base_dir.join(before_marker).is_file()
    {
        return Err(RequirementsError::LooksLikeRequirementsFile {
            at: super::location(line, range.start),
            text: before_marker.to_string(),
        });
    }

    // pip drops an empty marker (`foo==1.0;`); pep508_rs would reject it.
    let parse_text = match text.split_once(';') {
        Some((req, marker)) if marker.trim().is_empty() => req.trim_end(),
        _ => text,
    };
    if let Some((at, c)) = non_ascii_outside_quotes(parse_text) {
        return Err(RequirementsError::InvalidRequirement {
            at: super::location(line, range.start + at),
            text: text.to_string(),
            detail: format!(
                " at `{c}`: outside quoted marker values a PEP 508 requirement is ASCII"
            ),
            expected: EXPECTED_REQUIREMENT,
        });
    }
    if let Some((at, last)) = bad_name_end(parse_text) {
        return Err(RequirementsError::InvalidRequirement {
            at: super::location(line, range.start + at),
            text: text.to_string(),
            detail: format!(
                " at `{last}`: a project name must end with a letter or digit, not `{last}`"
            ),
            expected: EXPECTED_REQUIREMENT,
        });
    }
    match super::parse_requirement(parse_text) {
        Ok(req) => match &req.version_or_url {
            Some(VersionOrUrl::Url(_)) => unsupported(UnsupportedKind::DirectUrl, Some(req.name)),
            _ => Ok(Classified::Requirement(Box::new(req))),
        },
        Err(err) => {
            let start = err.start.min(parse_text.len());
            let end = (start + err.len).min(parse_text.len());
            let span = parse_text.get(start..end).unwrap_or_default();
            let span = if span.is_empty() || span == parse_text {
                String::new()
            } else {
                format!(" at `{span}`")
            };
            let arbitrary = parse_text.contains("===");
            let mut message = err.message.to_string();
            if arbitrary {
                message =
                    format!("arbitrary equality (`===`) with a non-PEP 440 version: {message}");
            }
            Err(RequirementsError::InvalidRequirement {
                at: super::location(line, range.start + start),
                text: text.to_string(),
                detail: format!("{span}: {}", message.replace('\n', " ")),
                expected: if arbitrary {
                    EXPECTED_ARBITRARY
                } else {
                    EXPECTED_REQUIREMENT
                },
            })
        }
    }
}

/// pep508_rs 0.9 slices its input by character counts in some error paths and panics on a
/// non-ASCII character there (`a; python_version < "3.9"€`). Names, versions, extras and
/// marker syntax are ASCII; only quoted marker values (and a URL after `@`, which pep508_rs
/// is not given here) may be anything. Returns the byte offset of the first character that
/// breaks that rule.
fn non_ascii_outside_quotes(text: &str) -> Option<(usize, char)> {
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if !c.is_ascii() => return Some((i, c)),
            (None, _) => {}
        }
    }
    None
}

/// pep508_rs 0.9 panics (an `expect`) on a name that ends in `.`, `-` or `_` and is followed
/// by anything; PEP 508 names end in a letter or digit. Returns the byte offset and the
/// offending last character of such a leading name.
fn bad_name_end(text: &str) -> Option<(usize, char)> {
    let leading = text.len() - text.trim_start().len();
    let name_len = text
        .get(leading..)?
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        .count();
    let last = text.get(leading..leading + name_len)?.chars().last()?;
    matches!(last, '.' | '-' | '_').then(|| (leading + name_len - 1, last))
}

/// Why a constraint is not acceptable (pip's `check_invalid_constraint_type`), if it is not.
pub(crate) fn constraint_problem(classified: &Classified) -> Option<&'static str> {
    match classified {
        Classified::Requirement(req) if !req.extras.is_empty() => {
            Some("constraints cannot have extras")
        }
        Classified::Requirement(_) => None,
        Classified::Unsupported { kind, .. } => Some(match kind {
            UnsupportedKind::Editable => "editable requirements are not allowed as constraints",
            UnsupportedKind::DirectUrl | UnsupportedKind::Vcs => {
                "links are not allowed as constraints"
            }
            UnsupportedKind::LocalPath => "local paths are not allowed as constraints",
        }),
    }
}
