//! Certificates made with the `openssl` CLI the way tutorials and the OpenSSL documentation
//! make them: `openssl req -x509 -new` for a CA, `openssl x509 -req -CA ... -CAkey ...` for
//! what it signs. Without `-extfile` that gives an X.509 **v1** certificate, which is what
//! users of a local PKI hand to curl and pip and expect wheelwright to take as well.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Private key forms, as openssl writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// `openssl genpkey -algorithm RSA`: `BEGIN PRIVATE KEY` (PKCS#8).
    RsaPkcs8,
    /// The same through `openssl rsa -traditional`: `BEGIN RSA PRIVATE KEY` (PKCS#1).
    RsaPkcs1,
    /// `openssl ecparam -genkey`: `BEGIN EC PARAMETERS` then `BEGIN EC PRIVATE KEY` (SEC1).
    EcSec1,
}

/// A CA: certificate and key files.
#[derive(Debug, Clone)]
pub(crate) struct Ca {
    pub pem: PathBuf,
    pub key: PathBuf,
}

/// A signed certificate and its key, separate files.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Extensions beyond the tutorial defaults, each in a file of its own.
pub(crate) enum Extensions<'a> {
    /// None at all: an X.509 v1 certificate.
    None,
    /// A v3 certificate with these `openssl x509 -extfile` lines.
    V3(&'a str),
}

/// An intermediate CA's extensions (a v1 certificate cannot be a CA for OpenSSL).
pub(crate) const CA_EXTENSIONS: &str = "basicConstraints = critical, CA:TRUE\n\
                                 keyUsage = critical, keyCertSign, cRLSign\n\
                                 subjectKeyIdentifier = hash\n\
                                 authorityKeyIdentifier = keyid\n";

/// A server certificate for `https://127.0.0.1:PORT`: an IP SAN and nothing else.
pub(crate) const SERVER_IP_ONLY: &str = "subjectAltName = IP:127.0.0.1\n";

impl Ca {
    /// A self-signed root (`openssl req -x509 -new`, RSA 2048).
    pub(crate) fn root(dir: &Path, name: &str, cn: &str) -> Ca {
        let key = dir.join(format!("{name}.key"));
        let pem = dir.join(format!("{name}.pem"));
        new_key(&key, KeyKind::RsaPkcs8);
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            path_str(&key),
            "-sha256",
            "-days",
            "7",
            "-subj",
            &format!("/CN={cn}"),
            "-out",
            path_str(&pem),
        ]);
        Ca { pem, key }
    }

    /// A new key of `kind` and a certificate for it signed by this CA.
    pub(crate) fn issue(
        &self,
        dir: &Path,
        name: &str,
        cn: &str,
        kind: KeyKind,
        extensions: Extensions,
    ) -> Issued {
        let key = dir.join(format!("{name}.key"));
        let csr = dir.join(format!("{name}.csr"));
        let cert = dir.join(format!("{name}.pem"));
        new_key(&key, kind);
        openssl(&[
            "req",
            "-new",
            "-key",
            path_str(&key),
            "-subj",
            &format!("/CN={cn}"),
            "-out",
            path_str(&csr),
        ]);
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            path_str(&csr),
            "-CA",
            path_str(&self.pem),
            "-CAkey",
            path_str(&self.key),
            "-CAcreateserial",
            "-days",
            "7",
            "-sha256",
            "-out",
            path_str(&cert),
        ];
        let ext = dir.join(format!("{name}.ext"));
        if let Extensions::V3(lines) = extensions {
            std::fs::write(&ext, lines).expect("write extensions");
            args.extend(["-extfile", path_str(&ext)]);
        }
        openssl(&args);
        Issued { cert, key }
    }

    /// An intermediate CA signed by this one.
    pub(crate) fn intermediate(&self, dir: &Path, name: &str, cn: &str) -> Ca {
        let issued = self.issue(
            dir,
            name,
            cn,
            KeyKind::RsaPkcs8,
            Extensions::V3(CA_EXTENSIONS),
        );
        Ca {
            pem: issued.cert,
            key: issued.key,
        }
    }
}

fn new_key(key: &Path, kind: KeyKind) {
    let out = path_str(key);
    match kind {
        KeyKind::RsaPkcs8 => {
            openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                out,
            ]);
        }
        KeyKind::RsaPkcs1 => {
            let pkcs8 = key.with_extension("pkcs8");
            new_key(&pkcs8, KeyKind::RsaPkcs8);
            openssl(&["rsa", "-in", path_str(&pkcs8), "-traditional", "-out", out]);
        }
        KeyKind::EcSec1 => {
            openssl(&["ecparam", "-genkey", "-name", "prime256v1", "-out", out]);
        }
    }
    let text = std::fs::read_to_string(key).expect("read key");
    let expected = match kind {
        KeyKind::RsaPkcs8 => "-----BEGIN PRIVATE KEY-----",
        KeyKind::RsaPkcs1 => "-----BEGIN RSA PRIVATE KEY-----",
        KeyKind::EcSec1 => "-----BEGIN EC PRIVATE KEY-----",
    };
    assert!(
        text.contains(expected),
        "openssl wrote no {expected} for {kind:?}:\n{text}"
    );
}

/// `Version: 1` or `Version: 3` as `openssl x509 -text` prints it.
pub(crate) fn x509_version(cert: &Path) -> u8 {
    let text = openssl(&["x509", "-in", path_str(cert), "-noout", "-text"]);
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Version: "))
        .unwrap_or_else(|| panic!("no Version in openssl x509 -text:\n{text}"));
    line.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the version from `{line}`"))
}

/// Concatenates files (PEM blocks) into `out`.
pub(crate) fn concat(out: &Path, parts: &[&Path]) -> PathBuf {
    let mut text = String::new();
    for part in parts {
        let piece = std::fs::read_to_string(part)
            .unwrap_or_else(|e| panic!("read {}: {e}", part.display()));
        text.push_str(&piece);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    std::fs::write(out, text).expect("write concatenated PEM");
    out.to_path_buf()
}

pub(crate) fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", path.display()))
}

/// Runs the openssl CLI; panics with its output on failure; returns its stdout.
pub(crate) fn openssl(args: &[&str]) -> String {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}): run scripts/test.sh first (it installs openssl)")
        });
    assert!(
        output.status.success(),
        "openssl {} failed ({}):\n{}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
