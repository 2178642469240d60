//! Key Vault BYOK files: JSON written by an HSM vendor's tool, holding the customer's key
//! wrapped for a key-exchange key (KEK) that lives in the target vault's HSM.

use std::sync::Arc;

use serde_json::Value;

use super::KeyFileError;
use crate::azure::cloud::CLOUDS;
use crate::azure::keyuri::KeyUri;
use crate::document::json::Members;
use crate::document::SourceDoc;
use crate::model::key_file::{byok, Byok, Ciphertext, Contents, Kek};

/// A `.byok` file, or JSON with the fields of one.
pub fn looks_like(bytes: &[u8], extension: &str) -> bool {
    if extension == "byok" {
        return true;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    text.trim_start().starts_with('{')
        && ["\"ciphertext\"", "\"schema_version\""]
            .iter()
            .any(|field| text.contains(field))
}

pub fn read(path: &str, bytes: &[u8]) -> Result<(Arc<SourceDoc>, Contents), KeyFileError> {
    let malformed = |reason: String| {
        KeyFileError::Malformed {
        path: path.to_string(),
        format: "a BYOK file",
        reason,
        help: Some("a BYOK file is the JSON an HSM vendor's BYOK tool writes for `az keyvault key import --byok-file`".to_string()),
    }
    };
    let text = std::str::from_utf8(bytes)
        .map_err(|_| malformed("it is not UTF-8 text".to_string()))?
        .to_string();
    let value: Value =
        serde_json::from_str(&text).map_err(|e| malformed(format!("it is not JSON ({e})")))?;
    if !value.is_object() {
        return Err(malformed("its JSON is not an object".to_string()));
    }
    let field = |pointer: &str| value.at(pointer).cloned();
    let kid = field(byok::KID);
    let file = Byok {
        schema_version: field(byok::SCHEMA_VERSION),
        header: field(byok::HEADER),
        kek: kid.as_ref().and_then(Value::as_str).map(kek),
        kid,
        alg: field(byok::ALG),
        enc: field(byok::ENC),
        ciphertext: ciphertext(value.at(byok::CIPHERTEXT)),
        generator: field(byok::GENERATOR),
    };
    Ok((masked(path, text), Contents::Byok(Box::new(file))))
}

/// Where the key-exchange key of `kid` lives.
fn kek(kid: &str) -> Kek {
    let host = kid
        .split_once("://")
        .map_or(kid, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let hsm = CLOUDS.iter().find_map(|cloud| {
        host.strip_suffix(cloud.managed_hsm_suffix())
            .and_then(|name| name.strip_suffix('.'))
    });
    match (hsm, KeyUri::parse(kid)) {
        (Some(name), _) => Kek::ManagedHsm {
            name: name.to_string(),
        },
        (None, Ok(uri)) => Kek::Vault(uri),
        (None, Err(error)) => Kek::Invalid(error),
    }
}

fn ciphertext(value: Option<&Value>) -> Ciphertext {
    match value {
        None => Ciphertext::Missing,
        Some(Value::String(text)) if text.is_empty() => Ciphertext::Empty,
        Some(Value::String(text)) => match text
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            Some((at, found)) => Ciphertext::NotBase64Url { at, found },
            None => Ciphertext::Valid,
        },
        Some(_) => Ciphertext::NotAString,
    }
}

/// The file as reports show it: the wrapped key's ciphertext masked, byte for byte, so that
/// every offset and line still holds.
fn masked(path: &str, text: String) -> Arc<SourceDoc> {
    let doc = SourceDoc::file(path, text);
    let Some(node) = doc.node(byok::CIPHERTEXT).filter(|n| !n.compound) else {
        return doc;
    };
    let (start, end) = node.value;
    let original = doc.text();
    let Some(inside) = original.get(start + 1..end.saturating_sub(1)) else {
        return doc;
    };
    if !original[start..end].starts_with('"') {
        return doc;
    }
    let stars: String = inside.chars().map(|c| "*".repeat(c.len_utf8())).collect();
    let text = format!("{}{stars}{}", &original[..=start], &original[end - 1..]);
    SourceDoc::file(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ciphertext_is_masked_in_place() {
        let text = "{\"ciphertext\": \"c2VjcmV0\", \"alg\": \"dir\"}".to_string();
        let (doc, contents) =
            read("k.byok", text.as_bytes()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            doc.text(),
            "{\"ciphertext\": \"********\", \"alg\": \"dir\"}"
        );
        let Contents::Byok(file) = contents else {
            unreachable!()
        };
        assert_eq!(file.ciphertext, Ciphertext::Valid);
    }

    #[test]
    fn kids_are_placed() {
        assert!(matches!(
            kek("https://kv-cmk.vault.azure.net/keys/kek/0123456789abcdef0123456789abcdef"),
            Kek::Vault(_)
        ));
        assert_eq!(
            kek("https://hsm.managedhsm.azure.net/keys/kek"),
            Kek::ManagedHsm {
                name: "hsm".to_string()
            }
        );
        assert!(matches!(
            kek("https://kv.vault.azure.net/secrets/kek"),
            Kek::Invalid(_)
        ));
    }

    #[test]
    fn base64url_only() {
        assert_eq!(
            ciphertext(Some(&Value::String("ab+c".to_string()))),
            Ciphertext::NotBase64Url { at: 2, found: '+' }
        );
        assert_eq!(ciphertext(Some(&Value::from(3))), Ciphertext::NotAString);
    }
}
