//! The requests of one live read, in as few round trips as their dependencies allow: the
//! answers as they came, before they are made a state.

use std::sync::Arc;

use serde_json::{json, Value};

use super::arm::ArmError;
use super::target::Target;
use super::{keyvault, Azure};
use crate::azure::api::{
    ALERTS as ALERTS_API, AVAILABILITY as AVAILABILITY_API, CLUSTER as CLUSTER_API,
    DIAGNOSTIC_SETTINGS as DIAGNOSTICS_API, IDENTITY as IDENTITY_API, KEY_VAULT as KEY_VAULT_API,
};
use crate::azure::id as ids;
use crate::azure::keyuri::KeyUri;
use crate::azure::{IDENTITY_TYPE, VAULT_TYPE};
use crate::document::json::Members;

/// One resource as ARM answered: its body, or why there is none.
pub type Read = Result<Value, ArmError>;

/// The activity-log alerts of one subscription.
/// Shared: a fleet's clusters in one subscription hold the same list.
pub type AlertsRead = (String, Result<Arc<[Value]>, ArmError>);

/// Which API gave the key body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    Management,
    Data,
}

/// Why the vault's resource ID is not known.
#[derive(Debug, Clone)]
pub struct Missing {
    pub reason: String,
    pub remedy: String,
}

/// What the requests about the key gave; `vault` is `None` when no key URI was known.
#[derive(Debug, Default)]
pub struct KeyRead {
    pub vault: Option<Result<(String, Read), Missing>>,
    pub key: Option<(Read, Plane)>,
    pub versions: Option<Result<Vec<Value>, ArmError>>,
    /// The vault's diagnostic settings.
    pub diagnostics: Option<Result<Vec<Value>, ArmError>>,
}

/// Everything the requests of one target gave.
#[derive(Debug, Default)]
pub struct Fetched {
    pub cluster: Option<Read>,
    /// The identity's body and where it came from (`ARM`, or `command line` for an ID of
    /// another type, which has no API to ask).
    pub identity: Option<(Read, &'static str)>,
    pub key: KeyRead,
    /// The alerts of the subscriptions of the cluster and the vault.
    pub alerts: Vec<AlertsRead>,
    /// The cluster's `availabilityStatuses/current`.
    pub availability: Option<Read>,
}

async fn list_alerts(azure: &Azure, subscription: Option<String>) -> Option<AlertsRead> {
    let subscription = subscription?;
    let path =
        format!("/subscriptions/{subscription}/providers/Microsoft.Insights/activityLogAlerts");
    Some((
        subscription,
        azure.arm.list(&path, ALERTS_API).await.map(Arc::from),
    ))
}

/// Reads everything `target` names. Requests that do not depend on each other are in flight
/// together: with `--vault`, identity, vault, key and versions go in one round trip.
pub async fn fetch(target: &Target, azure: &Azure) -> Fetched {
    let cluster_subscription = target
        .cluster
        .as_ref()
        .map(|c| c.subscription.clone())
        .or_else(|| target.alerts_subscription.clone());
    let cluster_read = async {
        let cluster = async {
            match &target.cluster {
                Some(id) => Some(azure.arm.get(&id.id, CLUSTER_API).await),
                None => None,
            }
        };
        tokio::join!(
            cluster,
            list_alerts(azure, cluster_subscription.clone()),
            read_availability(azure, target)
        )
    };
    let listed = cluster_subscription.as_deref();
    let ((cluster, cluster_alerts, availability), identity, (key, vault_alerts)) =
        if target.identity.is_some() && target.key.is_some() {
            let identity_id = target.identity.as_ref().map(|i| i.id.clone());
            tokio::join!(
                cluster_read,
                read_identity(azure, identity_id),
                read_key_side(azure, target, target.key.clone(), listed)
            )
        } else {
            // The cluster names the identity and the key; they can only be read after it.
            let (cluster, cluster_alerts, availability) = cluster_read.await;
            let encryption = cluster
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .and_then(|c| c.at("/properties/dataEncryption").cloned());
            let text = |field: &str| {
                encryption
                    .as_ref()
                    .and_then(|e| e.text(field))
                    .map(str::to_string)
            };
            let identity_id = target
                .identity
                .as_ref()
                .map(|i| i.id.clone())
                .or_else(|| text("primaryUserAssignedIdentityId"));
            let key = target.key.clone().or_else(|| {
                text("primaryKeyUri").and_then(|raw| KeyUri::parse(&raw).ok().map(|k| (raw, k)))
            });
            let (identity, key_side) = tokio::join!(
                read_identity(azure, identity_id),
                read_key_side(azure, target, key, listed)
            );
            ((cluster, cluster_alerts, availability), identity, key_side)
        };
    Fetched {
        cluster,
        identity,
        key,
        alerts: cluster_alerts.into_iter().chain(vault_alerts).collect(),
        availability,
    }
}

/// What Resource Health says of the cluster now, read with the cluster itself.
async fn read_availability(azure: &Azure, target: &Target) -> Option<Read> {
    let cluster = target.cluster.as_ref()?;
    let path = availability_path(&cluster.id);
    Some(azure.arm.get(&path, AVAILABILITY_API).await)
}

pub fn availability_path(cluster_id: &str) -> String {
    format!(
        "{}/providers/Microsoft.ResourceHealth/availabilityStatuses/current",
        cluster_id.trim_end_matches('/')
    )
}

/// The identity's body and where it came from. An ID of another resource type is not read
/// (it has no identity API to ask): its ID alone lets CMK001 say what it is.
async fn read_identity(azure: &Azure, id: Option<String>) -> Option<(Read, &'static str)> {
    let id = id?;
    let user_assigned =
        ids::type_from_id(&id).is_some_and(|t| t.eq_ignore_ascii_case(IDENTITY_TYPE));
    if !user_assigned {
        return Some((Ok(json!({ "id": id })), "command line"));
    }
    Some((azure.arm.get(&id, IDENTITY_API).await, "ARM"))
}

async fn read_key_side(
    azure: &Azure,
    target: &Target,
    key: Option<(String, KeyUri)>,
    listed_subscription: Option<&str>,
) -> (KeyRead, Option<AlertsRead>) {
    let Some((_, key)) = key else {
        return (KeyRead::default(), None);
    };
    let vault_id = match &target.vault {
        Some(vault) => Ok(vault.id.clone()),
        None => find_vault(azure, target, &key).await,
    };
    let vault_id = match vault_id {
        Ok(id) => id,
        Err(missing) => {
            let read = KeyRead {
                vault: Some(Err(missing)),
                ..KeyRead::default()
            };
            return (read, None);
        }
    };
    let key_path = key_path(&vault_id, &key);
    let versions_path = format!("{vault_id}/keys/{}/versions", key.name);
    let vault_subscription = ids::subscription_from_id(&vault_id)
        .filter(|s| listed_subscription.is_none_or(|listed| !listed.eq_ignore_ascii_case(s)))
        .map(str::to_string);
    let diagnostics_path = format!(
        "{}/providers/Microsoft.Insights/diagnosticSettings",
        vault_id.trim_end_matches('/')
    );
    let (vault, management_key, versions, alerts, diagnostics) = tokio::join!(
        azure.arm.get(&vault_id, KEY_VAULT_API),
        azure.arm.get(&key_path, KEY_VAULT_API),
        azure.arm.list(&versions_path, KEY_VAULT_API),
        list_alerts(azure, vault_subscription),
        azure.arm.list(&diagnostics_path, DIAGNOSTICS_API)
    );
    let key_read = data_plane_if_denied(azure, management_key, &key).await;
    let read = KeyRead {
        vault: Some(Ok((vault_id, vault))),
        key: Some(key_read),
        versions: Some(versions),
        diagnostics: Some(diagnostics),
    };
    (read, alerts)
}

/// The key as ARM gave it, or from the Key Vault data plane when ARM forbids reading it: a
/// holder of the access policy's key `get` may still read it there.
pub async fn data_plane_if_denied(azure: &Azure, management: Read, key: &KeyUri) -> (Read, Plane) {
    match (management, &azure.key_vault) {
        (Err(denied), Some(reader)) if denied.status() == Some(403) => {
            match reader.get_key(key).await {
                Ok(bundle) => (
                    Ok(keyvault::bundle_as_management_body(&bundle, key)),
                    Plane::Data,
                ),
                // Key Vault checks permissions before existence: any answer but a denial
                // (a missing key, an outage) is the data plane's own fact.
                Err(data_plane) if matches!(data_plane.status(), Some(401 | 403) | None) => {
                    (Err(both_denied(&denied, &data_plane)), Plane::Data)
                }
                Err(data_plane) => (Err(data_plane), Plane::Data),
            }
        }
        (read, _) => (read, Plane::Management),
    }
}

/// Where ARM serves a key: the version the URI names, or the current one.
pub fn key_path(vault_id: &str, key: &KeyUri) -> String {
    match &key.version {
        Some(version) => format!("{vault_id}/keys/{}/versions/{version}", key.name),
        None => format!("{vault_id}/keys/{}", key.name),
    }
}

fn both_denied(arm: &ArmError, data_plane: &ArmError) -> ArmError {
    ArmError::Status {
        status: 403,
        code: Some("Forbidden".to_string()),
        message: Some(format!(
            "{arm}; then the Key Vault data plane: {data_plane}"
        )),
    }
}

/// The vault's resource ID from its name, by one Resource Graph query.
async fn find_vault(azure: &Azure, target: &Target, key: &KeyUri) -> Result<String, Missing> {
    // Vault names are letters, digits and dashes (KeyUri checked): nothing to escape.
    let query = format!(
        "resources | where type =~ '{}' and name =~ '{}' | project id, name, location",
        VAULT_TYPE.to_ascii_lowercase(),
        key.vault
    );
    let subscriptions: Vec<String> = target.subscription.iter().cloned().collect();
    let rows = azure
        .arm
        .resource_graph(&query, &subscriptions)
        .await
        .map_err(|e| Missing {
            reason: format!(
                "could not look up vault `{}` in Azure Resource Graph: {e}",
                key.vault
            ),
            remedy: "give the vault's resource ID with `--vault`".to_string(),
        })?;
    let found = rows
        .iter()
        .filter_map(|row| row.get("id").and_then(Value::as_str))
        .find(|id| ids::name_from_id(id).eq_ignore_ascii_case(&key.vault));
    found.map(str::to_string).ok_or_else(|| Missing {
        reason: format!(
                "Azure Resource Graph shows no vault `{}`{}",
                key.vault,
                target
                    .subscription
                    .as_deref()
                    .map(|s| format!(" in subscription {s}"))
                    .unwrap_or_else(|| " in the subscriptions you can read".to_string())
            ),
        remedy: format!(
                "give its ID with `--vault`, or get Reader on its subscription; a deleted vault may be soft-deleted: `az keyvault list-deleted --query \"[?name=='{}']\"`",
                key.vault
            ),
    })
}
