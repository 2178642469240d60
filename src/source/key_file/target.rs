//! `--vault`: a vault's resource ID or its URI.

use super::KeyFileError;
use crate::azure::cloud::{CloudName, CLOUDS};
use crate::azure::id;
use crate::model::key_file::TargetVault;

/// A vault (or Managed HSM) resource ID, or a vault URI (`https://kv.vault.azure.net/`).
pub fn parse_target(given: &str) -> Result<TargetVault, KeyFileError> {
    let trimmed = given.trim();
    let fail = |reason: &str| KeyFileError::Vault {
        given: given.to_string(),
        reason: reason.to_string(),
    };
    if trimmed.starts_with('/') {
        let kind = id::type_from_id(trimmed).unwrap_or_default();
        let managed_hsm = kind.eq_ignore_ascii_case("Microsoft.KeyVault/managedHSMs");
        if !managed_hsm && !kind.eq_ignore_ascii_case(crate::azure::VAULT_TYPE) {
            return Err(fail(
                "a resource ID of a vault ends in `/providers/Microsoft.KeyVault/vaults/<name>`",
            ));
        }
        return Ok(TargetVault {
            name: id::name_from_id(trimmed).to_ascii_lowercase(),
            cloud: None,
            managed_hsm,
        });
    }
    let rest = trimmed
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .map(|_| &trimmed[8..])
        .ok_or_else(|| {
            fail("neither a resource ID (`/subscriptions/...`) nor an `https://` URI")
        })?;
    let host = rest.split('/').next().unwrap_or_default();
    let host = host
        .strip_suffix(":443")
        .unwrap_or(host)
        .to_ascii_lowercase();
    if rest.split('/').skip(1).any(|part| !part.is_empty()) {
        return Err(fail(
            "a vault URI has no path (a key URI names a key, not its vault)",
        ));
    }
    let (name, suffix) = host
        .split_once('.')
        .ok_or_else(|| fail("the host is not a Key Vault DNS name"))?;
    let hosted = |suffix_of: fn(CloudName) -> &'static str| {
        CLOUDS.into_iter().find(|c| suffix_of(*c) == suffix)
    };
    let (cloud, managed_hsm) = match (hosted(CloudName::vault_suffix), hosted(CloudName::managed_hsm_suffix)) {
        (Some(cloud), _) => (cloud, false),
        (None, Some(cloud)) => (cloud, true),
        (None, None) => return Err(fail("the host ends in no Key Vault DNS suffix (`vault.azure.net`, `vault.azure.cn`, `vault.usgovcloudapi.net`)")),
    };
    if name.is_empty() {
        return Err(fail("the host has no vault name"));
    }
    Ok(TargetVault {
        name: name.to_string(),
        cloud: Some(cloud),
        managed_hsm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_uris_name_the_vault() {
        let id = parse_target(
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/KV-Prod",
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (id.name.as_str(), id.cloud, id.managed_hsm),
            ("kv-prod", None, false)
        );
        let uri =
            parse_target("https://kv-prod.vault.azure.cn/").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (uri.name.as_str(), uri.cloud),
            ("kv-prod", Some(CloudName::China))
        );
        let hsm = parse_target("https://hsm.managedhsm.azure.net")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(hsm.managed_hsm);
    }

    #[test]
    fn other_text_is_refused() {
        for bad in [
            "kv-prod",
            "https://kv-prod.vault.azure.net/keys/k",
            "https://example.com/",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/x",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
