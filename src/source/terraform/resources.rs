//! Each resource type a plan declares as the ARM body the rules read: azurerm's attributes
//! mapped to ARM's properties with the provider's defaults where they are absent, and the same
//! ARM types written as `azapi_resource` read from their `body`.

use serde_json::{json, Value};

use super::plan::Instance;
use super::values::{Builder, Expect, Leaf, Shaped};
use crate::azure::id as arm;
use crate::azure::{ALERT_TYPE, IDENTITY_TYPE, KEY_TYPE, VAULT_TYPE};
use crate::model::key::{ENABLED, OPS, SIZE};
use crate::model::{ActivityLogAlert, Identity, Key, Vault};
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

/// `azurerm_monitor_activity_log_alert`'s `criteria` and the condition field each one tests.
const CRITERIA: [(&str, &str, bool); 16] = [
    ("category", "category", false),
    ("operation_name", "operationName", false),
    ("resource_provider", "resourceProvider", false),
    ("resource_type", "resourceType", false),
    ("resource_group", "resourceGroup", false),
    ("resource_id", "resourceId", false),
    ("level", "level", false),
    ("status", "status", false),
    ("sub_status", "subStatus", false),
    ("caller", "caller", false),
    ("resource_providers", "resourceProvider", true),
    ("resource_types", "resourceType", true),
    ("resource_groups", "resourceGroup", true),
    ("resource_ids", "resourceId", true),
    ("levels", "level", true),
    ("statuses", "status", true),
];

fn same(value: Value) -> Value {
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

/// What an unknown leaf of an ARM body stands for, by its name.
fn expect_of(name: &str) -> Expect {
    let lower = name.to_ascii_lowercase();
    if lower.contains("keyuri") {
        Expect::KeyUri
    } else if lower == "objectid" || lower == "principalid" {
        Expect::Principal
    } else if lower == "tenantid" {
        Expect::Tenant
    } else if lower.ends_with("id") || lower.ends_with("ids") || lower == "scopes" {
        Expect::Id
    } else {
        Expect::Any
    }
}

impl<'p> Builder<'p> {
    /// An azapi resource's `body` (an object in azapi 2.x, a JSON string in 1.x) merged into
    /// the ARM body; each leaf known only after apply is given by what it references, or is
    /// an unknown.
    pub(super) fn azapi_body(&self, shaped: &mut Shaped<'_, 'p>) {
        let instance = shaped.instance;
        shaped.map("/location", &["location"], Expect::Any, same, None);
        let (body, string) = match self.leaf(instance, &["body"], Expect::Any) {
            Leaf::Known(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
                Ok(parsed) => (parsed, true),
                Err(e) => {
                    let mut unknown = self.unknown(instance, &shaped.id, "/properties", &["body"]);
                    unknown.reason =
                        format!("the `body` of `{}` is not JSON: {e}", instance.address);
                    unknown.label = "not JSON".to_string();
                    unknown.help = "write the body with `jsonencode()`".to_string();
                    shaped.unknown.push(unknown);
                    return;
                }
            },
            Leaf::Known(body) => (body, false),
            Leaf::Absent => return,
            Leaf::Unknown => {
                let unknown = self.unknown(instance, &shaped.id, "/properties", &["body"]);
                shaped.unknown.push(unknown);
                return;
            }
        };
        let Value::Object(members) = body else {
            return;
        };
        for (name, value) in &members {
            let pointer = format!("/{name}");
            if string {
                // Inside a string the label can only be on the whole string.
                let at = self
                    .place(instance, &shaped.id, &pointer, &["body"])
                    .label_at;
                for leaf in leaves(value, &pointer) {
                    if let Some(at) = &at {
                        shaped.moved(&leaf, at.clone());
                    }
                }
                if let Some(at) = at {
                    shaped.moved(&pointer, at);
                }
            } else {
                shaped.written_at(&pointer, &["body", name]);
            }
            shaped.set(&pointer, value.clone());
        }
        if string {
            return;
        }
        let unknown_leaves = instance
            .change
            .as_ref()
            .and_then(|c| c.after_unknown.get("body"))
            .map(|u| true_leaves(u, Vec::new()))
            .unwrap_or_default();
        for leaf in unknown_leaves {
            let mut path = vec!["body".to_string()];
            path.extend(leaf.iter().cloned());
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            let pointer: String = leaf.iter().map(|s| format!("/{s}")).collect();
            let expect = expect_of(
                leaf.iter()
                    .rev()
                    .find(|s| s.parse::<usize>().is_err())
                    .map_or("", String::as_str),
            );
            shaped.map(&pointer, &path, expect, same, None);
        }
    }

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
            // Labels follow into the other resource only within one document.
            let same_doc = std::sync::Arc::ptr_eq(
                &self.place(other, &id, "", &[]).doc,
                &self.place(instance, &id, "", &[]).doc,
            );
            for (j, entry) in list.iter().enumerate() {
                let own = format!("/properties/accessPolicies/{j}");
                let here = format!("/properties/accessPolicies/{}", base + j);
                let moves: Vec<(String, String)> = added
                    .moves()
                    .iter()
                    .filter_map(|(pointer, at)| {
                        if let Some(rest) = pointer.strip_prefix(&own) {
                            return Some((format!("{here}{rest}"), at.clone()));
                        }
                        // An azapi child's `body.properties` holds its policies.
                        let inside = own.strip_prefix(pointer.as_str())?;
                        Some((here.clone(), format!("{at}{inside}")))
                    })
                    .collect();
                for (pointer, at) in moves.into_iter().filter(|_| same_doc) {
                    shaped.moved(&pointer, at);
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

    pub(super) fn alert(&self, instance: &Instance<'p>) -> Section<Resource<ActivityLogAlert>> {
        let mut shaped = Shaped::new(self, instance, ALERT_TYPE);
        if instance.kind == "azapi_resource" {
            self.azapi_body(&mut shaped);
            return shaped.finish();
        }
        shaped.map(
            "/properties/enabled",
            &["enabled"],
            Expect::Any,
            same,
            Some(json!(true)),
        );
        let scopes = instance
            .values
            .get("scopes")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let unknown_scopes = instance
            .change
            .as_ref()
            .and_then(|c| c.after_unknown.get("scopes"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut known = Vec::new();
        for i in 0..scopes.max(unknown_scopes) {
            let index = i.to_string();
            if let Some(scope) = shaped.map(
                &format!("/properties/scopes/{i}"),
                &["scopes", &index],
                Expect::Id,
                same,
                None,
            ) {
                known.push(scope);
            }
        }
        shaped.set("/properties/scopes", Value::Array(known));
        let mut conditions = Vec::new();
        for (attribute, field, many) in CRITERIA {
            let path = ["criteria", "0", attribute];
            let at = format!("/properties/condition/allOf/{}", conditions.len());
            let pointer = format!("{at}/{}", if many { "containsAny" } else { "equals" });
            let expect = if field == "resourceId" {
                Expect::Id
            } else {
                Expect::Any
            };
            let before = shaped.unknown.len();
            let value = match shaped.builder.leaf(instance, &path, expect) {
                Leaf::Known(Value::Array(items)) if many && items.is_empty() => continue,
                Leaf::Absent => continue,
                _ => shaped.map(&pointer, &path, expect, same, None),
            };
            if shaped.unknown.len() > before {
                shaped.set(&format!("{at}/field"), json!(field));
                conditions.push(json!({ "field": field }));
                continue;
            }
            let Some(value) = value else { continue };
            shaped.written_at(&at, &path);
            let key = if many { "containsAny" } else { "equals" };
            conditions.push(json!({ "field": field, key: value }));
        }
        shaped.set("/properties/condition/allOf", Value::Array(conditions));
        let actions = instance
            .values
            .get("action")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut groups = Vec::new();
        for i in 0..actions {
            let index = i.to_string();
            let pointer = format!("/properties/actions/actionGroups/{i}/actionGroupId");
            if let Some(id) = shaped.map(
                &pointer,
                &["action", &index, "action_group_id"],
                Expect::Id,
                same,
                None,
            ) {
                groups.push(json!({ "actionGroupId": id }));
            }
        }
        shaped.set("/properties/actions/actionGroups", Value::Array(groups));
        shaped.finish()
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

/// The pointers of every value inside `value` at `pointer`, itself included.
fn leaves(value: &Value, pointer: &str) -> Vec<String> {
    let mut out = vec![pointer.to_string()];
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.extend(leaves(
                    v,
                    &format!("{pointer}/{}", crate::document::escape(k)),
                ));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                out.extend(leaves(v, &format!("{pointer}/{i}")));
            }
        }
        _ => {}
    }
    out
}

/// The paths of the `true` leaves of an `after_unknown` value.
fn true_leaves(value: &Value, at: Vec<String>) -> Vec<Vec<String>> {
    match value {
        Value::Bool(true) => vec![at],
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let mut next = at.clone();
                next.push(k.clone());
                true_leaves(v, next)
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| {
                let mut next = at.clone();
                next.push(i.to_string());
                true_leaves(v, next)
            })
            .collect(),
        _ => Vec::new(),
    }
}
