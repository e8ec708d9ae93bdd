//! `--hash=ALGO:HEX` values (pip's `STRONG_HASHES`: sha256, sha384, sha512).

use std::fmt;
use std::str::FromStr;

/// A hash algorithm pip accepts in `--hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An expected archive digest, e.g. `sha256:2cf2...`. Display round-trips (hex is lowercase).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashDigest {
    pub algorithm: HashAlgorithm,
    /// Lowercase hex.
    pub hex: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("missing `:` between the algorithm and the digest")]
    MissingColon,
    #[error("unsupported algorithm `{0}`")]
    UnknownAlgorithm(String),
    #[error("the {algorithm} digest has {found} hex digits, expected {expected}")]
    Length {
        algorithm: HashAlgorithm,
        found: usize,
        expected: usize,
    },
    #[error("`{0}` is not a hex digit")]
    NotHex(char),
}

impl FromStr for HashDigest {
    type Err = HashError;

    /// pip splits at the first `:` and compares the algorithm case-sensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (algo, hex) = s.split_once(':').ok_or(HashError::MissingColon)?;
        let algorithm = match algo {
            "sha256" => HashAlgorithm::Sha256,
            "sha384" => HashAlgorithm::Sha384,
            "sha512" => HashAlgorithm::Sha512,
            other => return Err(HashError::UnknownAlgorithm(other.to_string())),
        };
        if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(HashError::NotHex(c));
        }
        if hex.len() != algorithm.hex_len() {
            return Err(HashError::Length {
                algorithm,
                found: hex.len(),
                expected: algorithm.hex_len(),
            });
        }
        Ok(Self {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        })
    }
}

impl fmt::Display for HashDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}
