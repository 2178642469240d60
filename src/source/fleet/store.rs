//! Every body a fleet audit read, once, and the state of each cluster made from them by the
//! live source's own assembly: an audited cluster is checked exactly as `check --cluster` would
//! check it. The store is what `--record` writes and `--snapshot` replays.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Availability, ClusterInfo, Problem};
use crate::azure::id;
use crate::azure::keyuri::KeyUri;
use crate::azure::IDENTITY_TYPE;
use crate::document::json::Members;
use crate::source::live::arm::ArmError;
use crate::source::live::assemble::Shared;
use crate::source::live::fetch::{key_path, Fetched, KeyRead, Missing, Plane};
use crate::source::live::target::{ResourceId, Target};
use crate::state::State;

/// A body, or why it could not be read.
pub type Reading = Result<Value, ArmError>;

/// The bodies of a fleet, each under its key in lower case.
#[derive(Debug, Default, Clone)]
pub struct Store {
    pub clusters: Vec<Value>,
    /// By identity resource ID.
    pub identities: BTreeMap<String, Reading>,
    /// By vault name: a vault is found from its key URI's host, as `check` finds it.
    pub vaults: BTreeMap<String, VaultReading>,
    /// By the ARM path of the key (the version the URI names).
    pub keys: BTreeMap<String, (Reading, Plane)>,
    /// By the ARM path of the key's versions; present only where CMK020 needs them.
    pub versions: BTreeMap<String, Result<Vec<Value>, ArmError>>,
    /// By subscription: its activity-log alerts.
    pub alerts: BTreeMap<String, Result<Arc<[Value]>, ArmError>>,
    /// By cluster resource ID: its current availability from Resource Health.
    pub health: BTreeMap<String, Value>,
    pub problems: Vec<Problem>,
}

/// A vault found by name: its resource ID and body, or why not.
#[derive(Debug, Clone)]
pub enum VaultReading {
    Found { id: String, body: Reading },
    Missing { reason: String, remedy: String },
}

/// What a cluster's encryption names, read from its body in any case.
#[derive(Debug, Clone)]
pub struct Names {
    pub identity: Option<String>,
    pub key: Option<KeyUri>,
}

pub fn names(cluster: &Value) -> Names {
    let encryption = cluster.at("/properties/dataEncryption");
    let text = |field: &str| encryption.and_then(|e| e.text(field)).map(str::to_string);
    Names {
        identity: text("primaryUserAssignedIdentityId"),
        key: text("primaryKeyUri").and_then(|raw| KeyUri::parse(&raw).ok()),
    }
}

/// Whether a cluster's body says it uses a customer-managed key.
pub fn customer_managed(cluster: &Value) -> bool {
    cluster
        .at("/properties/dataEncryption/type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(crate::model::cluster::CUSTOMER_MANAGED))
}

/// Whether an identity's ID names a user-assigned identity: only those have a body to read.
pub fn user_assigned(identity: &str) -> bool {
    id::type_from_id(identity).is_some_and(|t| t.eq_ignore_ascii_case(IDENTITY_TYPE))
}

/// Whether CMK020 needs the key's versions: only when its current version is younger than a
/// day, or its age is not known.
pub fn needs_versions(key: &Reading, now: DateTime<Utc>) -> bool {
    let created = key
        .as_ref()
        .ok()
        .and_then(|body| body.at("/properties/attributes/created"))
        .and_then(Value::as_i64);
    created.is_none_or(|created| now.timestamp().saturating_sub(created) < 24 * 3600)
}

fn lower(text: &str) -> String {
    text.trim_end_matches('/').to_ascii_lowercase()
}

impl Store {
    /// The state of every cluster, in order of resource ID, with what the fleet report says of
    /// it; each assembled as it is taken.
    pub fn clusters(&self) -> impl Iterator<Item = (State, ClusterInfo)> + '_ {
        let mut rows: Vec<(String, ResourceId, &Value)> = self
            .clusters
            .iter()
            .filter_map(|row| {
                let id = row.text("id")?;
                let parsed = ResourceId::parse("--cluster", id, crate::azure::CLUSTER_TYPE).ok()?;
                Some((lower(id), parsed, row))
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let mut shared = Shared::default();
        rows.into_iter().map(move |(key, parsed, row)| {
            let state = self.state(&parsed, row, &mut shared);
            let info = ClusterInfo {
                availability: self.health.get(&key).map(availability),
                id: parsed.id,
                name: parsed.name,
                subscription: parsed.subscription,
                resource_group: parsed.resource_group,
                location: row.text("location").unwrap_or_default().to_string(),
                customer_managed: customer_managed(row),
            };
            (state, info)
        })
    }

    /// One cluster's state: its bodies as `check --cluster` would have fetched them.
    fn state(&self, cluster: &ResourceId, row: &Value, shared: &mut Shared) -> State {
        let target = Target {
            cluster: Some(cluster.clone()),
            ..Target::default()
        };
        let names = names(row);
        let identity = names.identity.as_ref().map(|identity| {
            if !user_assigned(identity) {
                return (Ok(serde_json::json!({ "id": identity })), "command line");
            }
            let read = self
                .identities
                .get(&lower(identity))
                .cloned()
                .unwrap_or_else(|| Err(not_found("identity", identity)));
            (read, "Resource Graph")
        });
        let mut alerts = vec![(
            cluster.subscription.clone(),
            self.alerts_of(&cluster.subscription),
        )];
        let key = match &names.key {
            None => KeyRead::default(),
            Some(uri) => {
                match self.vaults.get(&uri.vault) {
                    None | Some(VaultReading::Missing { .. }) => {
                        let (reason, remedy) = match self.vaults.get(&uri.vault) {
                        Some(VaultReading::Missing { reason, remedy }) => {
                            (reason.clone(), remedy.clone())
                        }
                        _ => (
                            format!("Azure Resource Graph shows no vault `{}` in the subscriptions you can read", uri.vault),
                            format!("get Reader on its subscription; a deleted vault may be soft-deleted: `az keyvault list-deleted --query \"[?name=='{}']\"`", uri.vault),
                        ),
                    };
                        KeyRead {
                            vault: Some(Err(Missing { reason, remedy })),
                            ..KeyRead::default()
                        }
                    }
                    Some(VaultReading::Found { id, body }) => {
                        let path = key_path(id, uri);
                        if let Some(vault_subscription) = id::subscription_from_id(id) {
                            if !vault_subscription.eq_ignore_ascii_case(&cluster.subscription) {
                                alerts.push((
                                    vault_subscription.to_string(),
                                    self.alerts_of(vault_subscription),
                                ));
                            }
                        }
                        let versions_path = format!("{id}/keys/{}/versions", uri.name);
                        KeyRead {
                            vault: Some(Ok((id.clone(), body.clone()))),
                            key: Some(self.keys.get(&lower(&path)).cloned().unwrap_or_else(|| {
                                (Err(not_found("key", &path)), Plane::Management)
                            })),
                            versions: self.versions.get(&lower(&versions_path)).cloned(),
                            // Not in Resource Graph: the audit leaves CMK026 to `check`.
                            diagnostics: None,
                        }
                    }
                }
            }
        };
        let availability = match self.health.get(&lower(&cluster.id)) {
            Some(row) => Ok(row.clone()),
            None => Err(ArmError::Status {
                status: 404,
                code: Some("ResourceNotFound".to_string()),
                message: Some(format!(
                    "Azure Resource Graph gave no Resource Health status for cluster `{}`",
                    cluster.name
                )),
            }),
        };
        let fetched = Fetched {
            cluster: Some(Ok(row.clone())),
            identity,
            key,
            alerts,
            availability: Some(availability),
        };
        shared.assemble_without_recording(&target, fetched)
    }

    fn alerts_of(&self, subscription: &str) -> Result<Arc<[Value]>, ArmError> {
        self.alerts
            .get(&lower(subscription))
            .cloned()
            .unwrap_or_else(|| Ok(Arc::from(Vec::new())))
    }
}

/// What Resource Graph not listing a resource means: ARM would answer 404.
fn not_found(noun: &str, id: &str) -> ArmError {
    ArmError::Status {
        status: 404,
        code: Some("ResourceNotFound".to_string()),
        message: Some(format!(
            "Azure Resource Graph lists no {noun} `{}`",
            id::name_from_id(id)
        )),
    }
}

/// `properties.availabilityState` of an `availabilityStatuses/current` row.
fn availability(row: &Value) -> Availability {
    let text = |pointer: &str| row.at(pointer).and_then(Value::as_str).map(str::to_string);
    Availability {
        state: text("/properties/availabilityState").unwrap_or_else(|| "Unknown".to_string()),
        summary: text("/properties/summary"),
        reason_type: text("/properties/reasonType"),
    }
}

/// The fleet snapshot: every body once, token-free (the client redacted what it read).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub cmk_check_fleet: u32,
    pub clusters: Vec<Value>,
    #[serde(default)]
    pub identities: BTreeMap<String, RecordedReading>,
    #[serde(default)]
    pub vaults: BTreeMap<String, RecordedVault>,
    #[serde(default)]
    pub keys: BTreeMap<String, RecordedKey>,
    #[serde(default)]
    pub versions: BTreeMap<String, RecordedList>,
    #[serde(default)]
    pub alerts: BTreeMap<String, RecordedList>,
    #[serde(default)]
    pub health: BTreeMap<String, Value>,
    #[serde(default)]
    pub problems: Vec<Problem>,
}

pub const FLEET_FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordedReading {
    Error { error: RecordedError },
    Body(Value),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordedList {
    Error { error: RecordedError },
    Items(Vec<Value>),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordedVault {
    Missing { reason: String, remedy: String },
    Found { id: String, body: RecordedReading },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedKey {
    pub read: RecordedReading,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub data_plane: bool,
}

fn record_error(error: &ArmError) -> RecordedError {
    match error {
        ArmError::Status {
            status,
            code,
            message,
        } => RecordedError {
            status: Some(*status),
            code: code.clone(),
            message: message.clone().unwrap_or_default(),
        },
        other => RecordedError {
            status: None,
            code: None,
            message: other.to_string(),
        },
    }
}

fn replay_error(error: RecordedError) -> ArmError {
    match error.status {
        Some(status) => ArmError::Status {
            status,
            code: error.code,
            message: (!error.message.is_empty()).then_some(error.message),
        },
        None => ArmError::Replayed(error.message),
    }
}

fn record(reading: &Reading) -> RecordedReading {
    match reading {
        Ok(body) => RecordedReading::Body(body.clone()),
        Err(e) => RecordedReading::Error {
            error: record_error(e),
        },
    }
}

fn replay(reading: RecordedReading) -> Reading {
    match reading {
        RecordedReading::Body(body) => Ok(body),
        RecordedReading::Error { error } => Err(replay_error(error)),
    }
}

fn record_list(list: Result<&[Value], &ArmError>) -> RecordedList {
    match list {
        Ok(items) => RecordedList::Items(items.to_vec()),
        Err(e) => RecordedList::Error {
            error: record_error(e),
        },
    }
}

fn replay_list(list: RecordedList) -> Result<Vec<Value>, ArmError> {
    match list {
        RecordedList::Items(items) => Ok(items),
        RecordedList::Error { error } => Err(replay_error(error)),
    }
}

impl Store {
    pub fn record(&self) -> Recorded {
        Recorded {
            cmk_check_fleet: FLEET_FORMAT,
            clusters: self.clusters.clone(),
            identities: self
                .identities
                .iter()
                .map(|(k, v)| (k.clone(), record(v)))
                .collect(),
            vaults: self
                .vaults
                .iter()
                .map(|(k, v)| {
                    let vault = match v {
                        VaultReading::Found { id, body } => RecordedVault::Found {
                            id: id.clone(),
                            body: record(body),
                        },
                        VaultReading::Missing { reason, remedy } => RecordedVault::Missing {
                            reason: reason.clone(),
                            remedy: remedy.clone(),
                        },
                    };
                    (k.clone(), vault)
                })
                .collect(),
            keys: self
                .keys
                .iter()
                .map(|(k, (read, plane))| {
                    let key = RecordedKey {
                        read: record(read),
                        data_plane: *plane == Plane::Data,
                    };
                    (k.clone(), key)
                })
                .collect(),
            versions: self
                .versions
                .iter()
                .map(|(k, v)| (k.clone(), record_list(v.as_deref())))
                .collect(),
            alerts: self
                .alerts
                .iter()
                .map(|(k, v)| (k.clone(), record_list(v.as_deref())))
                .collect(),
            health: self.health.clone(),
            problems: self.problems.clone(),
        }
    }

    pub fn replay(recorded: Recorded) -> Self {
        Self {
            clusters: recorded.clusters,
            identities: recorded
                .identities
                .into_iter()
                .map(|(k, v)| (k, replay(v)))
                .collect(),
            vaults: recorded
                .vaults
                .into_iter()
                .map(|(k, v)| {
                    let vault = match v {
                        RecordedVault::Found { id, body } => VaultReading::Found {
                            id,
                            body: replay(body),
                        },
                        RecordedVault::Missing { reason, remedy } => {
                            VaultReading::Missing { reason, remedy }
                        }
                    };
                    (k, vault)
                })
                .collect(),
            keys: recorded
                .keys
                .into_iter()
                .map(|(k, v)| {
                    let plane = if v.data_plane {
                        Plane::Data
                    } else {
                        Plane::Management
                    };
                    (k, (replay(v.read), plane))
                })
                .collect(),
            versions: recorded
                .versions
                .into_iter()
                .map(|(k, v)| (k, replay_list(v)))
                .collect(),
            alerts: recorded
                .alerts
                .into_iter()
                .map(|(k, v)| (k, replay_list(v).map(Arc::from)))
                .collect(),
            health: recorded.health,
            problems: recorded.problems,
        }
    }

    /// Files a body under the key the assembly looks it up by.
    pub fn key_of(text: &str) -> String {
        lower(text)
    }
}
