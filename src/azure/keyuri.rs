//! Key Vault key URIs: `https://<vault>.<vault suffix of a cloud>/keys/<name>[/<version>]`.
//! Parsing reports the byte range of the bad part so that a diagnostic can point at it.

use std::ops::Range;

use super::cloud::{CloudName, CLOUDS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUri {
    /// Lower-cased vault name (the first DNS label).
    pub vault: String,
    /// Lower-cased host without port.
    pub host: String,
    pub name: String,
    pub version: Option<String>,
    /// Where the host (with any port) is in the parsed text.
    pub host_span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUriError {
    pub reason: String,
    /// Byte range in the input that is wrong.
    pub span: Range<usize>,
}

fn err(reason: impl Into<String>, span: Range<usize>) -> KeyUriError {
    KeyUriError {
        reason: reason.into(),
        span,
    }
}

impl KeyUri {
    pub fn parse(input: &str) -> Result<Self, KeyUriError> {
        let Some(rest) = strip_prefix_ignore_case(input, "https://") else {
            let end = input.find("://").map_or(input.len().min(8), |i| i + 3);
            return Err(err("a key URI must start with `https://`", 0..end));
        };
        let host_start = input.len() - rest.len();
        let host_end = rest.find('/').map_or(input.len(), |i| host_start + i);
        let authority = &input[host_start..host_end];
        let host = match authority.rsplit_once(':') {
            Some((h, "443")) => h,
            Some(_) => {
                return Err(err(
                    "Key Vault only listens on port 443",
                    host_start..host_end,
                ))
            }
            None => authority,
        }
        .to_ascii_lowercase();
        let host_span = host_start..host_end;
        if let Some(suffix) = CLOUDS
            .iter()
            .map(|c| c.managed_hsm_suffix())
            .find(|s| host.ends_with(*s))
        {
            return Err(err(
                format!("`{suffix}` is a Managed HSM; Azure Cosmos DB for PostgreSQL supports only Key Vault keys"),
                host_span,
            ));
        }
        let Some((vault, suffix)) = host.split_once('.') else {
            return Err(err(
                "the host must be `<vault>.vault.azure.net` (or a sovereign-cloud suffix)",
                host_span,
            ));
        };
        if CloudName::of_vault_suffix(suffix).is_none() {
            let known: Vec<String> = CLOUDS
                .iter()
                .map(|c| format!("`{}`", c.vault_suffix()))
                .collect();
            return Err(err(
                format!(
                    "`{suffix}` is not a Key Vault DNS suffix (expected {})",
                    known.join(", ")
                ),
                host_span,
            ));
        }
        if !valid_vault_name(vault) {
            return Err(err(
                "a vault name is 3-24 characters: letters, digits and dashes, starting with a letter",
                host_start..host_start + vault.len(),
            ));
        }
        let path_start = host_end;
        let path = input[path_start..].trim_end_matches('/');
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let whole_path = path_start..input.len();
        match segments.first() {
            Some(s) if s.eq_ignore_ascii_case("keys") => {}
            _ => {
                return Err(err(
                    "the path must be `/keys/<name>[/<version>]`",
                    if whole_path.is_empty() {
                        0..input.len()
                    } else {
                        whole_path
                    },
                ))
            }
        }
        let name_start = path_start + "/keys/".len();
        let name = segments.get(1).copied().unwrap_or("");
        if name.is_empty() {
            return Err(err(
                "the key name is missing after `/keys/`",
                path_start..input.len(),
            ));
        }
        if !valid_key_name(name) {
            return Err(err(
                "a key name is 1-127 characters: letters, digits and dashes",
                name_start..name_start + name.len(),
            ));
        }
        let version_start = name_start + name.len() + 1;
        let version = match segments.get(2) {
            None => None,
            Some(v) if v.len() == 32 && v.chars().all(|c| c.is_ascii_hexdigit()) => {
                Some(v.to_string())
            }
            Some(v) => {
                return Err(err(
                    format!(
                        "a key version is 32 hexadecimal characters; this one has {}",
                        v.len()
                    ),
                    version_start..version_start + v.len(),
                ))
            }
        };
        if segments.len() > 3 {
            let extra = version_start + segments[2].len();
            return Err(err(
                "unexpected path after the key version",
                extra..input.len(),
            ));
        }
        Ok(Self {
            vault: vault.to_string(),
            host,
            name: name.to_string(),
            version,
            host_span,
        })
    }

    /// The vault and key a malformed URI still names (`https://kv.vault.azure.net/keys/k/bad`),
    /// so that they can be found while CMK017 reports what is wrong with it.
    pub fn lenient(input: &str) -> Option<(String, String)> {
        let rest = input.split_once("://").map_or(input, |(_, rest)| rest);
        let mut parts = rest.split('/');
        let host = parts.next()?.split(':').next()?;
        let vault = host.split('.').next().filter(|v| !v.is_empty())?;
        let keys = parts.next()?;
        let name = parts.next().filter(|n| !n.is_empty())?;
        keys.eq_ignore_ascii_case("keys")
            .then(|| (vault.to_ascii_lowercase(), name.to_string()))
    }

    /// The cloud the vault is in, from its DNS suffix.
    pub fn cloud(&self) -> Option<CloudName> {
        CloudName::of_vault_suffix(self.host.split_once('.')?.1)
    }

    /// `https://<host>/`, as ARM writes a vault's `vaultUri`.
    pub fn vault_uri(&self) -> String {
        format!("https://{}/", self.host)
    }

    /// The same key, ignoring version: vault host and key name.
    pub fn same_key(&self, other: &KeyUri) -> bool {
        self.host == other.host && self.name.eq_ignore_ascii_case(&other.name)
    }
}

/// Compares two key URIs the way Key Vault resolves them: host case, `:443` and a trailing `/`
/// do not matter. Unparseable URIs compare as text.
pub fn same_uri(a: &str, b: &str) -> bool {
    match (KeyUri::parse(a), KeyUri::parse(b)) {
        (Ok(a), Ok(b)) => a.same_key(&b) && a.version == b.version,
        _ => a
            .trim_end_matches('/')
            .eq_ignore_ascii_case(b.trim_end_matches('/')),
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn valid_vault_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.ends_with('-')
        && !name.contains("--")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn valid_key_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_version() {
        let k = KeyUri::parse(
            "https://KV-Prod.vault.azure.net:443/keys/cmk/0123456789abcdef0123456789abcdef/",
        )
        .unwrap();
        assert_eq!(k.vault, "kv-prod");
        assert_eq!(k.name, "cmk");
        assert_eq!(
            k.version.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        let k = KeyUri::parse("https://kv-prod.vault.usgovcloudapi.net/keys/cmk").unwrap();
        assert_eq!(k.version, None);
    }

    #[test]
    fn points_at_the_bad_part() {
        let input =
            "https://test-kv.vault.azure.net/keys/test-key1/fffffffffffffffffffffffffffffff";
        let e = KeyUri::parse(input).unwrap_err();
        assert_eq!(&input[e.span.clone()], "fffffffffffffffffffffffffffffff");
        assert!(e.reason.contains("31"));
        let hsm = "https://h.managedhsm.azure.net/keys/k";
        let e = KeyUri::parse(hsm).unwrap_err();
        assert_eq!(&hsm[e.span], "h.managedhsm.azure.net");
        let e = KeyUri::parse("http://kv1.vault.azure.net/keys/k").unwrap_err();
        assert_eq!(e.span, 0..7);
        let secret = "https://kv1.vault.azure.net/secrets/k";
        let e = KeyUri::parse(secret).unwrap_err();
        assert_eq!(&secret[e.span], "/secrets/k");
    }

    #[test]
    fn a_malformed_uri_still_names_its_vault_and_key() {
        let typo = "https://KV1.vault.azure.net/keys/cmk/fffffffffffffffffffffffffffffff";
        assert_eq!(
            KeyUri::lenient(typo),
            Some(("kv1".to_string(), "cmk".to_string()))
        );
        assert_eq!(
            KeyUri::lenient("https://kv1.vault.azure.net/secrets/s"),
            None
        );
    }

    #[test]
    fn compares_loosely() {
        assert!(same_uri(
            "https://KV1.vault.azure.net:443/keys/k/0123456789abcdef0123456789abcdef",
            "https://kv1.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef/"
        ));
        assert!(!same_uri(
            "https://kv1.vault.azure.net/keys/k",
            "https://kv2.vault.azure.net/keys/k"
        ));
    }
}
