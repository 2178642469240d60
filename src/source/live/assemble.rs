//! From what the requests of a live read gave to the [`State`] a snapshot of the same bodies
//! gives, each body pretty-printed so that diagnostics can point into it. No I/O here: the fleet
//! audit assembles the bodies it read in bulk the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::arm::ArmError;
use super::fetch::{AlertsRead, Fetched, Plane};
use super::target::Target;
use super::{observed, Live};
use crate::azure::actions;
use crate::azure::id as ids;
use crate::azure::keyuri::KeyUri;
use crate::document::json::Members;
use crate::document::SourceDoc;
use crate::model::{ActivityLogAlert, Body, Cluster, Identity, Key, KeyVersion, Vault};
use crate::source::snapshot::Recording;
use crate::state::{Gap, Located, Place, Resource, Section, State};

/// The state of `target` from what its requests gave, and the bodies for a snapshot.
pub fn assemble(target: &Target, fetched: Fetched) -> Live {
    Shared::default().build(target, fetched, true)
}

/// Resources many states hold alike: a fleet's clusters share vaults and the alerts of a
/// subscription, each parsed and indexed once, however many clusters name it.
#[derive(Default)]
pub struct Shared {
    vaults: HashMap<String, Resource<Vault>>,
    alerts: HashMap<String, Resource<ActivityLogAlert>>,
}

impl Shared {
    /// As [`assemble`], reusing the vaults and alerts already built; the snapshot's recording is
    /// left empty (a fleet records its bodies once, in its own format).
    pub fn assemble_without_recording(&mut self, target: &Target, fetched: Fetched) -> State {
        self.build(target, fetched, false).state
    }

    fn vault(&mut self, id: &str, body: &Value, args: &Arc<SourceDoc>) -> Section<Resource<Vault>> {
        let key = id.to_ascii_lowercase();
        if let Some(built) = self.vaults.get(&key) {
            return Ok(built.clone());
        }
        let typed = resource::<Vault>(&VAULT, id, body, args, "ARM")?;
        self.vaults.insert(key, typed.clone());
        Ok(typed)
    }

    fn alert(
        &mut self,
        id: &str,
        body: &Value,
        args: &Arc<SourceDoc>,
    ) -> Section<Resource<ActivityLogAlert>> {
        let key = id.to_ascii_lowercase();
        if let Some(built) = self.alerts.get(&key) {
            return Ok(built.clone());
        }
        let typed = resource::<ActivityLogAlert>(&ALERTS, id, body, args, "ARM")?;
        self.alerts.insert(key, typed.clone());
        Ok(typed)
    }

    fn build(&mut self, target: &Target, fetched: Fetched, record: bool) -> Live {
        let args = &arguments_doc(target);
        let (alerts, alert_bodies) = self.alerts_section(&fetched.alerts, args, record);
        let Fetched {
            cluster,
            identity,
            key: key_side,
            availability,
            ..
        } = fetched;
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
        let (availability, availability_body) =
            observed::availability(availability, &cluster, &cluster_id, args);
        recording.availability = availability_body;
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

        let vault_gap =
            |reason: &str, remedy: &str| gap_at(args, "/key", "the key vault", reason, remedy);
        let (vault, key, key_versions, vault_diagnostics) = match key_side.vault {
            None => {
                let gap = vault_gap(
                    "no key URI was given (`--key`), and no cluster names one",
                    "give `--key https://<vault>.vault.azure.net/keys/<name>`",
                );
                (
                    Err(gap.clone()),
                    Err(gap.clone()),
                    Err(gap.clone()),
                    Err(gap),
                )
            }
            Some(Err(missing)) => {
                let gap = vault_gap(&missing.reason, &missing.remedy);
                (
                    Err(gap.clone()),
                    Err(gap.clone()),
                    Err(gap.clone()),
                    Err(gap),
                )
            }
            Some(Ok((vault_id, vault_read))) => {
                let (diagnostics, diagnostic_bodies) =
                    observed::diagnostics(key_side.diagnostics, &vault_id, args);
                recording.vault_diagnostics = diagnostic_bodies;
                let vault: Section<Resource<Vault>> = match vault_read {
                    Err(e) => Err(read_gap(&VAULT, &vault_id, &e, args)),
                    Ok(body) => {
                        let typed = self.vault(&vault_id, &body, args);
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
                    Some(Err(e)) => {
                        Err(read_gap(&VERSIONS, &format!("{key_id}/versions"), &e, args))
                    }
                    Some(Ok(items)) => {
                        let typed: Result<Vec<_>, Gap> = items
                            .iter()
                            .map(|item| {
                                let id = item.text("id").unwrap_or(&key_id).to_string();
                                resource::<KeyVersion>(&VERSIONS, &id, item, args, "ARM")
                            })
                            .collect();
                        if typed.is_ok() {
                            recording.key_versions = Some(items);
                        }
                        typed
                    }
                };
                (vault, key, versions, diagnostics)
            }
        };
        for gap in [
            identity.as_ref().err(),
            vault.as_ref().err(),
            key.as_ref().err(),
            key_versions.as_ref().err(),
            vault_diagnostics.as_ref().err(),
            availability.as_ref().err(),
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
                vault_diagnostics,
                availability,
            },
            recording,
            unread,
        }
    }
}

impl Shared {
    /// The alerts of the cluster's and the vault's subscriptions, as one list of resources, and
    /// their bodies when recording.
    fn alerts_section(
        &mut self,
        reads: &[AlertsRead],
        args: &Arc<SourceDoc>,
        record: bool,
    ) -> (Section<Vec<Resource<ActivityLogAlert>>>, Vec<Value>) {
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
        let mut seen = HashSet::new();
        let mut bodies: Vec<&Value> = Vec::new();
        for (subscription, read) in reads {
            match read {
                Err(e) => {
                    let gap = read_gap(&ALERTS, &format!("/subscriptions/{subscription}"), e, args);
                    return (Err(gap), Vec::new());
                }
                Ok(items) => {
                    for item in items.iter() {
                        let id = item.text("id").unwrap_or_default().to_ascii_lowercase();
                        if seen.insert(id) {
                            bodies.push(item);
                        }
                    }
                }
            }
        }
        let typed = bodies
            .iter()
            .map(|body| self.alert(body.text("id").unwrap_or_default(), body, args))
            .collect();
        let recorded = if record {
            bodies.into_iter().cloned().collect()
        } else {
            Vec::new()
        };
        (typed, recorded)
    }
}

/// A fetched body as a typed resource whose doc is its pretty-printed JSON.
pub(super) fn resource<T: Body>(
    kind: &Kind,
    id: &str,
    body: &Value,
    args: &Arc<SourceDoc>,
    source: &str,
) -> Result<Resource<T>, Gap> {
    let name = body
        .text("name")
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

pub(super) fn read_gap(kind: &Kind, id: &str, error: &ArmError, args: &Arc<SourceDoc>) -> Gap {
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
            address: None,
            written_in: None,
        },
    }
}

/// What a resource kind needs to be read, for messages about a failed read.
pub(super) struct Kind {
    pub noun: &'static str,
    pub action: &'static str,
    pub argument: &'static str,
}

const IDENTITY: Kind = Kind {
    noun: "identity",
    action: actions::READ_IDENTITY,
    argument: "/identity",
};
const VAULT: Kind = Kind {
    noun: "vault",
    action: actions::READ_VAULT,
    argument: "/vault",
};
const KEY: Kind = Kind {
    noun: "key",
    action: actions::READ_KEY,
    argument: "/key",
};
const VERSIONS: Kind = Kind {
    noun: "key versions",
    action: actions::READ_KEY_VERSIONS,
    argument: "/key",
};
const ALERTS: Kind = Kind {
    noun: "activity-log alerts",
    action: actions::READ_ALERTS,
    argument: "",
};
const CLUSTER: Kind = Kind {
    noun: "cluster",
    action: actions::READ_CLUSTER,
    argument: "/cluster",
};

pub(super) fn gap_at(
    args: &Arc<SourceDoc>,
    pointer: &str,
    resource: &str,
    reason: &str,
    remedy: &str,
) -> Gap {
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
            address: None,
            written_in: None,
        },
    }
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

fn arg_place(args: &Arc<SourceDoc>, pointer: &str, resource: &str) -> Place {
    Place {
        doc: Arc::clone(args),
        base: String::new(),
        resource: resource.to_string(),
        pointer: pointer.to_string(),
        label_at: None,
        address: None,
        written_in: None,
    }
}
