//! sha256 helpers: lowercase hex for index hashes and `--hash`, urlsafe base64 for RECORD.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Streams a reader through sha256 (64 KiB at a time), returning the digest and the number
/// of bytes read.
pub fn sha256_reader(mut reader: impl Read) -> io::Result<([u8; 32], u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hasher.finalize().into(), total))
}

/// Lowercase hex sha256 of a file, read in a streaming fashion (the form simple indexes,
/// `--hash=sha256:` and the upload API's `sha256_digest` use).
pub fn sha256_file(path: impl AsRef<Path>) -> io::Result<String> {
    let (digest, _) = sha256_reader(File::open(path)?)?;
    Ok(hex::encode(digest))
}

/// The RECORD form of a digest: `sha256=` + urlsafe base64 without padding (PEP 376/427).
pub fn record_hash(digest: &[u8; 32]) -> String {
    format!("sha256={}", URL_SAFE_NO_PAD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (digest, len) = sha256_reader(&b""[..]).unwrap();
        assert_eq!(len, 0);
        // The RECORD hash of an empty file, as written by every wheel builder.
        assert_eq!(
            record_hash(&digest),
            "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }
}
