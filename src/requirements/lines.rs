//! Decoding and pip's line preprocessing (`req_file.preprocess`): split lines, join `\`
//! continuations, drop comments, expand `${VAR}`.
//!
//! Every character of a logical line remembers the physical line and column it came from, so
//! errors can point at the offending character even after joins and `${VAR}` expansion
//! (expanded text points at the `$` of its `${VAR}`).

use std::path::{Path, PathBuf};

use super::error::{Location, RequirementsError};

/// A 1-based physical position (column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One line after preprocessing, ready to be split into requirement and options.
#[derive(Debug, Clone)]
pub(crate) struct LogicalLine {
    /// The file as given or joined (for messages).
    pub file: PathBuf,
    /// pip's line number: the first physical line of a continued line.
    pub line: usize,
    pub text: String,
    /// One entry per byte of `text`, plus one past the end.
    pos: Vec<Pos>,
}

impl LogicalLine {
    /// The physical position of the character at byte offset `byte` (clamped to the end).
    pub(crate) fn pos(&self, byte: usize) -> Pos {
        self.pos[byte.min(self.text.len())]
    }

    fn from_chars(file: &Path, line: usize, chars: &[(char, Pos)]) -> Self {
        let mut text = String::new();
        let mut pos = Vec::new();
        for &(c, p) in chars {
            text.push(c);
            pos.extend(std::iter::repeat_n(p, c.len_utf8()));
        }
        let end = chars.last().map_or(Pos { line, column: 1 }, |&(_, p)| Pos {
            line: p.line,
            column: p.column + 1,
        });
        pos.push(end);
        Self {
            file: file.to_path_buf(),
            line,
            text,
            pos,
        }
    }
}

/// Decodes a requirements file the way pip's `auto_decode` does: a byte-order mark first,
/// then a PEP 263 coding line among the first two lines, otherwise UTF-8. Where pip would fall
/// back to the locale encoding we stop with an error naming the byte offset instead.
pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<String, RequirementsError> {
    let at = |line, column| Location {
        file: path.to_path_buf(),
        line,
        column,
    };
    // pip's order: utf-8, utf-32 (native = LE here), utf-32-be, utf-32-le, utf-16(-be/-le).
    // UTF-32-LE must be tried before UTF-16-LE because its BOM starts with the same bytes.
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return decode_utf8(rest, path, 3);
    }
    type Unit = fn(&[u8]) -> u32;
    let wide: [(&[u8], usize, Unit, &'static str); 4] = [
        (
            b"\xff\xfe\x00\x00",
            4,
            |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            "UTF-32-LE",
        ),
        (
            b"\x00\x00\xfe\xff",
            4,
            |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            "UTF-32-BE",
        ),
        (
            b"\xff\xfe",
            2,
            |b| u32::from(u16::from_le_bytes([b[0], b[1]])),
            "UTF-16-LE",
        ),
        (
            b"\xfe\xff",
            2,
            |b| u32::from(u16::from_be_bytes([b[0], b[1]])),
            "UTF-16-BE",
        ),
    ];
    for (bom, width, unit, name) in wide {
        let Some(rest) = bytes.strip_prefix(bom) else {
            continue;
        };
        let fail = |reason: &str| RequirementsError::Decode {
            at: at(1, 1),
            encoding: name,
            reason: reason.to_string(),
        };
        if rest.len() % width != 0 {
            return Err(fail("the length is not a multiple of the code unit size"));
        }
        let units = rest.chunks(width).map(unit);
        return if width == 2 {
            let units: Vec<u16> = units.map(|u| u as u16).collect();
            String::from_utf16(&units).map_err(|e| fail(&e.to_string()))
        } else {
            units
                .map(|u| char::from_u32(u).ok_or_else(|| fail("invalid code point")))
                .collect()
        };
    }
    if let Some((line, name)) = coding_line(bytes) {
        return match canonical_encoding(&name) {
            Some("utf-8") => decode_utf8(bytes, path, 0),
            Some("latin-1") => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
            Some(_) => match bytes.iter().position(|b| !b.is_ascii()) {
                None => decode_utf8(bytes, path, 0),
                Some(offset) => {
                    let (line, column) = line_column(bytes, offset);
                    Err(RequirementsError::Decode {
                        at: at(line, column),
                        encoding: "ascii",
                        reason: format!(
                            "non-ASCII byte 0x{:02x} at offset {offset}",
                            bytes[offset]
                        ),
                    })
                }
            },
            None => Err(RequirementsError::UnknownEncoding {
                at: at(line, 1),
                name,
            }),
        };
    }
    decode_utf8(bytes, path, 0)
}

fn decode_utf8(bytes: &[u8], path: &Path, skipped: usize) -> Result<String, RequirementsError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let offset = e.valid_up_to();
            let (line, column) = line_column(bytes, offset);
            Err(RequirementsError::InvalidUtf8 {
                at: Location {
                    file: path.to_path_buf(),
                    line,
                    column,
                },
                offset: offset + skipped,
            })
        }
    }
}

/// Line and character column of a byte offset whose prefix is valid UTF-8.
fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// PEP 263 as pip applies it: among the first two `\n`-separated lines, one starting with `#`
/// that matches `coding[:=]\s*([-\w.]+)`. Returns the 1-based line and the encoding name.
fn coding_line(bytes: &[u8]) -> Option<(usize, String)> {
    for (i, line) in bytes.split(|&b| b == b'\n').take(2).enumerate() {
        if line.first() != Some(&b'#') {
            continue;
        }
        let mut from = 0;
        while let Some(found) = find(&line[from..], b"coding") {
            let mut j = from + found + b"coding".len();
            from += found + 1;
            if !matches!(line.get(j), Some(b':' | b'=')) {
                continue;
            }
            j += 1;
            while matches!(line.get(j), Some(b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')) {
                j += 1;
            }
            let name: String = line[j..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                .map(|&b| char::from(b))
                .collect();
            if !name.is_empty() {
                return Some((i + 1, name));
            }
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Python's codec aliases for the encodings we can decode without an extra crate.
fn canonical_encoding(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase().replace('_', "-");
    match n.as_str() {
        "utf-8" | "utf8" | "u8" | "utf" | "cp65001" | "utf-8-sig" => Some("utf-8"),
        "latin-1" | "latin1" | "latin" | "l1" | "iso-8859-1" | "iso8859-1" | "8859" | "cp819"
        | "iso-ir-100" => Some("latin-1"),
        "ascii" | "us-ascii" | "646" => Some("ascii"),
        _ => None,
    }
}

/// Python's `str.splitlines` separators.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\x0b'
            | '\x0c'
            | '\x1c'
            | '\x1d'
            | '\x1e'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Python's `str.isspace` (what `\s` and `strip()` use).
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\x1c'..='\x1f')
}

type Chars = Vec<(char, Pos)>;

/// `content.splitlines()` with positions; line numbers start at 1.
fn physical_lines(content: &str) -> Vec<Chars> {
    let mut lines = Vec::new();
    let mut current = Vec::new();
    let mut chars = content.chars().peekable();
    while let Some(c) = chars.next() {
        if is_line_break(c) {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            lines.push(std::mem::take(&mut current));
            continue;
        }
        let pos = Pos {
            line: lines.len() + 1,
            column: current.len() + 1,
        };
        current.push((c, pos));
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// pip's `COMMENT_RE.match`: the line is a comment (optional whitespace, then `#`).
fn is_comment_line(line: &[(char, Pos)]) -> bool {
    line.iter()
        .find(|(c, _)| !is_space(*c))
        .is_some_and(|(c, _)| *c == '#')
}

/// pip's `join_lines`. A line ending in `\` continues on the next one; the joined line keeps the
/// first line's number. pip removes the backslashes with `line.strip("\\")`, i.e. *all* leading and
/// trailing backslashes, and we copy that. A comment line never continues and also ends a
/// continuation that runs into it (pip prefixes it with a space so the comment is removed later).
fn join_lines(lines: Vec<Chars>) -> Vec<(usize, Chars)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, Chars)> = None;
    for (i, mut line) in lines.into_iter().enumerate() {
        let number = i + 1;
        let comment = is_comment_line(&line);
        if line.last().is_some_and(|(c, _)| *c == '\\') && !comment {
            let start = line.iter().take_while(|(c, _)| *c == '\\').count();
            let end = line.len() - line.iter().rev().take_while(|(c, _)| *c == '\\').count();
            let part = if start < end {
                &line[start..end]
            } else {
                &[][..]
            };
            pending
                .get_or_insert_with(|| (number, Vec::new()))
                .1
                .extend_from_slice(part);
            continue;
        }
        if comment && let Some(&(_, p)) = line.first() {
            line.insert(0, (' ', p));
        }
        match pending.take() {
            Some((first, mut joined)) => {
                joined.extend(line);
                out.push((first, joined));
            }
            None => out.push((number, line)),
        }
    }
    // A trailing `\` on the last line is simply dropped.
    out.extend(pending);
    out
}

/// pip's `ignore_comments`: remove `(^|\s+)#.*$`, then strip. A `#` starts a comment only at the
/// start of the line or after whitespace, so `https://x/f.whl#sha256=...` keeps its fragment.
fn strip_comment(mut line: Chars) -> Chars {
    let hash = line
        .iter()
        .enumerate()
        .position(|(i, (c, _))| *c == '#' && (i == 0 || is_space(line[i - 1].0)));
    if let Some(i) = hash {
        line.truncate(i);
    }
    let start = line.iter().take_while(|(c, _)| is_space(*c)).count();
    let end = line.len()
        - line[start..]
            .iter()
            .rev()
            .take_while(|(c, _)| is_space(*c))
            .count();
    line[start..end].to_vec()
}

/// pip's `expand_env_variables`: `${NAME}` with `NAME` in `[A-Z0-9_]+` only; unset or empty
/// variables stay literal. (pip replaces each found variable with `str.replace` in turn; a value
/// that itself contains `${OTHER}` is not expanded again here.)
fn expand_env(line: Chars, env: &dyn Fn(&str) -> Option<String>) -> Chars {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i].0 == '$' && line.get(i + 1).is_some_and(|(c, _)| *c == '{') {
            let name_len = line[i + 2..]
                .iter()
                .take_while(|(c, _)| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .count();
            let close = i + 2 + name_len;
            if name_len > 0 && line.get(close).is_some_and(|(c, _)| *c == '}') {
                let name: String = line[i + 2..close].iter().map(|(c, _)| c).collect();
                if let Some(value) = env(&name).filter(|v| !v.is_empty()) {
                    let at = line[i].1;
                    out.extend(value.chars().map(|c| (c, at)));
                    i = close + 1;
                    continue;
                }
            }
        }
        out.push(line[i]);
        i += 1;
    }
    out
}

/// pip's `preprocess`: the non-empty logical lines of a decoded file, in order.
pub(crate) fn logical_lines(
    file: &Path,
    content: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<LogicalLine> {
    join_lines(physical_lines(content))
        .into_iter()
        .filter_map(|(number, chars)| {
            let chars = strip_comment(chars);
            if chars.is_empty() {
                return None;
            }
            Some(LogicalLine::from_chars(
                file,
                number,
                &expand_env(chars, env),
            ))
        })
        .collect()
}
