//! From a plan to one [`State`] per planned CMK cluster: the resources the plan declares are read
//! from their values, what it only references (data sources, literal IDs) is left for the live
//! reader through [`Referenced`], the same completion as a template's.

use serde_json::Value;

use super::plan::Instance;
use super::resources::{azapi_type, declares};
use super::shaped::Shaped;
use super::values::{Builder, Expect, Leaf};
use crate::azure::id as arm;
use crate::azure::keyuri::KeyUri;
use crate::azure::{ALERT_TYPE, CLUSTER_TYPE, IDENTITY_TYPE, KEY_TYPE, VAULT_TYPE};
use crate::model::cluster::CUSTOMER_MANAGED;
use crate::model::{ActivityLogAlert, Cluster, Identity, Key, KeyVersion, Vault};
use crate::source::complete::{Planned, Referenced};
use crate::source::template::{DEPLOYMENT_TENANT, UNKNOWN_RESOURCE_GROUP, UNKNOWN_SUBSCRIPTION};
use crate::state::{Gap, Located, Place, Resource, Section, State, Unknown};

const KEY_URI: &str = "/properties/dataEncryption/primaryKeyUri";
const IDENTITY_ID: &str = "/properties/dataEncryption/primaryUserAssignedIdentityId";

type Sections = (
    Section<Resource<Vault>>,
    Section<Resource<Key>>,
    Section<Vec<Resource<KeyVersion>>>,
);

/// Whether an instance is a planned `serverGroupsv2` (any API version, any case).
pub(super) fn is_cluster(instance: &Instance<'_>) -> bool {
    !instance.data && azapi_type(instance).is_some_and(|t| t.eq_ignore_ascii_case(CLUSTER_TYPE))
}

/// Whether anything at, in or around `pointer` is unknown.
fn unknown_near(unknown: &[Unknown], pointer: &str) -> bool {
    let pointer = pointer.to_ascii_lowercase();
    unknown.iter().any(|u| {
        let at = u.pointer.to_ascii_lowercase();
        let inside =
            |x: &str, y: &str| x == y || x.strip_prefix(y).is_some_and(|r| r.starts_with('/'));
        inside(&at, &pointer) || inside(&pointer, &at)
    })
}

impl<'p> Builder<'p> {
    /// Every planned CMK cluster as a check target, and a note for each one skipped.
    pub fn targets(&self, notes: &mut Vec<String>) -> Vec<Planned> {
        let mut planned = Vec::new();
        for instance in &self.index.instances {
            if !is_cluster(instance) {
                continue;
            }
            if instance.deleted() {
                notes.push(format!(
                    "cluster `{}` is only deleted by this plan: skipped",
                    instance.address
                ));
                continue;
            }
            if let Some(target) = self.cluster(instance, notes) {
                planned.push(target);
            }
        }
        planned
    }

    fn cluster(&self, instance: &Instance<'p>, notes: &mut Vec<String>) -> Option<Planned> {
        let mut shaped = Shaped::new(self, instance, CLUSTER_TYPE);
        self.azapi_body(&mut shaped);
        self.cluster_identity(&mut shaped);
        let cluster: Resource<Cluster> = match shaped.finish() {
            Ok(cluster) => cluster,
            Err(gap) => return Some(unchecked(instance.address.clone(), gap)),
        };
        let encryption = cluster.body.data_encryption();
        let kind = encryption.and_then(|d| d.encryption_type.as_deref());
        let checked = match kind {
            Some(kind) => kind.eq_ignore_ascii_case(CUSTOMER_MANAGED),
            None => {
                encryption.is_some() || unknown_near(&cluster.unknown, "/properties/dataEncryption")
            }
        };
        if !checked {
            notes.push(format!(
                "cluster `{}` does not use a customer-managed key: skipped",
                instance.address
            ));
            return None;
        }
        let location = located(&cluster, "/location", cluster.body.location.clone());
        let key_uri = located(
            &cluster,
            KEY_URI,
            encryption.and_then(|d| d.primary_key_uri.clone()),
        );
        let mut referenced = Referenced::default();
        let identity = self.identity_of(&cluster, &mut referenced);
        let (vault, key, key_versions) = self.vault_and_key(&key_uri, &mut referenced);
        let identity = reconcile(identity, &vault);
        let vault_diagnostics = self.vault_diagnostics(&vault, &mut referenced);
        let alerts = self.alerts(&cluster);
        // Existing alerts are read only when the plan declares none.
        if alerts.is_err() {
            referenced.alerts_subscription = arm::subscription_from_id(&cluster.id)
                .filter(|s| *s != UNKNOWN_SUBSCRIPTION)
                .map(str::to_string);
        }
        Some(Planned {
            cluster: instance.address.clone(),
            state: State {
                location,
                key_uri,
                identity,
                vault,
                key,
                key_versions,
                cluster: Ok(Some(cluster)),
                alerts,
                vault_diagnostics,
                // A cluster the plan creates has no health to read yet.
                availability: Ok(None),
            },
            referenced,
        })
    }

    /// The `identity` block (`type`, `identity_ids`) as ARM's `identity`; a body's own
    /// `identity` stands when there is no block.
    fn cluster_identity(&self, shaped: &mut Shaped<'_, 'p>) {
        let instance = shaped.instance;
        let blocks = instance.values.get("identity").and_then(Value::as_array);
        if blocks.is_none_or(Vec::is_empty) {
            return;
        }
        shaped.map(
            "/identity/type",
            &["identity", "0", "type"],
            Expect::Any,
            |v| v,
            None,
        );
        shaped.written_at(
            "/identity/userAssignedIdentities",
            &["identity", "0", "identity_ids"],
        );
        let path = ["identity", "0", "identity_ids"];
        let written = instance
            .values
            .pointer("/identity/0/identity_ids")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let unknown = instance
            .change
            .as_ref()
            .and_then(|c| c.after_unknown.pointer("/identity/0/identity_ids"));
        let pointer = "/identity/userAssignedIdentities";
        if unknown == Some(&Value::Bool(true)) {
            let unknown = self.unknown(instance, &shaped.id, pointer, &path);
            shaped.unknown.push(unknown);
            return;
        }
        let count = written.max(unknown.and_then(Value::as_array).map_or(0, Vec::len));
        let mut assigned = serde_json::Map::new();
        for i in 0..count {
            let index = i.to_string();
            let at = ["identity", "0", "identity_ids", index.as_str()];
            match self.leaf(instance, &at, Expect::Id) {
                Leaf::Known(Value::String(id)) => {
                    assigned.insert(id, Value::Object(serde_json::Map::new()));
                }
                Leaf::Unknown => {
                    let unknown = self.unknown(instance, &shaped.id, pointer, &at);
                    shaped.unknown.push(unknown);
                }
                _ => {}
            }
        }
        shaped.set(pointer, Value::Object(assigned));
    }

    fn identity_of(
        &self,
        cluster: &Resource<Cluster>,
        referenced: &mut Referenced,
    ) -> Section<Resource<Identity>> {
        let Some(id) = cluster
            .body
            .data_encryption()
            .and_then(|d| d.primary_user_assigned_identity_id.clone())
        else {
            return Err(gap_for(cluster, IDENTITY_ID));
        };
        let declared = self.index.instances.iter().find(|i| {
            declares(i, IDENTITY_TYPE)
                && self.id_of(i, 0).is_some_and(|own| arm::same_id(&own, &id))
        });
        if let Some(declared) = declared {
            return self.identity(declared);
        }
        let name = arm::name_from_id(&id);
        if id.contains(UNKNOWN_SUBSCRIPTION) || id.contains(UNKNOWN_RESOURCE_GROUP) {
            return Err(Gap {
                reason: format!("identity `{name}` is not declared in the plan, and its ID is made from a subscription or resource group the plan does not know"),
                label: "this identity".to_string(),
                remedy: "give `--subscription` so that cmk-check can read it".to_string(),
                place: cluster.at(IDENTITY_ID),
            });
        }
        referenced.identity = Some((id.clone(), cluster.at(IDENTITY_ID)));
        Err(not_read(
            cluster.at(IDENTITY_ID),
            &format!("identity `{name}`"),
        ))
    }

    fn vault_and_key(
        &self,
        key_uri: &Section<Located<String>>,
        referenced: &mut Referenced,
    ) -> Sections {
        let uri = match key_uri {
            Ok(uri) => uri,
            Err(gap) => return (Err(gap.clone()), Err(gap.clone()), Err(gap.clone())),
        };
        // A malformed URI is CMK017's finding; the vault and key it still names are checked.
        let parsed = KeyUri::parse(&uri.value).ok();
        let named = match &parsed {
            Some(parsed) => Some((parsed.vault.clone(), parsed.name.clone())),
            None => KeyUri::lenient(&uri.value),
        };
        let Some((vault_name, key_name)) = named else {
            let gap = Gap {
                reason: format!("the key URI `{}` does not name a key vault", uri.value),
                label: "this key URI".to_string(),
                remedy: "fix the key URI (CMK017)".to_string(),
                place: uri.place.clone(),
            };
            return (Err(gap.clone()), Err(gap.clone()), Err(gap));
        };
        let same = |i: &Instance<'p>, name: &str| {
            self.name(i).is_some_and(|n| n.eq_ignore_ascii_case(name))
        };
        let vault = self
            .index
            .instances
            .iter()
            .find(|i| declares(i, VAULT_TYPE) && same(i, &vault_name))
            .map(|i| self.vault(i));
        let key = self
            .index
            .instances
            .iter()
            .find(|i| {
                declares(i, KEY_TYPE) && same(i, &key_name) && {
                    let parent = match i.kind.as_str() {
                        "azapi_resource" => match self.leaf(i, &["parent_id"], Expect::Id) {
                            Leaf::Known(Value::String(p)) => Some(p),
                            _ => None,
                        },
                        _ => self.key_vault_id(i, 0),
                    };
                    parent.is_some_and(|p| arm::name_from_id(&p).eq_ignore_ascii_case(&vault_name))
                }
            })
            .map(|i| self.key(i));
        if let (Some(parsed), true) = (&parsed, vault.is_none() || key.is_none()) {
            referenced.key = Some((uri.value.clone(), parsed.clone(), uri.place.clone()));
            referenced.vault_missing = vault.is_none();
            referenced.key_missing = key.is_none();
        }
        let missing = |what: String| not_read(uri.place.clone(), &what);
        let vault = vault.unwrap_or_else(|| Err(missing(format!("vault `{vault_name}`"))));
        let (key, versions) = match key {
            // A key the plan creates has no earlier version to keep.
            Some(key) => (key, Ok(Vec::new())),
            None => (
                Err(missing(format!("key `{key_name}`"))),
                Err(missing(format!("the versions of key `{key_name}`"))),
            ),
        };
        (vault, key, versions)
    }

    /// The alerts the plan declares. Those already in Azure are added by the live reader.
    fn alerts(&self, cluster: &Resource<Cluster>) -> Section<Vec<Resource<ActivityLogAlert>>> {
        let declared = self.alerts.get_or_init(|| {
            self.index
                .instances
                .iter()
                .filter(|i| declares(i, ALERT_TYPE))
                .filter_map(|i| self.alert(i).ok())
                .collect()
        });
        if declared.is_empty() {
            return Err(Gap {
                reason: "the plan declares no activity-log alert".to_string(),
                label: "alerts are needed".to_string(),
                remedy: "declare the alerts (`azurerm_monitor_activity_log_alert`), or let cmk-check read the existing ones (without `--offline`, with `--subscription`)".to_string(),
                place: cluster.at(""),
            });
        }
        Ok(declared.clone())
    }
}

/// A value of the target read from the cluster, or the gap that says why it is not known.
fn located(
    cluster: &Resource<Cluster>,
    pointer: &str,
    value: Option<String>,
) -> Section<Located<String>> {
    match value {
        Some(value) => Ok(Located {
            value,
            place: cluster.at(pointer),
        }),
        None => Err(gap_for(cluster, pointer)),
    }
}

/// A gap at a cluster property: the unknown that hides it, or its absence.
fn gap_for(cluster: &Resource<Cluster>, pointer: &str) -> Gap {
    let lower = pointer.to_ascii_lowercase();
    let unknown = cluster.unknown.iter().find(|u| {
        let at = u.pointer.to_ascii_lowercase();
        lower == at || lower.strip_prefix(&at).is_some_and(|r| r.starts_with('/'))
    });
    if let Some(unknown) = unknown {
        return Gap {
            reason: unknown.reason.clone(),
            label: unknown.label.clone(),
            remedy: unknown.help.clone(),
            place: unknown.at.clone(),
        };
    }
    let property = match pointer {
        "/location" => "location",
        KEY_URI => "body.properties.dataEncryption.primaryKeyUri",
        _ => "body.properties.dataEncryption.primaryUserAssignedIdentityId",
    };
    Gap {
        reason: format!("cluster `{}` declares no `{property}`", cluster.name),
        label: format!("`{property}` is missing"),
        remedy: format!("give the cluster `{property}`"),
        place: cluster.at(pointer),
    }
}

/// A target every section of which is `gap`.
fn unchecked(cluster: String, gap: Gap) -> Planned {
    Planned {
        cluster,
        state: State {
            location: Err(gap.clone()),
            key_uri: Err(gap.clone()),
            identity: Err(gap.clone()),
            vault: Err(gap.clone()),
            key: Err(gap.clone()),
            key_versions: Err(gap.clone()),
            cluster: Err(gap.clone()),
            alerts: Err(gap.clone()),
            vault_diagnostics: Err(gap.clone()),
            availability: Err(gap),
        },
        referenced: Referenced::default(),
    }
}

/// A new identity's tenant is the provider's: when the plan does not know it and the vault names
/// a literal tenant, the two cannot be compared.
fn reconcile(
    identity: Section<Resource<Identity>>,
    vault: &Section<Resource<Vault>>,
) -> Section<Resource<Identity>> {
    let (Ok(mut identity), Ok(vault)) = (identity.clone(), vault) else {
        return identity;
    };
    let Some(props) = vault.body.props() else {
        return Ok(identity);
    };
    if identity.body.tenant_id() == Some(DEPLOYMENT_TENANT) {
        if let Some(tenant) = props
            .tenant_id
            .as_deref()
            .filter(|t| *t != DEPLOYMENT_TENANT)
        {
            identity.unknown.push(Unknown {
                pointer: "/properties/tenantId".to_string(),
                reason: format!(
                    "identity `{}` is created in the tenant of the provider, which the plan does not say, and the vault names tenant `{tenant}`",
                    identity.name
                ),
                at: vault.at("/properties/tenantId"),
                within: None,
                label: "compared with the tenant of the provider".to_string(),
                help: "write `tenant_id = data.azurerm_client_config.current.tenant_id`, or check the applied resources with `cmk-check check --identity <id> --key <uri>`".to_string(),
            });
        }
    }
    Ok(identity)
}

/// A resource the plan only references, before the live reader has been.
fn not_read(place: Place, what: &str) -> Gap {
    Gap {
        reason: format!("{what} is not declared in the plan and was not read from Azure (`--offline`)"),
        label: format!("{what} is referenced here"),
        remedy: "run without `--offline` (with `--subscription` when the plan does not say it) to read it".to_string(),
        place,
    }
}
