//! The facts of DER-encoded keys and certificates: a key's algorithm and size, a
//! certificate's subject and validity. The key material is decoded only to be measured.

use pkcs8::der::asn1::ObjectIdentifier;
use pkcs8::PrivateKeyInfoRef;

use crate::model::key_file::{Certificate, KeyKind};

const RSA: &str = "1.2.840.113549.1.1.1";
const RSA_PSS: &str = "1.2.840.113549.1.1.10";
const EC: &str = "1.2.840.10045.2.1";

/// The named curves Key Vault knows, and a few it does not.
const CURVES: [(&str, &str); 5] = [
    ("1.2.840.10045.3.1.7", "P-256"),
    ("1.3.132.0.34", "P-384"),
    ("1.3.132.0.35", "P-521"),
    ("1.3.132.0.10", "P-256K"),
    ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"),
];

/// Other algorithms a PKCS#8 key may be for, by OID.
const OTHERS: [(&str, &str); 5] = [
    ("1.3.101.110", "X25519"),
    ("1.3.101.111", "X448"),
    ("1.3.101.112", "Ed25519"),
    ("1.3.101.113", "Ed448"),
    ("1.2.840.10040.4.1", "DSA"),
];

/// A PKCS#8 `PrivateKeyInfo`.
pub fn pkcs8(der: &[u8]) -> Result<KeyKind, String> {
    let info =
        PrivateKeyInfoRef::try_from(der).map_err(|e| format!("not a PKCS#8 private key ({e})"))?;
    let oid = info.algorithm.oid.to_string();
    match oid.as_str() {
        RSA => pkcs1(info.private_key.as_bytes()),
        RSA_PSS => Ok(KeyKind::Other {
            algorithm: "RSASSA-PSS (an RSA key restricted to signing)".to_string(),
        }),
        EC => {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(curve) => Ok(ec(&curve.to_string())),
                None => sec1(info.private_key.as_bytes()),
            }
        }
        other => Ok(KeyKind::Other {
            algorithm: OTHERS.iter().find(|(o, _)| *o == other).map_or_else(
                || format!("algorithm {other}"),
                |(_, name)| (*name).to_string(),
            ),
        }),
    }
}

/// A PKCS#1 `RSAPrivateKey`: its size is its modulus's.
pub fn pkcs1(der: &[u8]) -> Result<KeyKind, String> {
    let key = pkcs1::RsaPrivateKeyRef::try_from(der)
        .map_err(|e| format!("not an RSA private key ({e})"))?;
    Ok(KeyKind::Rsa {
        bits: bit_length(key.modulus.as_bytes()),
    })
}

/// A SEC1 `ECPrivateKey`.
pub fn sec1(der: &[u8]) -> Result<KeyKind, String> {
    let key =
        sec1::EcPrivateKey::try_from(der).map_err(|e| format!("not an EC private key ({e})"))?;
    let curve = key
        .parameters
        .and_then(|p| p.named_curve())
        .map_or_else(|| "(unnamed)".to_string(), |oid| oid.to_string());
    Ok(ec(&curve))
}

fn ec(oid: &str) -> KeyKind {
    let curve = CURVES
        .iter()
        .find(|(o, _)| *o == oid)
        .map_or_else(|| oid.to_string(), |(_, name)| (*name).to_string());
    KeyKind::Ec { curve }
}

fn bit_length(big_endian: &[u8]) -> u32 {
    let significant = big_endian.iter().skip_while(|b| **b == 0);
    let bytes: Vec<u8> = significant.copied().collect();
    match bytes.first() {
        Some(first) => {
            let whole = u32::try_from(bytes.len() - 1).unwrap_or(u32::MAX / 8) * 8;
            whole + (8 - first.leading_zeros())
        }
        None => 0,
    }
}

/// An X.509 certificate's subject and validity.
pub fn certificate(der: &[u8]) -> Result<Certificate, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("a certificate cannot be read ({e})"))?;
    let validity = cert.validity();
    Ok(Certificate {
        subject: cert.subject().to_string(),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths_ignore_leading_zeros() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0x00]), 9);
        assert_eq!(bit_length(&[]), 0);
    }
}
