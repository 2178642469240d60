//! A key arrives either as the management-plane body (`Microsoft.KeyVault/vaults/keys`,
//! camelCase `keyOps`/`keySize`) or as a data-plane KeyBundle (`key.kid`, `key.key_ops`, the
//! modulus `key.n`). Both are normalised into [`Key`], which remembers where each field lives.

use base64::Engine as _;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyAttributes {
    pub enabled: Option<bool>,
    /// Activation date, Unix seconds.
    pub nbf: Option<i64>,
    /// Expiration date, Unix seconds.
    pub exp: Option<i64>,
    pub created: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ManagementKey {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<ManagementKeyProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementKeyProperties {
    pub attributes: Option<KeyAttributes>,
    pub kty: Option<String>,
    pub key_ops: Option<Vec<String>>,
    pub key_size: Option<u32>,
    pub key_uri: Option<String>,
    pub key_uri_with_version: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyBundle {
    pub key: Option<JsonWebKey>,
    pub attributes: Option<KeyAttributes>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JsonWebKey {
    pub kid: Option<String>,
    pub kty: Option<String>,
    pub key_ops: Option<Vec<String>>,
    pub n: Option<String>,
}

/// Which API the key body came from; decides the JSON pointer of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPlane {
    Management,
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyField {
    Kty,
    Size,
    Ops,
    Enabled,
    NotBefore,
    Expires,
    Attributes,
}

/// Where the RSA size came from, so a rule can say "unknown" honestly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySize {
    Bits(u32),
    Absent,
    /// The data-plane modulus was present but not valid base64url.
    Undecodable,
}

#[derive(Debug, Clone)]
pub struct Key {
    pub plane: KeyPlane,
    pub name: Option<String>,
    /// The key's own URI (with version when Azure gave one).
    pub uri: Option<String>,
    pub kty: Option<String>,
    pub size: KeySize,
    pub ops: Option<Vec<String>>,
    pub attributes: Option<KeyAttributes>,
}

impl Key {
    pub fn from_management(body: ManagementKey) -> Self {
        let props = body.properties.unwrap_or_default();
        Self {
            plane: KeyPlane::Management,
            name: body.name,
            uri: props.key_uri_with_version.or(props.key_uri),
            kty: props.kty,
            size: props.key_size.map_or(KeySize::Absent, KeySize::Bits),
            ops: props.key_ops,
            attributes: props.attributes,
        }
    }

    pub fn from_bundle(body: KeyBundle) -> Self {
        let jwk = body.key.unwrap_or_default();
        let size = match jwk.n.as_deref() {
            None => KeySize::Absent,
            Some(n) => modulus_bits(n).map_or(KeySize::Undecodable, KeySize::Bits),
        };
        let name = jwk.kid.as_deref().and_then(|kid| {
            let mut parts = kid.split("/keys/").nth(1)?.split('/');
            parts.next().map(str::to_string)
        });
        Self {
            plane: KeyPlane::Data,
            name,
            uri: jwk.kid,
            kty: jwk.kty,
            size,
            ops: jwk.key_ops,
            attributes: body.attributes,
        }
    }

    pub fn enabled(&self) -> Option<bool> {
        self.attributes.as_ref()?.enabled
    }
    pub fn not_before(&self) -> Option<i64> {
        self.attributes.as_ref()?.nbf
    }
    pub fn expires(&self) -> Option<i64> {
        self.attributes.as_ref()?.exp
    }

    pub fn is_rsa(&self) -> bool {
        self.kty
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("RSA") || k.eq_ignore_ascii_case("RSA-HSM"))
    }

    /// JSON pointer of `field` inside this key's body.
    pub fn pointer(&self, field: KeyField) -> &'static str {
        match (self.plane, field) {
            (KeyPlane::Management, KeyField::Kty) => "/properties/kty",
            (KeyPlane::Management, KeyField::Size) => "/properties/keySize",
            (KeyPlane::Management, KeyField::Ops) => "/properties/keyOps",
            (KeyPlane::Management, KeyField::Attributes) => "/properties/attributes",
            (KeyPlane::Management, KeyField::Enabled) => "/properties/attributes/enabled",
            (KeyPlane::Management, KeyField::NotBefore) => "/properties/attributes/nbf",
            (KeyPlane::Management, KeyField::Expires) => "/properties/attributes/exp",
            (KeyPlane::Data, KeyField::Kty) => "/key/kty",
            (KeyPlane::Data, KeyField::Size) => "/key/n",
            (KeyPlane::Data, KeyField::Ops) => "/key/key_ops",
            (KeyPlane::Data, KeyField::Attributes) => "/attributes",
            (KeyPlane::Data, KeyField::Enabled) => "/attributes/enabled",
            (KeyPlane::Data, KeyField::NotBefore) => "/attributes/nbf",
            (KeyPlane::Data, KeyField::Expires) => "/attributes/exp",
        }
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

/// `GET .../keys/{k}/versions` item (management plane).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyVersion {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<KeyVersionProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVersionProperties {
    pub attributes: Option<KeyAttributes>,
    pub key_uri_with_version: Option<String>,
}

impl KeyVersion {
    pub fn created(&self) -> Option<i64> {
        self.properties.as_ref()?.attributes.as_ref()?.created
    }
    pub fn enabled(&self) -> Option<bool> {
        self.properties.as_ref()?.attributes.as_ref()?.enabled
    }
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("(unnamed)")
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
}
