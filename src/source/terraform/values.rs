//! The values of a plan's resources: known, known only after apply, or known by what they
//! reference (a new identity's `principal_id` is the stand-in a template's `reference()` gives),
//! and ARM bodies assembled from them with the place of each value in the plan.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::hcl::Hcl;
use super::plan::{Index, Instance, Target};
use crate::azure::cloud::CloudName;
use crate::azure::id as arm;
use crate::document::{escape, SourceDoc};
use crate::source::template::{
    client_of, key_uri, principal_of, vault_uri, UNKNOWN_RESOURCE_GROUP,
};
use crate::state::{Gap, Place, Resource, Unknown, WrittenIn};

/// How deep one value's references are followed to give it (a key's URI through its vault's
/// name through its resource group...).
const MAX_DEPTH: usize = 8;

/// What an unknown leaf may stand for: which attributes of the resources it references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    /// A resource ID (`azurerm_user_assigned_identity.cmk.id`).
    Id,
    /// A key URI (`azurerm_key_vault_key.cmk.versionless_id`).
    KeyUri,
    /// An object ID (`azurerm_user_assigned_identity.cmk.principal_id`, or its `client_id`).
    Principal,
    Tenant,
    /// Whatever a single reference names.
    Any,
}

impl Expect {
    /// Whether `attribute` of a resource at `local` (`azurerm_key_vault_key.cmk`) is one.
    fn accepts(self, local: &str, attribute: &str) -> bool {
        let kind = local.strip_prefix("data.").unwrap_or(local);
        let key = kind.starts_with("azurerm_key_vault_key.");
        match self {
            // A key's `id` is its versioned URI; its ARM ID is `resource_id`.
            Self::Id if key => ["resource_id", "resource_versionless_id"].contains(&attribute),
            Self::Id => attribute == "id",
            Self::KeyUri => key && ["versionless_id", "id"].contains(&attribute),
            Self::Principal => ["principal_id", "client_id", "object_id"].contains(&attribute),
            Self::Tenant => attribute == "tenant_id",
            Self::Any => true,
        }
    }
}

/// A leaf of a resource's values.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Leaf {
    /// Not written, or `null`: the provider's default applies.
    Absent,
    Known(Value),
    /// Known only after apply, and not by what it references.
    Unknown,
}

/// Everything the resources of one plan are read with.
pub(super) struct Builder<'p> {
    pub index: Index<'p>,
    pub doc: Arc<SourceDoc>,
    pub hcl: Hcl,
    pub cloud: CloudName,
    /// The subscription deployed to, or the stand-in for it.
    pub subscription: String,
    /// The tenant of the provider: what a new identity gets.
    pub tenant: String,
    /// Read once for every cluster: the alerts the plan declares, and the vault each access
    /// policy resource names (by instance).
    pub alerts: std::cell::OnceCell<Vec<Resource<crate::model::ActivityLogAlert>>>,
    pub policies: std::cell::OnceCell<Vec<(usize, Option<String>)>>,
}

fn pointer_of(path: &[&str]) -> String {
    path.iter().map(|s| format!("/{}", escape(s))).collect()
}

/// The HCL path of a values path: `network_acls{}.default_action` for `network_acls/0/...`.
pub(super) fn hcl_path(path: &[&str]) -> String {
    let mut names: Vec<String> = Vec::new();
    for step in path {
        if step.parse::<usize>().is_ok() {
            if let Some(last) = names.last_mut() {
                if !last.ends_with("{}") {
                    last.push_str("{}");
                }
            }
        } else {
            names.push((*step).to_string());
        }
    }
    names.join(".")
}

/// `a.b[0].c` of a values path, for messages.
pub(super) fn written(path: &[&str]) -> String {
    let mut out = String::new();
    for step in path {
        if step.parse::<usize>().is_ok() {
            out.push_str(&format!("[{step}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(step);
        }
    }
    out
}

/// Whether a leaf (or a value holding it) is `true` in `after_unknown`.
fn unknown_in(after_unknown: &Value, path: &[&str]) -> bool {
    let mut current = after_unknown;
    for step in path {
        if current == &Value::Bool(true) {
            return true;
        }
        current = match current {
            Value::Object(map) => match map.get(*step) {
                Some(next) => next,
                None => return false,
            },
            Value::Array(items) => match step.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(next) => next,
                None => return false,
            },
            _ => return false,
        };
    }
    current == &Value::Bool(true)
}

/// Sets `value` at an ARM `pointer` of `body`, making the objects and arrays on the way (an
/// array where the next name is an index).
pub(super) fn put_at(body: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut current = body;
    for (i, token) in tokens.iter().enumerate() {
        let index = token.parse::<usize>().ok();
        match (index, current.is_array()) {
            (Some(_), false) => *current = Value::Array(Vec::new()),
            (None, _) if !current.is_object() => *current = Value::Object(Map::new()),
            _ => {}
        }
        let last = i + 1 == tokens.len();
        let slot = match current {
            Value::Array(items) => {
                let at = index.unwrap_or_default();
                if items.len() <= at {
                    items.resize(at + 1, Value::Null);
                }
                &mut items[at]
            }
            Value::Object(map) => map.entry(token.clone()).or_insert(Value::Null),
            _ => return,
        };
        if last {
            *slot = value;
            return;
        }
        current = slot;
    }
}

impl<'p> Builder<'p> {
    /// The value written at `path` of an instance's values, and whether it is known only
    /// after apply.
    pub(super) fn raw<'i>(
        &self,
        instance: &'i Instance<'p>,
        path: &[&str],
    ) -> (Option<&'p Value>, bool) {
        let value = instance.values.pointer(&pointer_of(path));
        let unknown = instance
            .change
            .as_ref()
            .is_some_and(|c| unknown_in(c.after_unknown, path));
        (value, unknown)
    }

    /// The leaf at `path`, given by what it references when it is known only after apply.
    pub fn leaf(&self, instance: &Instance<'p>, path: &[&str], expect: Expect) -> Leaf {
        self.leaf_at(instance, path, expect, 0)
    }

    fn leaf_at(
        &self,
        instance: &Instance<'p>,
        path: &[&str],
        expect: Expect,
        depth: usize,
    ) -> Leaf {
        let (value, unknown) = self.raw(instance, path);
        if !unknown {
            return match value {
                None | Some(Value::Null) => Leaf::Absent,
                Some(value) => Leaf::Known(value.clone()),
            };
        }
        let mut candidates: Vec<Target> = self
            .index
            .references(instance, path)
            .into_iter()
            .filter(|t| {
                t.attribute
                    .as_deref()
                    .is_some_and(|a| expect.accepts(&t.local, a))
            })
            .collect();
        // The n-th unknown element of a list written as `[a.id, b.id]` is its n-th reference.
        if let Some(position) = path.last().and_then(|s| s.parse::<usize>().ok()) {
            if candidates.len() > 1 {
                candidates = candidates.into_iter().skip(position).take(1).collect();
            }
        }
        match candidates.as_slice() {
            [one] => self
                .index
                .find(one)
                .and_then(|target| {
                    self.symbol(
                        target,
                        one.attribute.as_deref().unwrap_or_default(),
                        depth + 1,
                    )
                })
                .map_or(Leaf::Unknown, Leaf::Known),
            _ => Leaf::Unknown,
        }
    }

    /// A string leaf, when known.
    pub fn text(&self, instance: &Instance<'p>, path: &[&str], expect: Expect) -> Option<String> {
        match self.leaf(instance, path, expect) {
            Leaf::Known(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// What an attribute of a resource is, known or given by what Azure will assign.
    pub fn symbol(&self, instance: &Instance<'p>, attribute: &str, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        if let Leaf::Known(value) = self.leaf_at(instance, &[attribute], Expect::Any, depth) {
            return Some(value);
        }
        let text = |s: String| Some(Value::String(s));
        match (instance.kind.as_str(), attribute) {
            ("azurerm_key_vault_key", "versionless_id" | "id") => {
                let vault = self.key_vault_name(instance, depth)?;
                text(key_uri(&vault, &self.name(instance)?, self.cloud))
            }
            ("azurerm_key_vault_key", "resource_id" | "resource_versionless_id") => {
                let vault = self.key_vault_id(instance, depth)?;
                text(format!("{vault}/keys/{}", self.name(instance)?))
            }
            (_, "id") => self.id_of(instance, depth).map(Value::String),
            ("azurerm_user_assigned_identity", "principal_id") => {
                text(principal_of(&instance.address))
            }
            ("azurerm_user_assigned_identity", "client_id") => text(client_of(&instance.address)),
            ("azurerm_user_assigned_identity", "tenant_id") => text(self.tenant.clone()),
            ("azurerm_key_vault", "vault_uri") => {
                text(vault_uri(&self.name(instance)?, self.cloud))
            }
            _ => None,
        }
    }

    /// The resource's `name`, as the plan knows it.
    pub fn name(&self, instance: &Instance<'p>) -> Option<String> {
        self.text(instance, &["name"], Expect::Any)
    }

    /// The vault ID a key (or an access policy) names with `key_vault_id`.
    pub fn key_vault_id(&self, instance: &Instance<'p>, depth: usize) -> Option<String> {
        match self.leaf_at(instance, &["key_vault_id"], Expect::Id, depth) {
            Leaf::Known(Value::String(id)) => Some(id),
            _ => None,
        }
    }

    fn key_vault_name(&self, instance: &Instance<'p>, depth: usize) -> Option<String> {
        self.key_vault_id(instance, depth)
            .map(|id| arm::name_from_id(&id).to_string())
    }

    /// The ARM ID of a resource: known, or made as Azure will make it.
    pub fn id_of(&self, instance: &Instance<'p>, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        if let (Some(Value::String(id)), false) = self.raw(instance, &["id"]) {
            return Some(id.clone());
        }
        let name = self.name(instance)?;
        if instance.kind == "azapi_resource" {
            let kind = self.text(instance, &["type"], Expect::Any)?;
            let kind = kind.split('@').next().unwrap_or_default();
            let parent = match self.leaf_at(instance, &["parent_id"], Expect::Id, depth + 1) {
                Leaf::Known(Value::String(parent)) => parent,
                _ => return None,
            };
            let segments: Vec<&str> = kind.split('/').collect();
            return Some(match segments.as_slice() {
                [_, _] => format!("{}/providers/{kind}/{name}", parent.trim_end_matches('/')),
                [.., child] => format!("{}/{child}/{name}", parent.trim_end_matches('/')),
                [] => return None,
            });
        }
        if instance.kind == "azurerm_resource_group" {
            return Some(format!(
                "/subscriptions/{}/resourceGroups/{name}",
                self.subscription
            ));
        }
        let kind = arm_type(&instance.kind)?;
        let group = match self.leaf_at(instance, &["resource_group_name"], Expect::Any, depth + 1) {
            Leaf::Known(Value::String(group)) => group,
            _ => UNKNOWN_RESOURCE_GROUP.to_string(),
        };
        Some(format!(
            "/subscriptions/{}/resourceGroups/{group}/providers/{kind}/{name}",
            self.subscription
        ))
    }

    /// A place in the plan: the value at `path` of the instance's values.
    pub fn place(&self, instance: &Instance<'p>, id: &str, pointer: &str, path: &[&str]) -> Place {
        Place {
            doc: Arc::clone(&self.doc),
            base: instance.pointer.clone(),
            resource: id.to_string(),
            pointer: pointer.to_string(),
            label_at: Some(format!("{}{}", instance.pointer, pointer_of(path))),
            address: Some(instance.address.clone()),
            written_in: self
                .hcl
                .locate(instance, path)
                .map(|(doc, pointer)| WrittenIn { doc, pointer }),
        }
    }

    /// The place of a value known only after apply: its `true` in `after_unknown`.
    pub(super) fn unknown_place(
        &self,
        instance: &Instance<'p>,
        id: &str,
        pointer: &str,
        path: &[&str],
    ) -> Place {
        let mut place = self.place(instance, id, pointer, path);
        if let Some(change) = &instance.change {
            let mut known = Vec::new();
            let mut current = change.after_unknown;
            for step in path {
                current = match current {
                    Value::Object(map) => match map.get(*step) {
                        Some(next) => next,
                        None => break,
                    },
                    Value::Array(items) => {
                        match step.parse::<usize>().ok().and_then(|i| items.get(i)) {
                            Some(next) => next,
                            None => break,
                        }
                    }
                    _ => break,
                };
                known.push(*step);
            }
            place.label_at = Some(format!("{}{}", change.pointer, pointer_of(&known)));
        }
        place
    }

    /// What the rules reading an unknown leaf say.
    pub fn unknown(
        &self,
        instance: &Instance<'p>,
        id: &str,
        pointer: &str,
        path: &[&str],
    ) -> Unknown {
        Unknown {
            pointer: pointer.to_string(),
            reason: format!(
                "`{}` of `{}` is known only after apply",
                written(path),
                instance.address
            ),
            at: self.unknown_place(instance, id, pointer, path),
            within: None,
            label: "known only after apply".to_string(),
            help: "give it a value known when planning (a literal, a variable, or an attribute of a resource this plan creates), or check the applied resources with `cmk-check check --cluster <id>`".to_string(),
        }
    }

    /// A gap at a value of an instance.
    pub fn gap(
        &self,
        instance: &Instance<'p>,
        id: &str,
        path: &[&str],
        reason: String,
        label: String,
        remedy: String,
    ) -> Gap {
        Gap {
            reason,
            label,
            remedy,
            place: self.place(instance, id, "", path),
        }
    }
}

/// The ARM type of an azurerm resource whose ID is made from its group and name.
fn arm_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "azurerm_user_assigned_identity" => crate::azure::IDENTITY_TYPE,
        "azurerm_key_vault" => crate::azure::VAULT_TYPE,
        "azurerm_monitor_action_group" => "Microsoft.Insights/actionGroups",
        "azurerm_monitor_activity_log_alert" => crate::azure::ALERT_TYPE,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_written_as_hcl() {
        assert_eq!(
            hcl_path(&["network_acls", "0", "default_action"]),
            "network_acls{}.default_action"
        );
        assert_eq!(hcl_path(&["body", "properties", "x"]), "body.properties.x");
        assert_eq!(
            written(&["access_policy", "1", "object_id"]),
            "access_policy[1].object_id"
        );
    }

    #[test]
    fn a_leaf_is_unknown_when_it_or_a_value_holding_it_is() {
        let after = serde_json::json!({"body": {"properties": {"a": true}}, "identity": [{"identity_ids": true}], "whole": true});
        assert!(unknown_in(&after, &["body", "properties", "a"]));
        assert!(!unknown_in(&after, &["body", "properties", "b"]));
        assert!(unknown_in(&after, &["identity", "0", "identity_ids", "0"]));
        assert!(unknown_in(&after, &["whole", "x"]));
        assert!(!unknown_in(&after, &["name"]));
    }

    #[test]
    fn values_are_put_at_their_pointer() {
        let mut body = serde_json::json!({"id": "x"});
        put_at(
            &mut body,
            "/properties/sku/name",
            serde_json::json!("premium"),
        );
        assert_eq!(body["properties"]["sku"]["name"], "premium");
        put_at(
            &mut body,
            "/properties/accessPolicies/1/objectId",
            serde_json::json!("o"),
        );
        assert_eq!(
            body["properties"]["accessPolicies"],
            serde_json::json!([null, {"objectId": "o"}])
        );
    }
}
