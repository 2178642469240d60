//! PKCS#12 files (`.pfx`, `.p12`), read with `p12-keystore`: every private key bag and the
//! certificate of the first key.

use std::sync::Arc;

use p12_keystore::error::Error as P12Error;
use p12_keystore::Pkcs12Archive;

use super::{account, der, KeyFileError, Password};
use crate::document::SourceDoc;
use crate::model::key_file::{Contents, KeyStore, PrivateKey, StoreFormat, KEYS};

/// DER starts with a SEQUENCE; a PKCS#12 file is one.
pub fn looks_like(bytes: &[u8], extension: &str) -> bool {
    matches!(extension, "pfx" | "p12") || bytes.first() == Some(&0x30)
}

pub fn read(
    path: &str,
    bytes: &[u8],
    password: &mut dyn Password,
) -> Result<(Arc<SourceDoc>, Contents), KeyFileError> {
    // Most exporters protect even an "unprotected" file with the empty password.
    let archive = match Pkcs12Archive::from_pkcs12(bytes, "") {
        Err(P12Error::MacError(_)) => {
            let Some(given) = password.get()? else {
                return Err(KeyFileError::NeedsPassword {
                    path: path.to_string(),
                });
            };
            match Pkcs12Archive::from_pkcs12(bytes, &given) {
                Err(P12Error::MacError(_)) => {
                    return Err(KeyFileError::WrongPassword {
                        path: path.to_string(),
                        check: "the file's integrity check (its MAC) does not verify with this password: check the variable `--password-env` names",
                    })
                }
                other => other,
            }
        }
        other => other,
    }
    .map_err(|error| refused(path, bytes, &error))?;
    let keys = archive
        .keys
        .iter()
        .enumerate()
        .map(|(index, bag)| {
            der::pkcs8(bag.key.as_der()).map(|kind| PrivateKey {
                kind,
                pointer: format!("{KEYS}/{index}"),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| malformed(path, reason))?;
    let first_key_id = archive
        .keys
        .first()
        .and_then(|bag| bag.local_key_id.as_ref())
        .map(|id| id.0.as_slice());
    let certificate = archive
        .certs
        .iter()
        .find(|bag| first_key_id.is_some() && bag.local_key_id.as_deref() == first_key_id)
        .or_else(|| archive.certs.first())
        .map(|bag| der::certificate(bag.cert.as_der()))
        .transpose()
        .map_err(|reason| malformed(path, reason))?;
    let store = KeyStore {
        format: StoreFormat::Pkcs12,
        keys,
        certificate,
    };
    Ok((account::key_store(path, &store), Contents::Keys(store)))
}

/// A file that does not parse: not PKCS#12 at all, unless its name says it is.
fn refused(path: &str, bytes: &[u8], error: &P12Error) -> KeyFileError {
    let named = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pfx") || e.eq_ignore_ascii_case("p12"));
    match error {
        P12Error::DerError(_) | P12Error::InvalidVersion if !named => KeyFileError::Unsupported {
            path: path.to_string(),
            found: super::describe(bytes, ""),
        },
        other => malformed(path, other.to_string()),
    }
}

fn malformed(path: &str, reason: String) -> KeyFileError {
    KeyFileError::Malformed {
        path: path.to_string(),
        format: "PKCS#12",
        reason,
        help: Some("export it again, e.g. `openssl pkcs12 -export -inkey key.pem -in cert.pem -out key.pfx`".to_string()),
    }
}
