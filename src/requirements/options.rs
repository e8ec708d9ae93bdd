//! Splitting a logical line into its requirement part and its options, and parsing the options
//! the way pip's optparse-based line parser does (`req_file.break_args_options`,
//! `shlex.split`, `cmdoptions`).

use super::error::RequirementsError;
use super::lines::LogicalLine;
use super::{GlobalOptions, HashDigest, PackageSelector};

/// The options pip accepts in a requirements file, for error messages.
pub(crate) const KNOWN_OPTIONS: &str = "-r/--requirement, -c/--constraint, -e/--editable, \
     -i/--index-url, --extra-index-url, --no-index, -f/--find-links, --no-binary, \
     --only-binary, --prefer-binary, --require-hashes, --pre, --trusted-host, --use-feature, \
     --hash, -C/--config-settings";

/// A token of the logical line with the byte offset it starts at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub value: String,
    pub start: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opt {
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    Constraint,
    Requirement,
    Editable,
    FindLinks,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    Pre,
    TrustedHost,
    UseFeature,
    Hash,
    ConfigSettings,
}

/// (option, long names, short name, what its value looks like if it takes one)
type Spec = (
    Opt,
    &'static [&'static str],
    Option<char>,
    Option<&'static str>,
);

const TABLE: &[Spec] = &[
    (
        Opt::IndexUrl,
        &["--index-url", "--pypi-url"],
        Some('i'),
        Some("URL"),
    ),
    (
        Opt::ExtraIndexUrl,
        &["--extra-index-url"],
        None,
        Some("URL"),
    ),
    (Opt::NoIndex, &["--no-index"], None, None),
    (Opt::Constraint, &["--constraint"], Some('c'), Some("FILE")),
    (
        Opt::Requirement,
        &["--requirement"],
        Some('r'),
        Some("FILE"),
    ),
    (Opt::Editable, &["--editable"], Some('e'), Some("PATH/URL")),
    (
        Opt::FindLinks,
        &["--find-links"],
        Some('f'),
        Some("PATH/URL"),
    ),
    (Opt::NoBinary, &["--no-binary"], None, Some("NAMES")),
    (Opt::OnlyBinary, &["--only-binary"], None, Some("NAMES")),
    (Opt::PreferBinary, &["--prefer-binary"], None, None),
    (Opt::RequireHashes, &["--require-hashes"], None, None),
    (Opt::Pre, &["--pre"], None, None),
    (
        Opt::TrustedHost,
        &["--trusted-host"],
        None,
        Some("HOST[:PORT]"),
    ),
    (Opt::UseFeature, &["--use-feature"], None, Some("FEATURE")),
    (Opt::Hash, &["--hash"], None, Some("ALGO:HEX")),
    (
        Opt::ConfigSettings,
        &["--config-settings"],
        Some('C'),
        Some("KEY=VALUE"),
    ),
];

/// One option occurrence, in the order written.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub opt: Opt,
    /// As written, e.g. `--find-links` or `-f`.
    pub spelling: String,
    pub value: Option<Token>,
    pub start: usize,
}

/// The options of one line.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineOptions {
    pub parsed: Vec<Parsed>,
    /// Arguments optparse left over (pip ignores them).
    pub positional: Vec<Token>,
}

impl LineOptions {
    pub(super) fn values(&self, opt: Opt) -> impl Iterator<Item = &Token> {
        self.parsed
            .iter()
            .filter(move |p| p.opt == opt)
            .filter_map(|p| p.value.as_ref())
    }

    pub(super) fn has(&self, opt: Opt) -> bool {
        self.parsed.iter().any(|p| p.opt == opt)
    }
}

/// pip's `break_args_options`: split on single spaces; the requirement part is every token before
/// the first one starting with `-`. Returns the byte ranges of both parts within `text`
/// (the options part starts after the separating space).
pub(crate) fn break_args_options(text: &str) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let mut offset: usize = 0;
    for token in text.split(' ') {
        if token.starts_with('-') {
            let args_end = offset.saturating_sub(1);
            return (0..args_end, offset..text.len());
        }
        offset += token.len() + 1;
    }
    (0..text.len(), text.len()..text.len())
}

/// `shlex.split` in POSIX mode, remembering where each token starts.
pub(crate) fn shlex_split(
    line: &LogicalLine,
    range: std::ops::Range<usize>,
) -> Result<Vec<Token>, RequirementsError> {
    let text = &line.text[range.clone()];
    let mut tokens = Vec::new();
    let mut current: Option<Token> = None;
    let mut chars = text
        .char_indices()
        .map(|(i, c)| (i + range.start, c))
        .peekable();
    let quoting = |at: usize, message: &str| RequirementsError::Quoting {
        at: super::location(line, at),
        message: message.to_string(),
    };
    while let Some((i, c)) = chars.next() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            tokens.extend(current.take());
            continue;
        }
        let token = current.get_or_insert_with(|| Token {
            value: String::new(),
            start: i,
        });
        match c {
            '\\' => match chars.next() {
                Some((_, next)) => token.value.push(next),
                None => return Err(quoting(i, "no escaped character after `\\`")),
            },
            '\'' => loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, q)) => token.value.push(q),
                    None => return Err(quoting(i, "no closing quotation for `'`")),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.peek() {
                        Some(&(_, q @ ('"' | '\\'))) => {
                            token.value.push(q);
                            chars.next();
                        }
                        _ => token.value.push('\\'),
                    },
                    Some((_, q)) => token.value.push(q),
                    None => return Err(quoting(i, "no closing quotation for `\"`")),
                }
            },
            _ => token.value.push(c),
        }
    }
    tokens.extend(current);
    Ok(tokens)
}

/// Finds a long option by exact name or, like optparse, by an unambiguous prefix.
fn lookup_long(
    name: &str,
    line: &LogicalLine,
    at: usize,
) -> Result<(Opt, Option<&'static str>), RequirementsError> {
    let all = TABLE
        .iter()
        .flat_map(|(opt, longs, _, value)| longs.iter().map(move |l| (*l, *opt, *value)));
    if let Some((_, opt, value)) = all.clone().find(|(l, _, _)| *l == name) {
        return Ok((opt, value));
    }
    let matches: Vec<_> = all.filter(|(l, _, _)| l.starts_with(name)).collect();
    match matches.as_slice() {
        [(_, opt, value)] => Ok((*opt, *value)),
        [] => Err(RequirementsError::UnknownOption {
            at: super::location(line, at),
            option: name.to_string(),
        }),
        many => Err(RequirementsError::AmbiguousOption {
            at: super::location(line, at),
            option: name.to_string(),
            candidates: many
                .iter()
                .map(|(l, _, _)| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Parses option tokens like optparse: `--long=value`, `--long value`, `-xvalue`, `-x value`
/// (a value is taken even if it starts with `-`), unambiguous prefixes of long options, and `--`.
/// `--no-binary`/`--only-binary` are optparse callbacks in pip that update the global format
/// control while parsing, on every kind of line, so they are applied to `global` right here.
pub(crate) fn parse_options(
    line: &LogicalLine,
    tokens: Vec<Token>,
    global: &mut GlobalOptions,
) -> Result<LineOptions, RequirementsError> {
    let mut out = LineOptions::default();
    let mut tokens = tokens.into_iter();
    while let Some(token) = tokens.next() {
        let start = token.start;
        let text = token.value.as_str();
        if text == "--" {
            out.positional.extend(tokens.by_ref());
            break;
        }
        let (opt, spelling, value_kind, inline) = if let Some(long) = text.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (text.to_string(), None),
            };
            let (opt, value_kind) = lookup_long(&name, line, start)?;
            (opt, name, value_kind, inline)
        } else if let Some(short) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
            let c = short.chars().next().unwrap_or_default();
            let Some((opt, _, _, value_kind)) = TABLE.iter().find(|t| t.2 == Some(c)) else {
                return Err(RequirementsError::UnknownOption {
                    at: super::location(line, start),
                    option: format!("-{c}"),
                });
            };
            let rest = &short[c.len_utf8()..];
            let inline = (!rest.is_empty()).then(|| rest.to_string());
            (*opt, format!("-{c}"), *value_kind, inline)
        } else {
            out.positional.push(token);
            continue;
        };
        let value = match (value_kind, inline) {
            (None, Some(_)) => {
                return Err(RequirementsError::UnexpectedValue {
                    at: super::location(line, start),
                    option: spelling,
                });
            }
            (None, None) => None,
            (Some(_), Some(v)) => Some(Token {
                value: v,
                start: start + text.len() - token_tail_len(text),
            }),
            (Some(expected), None) => {
                Some(
                    tokens
                        .next()
                        .ok_or_else(|| RequirementsError::MissingValue {
                            at: super::location(line, start),
                            option: spelling.clone(),
                            expected,
                        })?,
                )
            }
        };
        if let Some(v) = &value {
            match opt {
                Opt::NoBinary => apply_selector(line, &spelling, v, global, false)?,
                Opt::OnlyBinary => apply_selector(line, &spelling, v, global, true)?,
                _ => {}
            }
        }
        out.parsed.push(Parsed {
            opt,
            spelling,
            value,
            start,
        });
    }
    Ok(out)
}

/// Length of the inline value of `--opt=value` / `-xvalue` (for pointing at it).
fn token_tail_len(text: &str) -> usize {
    match text.strip_prefix("--") {
        Some(long) => long.split_once('=').map_or(0, |(_, v)| v.len()),
        None => text.chars().skip(2).map(char::len_utf8).sum(),
    }
}

/// pip's `handle_mutual_excludes` for `--no-binary` / `--only-binary`.
fn apply_selector(
    line: &LogicalLine,
    spelling: &str,
    value: &Token,
    global: &mut GlobalOptions,
    only_binary: bool,
) -> Result<(), RequirementsError> {
    let invalid = |reason: String| RequirementsError::InvalidOptionValue {
        at: super::location(line, value.start),
        option: spelling.to_string(),
        value: value.value.clone(),
        reason,
    };
    if value.value.starts_with('-') {
        return Err(invalid(
            "expected a comma-separated list of names, `:all:` or `:none:`".into(),
        ));
    }
    let (target, other): (&mut PackageSelector, &mut PackageSelector) = if only_binary {
        (&mut global.only_binary, &mut global.no_binary)
    } else {
        (&mut global.no_binary, &mut global.only_binary)
    };
    target
        .apply(&value.value, other)
        .map_err(|e| invalid(format!("{e}; expected PEP 508 names, `:all:` or `:none:`")))
}

/// Validates a `--hash` value.
pub(crate) fn parse_hash(
    line: &LogicalLine,
    value: &Token,
) -> Result<HashDigest, RequirementsError> {
    value
        .value
        .parse::<HashDigest>()
        .map_err(|reason| RequirementsError::InvalidHash {
            at: super::location(line, value.start),
            value: value.value.clone(),
            reason: reason.to_string(),
        })
}

/// Validates a `-C/--config-settings` value: pip's `value.partition("=")` must find a `=`.
pub(crate) fn parse_config_setting(
    line: &LogicalLine,
    value: &Token,
) -> Result<(String, String), RequirementsError> {
    value
        .value
        .split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| RequirementsError::InvalidConfigSetting {
            at: super::location(line, value.start),
            value: value.value.clone(),
        })
}
