//! Just enough DER (X.690) to find the public key of an X.509 certificate (RFC 5280) of any
//! version, v1 included, and of a SubjectPublicKeyInfo. webpki reads only v3 certificates,
//! which is right for verifying servers but wrong for our own client certificate.

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    #[error("DER ends inside an element (byte {offset})")]
    Truncated { offset: usize },
    #[error("expected {expected} at byte {offset}, found tag 0x{found:02x}")]
    UnexpectedTag {
        expected: &'static str,
        offset: usize,
        found: u8,
    },
    #[error("unsupported DER length encoding at byte {offset}")]
    Length { offset: usize },
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
/// `[0] EXPLICIT Version` of TBSCertificate, absent in v1 certificates.
const VERSION: u8 = 0xa0;

/// A cursor over DER bytes, with the offset of its start in the whole input.
struct Reader<'a> {
    bytes: &'a [u8],
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, base: 0 }
    }

    fn peek_tag(&self) -> Option<u8> {
        self.bytes.first().copied()
    }

    /// The next element's tag and content; advances past it.
    fn element(&mut self, tag: u8, expected: &'static str) -> Result<Reader<'a>, DerError> {
        let offset = self.base;
        let truncated = DerError::Truncated { offset };
        let (&found, rest) = self.bytes.split_first().ok_or(truncated.clone())?;
        if found != tag {
            return Err(DerError::UnexpectedTag {
                expected,
                offset,
                found,
            });
        }
        let (&first, mut rest) = rest.split_first().ok_or(truncated.clone())?;
        let mut header = 2;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            // Long form: 1 to 4 length bytes are plenty for certificates.
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(DerError::Length { offset });
            }
            let (digits, after) = rest.split_at_checked(count).ok_or(truncated.clone())?;
            rest = after;
            header += count;
            digits
                .iter()
                .fold(0usize, |n, &d| (n << 8) | usize::from(d))
        };
        let (content, after) = rest.split_at_checked(length).ok_or(truncated)?;
        self.bytes = after;
        self.base = offset + header + length;
        Ok(Reader {
            bytes: content,
            base: offset + header,
        })
    }

    /// Skips one element of any tag.
    fn skip(&mut self) -> Result<(), DerError> {
        let tag = self
            .peek_tag()
            .ok_or(DerError::Truncated { offset: self.base })?;
        self.element(tag, "an element").map(|_| ())
    }
}

/// The `subjectPublicKey` BIT STRING content of a SubjectPublicKeyInfo SEQUENCE.
pub(super) fn spki_key_bits(spki: &[u8]) -> Result<&[u8], DerError> {
    let mut outer = Reader::new(spki);
    let mut info = outer.element(SEQUENCE, "SubjectPublicKeyInfo")?;
    key_bits_of(&mut info)
}

fn key_bits_of<'a>(info: &mut Reader<'a>) -> Result<&'a [u8], DerError> {
    info.element(SEQUENCE, "AlgorithmIdentifier")?;
    Ok(info.element(BIT_STRING, "subjectPublicKey")?.bytes)
}

/// The `subjectPublicKey` of a certificate, v1, v2 or v3.
pub(super) fn certificate_key_bits(cert: &[u8]) -> Result<&[u8], DerError> {
    let mut outer = Reader::new(cert);
    let mut certificate = outer.element(SEQUENCE, "Certificate")?;
    let mut tbs = certificate.element(SEQUENCE, "TBSCertificate")?;
    if tbs.peek_tag() == Some(VERSION) {
        tbs.skip()?;
    }
    tbs.element(INTEGER, "serialNumber")?;
    // signature, issuer, validity, subject
    for _ in 0..4 {
        tbs.element(SEQUENCE, "a TBSCertificate field")?;
    }
    let mut info = tbs.element(SEQUENCE, "SubjectPublicKeyInfo")?;
    key_bits_of(&mut info)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of `tag` with `content` (short or long form length).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            out.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    fn spki(key: &[u8]) -> Vec<u8> {
        let algorithm = tlv(SEQUENCE, &tlv(0x06, &[1, 2, 3]));
        tlv(SEQUENCE, &[algorithm, tlv(BIT_STRING, key)].concat())
    }

    fn certificate(version: bool, key: &[u8]) -> Vec<u8> {
        let mut tbs = Vec::new();
        if version {
            tbs.extend(tlv(VERSION, &tlv(INTEGER, &[2])));
        }
        tbs.extend(tlv(INTEGER, &[7]));
        for _ in 0..4 {
            tbs.extend(tlv(SEQUENCE, &[0x05, 0x00]));
        }
        tbs.extend(spki(key));
        // Extensions of a v3 certificate follow; the reader stops before them.
        tbs.extend(tlv(0xa3, &[0; 200]));
        let signature = tlv(SEQUENCE, &tlv(0x06, &[1]));
        tlv(
            SEQUENCE,
            &[tlv(SEQUENCE, &tbs), signature, tlv(BIT_STRING, &[0; 3])].concat(),
        )
    }

    #[test]
    fn finds_the_key_of_v1_and_v3_certificates() {
        let key = [0u8, 4, 9, 9, 9];
        assert_eq!(
            certificate_key_bits(&certificate(false, &key)),
            Ok(&key[..])
        );
        assert_eq!(certificate_key_bits(&certificate(true, &key)), Ok(&key[..]));
        assert_eq!(spki_key_bits(&spki(&key)), Ok(&key[..]));
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        let cert = certificate(false, &[0, 1, 2]);
        for cut in 0..cert.len() {
            assert!(certificate_key_bits(&cert[..cut]).is_err(), "cut at {cut}");
        }
        assert!(matches!(
            certificate_key_bits(&[0x31, 0]),
            Err(DerError::UnexpectedTag { .. })
        ));
        assert!(matches!(
            certificate_key_bits(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            Err(DerError::Length { .. })
        ));
    }
}
