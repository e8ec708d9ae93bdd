//! The client's TLS settings, built here instead of by reqwest so that every certificate and
//! key curl and pip (OpenSSL) accept works:
//!
//! * client certificates X.509 v1 and v3: rustls' own `with_client_auth_cert` parses the
//!   certificate with webpki to compare it with the key, and webpki refuses v1 (what
//!   `openssl x509 -req` without extensions writes), although the certificate is only sent,
//!   never verified, by the client. The key check is done here with a DER reader that
//!   accepts both versions;
//! * keys in PKCS#8, PKCS#1 and SEC1, before or after the certificate, beside OpenSSL's
//!   `EC PARAMETERS` block (`openssl ecparam -genkey`), or in a file of their own;
//! * a chain: the certificate the key belongs to is sent first, the rest after it;
//! * CA bundles as OpenSSL loads them: comments between blocks, and entries that cannot be
//!   parsed are skipped; a bundle with no usable certificate at all is an error, since the
//!   user meant to trust something.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::SingleCertAndKey;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::der::DerError;
use super::identity::load_identity;
use super::pem::{self, Defect};

/// Which file a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    CaBundle,
    ClientCert,
    ClientKey,
}

impl std::fmt::Display for FileRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileRole::CaBundle => "CA bundle",
            FileRole::ClientCert => "client certificate",
            FileRole::ClientKey => "client key",
        })
    }
}

/// Why an entry of a CA bundle was skipped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RootProblem {
    #[error("line {line}: {defect}")]
    Pem { line: usize, defect: Defect },
    #[error("line {line}: {cause}")]
    Rejected { line: usize, cause: rustls::Error },
}

/// A TLS file that cannot be used; always names the file (exit 2: bad configuration).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read the {role} {path}: {cause}")]
    Read {
        role: FileRole,
        path: String,
        cause: std::io::Error,
    },
    #[error("{role} {path}:{line}: `{label}` block: {defect}")]
    Pem {
        role: FileRole,
        path: String,
        line: usize,
        label: String,
        defect: Defect,
    },
    #[error("{role} {path} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`){hint}")]
    NoCertificate {
        role: FileRole,
        path: String,
        hint: &'static str,
    },
    #[error("CA bundle {path}: none of its {found} certificates can be used; the first: {first}")]
    NoUsableRoot {
        path: String,
        found: usize,
        first: RootProblem,
    },
    #[error(
        "{role} {path} holds no private key (`-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` \
         or `EC PRIVATE KEY`): put the key into the same file or give it with --client-key"
    )]
    NoKey { role: FileRole, path: String },
    #[error(
        "{role} {path}:{line}: the private key is encrypted and wheelwright does not ask for \
         passphrases: decrypt it with `openssl pkey -in KEY -out PLAIN-KEY`"
    )]
    EncryptedKey {
        role: FileRole,
        path: String,
        line: usize,
    },
    #[error("{role} {path}:{line}: the private key cannot be used: {cause}")]
    BadKey {
        role: FileRole,
        path: String,
        line: usize,
        cause: rustls::Error,
    },
    #[error("client certificate {path}:{line}: the certificate cannot be read: {cause}")]
    BadCertificate {
        path: String,
        line: usize,
        cause: DerError,
    },
    #[error(
        "the private key in {key}:{key_line} does not belong to the certificate in \
         {cert}:{cert_line} (nor to any other certificate in that file)"
    )]
    KeyMismatch {
        key: String,
        key_line: usize,
        cert: String,
        cert_line: usize,
    },
    #[error("a client key is given (--client-key) but no client certificate (--client-cert)")]
    KeyWithoutCertificate,
    #[error("cannot set up TLS: {cause}")]
    Setup { cause: String },
}

pub(super) const DER_HINT: &str =
    "; it looks like DER: convert it with `openssl x509 -inform der -in FILE -out FILE.pem`";

/// The TLS files of a run.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    /// Added to the system's roots.
    pub ca_bundle: Option<PathBuf>,
    /// Certificate (and chain), with the key unless `client_key` is given.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

/// The rustls configuration for reqwest's `use_preconfigured_tls`.
pub fn client_config(files: &TlsFiles) -> Result<rustls::ClientConfig, TlsSetupError> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let mut roots = RootCertStore::empty();
    // As OpenSSL does for curl and pip: the system store (or SSL_CERT_FILE / SSL_CERT_DIR);
    // an entry that does not parse is skipped.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = &files.ca_bundle {
        add_bundle(&mut roots, path)?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Setup {
            cause: e.to_string(),
        })?;
    let builder = if roots.is_empty() {
        // No system roots (a minimal container) and no bundle: plain-HTTP indexes still work,
        // and every TLS connection fails closed, saying why.
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoRoots(provider.clone())))
    } else {
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .map_err(|e| TlsSetupError::Setup {
            cause: e.to_string(),
        })?;
        builder.with_webpki_verifier(verifier)
    };
    let mut config = match (&files.client_cert, &files.client_key) {
        (Some(cert), key) => {
            let identity = load_identity(cert, key.as_deref(), &provider)?;
            builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(identity)))
        }
        (None, Some(_)) => return Err(TlsSetupError::KeyWithoutCertificate),
        (None, None) => builder.with_no_client_auth(),
    };
    // reqwest sets ALPN only on configurations it builds itself.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The PEM blocks of a file, and whether it looks like DER instead (for the hint).
pub(super) fn read_blocks(
    role: FileRole,
    path: &Path,
) -> Result<(Vec<pem::Block>, bool), TlsSetupError> {
    let bytes = std::fs::read(path).map_err(|cause| TlsSetupError::Read {
        role,
        path: path.display().to_string(),
        cause,
    })?;
    let blocks = pem::blocks(&String::from_utf8_lossy(&bytes));
    // A DER file starts with a SEQUENCE tag; say so rather than only "no certificate".
    let der = blocks.is_empty() && bytes.first() == Some(&0x30);
    Ok((blocks, der))
}

/// Adds every usable certificate of a PEM bundle; errors when none is usable.
pub fn add_bundle(roots: &mut RootCertStore, path: &Path) -> Result<usize, TlsSetupError> {
    let shown = path.display().to_string();
    let (blocks, looks_der) = read_blocks(FileRole::CaBundle, path)?;
    let mut found = 0;
    let mut added = 0;
    let mut first = None;
    for block in blocks.into_iter().filter(|b| b.label == "CERTIFICATE") {
        found += 1;
        let outcome = match block.der {
            Ok(der) => {
                roots
                    .add(CertificateDer::from(der))
                    .map_err(|cause| RootProblem::Rejected {
                        line: block.line,
                        cause,
                    })
            }
            Err(defect) => Err(RootProblem::Pem {
                line: block.line,
                defect,
            }),
        };
        match outcome {
            Ok(()) => added += 1,
            Err(problem) => {
                first.get_or_insert(problem);
            }
        }
    }
    match first {
        _ if found == 0 => Err(TlsSetupError::NoCertificate {
            role: FileRole::CaBundle,
            path: shown,
            hint: if looks_der { DER_HINT } else { "" },
        }),
        Some(first) if added == 0 => Err(TlsSetupError::NoUsableRoot {
            path: shown,
            found,
            first,
        }),
        _ => Ok(added),
    }
}

/// The verifier when nothing is trusted: every server is refused with the reason.
#[derive(Debug)]
struct NoRoots(Arc<CryptoProvider>);

impl ServerCertVerifier for NoRoots {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(
            "no CA certificate is trusted: the system has none (install ca-certificates) and \
             no --ca-bundle is given"
                .to_string(),
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &[u8]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn a_bundle_without_certificates_or_in_der_is_refused_with_a_hint() {
        let mut roots = RootCertStore::empty();
        let comments = file(b"# only comments\n");
        assert!(matches!(
            add_bundle(&mut roots, comments.path()),
            Err(TlsSetupError::NoCertificate { hint: "", .. })
        ));
        let der = file(&[0x30, 0x82, 0x01, 0x00]);
        assert!(matches!(
            add_bundle(&mut roots, der.path()),
            Err(TlsSetupError::NoCertificate { hint: DER_HINT, .. })
        ));
    }

    #[test]
    fn a_bundle_of_damaged_entries_names_the_first_problem() {
        let mut roots = RootCertStore::empty();
        let bundle = file(
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n\
              -----BEGIN CERTIFICATE-----\n*\n-----END CERTIFICATE-----\n",
        );
        match add_bundle(&mut roots, bundle.path()) {
            Err(TlsSetupError::NoUsableRoot { found, first, .. }) => {
                assert_eq!(found, 2);
                assert!(matches!(first, RootProblem::Rejected { line: 1, .. }));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_key_without_certificate_is_refused() {
        let files = TlsFiles {
            client_key: Some(PathBuf::from("key.pem")),
            ..TlsFiles::default()
        };
        assert!(matches!(
            client_config(&files),
            Err(TlsSetupError::KeyWithoutCertificate)
        ));
    }

    #[test]
    fn an_encrypted_key_is_refused_naming_its_line() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let cert = file(
            b"-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n\
              -----BEGIN ENCRYPTED PRIVATE KEY-----\nAQID\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        assert!(matches!(
            load_identity(cert.path(), None, &provider),
            Err(TlsSetupError::EncryptedKey { line: 4, .. })
        ));
    }
}
