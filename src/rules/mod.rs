//! The rule catalog. One file per rule, one permanent code per rule: codes are never reused or
//! renamed. Each file declares its [`Rule`] first, then the check.

#![allow(
    clippy::result_large_err,
    reason = "a rule that cannot run returns its one unverified finding: built once per rule run"
)]

use serde_json::Value;

use crate::azure::id;
use crate::azure::keyuri::KeyUri;
use crate::lint::{Context, Fix, Rule};
use crate::model::Vault;
use crate::state::{Declared, Resource};

mod cmk001_identity_not_user_assigned;
mod cmk002_region_mismatch;
mod cmk003_soft_delete_disabled;
mod cmk004_purge_protection_disabled;
mod cmk005_retention_not_90_days;
mod cmk006_public_network_access_restricted;
mod cmk007_rbac_permission_model;
mod cmk008_key_permissions_missing;
mod cmk009_tenant_mismatch;
mod cmk010_key_type_not_rsa;
mod cmk011_key_size_unsupported;
mod cmk012_key_disabled;
mod cmk013_key_not_yet_active;
mod cmk014_key_expired;
mod cmk015_key_expires_soon;
mod cmk016_key_operations_restricted;
mod cmk017_key_uri_invalid;
mod cmk018_cluster_encryption_immutable;
mod cmk019_cluster_identity_not_assigned;
mod cmk020_key_version_retired_early;
mod cmk021_key_access_not_monitored;
mod cmk022_cluster_health_not_monitored;
mod cmk023_hsm_key_needs_premium_vault;
mod cmk024_key_recovery_contradicts_vault;
mod cmk025_cluster_not_customer_managed;
mod cmk026_key_audit_not_logged;
mod cmk027_cluster_not_available;
mod cmk030_key_file_private_key_count;
mod cmk031_byok_file_invalid;
mod cmk032_byok_kek_not_on_target;
mod cmk033_backup_not_a_key;
mod cmk034_backup_restore_scope;
mod cmk900_exemption_unmatched;
mod cmk901_exemption_expired;
mod key_file;
mod monitoring;
mod recovery;

pub static ALL: &[&Rule] = &[
    &cmk001_identity_not_user_assigned::RULE,
    &cmk002_region_mismatch::RULE,
    &cmk003_soft_delete_disabled::RULE,
    &cmk004_purge_protection_disabled::RULE,
    &cmk005_retention_not_90_days::RULE,
    &cmk006_public_network_access_restricted::RULE,
    &cmk007_rbac_permission_model::RULE,
    &cmk008_key_permissions_missing::RULE,
    &cmk009_tenant_mismatch::RULE,
    &cmk010_key_type_not_rsa::RULE,
    &cmk011_key_size_unsupported::RULE,
    &cmk012_key_disabled::RULE,
    &cmk013_key_not_yet_active::RULE,
    &cmk014_key_expired::RULE,
    &cmk015_key_expires_soon::RULE,
    &cmk016_key_operations_restricted::RULE,
    &cmk017_key_uri_invalid::RULE,
    &cmk018_cluster_encryption_immutable::RULE,
    &cmk019_cluster_identity_not_assigned::RULE,
    &cmk020_key_version_retired_early::RULE,
    &cmk021_key_access_not_monitored::RULE,
    &cmk022_cluster_health_not_monitored::RULE,
    &cmk023_hsm_key_needs_premium_vault::RULE,
    &cmk024_key_recovery_contradicts_vault::RULE,
    &cmk025_cluster_not_customer_managed::RULE,
    &cmk026_key_audit_not_logged::RULE,
    &cmk027_cluster_not_available::RULE,
    &cmk030_key_file_private_key_count::RULE,
    &cmk031_byok_file_invalid::RULE,
    &cmk032_byok_kek_not_on_target::RULE,
    &cmk033_backup_not_a_key::RULE,
    &cmk034_backup_restore_scope::RULE,
    &cmk900_exemption_unmatched::RULE,
    &cmk901_exemption_expired::RULE,
];

pub use self::key_file::key_file_checks;
/// Where a finding goes in a report about a cluster that is not available: the availability
/// first, then the likely causes of lost key access, then the rest (`None`). The key that
/// cannot be read (deleted, or behind a closed firewall) is a cause too, but a cause the rules
/// reading the key can only report as unverified, so the engine places those.
pub fn lost_access_rank(code: &str) -> Option<usize> {
    let causes = [
        cmk027_cluster_not_available::RULE.code,
        cmk012_key_disabled::RULE.code,
        cmk014_key_expired::RULE.code,
        cmk013_key_not_yet_active::RULE.code,
        cmk008_key_permissions_missing::RULE.code,
        cmk006_public_network_access_restricted::RULE.code,
    ];
    causes.iter().position(|c| *c == code)
}

/// The code of the rule about a cluster that is not available.
pub fn not_available_code() -> &'static str {
    cmk027_cluster_not_available::RULE.code
}

/// Finds a rule by code (any case) or by name.
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    let wanted = code_or_name.trim();
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(wanted) || r.name.eq_ignore_ascii_case(wanted))
}

/// The code or name closest to a misspelt one, for "did you mean".
pub fn closest(code_or_name: &str) -> Option<&'static str> {
    crate::document::similar::closest(code_or_name, ALL.iter().flat_map(|r| [r.code, r.name]))
}

/// `--name <vault> --resource-group <rg>` for az commands.
fn vault_args(vault: &Resource<Vault>) -> String {
    let group = id::resource_group_from_id(&vault.id).unwrap_or("<resource-group>");
    format!("--name {} --resource-group {group}", vault.name)
}

/// A vault that meets every requirement, for the findings a new vault fixes.
fn create_vault(group: &str, location: &str) -> String {
    format!(
        "az keyvault create --name <new-vault> --resource-group {group} --location {location} \
         --retention-days 90 --enable-purge-protection true --enable-rbac-authorization false \
         --public-network-access Enabled --default-action Allow"
    )
}

/// The vault name a key lives in, for `az keyvault key` commands.
fn key_vault_name(cx: &Context<'_>) -> String {
    match &cx.state.vault {
        Ok(vault) => vault.name.clone(),
        Err(_) => cx
            .state
            .key_uri
            .as_ref()
            .ok()
            .and_then(|k| KeyUri::parse(&k.value).ok())
            .map_or_else(|| "<vault>".to_string(), |k| k.vault),
    }
}

/// Sets one property: with `commands` on a resource that exists, by editing the code that
/// declares one that does not.
fn set_property<T>(
    resource: &Resource<T>,
    pointer: &str,
    value: Value,
    commands: Vec<String>,
) -> Fix {
    match &resource.declared {
        None => Fix::InPlace(commands),
        Some(Declared::Template) => Fix::Edit(format!(
            "in the template, set {}",
            template_edit(pointer, value)
        )),
        Some(Declared::Terraform {
            address,
            attributes,
            ..
        }) => Fix::Edit(match hcl_edit(attributes, pointer, value) {
            Some(edit) => format!("in `{address}`, set {edit}"),
            None => format!("in `{address}`, set the property `{pointer}`"),
        }),
    }
}

/// The access policy a plan adds to grant `identity` the key permissions of CMK008, when the plan
/// declares the vault.
fn terraform_grant(
    vault: &Resource<Vault>,
    identity: &Resource<crate::model::Identity>,
) -> Option<Fix> {
    let Some(Declared::Terraform { address, .. }) = &vault.declared else {
        return None;
    };
    // References are written inside the vault's module, without its `module.` prefix.
    let (module, local) = split_address(address);
    let principal = match &identity.declared {
        Some(Declared::Terraform { address, .. }) if split_address(address).0 == module => {
            let identity = split_address(address).1;
            (
                format!("{identity}.tenant_id"),
                format!("{identity}.principal_id"),
            )
        }
        _ => {
            let body = identity.body.properties.as_ref();
            let text =
                |v: Option<&String>| format!("\"{}\"", v.map_or("<principal-id>", String::as_str));
            (
                text(body.and_then(|p| p.tenant_id.as_ref())),
                text(body.and_then(|p| p.principal_id.as_ref())),
            )
        }
    };
    let place = if module.is_empty() {
        "in the root module".to_string()
    } else {
        format!("in `{module}`")
    };
    Some(Fix::Edit(format!(
        "{place}, add `resource \"azurerm_key_vault_access_policy\" \"cmk\" {{ key_vault_id = {local}.id; tenant_id = {}; object_id = {}; key_permissions = [\"Get\", \"WrapKey\", \"UnwrapKey\"] }}` (one argument a line)",
        principal.0, principal.1
    )))
}

/// `module.a.module.b` and `azurerm_key_vault.cmk` of `module.a.module.b.azurerm_key_vault.cmk`.
fn split_address(address: &str) -> (&str, &str) {
    let mut module_end = 0;
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let name_end = after.find('.').unwrap_or(after.len());
        let consumed = "module.".len() + name_end;
        module_end += consumed;
        rest = after[name_end..].strip_prefix('.').unwrap_or("");
        if !rest.is_empty() {
            module_end += 1;
        }
    }
    let module = address[..module_end].trim_end_matches('.');
    (module, rest)
}

/// `purge_protection_enabled = true`, `network_acls { default_action = "Allow" }` or
/// `body = { properties = { enablePurgeProtection = true } }`: the value at `pointer` as the
/// resource's HCL writes it, from the first of `attributes` whose pointer holds it.
fn hcl_edit(attributes: &[(String, String)], pointer: &str, value: Value) -> Option<String> {
    let (path, rest) = attributes.iter().find_map(|(prefix, path)| {
        let rest = pointer.strip_prefix(prefix.as_str())?;
        (rest.is_empty() || rest.starts_with('/')).then_some((path, rest))
    })?;
    let mut names: Vec<String> = path.split('.').map(str::to_string).collect();
    names.extend(
        rest.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    let last = names.pop()?;
    let mut text = format!("{last} = {}", hcl_value(&last, value));
    for name in names.iter().rev() {
        text = match name.strip_suffix("{}") {
            Some(block) => format!("{block} {{ {text} }}"),
            None => format!("{name} = {{ {text} }}"),
        };
    }
    Some(format!("`{text}`"))
}

/// A value of the ARM body as the provider's attribute takes it: `Enabled` is `true` for an
/// `*_enabled` attribute, Unix seconds an RFC 3339 date for a `*_date` one.
fn hcl_value(attribute: &str, value: Value) -> String {
    let value = match (&value, attribute) {
        (Value::String(s), a) if a.ends_with("_enabled") => match s.as_str() {
            "Enabled" => Value::Bool(true),
            "Disabled" => Value::Bool(false),
            _ => value,
        },
        (Value::Number(n), a) if a.ends_with("_date") => n.as_i64().map_or(value.clone(), |s| {
            Value::String(crate::model::time::format_unix(s))
        }),
        _ => value,
    };
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.into_iter().map(|i| hcl_value("", i)).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// `"properties": {"enablePurgeProtection": true}`: the value at `pointer`, as written in an ARM
/// template (and, without the quotes, in Bicep).
fn template_edit(pointer: &str, value: Value) -> String {
    let mut nested = value;
    let tokens: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for token in tokens.iter().skip(1).rev() {
        nested = serde_json::json!({ *token: nested });
    }
    let first = tokens.first().copied().unwrap_or_default();
    let text = serde_json::to_string(&nested).unwrap_or_default();
    format!("\"{first}\": {}", text.replace("\":", "\": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_edits_nest_the_value() {
        assert_eq!(
            template_edit("/properties/enablePurgeProtection", serde_json::json!(true)),
            "\"properties\": {\"enablePurgeProtection\": true}"
        );
        assert_eq!(
            template_edit("/location", serde_json::json!("westeurope")),
            "\"location\": \"westeurope\""
        );
    }

    #[test]
    fn addresses_split_into_module_and_resource() {
        assert_eq!(
            split_address("module.a.module.b[0].azurerm_key_vault.cmk"),
            ("module.a.module.b[0]", "azurerm_key_vault.cmk")
        );
        assert_eq!(
            split_address("azurerm_key_vault.cmk"),
            ("", "azurerm_key_vault.cmk")
        );
    }

    #[test]
    fn terraform_edits_are_written_in_hcl() {
        let attributes = vec![
            (
                "/properties/enablePurgeProtection".to_string(),
                "purge_protection_enabled".to_string(),
            ),
            (
                "/properties/publicNetworkAccess".to_string(),
                "public_network_access_enabled".to_string(),
            ),
            (
                "/properties/networkAcls/defaultAction".to_string(),
                "network_acls{}.default_action".to_string(),
            ),
            (
                "/properties/attributes/exp".to_string(),
                "expiration_date".to_string(),
            ),
            ("/properties".to_string(), "body.properties".to_string()),
        ];
        let edit = |pointer: &str, value| hcl_edit(&attributes, pointer, value).unwrap();
        assert_eq!(
            edit("/properties/enablePurgeProtection", serde_json::json!(true)),
            "`purge_protection_enabled = true`"
        );
        assert_eq!(
            edit(
                "/properties/publicNetworkAccess",
                serde_json::json!("Enabled")
            ),
            "`public_network_access_enabled = true`"
        );
        assert_eq!(
            edit(
                "/properties/networkAcls/defaultAction",
                serde_json::json!("Allow")
            ),
            "`network_acls { default_action = \"Allow\" }`"
        );
        assert_eq!(
            edit(
                "/properties/attributes/exp",
                serde_json::json!(1_830_297_600)
            ),
            "`expiration_date = \"2028-01-01T00:00:00Z\"`"
        );
        assert_eq!(
            edit(
                "/properties/keyOps",
                serde_json::json!(["wrapKey", "unwrapKey"])
            ),
            "`body = { properties = { keyOps = [\"wrapKey\", \"unwrapKey\"] } }`"
        );
        assert_eq!(
            hcl_edit(&attributes, "/location", serde_json::json!("x")),
            None
        );
    }

    #[test]
    fn suggestions_for_misspelt_rules() {
        assert_eq!(closest("CMK04"), Some("CMK004"));
        assert_eq!(
            closest("purge-protection-disable"),
            Some("purge-protection-disabled")
        );
        assert_eq!(closest("something else entirely"), None);
    }
}
