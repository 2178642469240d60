//! Each resource type a plan declares as the ARM body the rules read: azurerm's attributes
//! mapped to ARM's properties with the provider's defaults where they are absent, and the same
//! ARM types written as `azapi_resource` read from their `body`.

use serde_json::{json, Value};

use super::plan::Instance;
use super::shaped::{Shaped, Spot};
use super::values::{Builder, Expect, Leaf};
use crate::azure::id as arm;
use crate::azure::{ALERT_TYPE, IDENTITY_TYPE, KEY_TYPE, VAULT_TYPE};
use crate::model::key::{ENABLED, OPS, SIZE};
use crate::model::{Identity, Key, Vault};
use crate::source::template::{client_of, key_uri, principal_of, vault_uri};
use crate::state::{Resource, Section};

/// Key Vault's operations for a key created without `keyOps`.
const ALL_KEY_OPS: [&str; 6] = [
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
];

pub(super) fn same(value: Value) -> Value {
    value
}

/// An azapi resource's ARM type without its API version, lower-cased.
pub(super) fn azapi_type<'i>(instance: &'i Instance<'_>) -> Option<&'i str> {
    if instance.kind != "azapi_resource" {
        return None;
    }
    instance.azapi_type.as_deref()
}

/// Whether an instance declares a resource of the ARM type `kind`, in azurerm or azapi.
pub(super) fn declares(instance: &Instance<'_>, kind: &str) -> bool {
    if instance.data || instance.deleted() {
        return false;
    }
    let azurerm = match kind {
        IDENTITY_TYPE => "azurerm_user_assigned_identity",
        VAULT_TYPE => "azurerm_key_vault",
        KEY_TYPE => "azurerm_key_vault_key",
        ALERT_TYPE => "azurerm_monitor_activity_log_alert",
        crate::azure::ACCESS_POLICIES_TYPE => "azurerm_key_vault_access_policy",
        _ => "",
    };
    instance.kind == azurerm || azapi_type(instance).is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

impl<'p> Builder<'p> {
    pub(super) fn identity(&self, instance: &Instance<'p>) -> Section<Resource<Identity>> {
        let mut shaped = Shaped::new(self, instance, IDENTITY_TYPE);
        if instance.kind == "azapi_resource" {
            self.azapi_body(&mut shaped);
        } else {
            shaped.map("/location", &["location"], Expect::Any, same, None);
        }
        // Assigned by Azure when the identity is created: known only in the plan of one that
        // exists already.
        let assigned = [
            (
                "/properties/principalId",
                "principal_id",
                principal_of(&instance.address),
            ),
            (
                "/properties/clientId",
                "client_id",
                client_of(&instance.address),
            ),
            ("/properties/tenantId", "tenant_id", self.tenant.clone()),
        ];
        for (pointer, attribute, stand_in) in assigned {
            match self.leaf(instance, &[attribute], Expect::Any) {
                Leaf::Known(value) if !instance.created() => {
                    shaped.written_at(pointer, &[attribute]);
                    shaped.set(pointer, value);
                }
                _ => shaped.set(pointer, Value::String(stand_in)),
            }
        }
        shaped.finish()
    }

    pub(super) fn vault(&self, instance: &Instance<'p>) -> Section<Resource<Vault>> {
        let mut shaped = Shaped::new(self, instance, VAULT_TYPE);
        if instance.kind == "azapi_resource" {
            self.azapi_body(&mut shaped);
        } else {
            self.azurerm_vault(&mut shaped);
        }
        let name = self.name(instance).unwrap_or_default();
        shaped.set("/properties/vaultUri", json!(vault_uri(&name, self.cloud)));
        let id = shaped.id.clone();
        let mut policies: Vec<Value> = shaped
            .body
            .pointer("/properties/accessPolicies")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // `azurerm_key_vault_access_policy` resources (and azapi `accessPolicies` children) add
        // to the vault's own.
        let named = self.policies.get_or_init(|| {
            self.index
                .instances
                .iter()
                .enumerate()
                .filter(|(_, other)| declares(other, crate::azure::ACCESS_POLICIES_TYPE))
                .map(|(i, other)| {
                    let vault = if other.kind == "azurerm_key_vault_access_policy" {
                        self.key_vault_id(other, 0)
                    } else {
                        match self.leaf(other, &["parent_id"], Expect::Id) {
                            Leaf::Known(Value::String(parent)) => Some(parent),
                            _ => None,
                        }
                    };
                    (i, vault)
                })
                .collect()
        });
        for (at, vault) in named {
            let Some(other) = self.index.instances.get(*at) else {
                continue;
            };
            let standalone = other.kind == "azurerm_key_vault_access_policy";
            if !vault.as_deref().is_some_and(|v| arm::same_id(v, &id)) {
                continue;
            }
            let mut added = Shaped::new(self, other, crate::azure::ACCESS_POLICIES_TYPE);
            if standalone {
                policy(&mut added, "/properties/accessPolicies/0", &[]);
            } else {
                self.azapi_body(&mut added);
            }
            let base = policies.len();
            let list = added
                .body
                .pointer("/properties/accessPolicies")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (j, entry) in list.iter().enumerate() {
                let own = format!("/properties/accessPolicies/{j}");
                let here = format!("/properties/accessPolicies/{}", base + j);
                let moves: Vec<(String, Spot)> = added
                    .moves()
                    .iter()
                    .filter_map(|(pointer, spot)| {
                        if let Some(rest) = pointer.strip_prefix(&own) {
                            return Some((format!("{here}{rest}"), spot.clone()));
                        }
                        // An azapi child's `body.properties` holds its policies.
                        let inside = own.strip_prefix(pointer.as_str())?;
                        Some((here.clone(), spot.inside(inside)))
                    })
                    .collect();
                for (pointer, spot) in moves {
                    shaped.moved(&pointer, spot);
                }
                policies.push(entry.clone());
            }
            shaped
                .unknown
                .extend(added.unknown.into_iter().map(|mut u| {
                    u.pointer = "/properties/accessPolicies".to_string();
                    u
                }));
        }
        shaped.set("/properties/accessPolicies", Value::Array(policies));
        shaped.finish()
    }

    fn azurerm_vault(&self, shaped: &mut Shaped<'_, 'p>) {
        let instance = shaped.instance;
        shaped.map("/location", &["location"], Expect::Any, same, None);
        shaped.map(
            "/properties/tenantId",
            &["tenant_id"],
            Expect::Tenant,
            same,
            None,
        );
        shaped.map(
            "/properties/sku/name",
            &["sku_name"],
            Expect::Any,
            same,
            None,
        );
        // azurerm 3.0 removed `soft_delete_enabled`: soft delete is always on since.
        shaped.map(
            "/properties/enableSoftDelete",
            &["soft_delete_enabled"],
            Expect::Any,
            same,
            Some(json!(true)),
        );
        shaped.map(
            "/properties/softDeleteRetentionInDays",
            &["soft_delete_retention_days"],
            Expect::Any,
            same,
            Some(json!(90)),
        );
        shaped.map(
            "/properties/enablePurgeProtection",
            &["purge_protection_enabled"],
            Expect::Any,
            same,
            Some(json!(false)),
        );
        // `rbac_authorization_enabled` since azurerm 4.42, `enable_rbac_authorization` before.
        let rbac = ["rbac_authorization_enabled", "enable_rbac_authorization"]
            .into_iter()
            .find(|a| instance.values.get(*a).is_some_and(|v| !v.is_null()))
            .or_else(|| {
                ["rbac_authorization_enabled", "enable_rbac_authorization"]
                    .into_iter()
                    .find(|a| instance.values.get(*a).is_some())
            })
            .unwrap_or("enable_rbac_authorization");
        shaped.map(
            "/properties/enableRbacAuthorization",
            &[rbac],
            Expect::Any,
            same,
            Some(json!(false)),
        );
        let access = |v: Value| match v {
            Value::Bool(true) => json!("Enabled"),
            Value::Bool(false) => json!("Disabled"),
            other => other,
        };
        shaped.map(
            "/properties/publicNetworkAccess",
            &["public_network_access_enabled"],
            Expect::Any,
            access,
            Some(json!("Enabled")),
        );
        let acls = self.leaf(instance, &["network_acls"], Expect::Any);
        match acls {
            Leaf::Known(Value::Array(items)) if !items.is_empty() => {
                shaped.map(
                    "/properties/networkAcls/defaultAction",
                    &["network_acls", "0", "default_action"],
                    Expect::Any,
                    same,
                    None,
                );
            }
            Leaf::Unknown => {
                shaped.map(
                    "/properties/networkAcls",
                    &["network_acls"],
                    Expect::Any,
                    same,
                    None,
                );
            }
            _ => {
                shaped.written_at(
                    "/properties/networkAcls/defaultAction",
                    &["network_acls", "0", "default_action"],
                );
                shaped.set("/properties/networkAcls/defaultAction", json!("Allow"));
            }
        }
        shaped.set("/properties/accessPolicies", json!([]));
        // `access_policy` is computed when no block is written: it is then what the
        // `azurerm_key_vault_access_policy` resources add, which are read on their own.
        let written = self
            .index
            .configuration(instance)
            .is_none_or(|(config, _)| config.pointer("/expressions/access_policy").is_some());
        if self.leaf(instance, &["access_policy"], Expect::Any) == Leaf::Unknown && written {
            shaped.map(
                "/properties/accessPolicies",
                &["access_policy"],
                Expect::Any,
                same,
                None,
            );
            return;
        }
        let inline = instance
            .values
            .get("access_policy")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        for i in 0..inline {
            let index = i.to_string();
            policy(
                shaped,
                &format!("/properties/accessPolicies/{i}"),
                &["access_policy", &index],
            );
        }
    }

    pub(super) fn key(&self, instance: &Instance<'p>) -> Section<Resource<Key>> {
        let mut shaped = Shaped::new(self, instance, KEY_TYPE);
        let vault = if instance.kind == "azapi_resource" {
            self.azapi_body(&mut shaped);
            match self.leaf(instance, &["parent_id"], Expect::Id) {
                Leaf::Known(Value::String(parent)) => Some(parent),
                _ => None,
            }
        } else {
            shaped.map("/properties/kty", &["key_type"], Expect::Any, same, None);
            shaped.map(SIZE, &["key_size"], Expect::Any, same, None);
            shaped.map(OPS, &["key_opts"], Expect::Any, same, None);
            shaped.map(
                "/properties/attributes/nbf",
                &["not_before_date"],
                Expect::Any,
                same,
                None,
            );
            shaped.map(
                "/properties/attributes/exp",
                &["expiration_date"],
                Expect::Any,
                same,
                None,
            );
            self.key_vault_id(instance, 0)
        };
        let unknown = |pointer: &str, shaped: &Shaped<'_, '_>| {
            shaped
                .unknown
                .iter()
                .any(|u| u.pointer.starts_with(pointer) || pointer.starts_with(&u.pointer))
        };
        // Key Vault's defaults for a key created without them; an unknown value stays unknown.
        let rsa = shaped
            .body
            .pointer("/properties/kty")
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case("RSA") || k.eq_ignore_ascii_case("RSA-HSM"));
        if rsa && shaped.body.pointer(SIZE).is_none() && !unknown(SIZE, &shaped) {
            shaped.set(SIZE, json!(2048));
        }
        if shaped.body.pointer(OPS).is_none() && !unknown(OPS, &shaped) {
            shaped.set(OPS, json!(ALL_KEY_OPS));
        }
        // azurerm has no `enabled` for keys: a key it creates is enabled.
        if shaped.body.pointer(ENABLED).is_none() && !unknown(ENABLED, &shaped) {
            shaped.set(ENABLED, json!(true));
        }
        if let (Some(vault), Some(name)) = (vault, self.name(instance)) {
            let uri = key_uri(arm::name_from_id(&vault), &name, self.cloud);
            shaped.set("/properties/keyUri", json!(uri));
        }
        let mut key: Resource<Key> = shaped.finish()?;
        key.id = key.body.uri().map_or(key.id, str::to_string);
        Ok(key)
    }
}

/// One access policy (an `access_policy` block at `path`, or an `azurerm_key_vault_access_policy`
/// at the top of its values) at the ARM `pointer`. Permissions are kept as azurerm writes them
/// (`Get`, `WrapKey`): the rules compare them without case.
fn policy(shaped: &mut Shaped<'_, '_>, pointer: &str, path: &[&str]) {
    let at = |name: &'static str| {
        let mut full: Vec<&str> = path.to_vec();
        full.push(name);
        full
    };
    shaped.map(
        &format!("{pointer}/tenantId"),
        &at("tenant_id"),
        Expect::Tenant,
        same,
        None,
    );
    shaped.map(
        &format!("{pointer}/objectId"),
        &at("object_id"),
        Expect::Principal,
        same,
        None,
    );
    shaped.map(
        &format!("{pointer}/applicationId"),
        &at("application_id"),
        Expect::Any,
        same,
        None,
    );
    shaped.map(
        &format!("{pointer}/permissions/keys"),
        &at("key_permissions"),
        Expect::Any,
        same,
        Some(json!([])),
    );
}
