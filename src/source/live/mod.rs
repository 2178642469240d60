//! The live source: reads the identity, vault, key, key versions and cluster from Azure
//! Resource Manager and produces the same [`State`] a snapshot does, each body pretty-printed
//! so that diagnostics can point into it.

pub mod arm;
pub mod auth;
pub mod keyvault;
pub mod redact;
pub mod target;

use std::sync::Arc;

use serde_json::{json, Map, Value};

use self::arm::{ArmClient, ArmError};
use self::keyvault::KeyVaultReader;
use self::target::Target;
use crate::azure::api::{
    ALERTS as ALERTS_API, CLUSTER as CLUSTER_API, IDENTITY as IDENTITY_API,
    KEY_VAULT as KEY_VAULT_API,
};
use crate::azure::cloud;
use crate::azure::id as ids;
use crate::azure::keyuri::KeyUri;
use crate::azure::{IDENTITY_TYPE, VAULT_TYPE};
use crate::document::SourceDoc;
use crate::model::{ActivityLogAlert, Body, Cluster, Identity, Key, KeyVersion, Vault};
use crate::source::snapshot::Recording;
use crate::state::{Gap, Located, Place, Resource, Section, State};

/// The clients a live read uses.
#[derive(Debug, Clone)]
pub struct Azure {
    pub arm: ArmClient,
    /// Present when the credential can also speak to the Key Vault data plane.
    pub key_vault: Option<KeyVaultReader>,
}

/// The state read from Azure, and the bodies it came from, for a snapshot.
#[derive(Debug)]
pub struct Live {
    pub state: State,
    pub recording: Recording,
    /// What could not be read, one line each, for the user's terminal.
    pub unread: Vec<String>,
}

/// One resource as ARM answered: its body, or why there is none.
type Read = Result<Value, ArmError>;

/// What the vault, key and versions requests gave.
struct KeySide {
    vault: Result<(String, Read), Gap>,
    key: Option<(Read, Plane)>,
    versions: Option<Result<Vec<Value>, ArmError>>,
    /// The alerts of the vault's subscription, unless the cluster's side lists them.
    alerts: Option<AlertsRead>,
}

/// The activity-log alerts of one subscription.
type AlertsRead = (String, Result<Vec<Value>, ArmError>);

async fn list_alerts(azure: &Azure, subscription: Option<String>) -> Option<AlertsRead> {
    let subscription = subscription?;
    let path =
        format!("/subscriptions/{subscription}/providers/Microsoft.Insights/activityLogAlerts");
    Some((subscription, azure.arm.list(&path, ALERTS_API).await))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plane {
    Management,
    Data,
}

/// Reads everything `target` names. Requests that do not depend on each other are in flight
/// together: with `--vault`, identity, vault, key and versions go in one round trip.
pub async fn read(target: &Target, azure: &Azure) -> Live {
    let args = arguments_doc(target);
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
        tokio::join!(cluster, list_alerts(azure, cluster_subscription.clone()))
    };
    let listed = cluster_subscription.as_deref();
    let ((cluster, cluster_alerts), identity, key_side) =
        if target.identity.is_some() && target.key.is_some() {
            let identity_id = target.identity.as_ref().map(|i| i.id.clone());
            tokio::join!(
                cluster_read,
                read_identity(azure, identity_id),
                read_key_side(azure, target, target.key.clone(), &args, listed)
            )
        } else {
            // The cluster names the identity and the key; they can only be read after it.
            let (cluster, cluster_alerts) = cluster_read.await;
            let encryption = cluster
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .and_then(|c| c.pointer("/properties/dataEncryption").cloned());
            let text = |field: &str| {
                encryption
                    .as_ref()
                    .and_then(|e| e.get(field))
                    .and_then(Value::as_str)
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
                read_key_side(azure, target, key, &args, listed)
            );
            ((cluster, cluster_alerts), identity, key_side)
        };
    let alerts = alerts_section(cluster_alerts, &key_side, &args);
    assemble(target, &args, cluster, identity, key_side, alerts)
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
    args: &Arc<SourceDoc>,
    listed_subscription: Option<&str>,
) -> KeySide {
    let Some((_, key)) = key else {
        let gap = gap_at(
            args,
            "/key",
            "the key vault",
            "no key URI was given (`--key`), and no cluster names one",
            "give `--key https://<vault>.vault.azure.net/keys/<name>`",
        );
        return KeySide {
            vault: Err(gap),
            key: None,
            versions: None,
            alerts: None,
        };
    };
    let vault_id = match &target.vault {
        Some(vault) => Ok(vault.id.clone()),
        None => find_vault(azure, target, &key, args).await,
    };
    let vault_id = match vault_id {
        Ok(id) => id,
        Err(gap) => {
            return KeySide {
                vault: Err(gap),
                key: None,
                versions: None,
                alerts: None,
            }
        }
    };
    let key_path = match &key.version {
        Some(version) => format!("{vault_id}/keys/{}/versions/{version}", key.name),
        None => format!("{vault_id}/keys/{}", key.name),
    };
    let versions_path = format!("{vault_id}/keys/{}/versions", key.name);
    let vault_subscription = ids::subscription_from_id(&vault_id)
        .filter(|s| listed_subscription.is_none_or(|listed| !listed.eq_ignore_ascii_case(s)))
        .map(str::to_string);
    let (vault, management_key, versions, alerts) = tokio::join!(
        azure.arm.get(&vault_id, KEY_VAULT_API),
        azure.arm.get(&key_path, KEY_VAULT_API),
        azure.arm.list(&versions_path, KEY_VAULT_API),
        list_alerts(azure, vault_subscription)
    );
    let key_read = match (management_key, &azure.key_vault) {
        // ARM forbids reading the key; the data plane may still allow it to a holder of key `get`.
        (Err(denied), Some(reader)) if denied.status() == Some(403) => {
            match reader.get_key(&key).await {
                Ok(bundle) => (
                    Ok(keyvault::bundle_as_management_body(&bundle, &key)),
                    Plane::Data,
                ),
                Err(data_plane) => (Err(both_denied(&denied, &data_plane)), Plane::Data),
            }
        }
        (read, _) => (read, Plane::Management),
    };
    KeySide {
        vault: Ok((vault_id, vault)),
        key: Some(key_read),
        versions: Some(versions),
        alerts,
    }
}

/// The alerts of the cluster's and the vault's subscriptions, as one list of resources.
fn alerts_section(
    cluster_alerts: Option<AlertsRead>,
    key_side: &KeySide,
    args: &Arc<SourceDoc>,
) -> (Section<Vec<Resource<ActivityLogAlert>>>, Vec<Value>) {
    let reads: Vec<&AlertsRead> = cluster_alerts
        .iter()
        .chain(key_side.alerts.iter())
        .collect();
    if reads.is_empty() {
        let gap = gap_at(
            args,
            "",
            "the activity-log alerts",
            "no vault or cluster was read, so no subscription to list alerts in",
            "fix the findings about the vault or the cluster first",
        );
        return (Err(gap), Vec::new());
    }
    let mut bodies: Vec<Value> = Vec::new();
    for (subscription, read) in reads {
        match read {
            Err(e) => {
                return (
                    Err(read_gap(
                        &ALERTS,
                        &format!("/subscriptions/{subscription}"),
                        e,
                        args,
                    )),
                    Vec::new(),
                )
            }
            Ok(items) => {
                for item in items {
                    let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
                    let known = bodies.iter().any(|b| {
                        b.get("id")
                            .and_then(Value::as_str)
                            .is_some_and(|other| ids::same_id(other, id))
                    });
                    if !known {
                        bodies.push(item.clone());
                    }
                }
            }
        }
    }
    let typed = bodies
        .iter()
        .map(|body| {
            let id = body
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            resource::<ActivityLogAlert>(&ALERTS, &id, body, args, "ARM")
        })
        .collect();
    (typed, bodies)
}

fn both_denied(arm: &ArmError, data_plane: &ArmError) -> ArmError {
    ArmError::Status {
        status: data_plane.status().unwrap_or(403),
        code: Some("Forbidden".to_string()),
        message: Some(format!(
            "{arm}; then the Key Vault data plane: {data_plane}"
        )),
    }
}

/// The vault's resource ID from its name, by one Resource Graph query.
async fn find_vault(
    azure: &Azure,
    target: &Target,
    key: &KeyUri,
    args: &Arc<SourceDoc>,
) -> Result<String, Gap> {
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
        .map_err(|e| {
            gap_at(
                args,
                "/key",
                "the key vault",
                &format!(
                    "could not look up vault `{}` in Azure Resource Graph: {e}",
                    key.vault
                ),
                "give the vault's resource ID with `--vault`",
            )
        })?;
    let found = rows
        .iter()
        .filter_map(|row| row.get("id").and_then(Value::as_str))
        .find(|id| ids::name_from_id(id).eq_ignore_ascii_case(&key.vault));
    found.map(str::to_string).ok_or_else(|| {
        gap_at(
            args,
            "/key",
            "the key vault",
            &format!(
                "Azure Resource Graph shows no vault `{}`{}",
                key.vault,
                target
                    .subscription
                    .as_deref()
                    .map(|s| format!(" in subscription {s}"))
                    .unwrap_or_else(|| " in the subscriptions you can read".to_string())
            ),
            &format!(
                "give its ID with `--vault`, or get Reader on its subscription; a deleted vault may be soft-deleted: `az keyvault list-deleted --query \"[?name=='{}']\"`",
                key.vault
            ),
        )
    })
}

/// The command-line inputs as a small JSON document, so that findings about them (a bad key
/// URI, a resource that could not be read) point at the argument.
fn arguments_doc(target: &Target) -> Arc<SourceDoc> {
    let mut args = Map::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            args.insert(name.to_string(), Value::String(value));
        }
    };
    put("location", target.location.clone());
    put("identity", target.identity.as_ref().map(|i| i.id.clone()));
    put("key", target.key.as_ref().map(|(raw, _)| raw.clone()));
    put("vault", target.vault.as_ref().map(|v| v.id.clone()));
    put("cluster", target.cluster.as_ref().map(|c| c.id.clone()));
    put("subscription", target.subscription.clone());
    let text = serde_json::to_string_pretty(&Value::Object(args)).unwrap_or_default();
    SourceDoc::fetched("command line", text + "\n")
}

fn gap_at(args: &Arc<SourceDoc>, pointer: &str, resource: &str, reason: &str, remedy: &str) -> Gap {
    Gap {
        reason: reason.to_string(),
        label: format!("{resource} could not be read"),
        remedy: remedy.to_string(),
        place: Place {
            doc: Arc::clone(args),
            base: String::new(),
            resource: resource.to_string(),
            pointer: pointer.to_string(),
            label_at: None,
        },
    }
}

/// What a resource kind needs to be read, for messages about a failed read.
struct Kind {
    noun: &'static str,
    action: &'static str,
    argument: &'static str,
}

const IDENTITY: Kind = Kind {
    noun: "identity",
    action: "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    argument: "/identity",
};
const VAULT: Kind = Kind {
    noun: "vault",
    action: "Microsoft.KeyVault/vaults/read",
    argument: "/vault",
};
const KEY: Kind = Kind {
    noun: "key",
    action: "Microsoft.KeyVault/vaults/keys/read",
    argument: "/key",
};
const VERSIONS: Kind = Kind {
    noun: "key versions",
    action: "Microsoft.KeyVault/vaults/keys/versions/read",
    argument: "/key",
};
const ALERTS: Kind = Kind {
    noun: "activity-log alerts",
    action: "Microsoft.Insights/activityLogAlerts/read",
    argument: "",
};
const CLUSTER: Kind = Kind {
    noun: "cluster",
    action: "Microsoft.DBforPostgreSQL/serverGroupsv2/read",
    argument: "/cluster",
};

fn read_gap(kind: &Kind, id: &str, error: &ArmError, args: &Arc<SourceDoc>) -> Gap {
    let name = ids::name_from_id(id);
    let pointer = if args.node(kind.argument).is_some() {
        kind.argument
    } else {
        ""
    };
    let (reason, remedy) = match error.status() {
        Some(401) => (
            format!("ARM did not accept the token reading {} `{name}` ({error})", kind.noun),
            "sign in again (`az login`), or check `--auth`".to_string(),
        ),
        Some(403) => (
            format!("ARM denied `{}` on {} `{name}` ({error})", kind.action, kind.noun),
            format!("grant Reader on it: `az role assignment create --assignee <your-principal-id> --role Reader --scope {id}`"),
        ),
        Some(404) if kind.noun == "vault" => (
            format!("ARM has no vault `{name}` ({error})"),
            format!("check the ID; a deleted vault may be soft-deleted: `az keyvault list-deleted --query \"[?name=='{name}']\"`"),
        ),
        Some(404) => (
            format!("ARM has no {} `{name}` ({error})", kind.noun),
            "check the subscription, resource group and name".to_string(),
        ),
        _ => (
            format!("could not read {} `{name}`: {error}", kind.noun),
            error
                .remedy()
                .unwrap_or("try again; `--timeout` gives slow answers more time")
                .to_string(),
        ),
    };
    Gap {
        reason,
        label: format!("the {} could not be read", kind.noun),
        remedy,
        place: Place {
            doc: Arc::clone(args),
            base: String::new(),
            resource: id.to_string(),
            pointer: pointer.to_string(),
            label_at: None,
        },
    }
}

/// A fetched body as a typed resource whose doc is its pretty-printed JSON.
fn resource<T: Body>(
    kind: &Kind,
    id: &str,
    body: &Value,
    args: &Arc<SourceDoc>,
    source: &str,
) -> Result<Resource<T>, Gap> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_else(|| ids::name_from_id(id))
        .to_string();
    let text = serde_json::to_string_pretty(body).unwrap_or_default() + "\n";
    let doc = SourceDoc::fetched(&format!("{} {name} ({source})", kind.noun), text);
    Resource::read(body, &doc, "", id).map_err(|flaw| {
        read_gap(
            kind,
            id,
            &ArmError::Malformed(format!(
                "the body does not have the expected shape: {}",
                flaw.message
            )),
            args,
        )
    })
}

fn assemble(
    target: &Target,
    args: &Arc<SourceDoc>,
    cluster: Option<Read>,
    identity: Option<(Read, &'static str)>,
    key_side: KeySide,
    (alerts, alert_bodies): (Section<Vec<Resource<ActivityLogAlert>>>, Vec<Value>),
) -> Live {
    let mut recording = Recording::default();
    let mut unread = Vec::new();
    let mut note = |gap: &Gap| unread.push(format!("{}: {}", gap.label, gap.reason));

    let cluster_id = target
        .cluster
        .as_ref()
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let cluster: Section<Option<Resource<Cluster>>> = match cluster {
        None => Ok(None),
        Some(Err(e)) => Err(read_gap(&CLUSTER, &cluster_id, &e, args)),
        Some(Ok(body)) => {
            let typed = resource::<Cluster>(&CLUSTER, &cluster_id, &body, args, "ARM");
            if typed.is_ok() {
                recording.cluster = Some(body);
            }
            typed.map(Some)
        }
    };
    if let Err(gap) = &cluster {
        note(gap);
    }
    let cluster_resource = cluster.as_ref().ok().and_then(Option::as_ref);

    let location = match (&target.location, cluster_resource) {
        (Some(location), _) => Ok(Located {
            value: location.clone(),
            place: arg_place(args, "/location", location),
        }),
        (None, Some(c)) => match &c.body.location {
            Some(location) => Ok(Located {
                value: location.clone(),
                place: c.at("/location"),
            }),
            None => Err(gap_at(
                args,
                "",
                "the cluster region",
                "the cluster's body has no `location`",
                "give `--location`",
            )),
        },
        (None, None) => Err(gap_at(
            args,
            "",
            "the cluster region",
            "no `--location` was given and no cluster was read",
            "give `--location <region>`",
        )),
    };
    let key_uri = match (&target.key, cluster_resource) {
        (Some((raw, _)), _) => Ok(Located {
            value: raw.clone(),
            place: arg_place(args, "/key", raw),
        }),
        (None, Some(c)) => match c
            .body
            .data_encryption()
            .and_then(|d| d.primary_key_uri.clone())
        {
            Some(uri) => Ok(Located {
                place: c.at("/properties/dataEncryption/primaryKeyUri"),
                value: uri,
            }),
            None => Err(gap_at(
                args,
                "",
                "the key URI",
                "the cluster uses no customer-managed key and no `--key` was given",
                "give `--key`",
            )),
        },
        (None, None) => Err(gap_at(
            args,
            "",
            "the key URI",
            "no `--key` was given and no cluster was read",
            "give `--key`",
        )),
    };
    if let Ok(location) = &location {
        recording.location = Some(location.value.clone());
    }
    if let Ok(uri) = &key_uri {
        recording.key_uri = Some(uri.value.clone());
    }

    let identity_id = target
        .identity
        .as_ref()
        .map(|i| i.id.clone())
        .or_else(|| {
            cluster_resource.and_then(|c| {
                c.body
                    .data_encryption()?
                    .primary_user_assigned_identity_id
                    .clone()
            })
        })
        .unwrap_or_default();
    let identity: Section<Resource<Identity>> = match identity {
        None => Err(gap_at(
            args,
            "",
            "the identity",
            "no `--identity` was given and no cluster names one",
            "give `--identity <resource-id>`",
        )),
        Some((Err(e), _)) => Err(read_gap(&IDENTITY, &identity_id, &e, args)),
        Some((Ok(body), source)) => {
            let typed = resource(&IDENTITY, &identity_id, &body, args, source);
            if typed.is_ok() {
                recording.identity = Some(body);
            }
            typed
        }
    };

    let (vault, key, key_versions) = match key_side.vault {
        Err(gap) => (Err(gap.clone()), Err(gap.clone()), Err(gap)),
        Ok((vault_id, vault_read)) => {
            let vault: Section<Resource<Vault>> = match vault_read {
                Err(e) => Err(read_gap(&VAULT, &vault_id, &e, args)),
                Ok(body) => {
                    let typed = resource(&VAULT, &vault_id, &body, args, "ARM");
                    if typed.is_ok() {
                        recording.vault = Some(body);
                    }
                    typed
                }
            };
            let key_name = target
                .key
                .as_ref()
                .map(|(_, k)| k.name.clone())
                .or_else(|| {
                    key_uri
                        .as_ref()
                        .ok()
                        .and_then(|k| KeyUri::parse(&k.value).ok())
                        .map(|k| k.name)
                })
                .unwrap_or_default();
            let key_id = format!("{vault_id}/keys/{key_name}");
            let key: Section<Resource<Key>> = match key_side.key {
                None => Err(gap_at(
                    args,
                    "/key",
                    "the key",
                    "the key was not read",
                    "give `--key`",
                )),
                Some((Err(e), _)) => Err(read_gap(&KEY, &key_id, &e, args)),
                Some((Ok(body), plane)) => {
                    let source = if plane == Plane::Data {
                        "Key Vault data plane"
                    } else {
                        "ARM"
                    };
                    let typed = resource::<Key>(&KEY, &key_id, &body, args, source);
                    if typed.is_ok() {
                        recording.key = Some(body);
                    }
                    typed
                }
            };
            let versions: Section<Vec<Resource<KeyVersion>>> = match key_side.versions {
                None => Err(gap_at(
                    args,
                    "/key",
                    "the key versions",
                    "the key versions were not read",
                    "give `--key`",
                )),
                Some(Err(e)) => Err(read_gap(&VERSIONS, &format!("{key_id}/versions"), &e, args)),
                Some(Ok(items)) => {
                    let typed: Result<Vec<_>, Gap> = items
                        .iter()
                        .map(|item| {
                            let id = item
                                .get("id")
                                .and_then(Value::as_str)
                                .unwrap_or(&key_id)
                                .to_string();
                            resource::<KeyVersion>(&VERSIONS, &id, item, args, "ARM")
                        })
                        .collect();
                    if typed.is_ok() {
                        recording.key_versions = Some(items);
                    }
                    typed
                }
            };
            (vault, key, versions)
        }
    };
    for gap in [
        identity.as_ref().err(),
        vault.as_ref().err(),
        key.as_ref().err(),
        key_versions.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        note(gap);
    }
    match &alerts {
        Ok(_) => {
            recording.alerts = Some(alert_bodies);
        }
        Err(gap) => note(gap),
    }
    unread.dedup();
    Live {
        state: State {
            location,
            key_uri,
            identity,
            vault,
            key,
            key_versions,
            cluster,
            alerts,
        },
        recording,
        unread,
    }
}

fn arg_place(args: &Arc<SourceDoc>, pointer: &str, resource: &str) -> Place {
    Place {
        doc: Arc::clone(args),
        base: String::new(),
        resource: resource.to_string(),
        pointer: pointer.to_string(),
        label_at: None,
    }
}

/// How to reach Azure, from the command line.
#[derive(Debug, Clone)]
pub struct Connection {
    pub auth: auth::AuthMethod,
    pub cloud: cloud::CloudName,
    pub arm_endpoint: Option<String>,
    pub keyvault_endpoint: Option<String>,
    pub timeout: std::time::Duration,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConnectError {
    #[error(transparent)]
    #[diagnostic(
        code(cmk_check::unreachable),
        help("check the network, a proxy (HTTPS_PROXY) or `--arm-endpoint`; `--offline` checks a template without Azure")
    )]
    Unreachable(#[from] arm::Unreachable),
    #[error("the endpoint cannot be used")]
    #[diagnostic(code(cmk_check::endpoint))]
    Endpoint(#[source] cloud::EndpointError),
    #[error("could not sign in to Azure")]
    #[diagnostic(
        code(cmk_check::auth),
        help("sign in with `az login` (or `azd auth login`), or choose a credential with `--auth`; a pipeline can pass a token with `--auth access-token` and CMK_CHECK_ACCESS_TOKEN; a template needs no sign-in with `--offline`")
    )]
    Auth(#[source] auth::AuthError),
    #[error("could not set up HTTP: {0}")]
    #[diagnostic(code(cmk_check::http))]
    Http(String),
}

/// One HTTP client for everything (ARM, Entra, Key Vault), one ARM token.
pub async fn connect(connection: &Connection) -> Result<Azure, ConnectError> {
    let http = reqwest::Client::builder()
        .connect_timeout(connection.timeout.min(std::time::Duration::from_secs(10)))
        .user_agent(concat!("cmk-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConnectError::Http(e.to_string()))?;
    let cloud = cloud::Cloud::new(connection.cloud, connection.arm_endpoint.as_deref())
        .map_err(ConnectError::Endpoint)?;
    let keyvault_endpoint = connection
        .keyvault_endpoint
        .as_deref()
        .map(cloud::checked_endpoint)
        .transpose()
        .map_err(ConnectError::Endpoint)?;
    let transport = azure_core::http::Transport::new(Arc::new(http.clone()));
    let (credential, token) = auth::Credential::select(connection.auth, &cloud, &transport)
        .await
        .map_err(ConnectError::Auth)?;
    let retry = arm::RetryPolicy {
        max_wait: connection.timeout,
        ..arm::RetryPolicy::default()
    };
    Ok(Azure {
        arm: ArmClient::new(
            http.clone(),
            cloud.arm.clone(),
            token,
            connection.timeout,
            retry,
        ),
        key_vault: credential
            .for_key_vault()
            .map(|c| KeyVaultReader::new(c, http, keyvault_endpoint)),
    })
}
