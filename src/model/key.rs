//! A key arrives as the management-plane body (`Microsoft.KeyVault/vaults/keys`, `keyOps`,
//! `keySize`), as a data-plane KeyBundle (`key.kid`, `key.key_ops`, the modulus `key.n`, dates in
//! Unix seconds) or as `az keyvault key show` prints it (`key.keyOps`, `attributes.notBefore` and
//! `attributes.expires` as RFC 3339). The last two are read in the first one's shape.

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::time::UnixTime;
use super::{Body, Moves};
use crate::document::json::{key_of, Members};

pub const KTY: &str = "/properties/kty";
pub const SIZE: &str = "/properties/keySize";
pub const OPS: &str = "/properties/keyOps";
pub const ENABLED: &str = "/properties/attributes/enabled";
pub const NOT_BEFORE: &str = "/properties/attributes/nbf";
pub const EXPIRES: &str = "/properties/attributes/exp";
pub const CREATED: &str = "/properties/attributes/created";
pub const RECOVERY_LEVEL: &str = "/properties/attributes/recoveryLevel";

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Key {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<KeyProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyProperties {
    pub attributes: Option<KeyAttributes>,
    pub kty: Option<String>,
    pub key_ops: Option<Vec<String>>,
    pub key_size: Option<u32>,
    pub key_uri: Option<String>,
    pub key_uri_with_version: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAttributes {
    pub enabled: Option<bool>,
    /// Activation date.
    pub nbf: Option<UnixTime>,
    /// Expiration date.
    pub exp: Option<UnixTime>,
    pub created: Option<UnixTime>,
    /// `Recoverable`, `Recoverable+Purgeable`, `Purgeable`, `CustomizedRecoverable`...: what the
    /// vault's soft delete and purge protection make of a deleted key.
    pub recovery_level: Option<String>,
    pub recoverable_days: Option<i64>,
}

impl Key {
    fn props(&self) -> Option<&KeyProperties> {
        self.properties.as_ref()
    }
    fn attributes(&self) -> Option<&KeyAttributes> {
        self.props()?.attributes.as_ref()
    }
    pub fn kty(&self) -> Option<&str> {
        self.props()?.kty.as_deref()
    }
    pub fn ops(&self) -> Option<&[String]> {
        self.props()?.key_ops.as_deref()
    }
    pub fn size(&self) -> Option<u32> {
        self.props()?.key_size
    }
    pub fn enabled(&self) -> Option<bool> {
        self.attributes()?.enabled
    }
    pub fn not_before(&self) -> Option<i64> {
        Some(self.attributes()?.nbf?.0)
    }
    pub fn expires(&self) -> Option<i64> {
        Some(self.attributes()?.exp?.0)
    }
    pub fn created(&self) -> Option<i64> {
        Some(self.attributes()?.created?.0)
    }
    pub fn recovery_level(&self) -> Option<&str> {
        self.attributes()?.recovery_level.as_deref()
    }
    pub fn recoverable_days(&self) -> Option<i64> {
        self.attributes()?.recoverable_days
    }
    /// The key's own URI, with its version when Azure gave one.
    pub fn uri(&self) -> Option<&str> {
        let props = self.props()?;
        props
            .key_uri_with_version
            .as_deref()
            .or(props.key_uri.as_deref())
    }

    pub fn is_rsa(&self) -> bool {
        self.kty()
            .is_some_and(|k| k.eq_ignore_ascii_case("RSA") || k.eq_ignore_ascii_case("RSA-HSM"))
    }

    /// Keys protected by an HSM (`RSA-HSM`, `EC-HSM`) need a Premium vault.
    pub fn is_hsm(&self) -> bool {
        self.kty()
            .is_some_and(|k| k.to_ascii_uppercase().ends_with("-HSM"))
    }
}

impl Body for Key {
    fn arm_shape(body: &Value) -> Option<(Value, Moves)> {
        let jwk = body.member("key").filter(|k| k.is_object())?;
        let mut moves = Vec::new();
        let mut properties = Map::new();
        let mut take = |from: &Value, names: &[&str], to: &str, at: &str| {
            let map = from.as_object()?;
            let key = names.iter().find_map(|n| key_of(map, n))?;
            let value = map.get(key)?.clone();
            moves.push((
                to.to_string(),
                format!("{at}/{}", crate::document::escape(key)),
            ));
            Some(value)
        };
        if let Some(kty) = take(jwk, &["kty"], KTY, "/key") {
            properties.insert("kty".to_string(), kty);
        }
        if let Some(ops) = take(jwk, &["key_ops", "keyOps"], OPS, "/key") {
            properties.insert("keyOps".to_string(), ops);
        }
        // No size field on the data plane: the size is the modulus' bit length.
        if let Some(n) = take(jwk, &["n"], SIZE, "/key") {
            let size = match n.as_str().and_then(modulus_bits) {
                Some(bits) => json!(bits),
                None => json!("a modulus `n` that is not base64url"),
            };
            properties.insert("keySize".to_string(), size);
        }
        if let Some(kid) = take(jwk, &["kid"], "/properties/keyUriWithVersion", "/key") {
            properties.insert("keyUriWithVersion".to_string(), kid);
        }
        if let Some(attributes) = body.member("attributes").filter(|a| a.is_object()) {
            let mut shaped = Map::new();
            for (to, names) in [
                ("enabled", &["enabled"][..]),
                ("nbf", &["nbf", "notBefore"]),
                ("exp", &["exp", "expires"]),
                ("created", &["created"]),
                ("recoveryLevel", &["recoveryLevel"]),
                ("recoverableDays", &["recoverableDays"]),
            ] {
                let pointer = format!("/properties/attributes/{to}");
                if let Some(value) = take(attributes, names, &pointer, "/attributes") {
                    shaped.insert(to.to_string(), value);
                }
            }
            moves.push((
                "/properties/attributes".to_string(),
                "/attributes".to_string(),
            ));
            properties.insert("attributes".to_string(), Value::Object(shaped));
        }
        let name = body.member("name").cloned().or_else(|| {
            let kid = jwk.text("kid")?;
            let name = kid.split("/keys/").nth(1)?.split('/').next()?;
            Some(json!(name))
        });
        let mut shaped = json!({ "properties": properties });
        if let Some(name) = name {
            shaped.put("name", name);
        }
        Some((shaped, moves))
    }
    /// Reports name a key by its URI.
    fn id(&self) -> Option<&str> {
        self.uri().or(self.id.as_deref())
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Bit length of a base64url (unpadded or padded) big-endian RSA modulus.
pub fn modulus_bits(n: &str) -> Option<u32> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n.trim_end_matches('='))
        .ok()?;
    let first = bytes.iter().position(|b| *b != 0)?;
    let significant = u32::try_from(bytes.len() - first).ok()?;
    Some((significant - 1) * 8 + (8 - bytes[first].leading_zeros()))
}

/// `GET .../keys/{k}/versions` item (management plane), or an item of
/// `az keyvault key list-versions` (`attributes` and `kid` at the top level).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyVersion {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<KeyVersionProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyVersionProperties {
    pub attributes: Option<KeyAttributes>,
}

impl KeyVersion {
    pub fn created(&self) -> Option<i64> {
        Some(self.properties.as_ref()?.attributes.as_ref()?.created?.0)
    }
    pub fn enabled(&self) -> Option<bool> {
        self.properties.as_ref()?.attributes.as_ref()?.enabled
    }
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("(unnamed)")
    }
}

impl Body for KeyVersion {
    fn arm_shape(body: &Value) -> Option<(Value, Moves)> {
        if body.member("properties").is_some() {
            return None;
        }
        let attributes = body.member("attributes")?;
        let mut attributes = attributes.clone();
        let mut moves = Vec::new();
        for (az, arm) in [
            ("notBefore", "nbf"),
            ("expires", "exp"),
            ("created", "created"),
        ] {
            let Some(map) = attributes.as_object() else {
                break;
            };
            if let Some(key) = key_of(map, az).cloned() {
                if let Some(value) = map.get(&key).cloned() {
                    moves.push((
                        format!("/properties/attributes/{arm}"),
                        format!("/attributes/{key}"),
                    ));
                    attributes.put(arm, value);
                }
            }
        }
        // The version is the last segment of the versioned key URI.
        let version = body
            .text("kid")
            .and_then(|kid| kid.trim_end_matches('/').rsplit('/').next())
            .map(str::to_string);
        let mut shaped = json!({ "properties": { "attributes": attributes } });
        if let Some(version) = version {
            shaped.put("name", json!(version));
        }
        if let Some(id) = body.member("kid") {
            shaped.put("id", id.clone());
        }
        moves.push((
            "/properties/attributes".to_string(),
            "/attributes".to_string(),
        ));
        Some((shaped, moves))
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_bit_length() {
        // 0x00 0x80 .. : leading zero byte ignored, top bit set => 8 bits per byte.
        let two_fifty_six = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0x80u8; 256]);
        assert_eq!(modulus_bits(&two_fifty_six), Some(2048));
        let with_zero = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0u8, 0x01, 0xff]);
        assert_eq!(modulus_bits(&with_zero), Some(9));
        assert_eq!(modulus_bits("!!"), None);
    }

    #[test]
    fn the_azure_cli_shape_is_read_as_arm_shape() {
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0x80u8; 384]);
        let cli = json!({
            "attributes": {"enabled": true, "expires": "2028-01-01T00:00:00+00:00", "notBefore": null, "recoveryLevel": "Recoverable"},
            "key": {"kid": "https://kv.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef", "kty": "RSA", "keyOps": ["wrapKey"], "n": n},
        });
        let (shaped, moves) = Key::arm_shape(&cli).unwrap();
        let key: Key = crate::document::lenient::read(&shaped).unwrap().value;
        assert_eq!(key.size(), Some(3072));
        assert_eq!(key.expires(), Some(1_830_297_600));
        assert_eq!(key.not_before(), None);
        assert_eq!(key.name.as_deref(), Some("cmk"));
        assert_eq!(key.recovery_level(), Some("Recoverable"));
        assert!(moves.contains(&(OPS.to_string(), "/key/keyOps".to_string())));
        assert!(moves.contains(&(EXPIRES.to_string(), "/attributes/expires".to_string())));
    }
}
