//! Values from outside that may become part of a filesystem path, parsed once at the index
//! boundary: a file name that is exactly one harmless path component, and a sha256 digest of
//! exactly 64 hex digits. Nothing else may name a file in the store or a directory target.

use std::fmt;
use std::str::FromStr;

/// The longest file name most filesystems accept (ext4, XFS, btrfs: 255 bytes).
pub const MAX_FILENAME_BYTES: usize = 255;

/// Why a listed file name cannot name a file here. Each variant says what was expected; the
/// caller names the value (escaped) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeFilename {
    #[error("a file name must not be empty")]
    Empty,
    #[error("a file name must be one path component, without `/` or `\\`")]
    Separator,
    #[error("a file name must not contain NUL or control characters")]
    Control,
    #[error("a file name must not contain `..`")]
    DotDot,
    #[error("a file name must not start with `.`")]
    LeadingDot,
    #[error("a file name must be at most {MAX_FILENAME_BYTES} bytes, not {0}")]
    TooLong(usize),
}

/// A distribution file name that is safe as a single path component: no `/` or `\`, no NUL
/// or control characters, no `..` anywhere, no leading `.` (hidden files, `.` itself), at
/// most 255 bytes. The only way to turn a listed name into a path is [`Self::as_path`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct SafeFilename(String);

impl SafeFilename {
    pub fn new(name: &str) -> Result<SafeFilename, UnsafeFilename> {
        if name.is_empty() {
            return Err(UnsafeFilename::Empty);
        }
        if name.len() > MAX_FILENAME_BYTES {
            return Err(UnsafeFilename::TooLong(name.len()));
        }
        if name.contains(['/', '\\']) {
            return Err(UnsafeFilename::Separator);
        }
        if name.chars().any(char::is_control) {
            return Err(UnsafeFilename::Control);
        }
        if name.contains("..") {
            return Err(UnsafeFilename::DotDot);
        }
        if name.starts_with('.') {
            return Err(UnsafeFilename::LeadingDot);
        }
        Ok(SafeFilename(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as one path component, to join onto a directory.
    pub fn as_path(&self) -> &std::path::Path {
        std::path::Path::new(&self.0)
    }
}

impl std::ops::Deref for SafeFilename {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SafeFilename {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafeFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SafeFilename {
    type Err = UnsafeFilename;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        SafeFilename::new(name)
    }
}

impl From<SafeFilename> for String {
    fn from(name: SafeFilename) -> String {
        name.0
    }
}

impl PartialEq<str> for SafeFilename {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SafeFilename {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Deserialising (a remembered listing, a report) checks again: a file on disk is outside
/// data too.
impl<'de> serde::Deserialize<'de> for SafeFilename {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SafeFilename::new(&text)
            .map_err(|e| serde::de::Error::custom(format!("file name {text:?}: {e}")))
    }
}

/// Why a listed digest is not a sha256.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSha256 {
    #[error("a sha256 must be 64 hex digits, not {0} characters")]
    Length(usize),
    #[error("a sha256 must consist of hex digits (0-9, a-f)")]
    NotHex,
}

/// A sha256 digest: exactly 64 hex digits, kept lowercase (PEP 503 hex digests are
/// compared case-insensitively; the store's paths use the lowercase form).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct Sha256(String);

impl Sha256 {
    pub fn new(hex: &str) -> Result<Sha256, BadSha256> {
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BadSha256::NotHex);
        }
        if hex.len() != 64 {
            return Err(BadSha256::Length(hex.chars().count()));
        }
        Ok(Sha256(hex.to_ascii_lowercase()))
    }

    pub fn from_digest(digest: &[u8; 32]) -> Sha256 {
        Sha256(hex::encode(digest))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit fan-out directory of the store (`ab` for `ab12…`).
    pub fn prefix(&self) -> &str {
        // Always 64 ASCII bytes, so the first two bytes are a char boundary.
        self.0.get(..2).unwrap_or_default()
    }

    /// Compares with a hex digest from elsewhere (a requirement's `--hash`), ignoring case.
    pub fn matches(&self, hex: &str) -> bool {
        self.0.eq_ignore_ascii_case(hex)
    }
}

impl std::ops::Deref for Sha256 {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Sha256 {
    type Err = BadSha256;
    fn from_str(hex: &str) -> Result<Self, Self::Err> {
        Sha256::new(hex)
    }
}

impl From<Sha256> for String {
    fn from(hash: Sha256) -> String {
        hash.0
    }
}

impl<'de> serde::Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Sha256::new(&text).map_err(|e| serde::de::Error::custom(format!("sha256 {text:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_that_leave_their_directory() {
        for (name, why) in [
            ("", UnsafeFilename::Empty),
            ("../x-1.0.tar.gz", UnsafeFilename::Separator),
            ("x-1.0-1..-py3-none-any.whl", UnsafeFilename::DotDot),
            ("/etc/passwd", UnsafeFilename::Separator),
            ("a\\b.whl", UnsafeFilename::Separator),
            ("a\0b.whl", UnsafeFilename::Control),
            ("a\nb.whl", UnsafeFilename::Control),
            (".hidden.whl", UnsafeFilename::LeadingDot),
            ("..", UnsafeFilename::DotDot),
        ] {
            assert_eq!(SafeFilename::new(name), Err(why), "{name:?}");
        }
        let long = "a".repeat(256);
        assert_eq!(SafeFilename::new(&long), Err(UnsafeFilename::TooLong(256)));
        assert!(SafeFilename::new(&"a".repeat(255)).is_ok());
        assert_eq!(
            SafeFilename::new("Foo_Bar-1.0-py3-none-any.whl")
                .unwrap()
                .as_str(),
            "Foo_Bar-1.0-py3-none-any.whl"
        );
    }

    #[test]
    fn sha256_is_exactly_64_hex_digits() {
        let upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        let hash = Sha256::new(upper).unwrap();
        assert_eq!(hash.as_str(), upper.to_ascii_lowercase());
        assert_eq!(hash.prefix(), "ba");
        assert_eq!(Sha256::new("ab"), Err(BadSha256::Length(2)));
        assert_eq!(Sha256::new(&"a".repeat(65)), Err(BadSha256::Length(65)));
        assert_eq!(Sha256::new(&"g".repeat(64)), Err(BadSha256::NotHex));
        assert_eq!(Sha256::new("é"), Err(BadSha256::NotHex));
        assert_eq!(Sha256::new("../../etc"), Err(BadSha256::NotHex));
    }

    #[test]
    fn deserialising_checks_again() {
        assert!(serde_json::from_str::<SafeFilename>("\"../x.whl\"").is_err());
        assert!(serde_json::from_str::<Sha256>("\"ab\"").is_err());
        let name: SafeFilename = serde_json::from_str("\"x-1.0.tar.gz\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"x-1.0.tar.gz\"");
    }
}
