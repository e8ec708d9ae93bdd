//! PEM blocks (RFC 7468) read the way OpenSSL reads them for curl and pip: text between
//! blocks is ignored (Debian's and certifi's bundles carry comments there), each block is
//! decoded on its own so that one damaged block does not hide the others, and every block
//! remembers its line for error messages.

use base64::Engine;

/// One `-----BEGIN LABEL-----` ... `-----END LABEL-----` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Block {
    /// `CERTIFICATE`, `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `EC PARAMETERS`, ...
    pub label: String,
    /// 1-based line of the BEGIN line.
    pub line: usize,
    /// The decoded body, or why it could not be decoded.
    pub der: Result<Vec<u8>, Defect>,
    /// RFC 1421 headers said `Proc-Type: 4,ENCRYPTED` (OpenSSL's legacy encrypted keys).
    pub encrypted: bool,
}

/// Why a block's body is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Defect {
    #[error("no `-----END {label}-----` line follows")]
    Unterminated { label: String },
    #[error("line {line} is not base64")]
    NotBase64 { line: usize },
    #[error("the base64 body is cut short or wrongly padded")]
    Truncated,
    #[error("the block is empty")]
    Empty,
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// `LABEL` of a `-----BEGIN LABEL-----` (or END) line.
fn label_of<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix(prefix)?
        .strip_suffix(DASHES)
        .map(str::trim)
}

/// All blocks of `text`, in order. Text outside blocks is skipped.
pub(super) fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, line)) = lines.next() {
        let Some(label) = label_of(line, BEGIN) else {
            continue;
        };
        let mut block = Block {
            label: label.to_string(),
            line: index + 1,
            der: Err(Defect::Unterminated {
                label: label.to_string(),
            }),
            encrypted: false,
        };
        let mut body = String::new();
        let mut bad_line = None;
        // A BEGIN before our END starts a new block: this one is unterminated.
        while let Some((_, next)) = lines.peek() {
            if label_of(next, BEGIN).is_some() {
                break;
            }
            let Some((number, next)) = lines.next() else {
                break;
            };
            if let Some(end) = label_of(next, END) {
                if end == block.label {
                    block.der = decode(&body, bad_line);
                }
                break;
            }
            let next = next.trim();
            // RFC 1421 headers (`Proc-Type: ...`, `DEK-Info: ...`) before the body.
            if next.contains(':') {
                if next.starts_with("Proc-Type:") && next.contains("ENCRYPTED") {
                    block.encrypted = true;
                }
                continue;
            }
            if bad_line.is_none()
                && !next
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
            {
                bad_line = Some(number + 1);
            }
            body.push_str(next);
        }
        out.push(block);
    }
    out
}

fn decode(body: &str, bad_line: Option<usize>) -> Result<Vec<u8>, Defect> {
    if let Some(line) = bad_line {
        return Err(Defect::NotBase64 { line });
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        // The characters are base64 but the length or padding is not.
        .map_err(|_| Defect::Truncated)?;
    if der.is_empty() {
        return Err(Defect::Empty);
    }
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_order_labels_lines_and_skip_comments() {
        let text = "# Issuer: comment\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n\
                    text\n-----BEGIN EC PRIVATE KEY-----\nBAUG\n-----END EC PRIVATE KEY-----\n";
        let found = blocks(text);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].label.as_str(), found[0].line), ("CERTIFICATE", 2));
        assert_eq!(found[0].der, Ok(vec![1, 2, 3]));
        assert_eq!(
            (found[1].label.as_str(), found[1].line),
            ("EC PRIVATE KEY", 6)
        );
        assert_eq!(found[1].der, Ok(vec![4, 5, 6]));
    }

    #[test]
    fn a_damaged_block_does_not_hide_the_next_one() {
        let text = "-----BEGIN CERTIFICATE-----\nno*base64\n-----END CERTIFICATE-----\n\
                    -----BEGIN CERTIFICATE-----\nAQID\n-----BEGIN CERTIFICATE-----\nBAUG\n\
                    -----END CERTIFICATE-----\n";
        let found = blocks(text);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].der, Err(Defect::NotBase64 { line: 2 }));
        assert!(matches!(found[1].der, Err(Defect::Unterminated { .. })));
        assert_eq!(found[2].der, Ok(vec![4, 5, 6]));
    }

    #[test]
    fn legacy_encrypted_keys_are_flagged() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                    DEK-Info: AES-128-CBC,00\n\nAQID\n-----END RSA PRIVATE KEY-----\n";
        let found = blocks(text);
        assert!(found[0].encrypted);
        assert_eq!(found[0].der, Ok(vec![1, 2, 3]));
    }

    #[test]
    fn empty_and_wrong_end_blocks_are_defects() {
        let found = blocks("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
        assert_eq!(found[0].der, Err(Defect::Empty));
        let found = blocks("-----BEGIN CERTIFICATE-----\nAQID\n-----END PRIVATE KEY-----\n");
        assert!(matches!(found[0].der, Err(Defect::Unterminated { .. })));
    }
}
