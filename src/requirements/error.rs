//! Errors of the requirements-file parser.
//!
//! Every error names where it happened as `file:line:column` (1-based; the column counts
//! characters, not bytes) and says what was expected. The line and column are those of the
//! offending character in the *physical* file, even inside a `\` continuation, so an editor
//! jump lands on it. (Entries themselves carry pip's logical line number, see [`Origin`](super::Origin).)

use std::fmt;
use std::path::PathBuf;

/// A place in a requirements file: `file:line:column`, all 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Shows an include chain as `a.txt -> b.txt -> a.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeChain(pub Vec<PathBuf>);

impl fmt::Display for IncludeChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" -> ")?;
            }
            write!(f, "{}", p.display())?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RequirementsError {
    /// A file given on the command line could not be read.
    #[error("{}: cannot read requirements file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file named by `-r`/`-c` could not be read.
    #[error("{at}: cannot read included requirements file `{}`: {source}", path.display())]
    ReadInclude {
        at: Location,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// pip falls back to the locale encoding here; we refuse to guess.
    #[error(
        "{at}: invalid UTF-8 at byte offset {offset}; expected UTF-8 text, a byte-order mark, \
         or a `# -*- coding: latin-1 -*-` line in the first two lines"
    )]
    InvalidUtf8 { at: Location, offset: usize },

    #[error("{at}: cannot decode the file as {encoding}: {reason}")]
    Decode {
        at: Location,
        encoding: &'static str,
        reason: String,
    },

    #[error(
        "{at}: unsupported encoding `{name}` in the coding line; expected utf-8, latin-1 or ascii"
    )]
    UnknownEncoding { at: Location, name: String },

    #[error("{at}: invalid requirement `{text}`{detail}; expected {expected}")]
    InvalidRequirement {
        at: Location,
        text: String,
        /// `: message`, preceded by `` at `token` `` when the parser pointed at part of the text.
        detail: String,
        expected: &'static str,
    },

    #[error(
        "{at}: requirement `{text}` names an existing requirements file; did you mean `-r {text}`?"
    )]
    LooksLikeRequirementsFile { at: Location, text: String },

    #[error(
        "{at}: unknown option `{option}`; expected one of {}",
        super::options::KNOWN_OPTIONS
    )]
    UnknownOption { at: Location, option: String },

    #[error("{at}: ambiguous option `{option}`; it could be {candidates}")]
    AmbiguousOption {
        at: Location,
        option: String,
        candidates: String,
    },

    #[error("{at}: option `{option}` requires a value; expected `{option} {expected}`")]
    MissingValue {
        at: Location,
        option: String,
        expected: &'static str,
    },

    #[error("{at}: option `{option}` does not take a value; expected `{option}` alone")]
    UnexpectedValue { at: Location, option: String },

    #[error("{at}: cannot split options: {message}; expected balanced shell-style quotes")]
    Quoting { at: Location, message: String },

    #[error(
        "{at}: invalid hash `{value}`: {reason}; expected `--hash=ALGO:HEX` with ALGO one of sha256, sha384, sha512"
    )]
    InvalidHash {
        at: Location,
        value: String,
        reason: String,
    },

    #[error("{at}: invalid config setting `{value}`; expected `KEY=VALUE`")]
    InvalidConfigSetting { at: Location, value: String },

    #[error("{at}: invalid value `{value}` for `{option}`: {reason}")]
    InvalidOptionValue {
        at: Location,
        option: String,
        value: String,
        reason: String,
    },

    #[error(
        "{at}: remote requirements files are not supported: `{url}`; expected a local path \
         (download the file first)"
    )]
    RemoteInclude { at: Location, url: String },

    #[error("{at}: requirements file includes itself: {chain}")]
    IncludeCycle { at: Location, chain: IncludeChain },

    #[error(
        "{at}: invalid constraint `{text}`: {reason}; expected a package name with an optional \
         version specifier and marker (pip: constraints are only allowed to take the form of a \
         package name and a version specifier)"
    )]
    InvalidConstraint {
        at: Location,
        text: String,
        reason: String,
    },
}

impl RequirementsError {
    /// Where the error happened, if it is inside a file.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Self::Read { .. } => None,
            Self::ReadInclude { at, .. }
            | Self::InvalidUtf8 { at, .. }
            | Self::Decode { at, .. }
            | Self::UnknownEncoding { at, .. }
            | Self::InvalidRequirement { at, .. }
            | Self::LooksLikeRequirementsFile { at, .. }
            | Self::UnknownOption { at, .. }
            | Self::AmbiguousOption { at, .. }
            | Self::MissingValue { at, .. }
            | Self::UnexpectedValue { at, .. }
            | Self::Quoting { at, .. }
            | Self::InvalidHash { at, .. }
            | Self::InvalidConfigSetting { at, .. }
            | Self::InvalidOptionValue { at, .. }
            | Self::RemoteInclude { at, .. }
            | Self::IncludeCycle { at, .. }
            | Self::InvalidConstraint { at, .. } => Some(at),
        }
    }
}
