//! requirements.txt files, parsed the way pip parses them (pip's requirements file format
//! documentation, and pip's `req/req_file.py` + `req/constructors.py`), on top of pep508_rs.
//!
//! Supported:
//! * decoding: UTF-8/16/32 byte-order marks, a PEP 263 coding line (utf-8, latin-1, ascii) in
//!   the first two lines, otherwise UTF-8 (invalid UTF-8 is an error with its byte offset; pip
//!   would guess the locale encoding); any line ending Python's `splitlines` knows;
//! * `\` continuations (the logical line keeps the first line's number; a comment line never
//!   continues), `#` comments at line start or after whitespace, `${VAR}` expansion
//!   (`[A-Z0-9_]+`, unset or empty stays literal) after comment removal;
//! * pip's split of a line into requirement and options at the first token starting with `-`,
//!   then shell-style splitting and optparse-style option parsing (prefixes, `=`/space forms);
//! * per-requirement `--hash` (sha256/384/512) and `-C/--config-settings`;
//! * `-r/--requirement`, `-c/--constraint` (relative to the including file, recursive, cycles
//!   are errors; a `-r` inside a constraints file yields requirements, as in pip);
//! * global options `-i/--index-url` (drops extra indexes given earlier, like pip),
//!   `--extra-index-url`, `--no-index`, `-f/--find-links`, `--pre`, `--no-binary`,
//!   `--only-binary` (`:all:`/`:none:`, mutually exclusive per name), `--prefer-binary`,
//!   `--require-hashes`, `--trusted-host`, `--use-feature` (recorded, no effect);
//! * PEP 508 requirements with extras, markers, parenthesised specifiers, bare names and ranges.
//!
//! Editables, direct URLs, VCS URLs and local paths/archives are not errors: they are collected
//! as [`UnsupportedEntry`]s so the caller can say what it skipped. Options pip ignores (global
//! options on a requirement line, `--hash` on an option line, extra arguments) produce
//! [`Warning`]s. The same parser reads exclude lists (names with optional specifiers).

mod entry;
mod error;
mod hash;
mod lines;
mod options;
mod parse;
mod pep508;
#[cfg(test)]
mod proptests;
mod selector;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use error::{IncludeChain, Location, RequirementsError};
pub use hash::{HashAlgorithm, HashDigest, HashError};
pub(crate) use pep508::parse_requirement;
pub use selector::{AllowedFormats, BinarySelector, PackageSelector, allowed_formats};

use pep508_rs::PackageName;

/// Everything read from one or more requirements files.
#[derive(Debug, Clone, Default)]
pub struct ParsedRequirements {
    /// In reading order; included files are followed depth-first where their `-r` stands.
    pub requirements: Vec<RequirementEntry>,
    /// Entries of `-c` files.
    pub constraints: Vec<RequirementEntry>,
    /// Editables, direct URLs, VCS URLs and local paths.
    pub unsupported: Vec<UnsupportedEntry>,
    pub options: GlobalOptions,
    pub warnings: Vec<Warning>,
}

/// A PEP 508 requirement line.
#[derive(Debug, Clone)]
pub struct RequirementEntry {
    /// The name is PEP 503-normalised by pep508_rs.
    pub requirement: pep508_rs::Requirement,
    /// The requirement part as written, after joining, comment removal and `${VAR}` expansion.
    pub text: String,
    pub origin: Origin,
    /// From repeated `--hash=ALGO:HEX`, in order.
    pub hashes: Vec<HashDigest>,
    /// `-C/--config-settings KEY=VALUE` in order; repeated keys are kept.
    pub config_settings: Vec<(String, String)>,
}

impl RequirementEntry {
    pub fn name(&self) -> &PackageName {
        &self.requirement.name
    }
}

impl fmt::Display for RequirementEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.text, self.origin)
    }
}

/// Where an entry was written. `line` is pip's logical line number (the first physical line of a
/// `\`-continued line); `column` is where the requirement text starts (1-based, in characters).
/// `file` is the path as given on the command line or joined from `-r`, not canonicalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Origin {
    /// `file:line`; errors add the column (see [`Location`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsupportedKind {
    /// `-e` / `--editable`.
    Editable,
    /// `name @ https://...` or a bare archive URL.
    DirectUrl,
    /// `git+https://...` and the other VCS schemes pip knows.
    Vcs,
    /// `./pkg`, `/abs/dir`, `pkg-1.0.tar.gz`, `file:` URLs.
    LocalPath,
}

impl UnsupportedKind {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Editable => {
                "editable requirements are not supported (an editable install is \
                               not a published wheel)"
            }
            Self::DirectUrl => {
                "direct URL requirements are not supported (only names with \
                                version specifiers are looked up on the index)"
            }
            Self::Vcs => {
                "VCS requirements are not supported (build a release and pin it by \
                          version instead)"
            }
            Self::LocalPath => {
                "local paths and archives are not supported (publish the project \
                                and pin it by version instead)"
            }
        }
    }
}

/// A line we understood but do not handle.
#[derive(Debug, Clone)]
pub struct UnsupportedEntry {
    pub origin: Origin,
    /// The requirement part (or the `-e` value) as written.
    pub text: String,
    pub kind: UnsupportedKind,
    /// The project name when the line names it (`name @ url`, `#egg=name`, a wheel filename).
    pub name: Option<PackageName>,
}

impl fmt::Display for UnsupportedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: skipping `{}`: {}",
            self.origin,
            self.text,
            self.kind.reason()
        )
    }
}

/// Something pip accepts but ignores, or that the user should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// Options that apply to the whole run, accumulated in reading order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalOptions {
    /// The last `-i`; `None` means "the configured default index".
    pub index_url: Option<String>,
    /// `--extra-index-url`s given after the last `-i` (pip drops earlier ones).
    pub extra_index_urls: Vec<String>,
    pub no_index: bool,
    /// A relative path is resolved against the requirements file's directory if that exists.
    pub find_links: Vec<String>,
    pub pre: bool,
    pub no_binary: BinarySelector,
    pub only_binary: BinarySelector,
    pub prefer_binary: bool,
    pub require_hashes: bool,
    pub trusted_hosts: Vec<String>,
    /// `--use-feature` names (accepted and otherwise ignored).
    pub use_features: Vec<String>,
}

impl GlobalOptions {
    /// pip's `FormatControl.get_allowed_formats` for one project.
    pub fn allowed_formats(&self, name: &PackageName) -> AllowedFormats {
        allowed_formats(&self.no_binary, &self.only_binary, name)
    }
}

/// Parses requirements files in order; options and entries accumulate across them.
/// `env` looks up variables for `${VAR}` (the binary passes `std::env::var`).
pub fn parse_files(
    paths: &[PathBuf],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ParsedRequirements, RequirementsError> {
    let mut parser = parse::Parser::new(env);
    for path in paths {
        parser.parse_file(path, false, None)?;
    }
    Ok(parser.finish())
}

/// Parses `content` as if it were the file `path`; `-r`/`-c` are resolved relative to `path`.
pub fn parse_str(
    content: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ParsedRequirements, RequirementsError> {
    let mut parser = parse::Parser::new(env);
    parser.parse_root_str(content, path)?;
    Ok(parser.finish())
}

/// The error location of byte `byte` of `line`.
pub(crate) fn location(line: &lines::LogicalLine, byte: usize) -> Location {
    let pos = line.pos(byte);
    Location {
        file: line.file.clone(),
        line: pos.line,
        column: pos.column,
    }
}
