//! PEM files: private keys in PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), PKCS#1
//! (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`), and certificates. Other blocks (public keys,
//! EC parameters) are no private key and are passed over.

use std::sync::Arc;

use base64::Engine;

use super::{account, der, KeyFileError, Password};
use crate::document::SourceDoc;
use crate::model::key_file::{Contents, KeyKind, KeyStore, PrivateKey, StoreFormat, KEYS};

const BEGIN: &str = "-----BEGIN ";

pub fn looks_like(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| text.contains(BEGIN))
}

/// One `-----BEGIN LABEL-----` block.
struct Block<'a> {
    label: &'a str,
    /// Lines such as `Proc-Type: 4,ENCRYPTED` of OpenSSL's legacy encryption.
    headers: bool,
    body: &'a str,
}

pub fn read(
    path: &str,
    bytes: &[u8],
    password: &mut dyn Password,
) -> Result<(Arc<SourceDoc>, Contents), KeyFileError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| malformed(path, "it is not UTF-8 text".to_string(), None))?;
    let mut keys = Vec::new();
    let mut certificate = None;
    for block in blocks(text).map_err(|reason| malformed(path, reason, None))? {
        let der = base64::engine::general_purpose::STANDARD
            .decode(block.body.split_whitespace().collect::<String>())
            .map_err(|_| {
                malformed(
                    path,
                    format!("the `{}` block is not base64", block.label),
                    None,
                )
            })?;
        let kind = match block.label {
            "PRIVATE KEY" => der::pkcs8(&der).map_err(Refusal::from),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" if block.headers => {
                return Err(malformed(
                    path,
                    format!("the `{}` block uses OpenSSL's legacy PEM encryption, which cmk-check does not read", block.label),
                    Some("convert it to encrypted PKCS#8, which cmk-check and Key Vault read: `openssl pkcs8 -topk8 -v2 aes-256-cbc -in <file> -out key.pem`".to_string()),
                ))
            }
            "RSA PRIVATE KEY" => der::pkcs1(&der).map_err(Refusal::from),
            "EC PRIVATE KEY" => der::sec1(&der).map_err(Refusal::from),
            "ENCRYPTED PRIVATE KEY" => decrypt(path, &der, password),
            "CERTIFICATE" => {
                if certificate.is_none() {
                    certificate = Some(der::certificate(&der).map_err(|reason| malformed(path, reason, None))?);
                }
                continue;
            }
            _ => continue,
        };
        let kind = kind.map_err(|reason| match reason {
            Refusal::Password(error) => error,
            Refusal::Malformed(reason) => malformed(path, reason, None),
        });
        keys.push(PrivateKey {
            kind: kind?,
            pointer: format!("{KEYS}/{}", keys.len()),
        });
    }
    let store = KeyStore {
        format: StoreFormat::Pem,
        keys,
        certificate,
    };
    Ok((account::key_store(path, &store), Contents::Keys(store)))
}

enum Refusal {
    Password(KeyFileError),
    Malformed(String),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Self::Malformed(reason)
    }
}

/// Measures the key of an `ENCRYPTED PRIVATE KEY` block (PKCS#8 with PBES2).
fn decrypt(path: &str, der: &[u8], password: &mut dyn Password) -> Result<KeyKind, Refusal> {
    let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
        .map_err(|e| format!("the `ENCRYPTED PRIVATE KEY` block cannot be read ({e})"))?;
    let Some(given) = password.get().map_err(Refusal::Password)? else {
        return Err(Refusal::Password(KeyFileError::NeedsPassword {
            path: path.to_string(),
        }));
    };
    let plain = encrypted.decrypt(given.as_bytes()).map_err(|_| {
        Refusal::Password(KeyFileError::WrongPassword {
            path: path.to_string(),
            check: "the key does not decrypt with this password: check the variable `--password-env` names",
        })
    })?;
    Ok(der::pkcs8(plain.as_bytes())?)
}

fn blocks(text: &str) -> Result<Vec<Block<'_>>, String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(BEGIN) {
        let after = &rest[at + BEGIN.len()..];
        let label_end = after
            .find("-----")
            .ok_or("a `-----BEGIN` line is not closed")?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start
            .find(&end_marker)
            .ok_or_else(|| format!("the `{label}` block has no `{end_marker}` line"))?;
        let body = &body_start[..body_end];
        let headers = body.lines().any(|line| line.contains(':'));
        let body = match body.rfind(':') {
            // Headers end at a blank line; the base64 follows it.
            Some(_) => body
                .split("\n\n")
                .nth(1)
                .or_else(|| body.split("\r\n\r\n").nth(1))
                .unwrap_or(""),
            None => body,
        };
        found.push(Block {
            label,
            headers,
            body,
        });
        rest = &body_start[body_end + end_marker.len()..];
    }
    Ok(found)
}

fn malformed(path: &str, reason: String, help: Option<String>) -> KeyFileError {
    KeyFileError::Malformed {
        path: path.to_string(),
        format: "PEM",
        reason,
        help,
    }
}
