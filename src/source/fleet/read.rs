//! The reads of a fleet audit: Resource Graph for the clusters and what they name (pages of
//! 1,000 rows, fewer than 300 subscriptions a query), then one ARM read per distinct key, and
//! the versions only of the keys rotated within the day. Every answer may be broader or staler
//! than asked: rows are matched to clusters by ID, case-insensitively, on this side.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures::stream::{self, FuturesUnordered, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc::{self, UnboundedReceiver};

use super::store::{
    customer_managed, names, needs_versions, user_assigned, Reading, Store, VaultReading,
};
use super::{FleetError, Problem, Progress, Request, Scope};
use crate::azure::api::{IDENTITY, KEY_VAULT};
use crate::azure::id;
use crate::azure::keyuri::KeyUri;
use crate::document::json::Members;
use crate::source::live::arm::{ArmError, GraphAnswer, GraphScope};
use crate::source::live::fetch::{data_plane_if_denied, key_path, Plane};
use crate::source::live::Azure;

/// Resource Graph takes fewer than 300 subscriptions a query.
const SUBSCRIPTIONS_PER_QUERY: usize = 250;
/// Vault names a query filters on: the query text stays a few KB.
const NAMES_PER_QUERY: usize = 200;

const CLUSTERS: &str = "resources | where type =~ 'microsoft.dbforpostgresql/servergroupsv2' | project id, name, type, location, subscriptionId, resourceGroup, identity, properties";
const IDENTITIES: &str = "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' | project id, name, type, location, properties";
const ALERTS: &str = "resources | where type =~ 'microsoft.insights/activitylogalerts' | project id, name, type, location, properties";
const HEALTH: &str = "healthresources | where type =~ 'microsoft.resourcehealth/availabilitystatuses' | project id, properties";
const SUBSCRIPTIONS: &str = "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project id, subscriptionId";

fn lower(text: &str) -> String {
    text.trim_end_matches('/').to_ascii_lowercase()
}

pub(super) async fn store(
    request: &Request,
    azure: &Azure,
    progress: &Progress,
) -> Result<Store, FleetError> {
    let mut store = Store::default();
    let scopes = scopes(request, azure, &mut store.problems).await?;
    let wanted: Option<BTreeSet<String>> = match (&request.scope, &request.shard) {
        (Scope::Subscriptions(_), _) | (_, Some(_)) => Some(
            scopes
                .iter()
                .flat_map(|s| match s {
                    GraphScope::Subscriptions(ids) => ids.clone(),
                    _ => Vec::new(),
                })
                .map(|s| lower(&s))
                .collect(),
        ),
        _ => None,
    };
    store.clusters = clusters(azure, &scopes, wanted.as_ref(), &mut store.problems).await?;
    Progress::add(&progress.discovered, store.clusters.len());

    let cmk: Vec<&Value> = store
        .clusters
        .iter()
        .filter(|c| customer_managed(c))
        .collect();
    let named: Vec<_> = cmk.iter().map(|c| names(c)).collect();
    let identities: BTreeSet<String> = named
        .iter()
        .filter_map(|n| n.identity.clone())
        .filter(|i| user_assigned(i))
        .collect();
    let vault_names: BTreeSet<String> = named
        .iter()
        .filter_map(|n| n.key.as_ref().map(|k| k.vault.clone()))
        .collect();
    let cluster_subscriptions: BTreeSet<String> = store
        .clusters
        .iter()
        .filter_map(|c| c.text("id").and_then(id::subscription_from_id).map(lower))
        .collect();

    // The keys set the audit's pace: their vaults are looked up first, each batch's keys read
    // as soon as it answers, and only then are the identities, health and alerts queried,
    // within the same Resource Graph quota.
    let mut wanted_keys: BTreeMap<String, BTreeMap<String, KeyUri>> = BTreeMap::new();
    for key in named.iter().filter_map(|n| n.key.as_ref()) {
        wanted_keys.entry(key.vault.clone()).or_default().insert(
            lower(&format!(
                "{}/{}",
                key.name,
                key.version.as_deref().unwrap_or_default()
            )),
            key.clone(),
        );
    }
    let (turns, queue) = mpsc::unbounded_channel();
    let lookups_then_the_rest = async {
        let vaults = read_vaults(request, azure, &vault_names, |found| {
            let keys: BTreeMap<String, (String, KeyUri)> = found
                .iter()
                .flat_map(|(name, id)| {
                    wanted_keys
                        .get(*name)
                        .into_iter()
                        .flatten()
                        .map(|(_, key)| (lower(&key_path(id, key)), ((*id).clone(), key.clone())))
                })
                .collect();
            for turn in round_robin(&keys) {
                // The receiver outlives every send: it is read until this side finishes.
                let _ = turns.send((turn.0.clone(), (turn.1 .0.clone(), turn.1 .1.clone())));
            }
        })
        .await;
        drop(turns);
        let mut alert_subscriptions = cluster_subscriptions.clone();
        alert_subscriptions.extend(vaults.values().filter_map(|v| match v {
            VaultReading::Found { id, .. } => id::subscription_from_id(id).map(lower),
            VaultReading::Missing { .. } => None,
        }));
        let (identities, health, alerts) = futures::join!(
            read_identities(request, azure, &identities),
            read_health(azure, &cluster_subscriptions),
            read_alerts(azure, &alert_subscriptions),
        );
        (vaults, identities, health, alerts)
    };
    let ((vaults, identities, health, alerts), (keys, versions)) = futures::join!(
        lookups_then_the_rest,
        read_keys(request, azure, queue, progress),
    );
    store.vaults = vaults;
    store.identities = identities;
    store.health = health.0;
    store.problems.extend(health.1);
    store.alerts = alerts;
    store.keys = keys;
    store.versions = versions;
    store.problems.extend(denied(&store));
    Progress::add(&progress.checked, store.clusters.len());
    Ok(store)
}

/// The scopes of the cluster query: the subscriptions in batches when they are known (given,
/// or listed for a shard), else the tenant or the management groups as they are.
async fn scopes(
    request: &Request,
    azure: &Azure,
    problems: &mut Vec<Problem>,
) -> Result<Vec<GraphScope>, FleetError> {
    let listed = match (&request.scope, &request.shard) {
        (Scope::Subscriptions(ids), _) => Some(ids.clone()),
        (scope, Some(_)) => {
            let scope = match scope {
                Scope::ManagementGroups(ids) => GraphScope::ManagementGroups(ids.clone()),
                _ => GraphScope::Tenant,
            };
            let answer = azure
                .arm
                .graph(SUBSCRIPTIONS, &scope)
                .await
                .map_err(FleetError::Discovery)?;
            problems.extend(graph_problems("the subscription list", &answer));
            Some(
                answer
                    .rows
                    .iter()
                    .filter_map(|r| r.text("subscriptionId").map(str::to_string))
                    .collect(),
            )
        }
        (Scope::Tenant, None) => None,
        (Scope::ManagementGroups(ids), None) => {
            return Ok(vec![GraphScope::ManagementGroups(ids.clone())])
        }
    };
    let Some(mut subscriptions) = listed else {
        return Ok(vec![GraphScope::Tenant]);
    };
    if let Some(shard) = &request.shard {
        subscriptions.retain(|s| shard.holds(s));
    }
    subscriptions.sort_by_key(|s| lower(s));
    subscriptions.dedup_by_key(|s| lower(s));
    Ok(subscriptions
        .chunks(SUBSCRIPTIONS_PER_QUERY)
        .map(|batch| GraphScope::Subscriptions(batch.to_vec()))
        .collect())
}

/// What Resource Graph said it left out.
fn graph_problems(what: &str, answer: &GraphAnswer) -> Vec<Problem> {
    let mut found = Vec::new();
    if answer.truncated {
        found.push(Problem {
            scope: "Resource Graph".to_string(),
            message: format!("the answer to {what} was truncated (`resultTruncated`): clusters or the resources they name may be missing"),
            remedy: "audit fewer subscriptions at a time (`--subscription`, `--shard K/N`)".to_string(),
        });
    }
    if answer.subscription_limit_hit {
        found.push(Problem {
            scope: "Resource Graph".to_string(),
            message: format!("{what} covers more subscriptions than one query may (`x-ms-tenant-subscription-limit-hit`): some were left out"),
            remedy: "name the subscriptions (`--subscription`) or split the tenant (`--shard K/N`)".to_string(),
        });
    }
    found
}

async fn clusters(
    azure: &Azure,
    scopes: &[GraphScope],
    wanted: Option<&BTreeSet<String>>,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Value>, FleetError> {
    let answers: Vec<Result<GraphAnswer, ArmError>> =
        futures::future::join_all(scopes.iter().map(|s| azure.arm.graph(CLUSTERS, s))).await;
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    let mut failures = 0;
    for (scope, answer) in scopes.iter().zip(answers) {
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                failures += 1;
                if failures == scopes.len() {
                    return Err(FleetError::Discovery(e));
                }
                problems.push(Problem {
                    scope: describe(scope),
                    message: format!("its clusters could not be listed: {e}"),
                    remedy: "grant Reader on the subscriptions".to_string(),
                });
                continue;
            }
        };
        problems.extend(graph_problems("the cluster query", &answer));
        for row in answer.rows {
            let Some(id) = row.text("id").map(lower) else {
                continue;
            };
            let is_cluster = row
                .text("type")
                .is_some_and(|t| t.eq_ignore_ascii_case(crate::azure::CLUSTER_TYPE));
            let in_scope = wanted.is_none_or(|w| {
                id::subscription_from_id(&id).is_some_and(|s| w.contains(&lower(s)))
            });
            if is_cluster && in_scope && seen.insert(id) {
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

fn describe(scope: &GraphScope) -> String {
    match scope {
        GraphScope::Tenant => "the tenant".to_string(),
        GraphScope::Subscriptions(ids) if ids.len() == 1 => format!("subscription {}", ids[0]),
        GraphScope::Subscriptions(ids) => format!("{} subscriptions", ids.len()),
        GraphScope::ManagementGroups(ids) => format!("management groups {}", ids.join(", ")),
    }
}

/// Subscriptions in query batches.
fn batches(subscriptions: &BTreeSet<String>) -> Vec<GraphScope> {
    let all: Vec<String> = subscriptions.iter().cloned().collect();
    all.chunks(SUBSCRIPTIONS_PER_QUERY)
        .map(|batch| GraphScope::Subscriptions(batch.to_vec()))
        .collect()
}

/// Rows of `query` over `subscriptions`, each batch's failure kept for its subscriptions.
async fn rows_by_subscription(
    azure: &Azure,
    query: &str,
    subscriptions: &BTreeSet<String>,
) -> (Vec<Value>, BTreeMap<String, ArmError>) {
    let scopes = batches(subscriptions);
    let answers = futures::future::join_all(scopes.iter().map(|s| azure.arm.graph(query, s))).await;
    let mut rows = Vec::new();
    let mut failed = BTreeMap::new();
    for (scope, answer) in scopes.iter().zip(answers) {
        match answer {
            Ok(answer) => rows.extend(answer.rows),
            Err(e) => {
                if let GraphScope::Subscriptions(ids) = scope {
                    for s in ids {
                        failed.insert(lower(s), e.clone());
                    }
                }
            }
        }
    }
    (rows, failed)
}

async fn read_identities(
    request: &Request,
    azure: &Azure,
    identities: &BTreeSet<String>,
) -> BTreeMap<String, Result<Value, ArmError>> {
    if request.fresh {
        let reads = stream::iter(identities.iter().cloned())
            .map(|identity| async move {
                let read = azure.arm.get(&identity, IDENTITY).await;
                (lower(&identity), read)
            })
            .buffer_unordered(request.concurrency.max(1));
        return reads.collect().await;
    }
    let subscriptions: BTreeSet<String> = identities
        .iter()
        .filter_map(|i| id::subscription_from_id(i).map(lower))
        .collect();
    let (rows, failed) = rows_by_subscription(azure, IDENTITIES, &subscriptions).await;
    let found: BTreeMap<String, Value> = rows
        .into_iter()
        .filter_map(|r| Some((lower(r.text("id")?), r)))
        .collect();
    identities
        .iter()
        .filter_map(|identity| {
            let key = lower(identity);
            let subscription = id::subscription_from_id(identity).map(lower)?;
            let read = match (found.get(&key), failed.get(&subscription)) {
                (Some(body), _) => Ok(body.clone()),
                (None, Some(e)) => Err(e.clone()),
                (None, None) => return None,
            };
            Some((key, read))
        })
        .collect()
}

/// Vaults by name, as `check` finds a key's vault: from the key URI's host, in every
/// subscription the credential can read.
async fn read_vaults(
    request: &Request,
    azure: &Azure,
    names: &BTreeSet<String>,
    mut found: impl FnMut(&[(&String, &String)]),
) -> BTreeMap<String, VaultReading> {
    let all: Vec<&String> = names.iter().collect();
    let queries = all.chunks(NAMES_PER_QUERY).map(|batch| {
        // Vault names are letters, digits and dashes (the key URI was parsed): nothing to escape.
        let list: Vec<String> = batch.iter().map(|n| format!("'{n}'")).collect();
        let query = format!(
            "resources | where type =~ 'microsoft.keyvault/vaults' and name in~ ({}) | project id, name, type, location, properties",
            list.join(", ")
        );
        async move { (batch.to_vec(), azure.arm.graph(&query, &GraphScope::Tenant).await) }
    });
    let mut vaults = BTreeMap::new();
    let mut answers: FuturesUnordered<_> = queries.collect();
    while let Some((batch, answer)) = answers.next().await {
        match answer {
            Err(e) => {
                for name in batch {
                    vaults.insert(
                        name.clone(),
                        VaultReading::Missing {
                            reason: format!("could not look up vault `{name}` in Azure Resource Graph: {e}"),
                            remedy: "try again; Reader on the vault's subscription is what the lookup needs".to_string(),
                        },
                    );
                }
            }
            Ok(answer) => {
                let mut rows = answer.rows;
                rows.sort_by_key(|r| r.text("id").map(lower));
                for row in rows {
                    let (Some(id), Some(name)) = (row.text("id"), row.text("name")) else {
                        continue;
                    };
                    let name = name.to_ascii_lowercase();
                    if batch.iter().any(|b| **b == name) && !vaults.contains_key(&name) {
                        vaults.insert(
                            name,
                            VaultReading::Found {
                                id: id.to_string(),
                                body: Ok(row.clone()),
                            },
                        );
                    }
                }
                let answered: Vec<(&String, &String)> = batch
                    .iter()
                    .filter_map(|name| match vaults.get_key_value(*name) {
                        Some((name, VaultReading::Found { id, .. })) => Some((name, id)),
                        _ => None,
                    })
                    .collect();
                found(&answered);
            }
        }
    }
    if request.fresh {
        let ids: Vec<(String, String)> = vaults
            .iter()
            .filter_map(|(name, v)| match v {
                VaultReading::Found { id, .. } => Some((name.clone(), id.clone())),
                VaultReading::Missing { .. } => None,
            })
            .collect();
        let reads: Vec<(String, String, Result<Value, ArmError>)> = stream::iter(ids)
            .map(|(name, id)| async move {
                let read = azure.arm.get(&id, KEY_VAULT).await;
                (name, id, read)
            })
            .buffer_unordered(request.concurrency.max(1))
            .collect()
            .await;
        for (name, id, body) in reads {
            vaults.insert(name, VaultReading::Found { id, body });
        }
    }
    vaults
}

/// Each cluster's `availabilityStatuses/current`, by cluster ID.
async fn read_health(
    azure: &Azure,
    subscriptions: &BTreeSet<String>,
) -> (BTreeMap<String, Value>, Vec<Problem>) {
    let (rows, failed) = rows_by_subscription(azure, HEALTH, subscriptions).await;
    let suffix = "/providers/microsoft.resourcehealth/availabilitystatuses/current";
    let health = rows
        .into_iter()
        .filter_map(|row| {
            let id = lower(row.text("id")?);
            let cluster = id.strip_suffix(suffix)?.to_string();
            Some((cluster, row))
        })
        .collect();
    let problems = failed
        .into_iter()
        .map(|(subscription, e)| Problem {
            scope: format!("subscription {subscription}"),
            message: format!("the availability of its clusters could not be read: {e}"),
            remedy: "grant Reader on the subscription".to_string(),
        })
        .collect();
    (health, problems)
}

async fn read_alerts(
    azure: &Azure,
    subscriptions: &BTreeSet<String>,
) -> BTreeMap<String, Result<Arc<[Value]>, ArmError>> {
    let (rows, failed) = rows_by_subscription(azure, ALERTS, subscriptions).await;
    let mut alerts: BTreeMap<String, Result<Vec<Value>, ArmError>> = subscriptions
        .iter()
        .map(|s| (s.clone(), Ok(Vec::new())))
        .collect();
    for row in rows {
        let Some(subscription) = row.text("id").and_then(id::subscription_from_id).map(lower)
        else {
            continue;
        };
        if let Some(Ok(list)) = alerts.get_mut(&subscription) {
            list.push(row);
        }
    }
    for (subscription, e) in failed {
        alerts.insert(subscription, Err(e));
    }
    alerts
        .into_iter()
        .map(|(subscription, list)| (subscription, list.map(Arc::from)))
        .collect()
}

/// One ARM read per distinct key as its vault becomes known, and right after it the versions
/// of a key rotated within the day.
async fn read_keys(
    request: &Request,
    azure: &Azure,
    queue: UnboundedReceiver<(String, (String, KeyUri))>,
    progress: &Progress,
) -> (
    BTreeMap<String, (Reading, Plane)>,
    BTreeMap<String, Result<Vec<Value>, ArmError>>,
) {
    let turns = stream::unfold(queue, |mut queue| async move {
        queue.recv().await.map(|turn| (turn, queue))
    });
    let now = request.now;
    let reads: Vec<_> = turns
        .map(|(path, (vault, key))| async move {
            let arm_path = key_path(&vault, &key);
            // Wait out a throttled subscription before taking a turn.
            tokio::time::sleep(azure.arm.throttled_for(&arm_path)).await;
            progress.in_flight.fetch_add(1, Ordering::Relaxed);
            let read = azure.arm.get(&arm_path, KEY_VAULT).await;
            let read = data_plane_if_denied(azure, read, &key).await;
            let versions = if needs_versions(&read.0, now) {
                let listed = format!("{vault}/keys/{}/versions", key.name);
                tokio::time::sleep(azure.arm.throttled_for(&listed)).await;
                Some((lower(&listed), azure.arm.list(&listed, KEY_VAULT).await))
            } else {
                None
            };
            progress.in_flight.fetch_sub(1, Ordering::Relaxed);
            (path, read, versions)
        })
        .buffer_unordered(request.concurrency.max(1))
        .collect()
        .await;
    let mut keys = BTreeMap::new();
    let mut versions = BTreeMap::new();
    for (path, read, listed) in reads {
        keys.insert(path, read);
        versions.extend(listed);
    }
    (keys, versions)
}

/// A key to read: its path in the store, its vault's resource ID, and its URI.
type KeyTurn<'a> = (&'a String, (&'a String, &'a KeyUri));

/// The keys in an order that takes one of each subscription in turn.
fn round_robin(keys: &BTreeMap<String, (String, KeyUri)>) -> Vec<KeyTurn<'_>> {
    let mut by_subscription: BTreeMap<String, Vec<KeyTurn<'_>>> = BTreeMap::new();
    for (path, (vault, key)) in keys {
        let subscription = id::subscription_from_id(vault)
            .map(lower)
            .unwrap_or_default();
        by_subscription
            .entry(subscription)
            .or_default()
            .push((path, (vault, key)));
    }
    let mut queues: Vec<_> = by_subscription.into_values().map(Vec::into_iter).collect();
    let mut order = Vec::with_capacity(keys.len());
    while !queues.is_empty() {
        queues.retain_mut(|queue| match queue.next() {
            Some(item) => {
                order.push(item);
                true
            }
            None => false,
        });
    }
    order
}

/// A subscription whose reads ARM denied, once, with the role that grants them.
fn denied(store: &Store) -> Vec<Problem> {
    let mut subscriptions = BTreeSet::new();
    let statuses = store
        .keys
        .iter()
        .map(|(path, (read, _))| (path, read.as_ref().err()))
        .chain(
            store
                .identities
                .iter()
                .map(|(path, read)| (path, read.as_ref().err())),
        );
    for (path, error) in statuses {
        if error.and_then(ArmError::status) == Some(403) {
            if let Some(subscription) = id::subscription_from_id(path) {
                subscriptions.insert(subscription.to_string());
            }
        }
    }
    subscriptions
        .into_iter()
        .map(|subscription| Problem {
            scope: format!("subscription {subscription}"),
            message: "ARM denied reading resources the clusters need (403); the clusters that depend on them could not be verified".to_string(),
            remedy: format!("grant Reader: `az role assignment create --assignee <principal-id> --role Reader --scope /subscriptions/{subscription}`"),
        })
        .collect()
}
