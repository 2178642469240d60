//! From a walked template to one [`State`] per cluster: declared resources are read from their
//! properties with ARM's defaults; what the template only references is left for the live reader.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::deployment::Env;
use super::expr::{self, Evaluated};
use super::runtime::UNKNOWN_SUBSCRIPTION;
use super::walk::{Declaration, Hidden, World};
use crate::azure::cloud::CloudName;
use crate::azure::id as arm;
use crate::azure::CLUSTER_TYPE;
use crate::document::json::Members as _;
use crate::document::lenient::Flaw;
use crate::document::{escape, SourceDoc};
use crate::model::cluster::CUSTOMER_MANAGED;
use crate::model::{Body, Cluster};
use crate::source::complete::{Planned, Referenced};
use crate::state::{Declared, Gap, Located, Place, Resource, Section, State, Unknown};

/// A body evaluated from a template resource, with the places of the values it could not know.
pub(super) struct Evaluation {
    pub body: Value,
    pub unknown: Vec<Unknown>,
}

pub(super) struct Builder<'a> {
    pub doc: &'a Arc<SourceDoc>,
    pub world: &'a [Declaration],
    /// The cloud deployed to, for the vaults whose key URI does not say.
    pub cloud: CloudName,
}

/// Every CMK cluster of the template as a check target, and a note for each one known to use
/// service-managed keys.
pub fn clusters(
    doc: &Arc<SourceDoc>,
    world: &World,
    cloud: CloudName,
    notes: &mut Vec<String>,
) -> Vec<Planned> {
    let builder = Builder {
        doc,
        world: &world.declared,
        cloud,
    };
    let mut planned: Vec<Planned> = world
        .declared
        .iter()
        .filter(|d| d.is(CLUSTER_TYPE))
        .filter_map(|cluster| builder.cluster(cluster, notes))
        .collect();
    planned.extend(world.hidden.iter().map(|hidden| builder.hidden(hidden)));
    planned
}

/// Whether the value at `a` and the one at `b` are one inside the other (names in any case).
pub(super) fn overlaps(a: &str, b: &str) -> bool {
    let a = a.to_lowercase();
    let b = b.to_lowercase();
    let inside =
        |x: &str, y: &str| x == y || x.strip_prefix(y).is_some_and(|rest| rest.starts_with('/'));
    inside(&a, &b) || inside(&b, &a)
}

/// The unknown that makes the value at `pointer` unknown: at it, or at a value holding it.
pub(super) fn unknown_of<'u>(unknown: &'u [Unknown], pointer: &str) -> Option<&'u Unknown> {
    let pointer = pointer.to_lowercase();
    unknown.iter().find(|u| {
        let at = u.pointer.to_lowercase();
        pointer == at
            || pointer
                .strip_prefix(&at)
                .is_some_and(|r| r.starts_with('/'))
    })
}

/// Whether anything at, in or around `pointer` is unknown: a default must not fill it then.
pub(super) fn unknown_near(unknown: &[Unknown], pointer: &str) -> bool {
    unknown.iter().any(|u| overlaps(&u.pointer, pointer))
}

/// What is known of a cluster's encryption before deployment.
enum Encryption {
    /// Service-managed: nothing to check.
    ServiceManaged,
    /// A customer-managed key, or a cluster that cannot be known not to use one.
    Checked,
}

impl Builder<'_> {
    pub(super) fn env<'b>(&'b self, declared: &'b Declaration) -> Env<'b> {
        Env {
            frame: &declared.frame,
            world: self.world,
        }
    }

    pub(super) fn place(&self, declared: &Declaration, pointer: &str) -> Place {
        Place {
            doc: Arc::clone(self.doc),
            base: declared.pointer.clone(),
            resource: declared.id.clone(),
            pointer: pointer.to_string(),
            label_at: None,
            address: None,
            written_in: None,
        }
    }

    /// Evaluates `raw` (at `pointer` in the resource), keeping the known parts and recording
    /// the unknown ones. Object keys that are expressions are evaluated too.
    pub(super) fn evaluate(
        &self,
        declared: &Declaration,
        raw: &Value,
        pointer: &str,
        unknown: &mut Vec<Unknown>,
    ) -> Value {
        let env = self.env(declared);
        match raw {
            Value::String(text) => match expr::evaluate_string(text, &env) {
                Ok(Evaluated::Known(value)) => value,
                Ok(Evaluated::Unknown { reason, span }) => {
                    let mut found = self.unknown(declared, pointer, &reason);
                    found.within = Some(span).filter(|s| !s.is_empty());
                    unknown.push(found);
                    Value::Null
                }
                Err(e) => {
                    let mut found = self.unknown(
                        declared,
                        pointer,
                        &format!("the expression does not evaluate: {e}"),
                    );
                    found.within = Some(e.span).filter(|s| !s.is_empty());
                    found.label = "does not evaluate".to_string();
                    found.help = "fix the expression: ARM would reject it too".to_string();
                    unknown.push(found);
                    Value::Null
                }
            },
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.evaluate(declared, item, &format!("{pointer}/{i}"), unknown)
                    })
                    .collect(),
            ),
            Value::Object(members) => {
                let mut out = Map::new();
                for (key, member) in members {
                    let at = format!("{pointer}/{}", escape(key));
                    let value = self.evaluate(declared, member, &at, unknown);
                    let name = match expr::evaluate_string(key, &env) {
                        Ok(Evaluated::Known(Value::String(name))) => name,
                        known_or_not => {
                            let reason = match known_or_not {
                                Ok(Evaluated::Unknown { reason, .. }) => reason,
                                Ok(Evaluated::Known(other)) => {
                                    format!("the property name `{key}` is {other}, not a string")
                                }
                                Err(e) => format!("the property name does not evaluate: {e}"),
                            };
                            let mut found = self.unknown(declared, &at, &reason);
                            found.label =
                                "this property name is known only at deployment".to_string();
                            unknown.push(found);
                            continue;
                        }
                    };
                    if !value.is_null() {
                        out.insert(name, value);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn unknown(&self, declared: &Declaration, pointer: &str, reason: &str) -> Unknown {
        Unknown {
            pointer: pointer.to_string(),
            reason: reason.to_string(),
            at: self.place(declared, pointer),
            within: None,
            label: "known only at deployment".to_string(),
            help: "give it a value known before deployment: a parameter value (`--parameters`), a literal, or a supported function".to_string(),
        }
    }

    /// The resource's own fields cmk-check reads, evaluated.
    pub(super) fn body(&self, declared: &Declaration, fields: &[&str]) -> Evaluation {
        let mut unknown = Vec::new();
        let mut body = Map::new();
        body.insert("id".to_string(), json!(declared.id));
        body.insert("name".to_string(), json!(declared.short_name()));
        body.insert("type".to_string(), json!(declared.kind));
        for field in fields {
            if let Some(raw) = declared.raw.member(field) {
                let value = self.evaluate(declared, raw, &format!("/{field}"), &mut unknown);
                if !value.is_null() {
                    body.insert((*field).to_string(), value);
                }
            }
        }
        Evaluation {
            body: Value::Object(body),
            unknown,
        }
    }

    /// A declared resource read as ARM reads it: a wrong-typed value is an unknown at it.
    pub(super) fn resource<T: Body>(
        &self,
        declared: &Declaration,
        evaluation: Evaluation,
    ) -> Result<Resource<T>, Gap> {
        let mut resource =
            Resource::read(&evaluation.body, self.doc, &declared.pointer, &declared.id)
                .map_err(|flaw| self.unreadable_gap(declared, &flaw))?;
        resource.name = declared.short_name().to_string();
        resource.id = declared.id.clone();
        resource.unknown.extend(evaluation.unknown);
        resource.declared = Some(Declared::Template);
        Ok(resource)
    }

    fn unreadable_gap(&self, declared: &Declaration, flaw: &Flaw) -> Gap {
        Gap {
            reason: format!(
                "`{}` cannot be read as a {}: {}",
                declared.short_name(),
                declared.kind,
                flaw.message
            ),
            label: flaw.message.clone(),
            remedy: "give it the shape of the resource's ARM reference".to_string(),
            place: self.place(declared, &flaw.pointer),
        }
    }

    pub(super) fn find(&self, kind: &str, id: &str) -> Option<&Declaration> {
        self.world
            .iter()
            .find(|d| d.is(kind) && arm::same_id(&d.id, id))
    }

    fn cluster(&self, declared: &Declaration, notes: &mut Vec<String>) -> Option<Planned> {
        let name = declared.short_name().to_string();
        let evaluation = self.body(declared, &["location", "identity", "properties"]);
        let cluster: Resource<Cluster> = match self.resource(declared, evaluation) {
            Ok(cluster) => cluster,
            // Not even its encryption can be read: every rule could not verify.
            Err(gap) => return Some(unchecked(name, gap)),
        };
        if let Encryption::ServiceManaged = encryption(&cluster) {
            notes.push(format!(
                "cluster `{name}` does not use a customer-managed key: skipped"
            ));
            return None;
        }
        let location = self.located(&cluster, "/location", cluster.body.location.clone());
        let key_uri = self.located(
            &cluster,
            "/properties/dataEncryption/primaryKeyUri",
            cluster
                .body
                .data_encryption()
                .and_then(|d| d.primary_key_uri.clone()),
        );
        let mut referenced = Referenced::default();
        let identity = self.identity(&cluster, &mut referenced);
        let (vault, key, key_versions) = self.vault_and_key(&key_uri, &mut referenced);
        let identity = super::resources::reconcile(identity, &vault);
        let vault_diagnostics = self.vault_diagnostics(&vault, &mut referenced);
        let alerts = self.alerts(&cluster);
        // Existing alerts are read only when the template declares none.
        if alerts.is_err() {
            referenced.alerts_subscription = arm::subscription_from_id(&cluster.id)
                .filter(|s| *s != UNKNOWN_SUBSCRIPTION)
                .map(str::to_string);
        }
        Some(Planned {
            cluster: name,
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
                // A cluster the template deploys has no health to read yet.
                availability: Ok(None),
            },
            referenced,
        })
    }

    /// A value of the target read from the cluster, or the gap that says why it is not known.
    fn located(
        &self,
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

    /// The target of a cluster in a copy loop of unknown count: nothing of it can be checked.
    fn hidden(&self, hidden: &Hidden) -> Planned {
        let gap = Gap {
            reason: format!(
                "the count of copy loop `{}` is known only at deployment: {}",
                hidden.loop_name, hidden.reason
            ),
            label: "how many clusters this loop creates is known only at deployment".to_string(),
            remedy: "give the count a value known before deployment (with `--parameters`), or check the deployed clusters with `cmk-check check --cluster <id>`".to_string(),
            place: Place::root(self.doc, &hidden.count_at, &hidden.name),
        };
        unchecked(hidden.name.clone(), gap)
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

/// A cluster is skipped only when it is known to use service-managed keys: no
/// `dataEncryption`, or a `type` other than `AzureKeyVault`. Anything unread keeps it checked:
/// a value of `dataEncryption` not known or not readable, or a property name known only at
/// deployment, which may be `dataEncryption`.
fn encryption(cluster: &Resource<Cluster>) -> Encryption {
    let encryption = cluster.body.data_encryption();
    let unread = || {
        unknown_near(&cluster.unknown, "/properties/dataEncryption")
            || cluster.unknown.iter().any(|u| {
                u.pointer
                    .strip_prefix("/properties/")
                    .is_some_and(|name| !name.contains('/') && name.starts_with('['))
            })
    };
    match encryption.and_then(|d| d.encryption_type.as_deref()) {
        Some(kind) if kind.eq_ignore_ascii_case(CUSTOMER_MANAGED) => Encryption::Checked,
        Some(_) => Encryption::ServiceManaged,
        None if encryption.is_some() || unread() => Encryption::Checked,
        None => Encryption::ServiceManaged,
    }
}

/// Where a property of the cluster is, in words and in the template.
fn described(pointer: &str) -> (&'static str, &'static str) {
    match pointer {
        "/location" => ("region", "location"),
        "/properties/dataEncryption/primaryKeyUri" => {
            ("key URI", "properties.dataEncryption.primaryKeyUri")
        }
        "/properties/dataEncryption/primaryUserAssignedIdentityId" => (
            "identity",
            "properties.dataEncryption.primaryUserAssignedIdentityId",
        ),
        _ => ("value", "the property"),
    }
}

/// A gap at a cluster property: the root cause of its unknown value, or its absence.
pub(super) fn gap_for(cluster: &Resource<Cluster>, pointer: &str) -> Gap {
    let (what, property) = described(pointer);
    match unknown_of(&cluster.unknown, pointer) {
        Some(unknown) => Gap {
            reason: unknown.reason.clone(),
            label: unknown.label.clone(),
            remedy: unknown.help.clone(),
            place: unknown.at.clone(),
        },
        None => Gap {
            reason: format!(
                "cluster `{}` declares no {what} (`{property}`)",
                cluster.name
            ),
            label: format!("`{property}` is missing"),
            remedy: format!("give the cluster `{property}`"),
            place: cluster.at(pointer),
        },
    }
}
