//! The client certificate and key of mutual TLS, read as OpenSSL reads them for curl and pip
//! (see [`super::tls`] for why rustls' own loader is not used): PKCS#8, PKCS#1 and SEC1 keys,
//! blocks in any order, a chain, the key in the same file or its own.

use std::path::Path;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::der;
use super::pem;
use super::tls::{DER_HINT, FileRole, TlsSetupError, read_blocks};

/// A private key block: its DER in the form its label names.
fn key_of(block: &pem::Block, der: &[u8]) -> Option<PrivateKeyDer<'static>> {
    let der = der.to_vec();
    match block.label.as_str() {
        "PRIVATE KEY" => Some(PrivateKeyDer::Pkcs8(der.into())),
        "RSA PRIVATE KEY" => Some(PrivateKeyDer::Pkcs1(der.into())),
        "EC PRIVATE KEY" => Some(PrivateKeyDer::Sec1(der.into())),
        _ => None,
    }
}

fn is_key_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

/// The first private key of a file (OpenSSL reads the first one too), with its line.
fn first_key(
    role: FileRole,
    path: &Path,
    blocks: &[pem::Block],
) -> Result<(PrivateKeyDer<'static>, usize), TlsSetupError> {
    let shown = || path.display().to_string();
    let block = blocks
        .iter()
        .find(|b| is_key_label(&b.label))
        .ok_or_else(|| TlsSetupError::NoKey {
            role,
            path: shown(),
        })?;
    let der = block.der.as_ref().map_err(|defect| TlsSetupError::Pem {
        role,
        path: shown(),
        line: block.line,
        label: block.label.clone(),
        defect: defect.clone(),
    })?;
    if block.encrypted || block.label == "ENCRYPTED PRIVATE KEY" {
        return Err(TlsSetupError::EncryptedKey {
            role,
            path: shown(),
            line: block.line,
        });
    }
    let key = key_of(block, der).ok_or_else(|| TlsSetupError::BadKey {
        role,
        path: shown(),
        line: block.line,
        cause: rustls::Error::General(format!("`{}` keys are not supported", block.label)),
    })?;
    Ok((key, block.line))
}

/// Certificate chain and key for client authentication.
pub(super) fn load_identity(
    cert_path: &Path,
    key_path: Option<&Path>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsSetupError> {
    let cert_shown = cert_path.display().to_string();
    let (blocks, looks_der) = read_blocks(FileRole::ClientCert, cert_path)?;
    // A damaged block in an identity file is an error, as for OpenSSL: it may be the leaf.
    let mut certs: Vec<(Vec<u8>, usize)> = Vec::new();
    for block in blocks.iter().filter(|b| b.label == "CERTIFICATE") {
        match &block.der {
            Ok(der) => certs.push((der.clone(), block.line)),
            Err(defect) => {
                return Err(TlsSetupError::Pem {
                    role: FileRole::ClientCert,
                    path: cert_shown,
                    line: block.line,
                    label: block.label.clone(),
                    defect: defect.clone(),
                });
            }
        }
    }
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate {
            role: FileRole::ClientCert,
            path: cert_shown,
            hint: if looks_der { DER_HINT } else { "" },
        });
    }
    let (role, key_file, (key_der, key_line)) = match key_path {
        Some(path) => {
            let (key_blocks, _) = read_blocks(FileRole::ClientKey, path)?;
            let key = first_key(FileRole::ClientKey, path, &key_blocks)?;
            (FileRole::ClientKey, path, key)
        }
        None => {
            let key = first_key(FileRole::ClientCert, cert_path, &blocks)?;
            (FileRole::ClientCert, cert_path, key)
        }
    };
    let key_shown = key_file.display().to_string();
    let key = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|cause| TlsSetupError::BadKey {
            role,
            path: key_shown.clone(),
            line: key_line,
            cause,
        })?;
    let leaf = match key.public_key() {
        // The provider cannot tell the public key: send the first certificate, as OpenSSL.
        None => 0,
        Some(spki) => {
            let wanted =
                der::spki_key_bits(spki.as_ref()).map_err(|cause| TlsSetupError::BadKey {
                    role,
                    path: key_shown.clone(),
                    line: key_line,
                    cause: rustls::Error::General(cause.to_string()),
                })?;
            matching_certificate(&certs, wanted, &cert_shown)?.ok_or_else(|| {
                TlsSetupError::KeyMismatch {
                    key: key_shown.clone(),
                    key_line,
                    cert: cert_shown.clone(),
                    cert_line: certs[0].1,
                }
            })?
        }
    };
    let leaf_cert = certs.remove(leaf);
    let chain: Vec<CertificateDer<'static>> = std::iter::once(leaf_cert)
        .chain(certs)
        .map(|(der, _)| CertificateDer::from(der))
        .collect();
    Ok(CertifiedKey::new(chain, key))
}

/// Index of the certificate whose public key is `wanted`. A certificate that cannot be read
/// is an error only when it is the first (the leaf, by OpenSSL's rule) and nothing matches.
fn matching_certificate(
    certs: &[(Vec<u8>, usize)],
    wanted: &[u8],
    path: &str,
) -> Result<Option<usize>, TlsSetupError> {
    let mut first_error = None;
    for (index, (der, line)) in certs.iter().enumerate() {
        match der::certificate_key_bits(der) {
            Ok(bits) if bits == wanted => return Ok(Some(index)),
            Ok(_) => {}
            Err(cause) if index == 0 => first_error = Some((cause, *line)),
            Err(_) => {}
        }
    }
    match first_error {
        Some((cause, line)) => Err(TlsSetupError::BadCertificate {
            path: path.to_string(),
            line,
            cause,
        }),
        None => Ok(None),
    }
}
