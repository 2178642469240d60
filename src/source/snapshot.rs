//! Snapshot format v1: one JSON object holding the ARM bodies of the identity, vault, key, key
//! versions, cluster, alerts, the vault's diagnostic settings and the cluster's availability,
//! plus the target region and key URI. Written by
//! `cmk-check snapshot` and read by `cmk-check check --snapshot`, both here.

use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, SourceSpan};
use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::azure::keyuri::KeyUri;
use crate::document::json::{key_of, Members};
use crate::document::lenient::Flaw;
use crate::document::read::{parse_json, read_text, ReadError};
use crate::document::{escape, SourceDoc};
use crate::model::{
    ActivityLogAlert, AvailabilityStatus, Body, Cluster, DiagnosticSetting, Identity, Key,
    KeyVersion, Vault,
};
use crate::state::{Gap, Located, Place, Resource, Section, State};

pub const FORMAT_VERSION: u64 = 1;

#[derive(Debug, Error, Diagnostic)]
pub enum SnapshotError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Read(#[from] ReadError),

    #[error("`{name}` is not a cmk-check snapshot: {reason}")]
    #[diagnostic(
        code(cmk_check::not_a_snapshot),
        help("a snapshot is a JSON object starting with `\"cmkCheckSnapshot\": 1`; `cmk-check snapshot` writes one")
    )]
    NotASnapshot {
        name: String,
        reason: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{reason}")]
        span: SourceSpan,
    },
}

/// The raw bodies of one target, as `cmk-check snapshot` records them.
#[derive(Debug, Default, Clone)]
pub struct Recording {
    pub location: Option<String>,
    pub key_uri: Option<String>,
    pub identity: Option<Value>,
    pub vault: Option<Value>,
    pub key: Option<Value>,
    pub key_versions: Option<Vec<Value>>,
    pub cluster: Option<Value>,
    pub alerts: Option<Vec<Value>>,
    pub vault_diagnostics: Option<Vec<Value>>,
    pub availability: Option<Value>,
}

/// The snapshot document of a recording.
pub fn write(recording: &Recording) -> Value {
    let mut root = Map::new();
    root.insert("cmkCheckSnapshot".to_string(), json!(FORMAT_VERSION));
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            root.insert(name.to_string(), value);
        }
    };
    put("location", recording.location.clone().map(Value::String));
    put("keyUri", recording.key_uri.clone().map(Value::String));
    put("identity", recording.identity.clone());
    put("vault", recording.vault.clone());
    put("key", recording.key.clone());
    put(
        "keyVersions",
        recording.key_versions.clone().map(Value::Array),
    );
    put("cluster", recording.cluster.clone());
    put(
        "activityLogAlerts",
        recording.alerts.clone().map(Value::Array),
    );
    put(
        "vaultDiagnosticSettings",
        recording.vault_diagnostics.clone().map(Value::Array),
    );
    put("availability", recording.availability.clone());
    Value::Object(root)
}

pub fn read(path: &Path) -> Result<State, SnapshotError> {
    parse(&path.display().to_string(), read_text(path)?)
}

pub fn parse(name: &str, text: String) -> Result<State, SnapshotError> {
    let doc = SourceDoc::file(name, text);
    let root = parse_json(&doc)?;
    let reader = Reader {
        doc: &doc,
        root: &root,
    };
    reader.check_header(name)?;

    let cluster: Option<Section<Resource<Cluster>>> = reader
        .get("cluster")
        .map(|value| reader.resource(value, "cluster", ""));
    let cluster_body = cluster.as_ref().and_then(|c| c.as_ref().ok());

    let key_uri = match (reader.get("keyUri"), cluster_body) {
        (Some(value), _) => reader.located_string(value, "keyUri"),
        (None, Some(c)) => from_cluster(
            c,
            "/properties/dataEncryption/primaryKeyUri",
            c.body
                .data_encryption()
                .and_then(|d| d.primary_key_uri.clone()),
            "keyUri",
            "neither `keyUri` nor `cluster.properties.dataEncryption.primaryKeyUri` is given",
        ),
        (None, None) => Err(reader.missing("keyUri", "the snapshot has no `keyUri`", "")),
    };
    let target = key_uri
        .as_ref()
        .map(|k| k.value.clone())
        .unwrap_or_default();

    let location = match (reader.get("location"), cluster_body) {
        (Some(value), _) => reader.located_string(value, "location"),
        (None, Some(c)) => from_cluster(
            c,
            "/location",
            c.body.location.clone(),
            "location",
            "neither `location` nor `cluster.location` is given",
        ),
        (None, None) => Err(reader.missing(
            "location",
            "the snapshot has no `location` and no `cluster`",
            &target,
        )),
    };

    // A missing section is reported against the resource it should hold, as far as the rest of
    // the snapshot names it, else against the target.
    let identity_hint = cluster_body
        .and_then(|c| c.body.data_encryption())
        .and_then(|d| d.primary_user_assigned_identity_id.clone())
        .unwrap_or_else(|| target.clone());
    let vault_hint = key_uri
        .as_ref()
        .ok()
        .and_then(|k| KeyUri::parse(&k.value).ok())
        .map_or_else(|| target.clone(), |k| k.vault_uri());

    let identity = reader.section::<Identity>("identity", &identity_hint);
    let vault = reader.section::<Vault>("vault", &vault_hint);
    let key = reader.section::<Key>("key", &target);
    let key_versions = reader.list::<KeyVersion>("keyVersions", &target);
    let alerts = reader.list::<ActivityLogAlert>("activityLogAlerts", &target);
    let vault_diagnostics =
        reader.list::<DiagnosticSetting>("vaultDiagnosticSettings", &vault_hint);
    // Only a deployed cluster has a health to miss.
    let cluster_id = cluster_body.map_or_else(|| target.clone(), |c| c.id.clone());
    let availability = match reader.get("availability") {
        Some(value) => reader
            .resource::<AvailabilityStatus>(value, "availability", &cluster_id)
            .map(Some),
        None if cluster_body.is_some_and(|c| c.body.exists()) => Err(reader.missing(
            "availability",
            "the snapshot has no `availability` section",
            &cluster_id,
        )),
        None => Ok(None),
    };

    Ok(State {
        location,
        key_uri,
        identity,
        vault,
        key,
        key_versions,
        cluster: cluster.transpose(),
        alerts,
        vault_diagnostics,
        availability,
    })
}

/// A value the target takes from the cluster's body.
fn from_cluster(
    cluster: &Resource<Cluster>,
    pointer: &str,
    value: Option<String>,
    section: &str,
    absent: &str,
) -> Section<Located<String>> {
    if let Some(value) = value {
        return Ok(Located {
            value,
            place: cluster.at(pointer),
        });
    }
    let flaw = cluster.unknown.iter().find(|u| u.pointer == pointer);
    Err(Gap {
        reason: flaw.map_or_else(|| absent.to_string(), |u| u.reason.clone()),
        label: match flaw {
            Some(u) => u.label.clone(),
            None => format!("`{section}` is missing"),
        },
        remedy: format!("add `{section}` to the snapshot, or let `cmk-check snapshot` record it"),
        place: cluster.at(pointer),
    })
}

struct Reader<'a> {
    doc: &'a Arc<SourceDoc>,
    root: &'a Value,
}

impl Reader<'_> {
    /// A section, its name in any case.
    fn get(&self, section: &str) -> Option<&Value> {
        self.root.member(section)
    }

    /// The section's pointer, in the user's spelling.
    fn pointer(&self, section: &str) -> String {
        let key = self
            .root
            .as_object()
            .and_then(|map| key_of(map, section))
            .map_or(section, String::as_str);
        format!("/{}", escape(key))
    }

    fn check_header(&self, name: &str) -> Result<(), SnapshotError> {
        let fail = |pointer: &str, reason: &str| {
            let a = self.doc.anchor(pointer);
            SnapshotError::NotASnapshot {
                name: name.to_string(),
                reason: reason.to_string(),
                src: Arc::clone(self.doc),
                span: (a.offset, a.len).into(),
            }
        };
        if !self.root.is_object() {
            return Err(fail("", "the top level must be a JSON object"));
        }
        let version = self.get("cmkCheckSnapshot");
        let number = version.and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()));
        match (version, number) {
            (None, _) => Err(fail("", "`cmkCheckSnapshot` is missing")),
            (Some(_), Some(FORMAT_VERSION)) => Ok(()),
            (Some(_), _) => Err(fail(
                &self.pointer("cmkCheckSnapshot"),
                "this cmk-check reads snapshot format 1 only",
            )),
        }
    }

    fn resource<T: Body>(
        &self,
        value: &Value,
        section: &str,
        fallback_id: &str,
    ) -> Section<Resource<T>> {
        let base = self.pointer(section);
        Resource::read(value, self.doc, &base, fallback_id)
            .map_err(|flaw| self.unusable(section, &base, &flaw, fallback_id))
    }

    fn unusable(&self, section: &str, base: &str, flaw: &Flaw, resource: &str) -> Gap {
        Gap {
            reason: format!("the `{section}` section cannot be read: {}", flaw.message),
            label: flaw.message.clone(),
            remedy: format!(
                "give the body ARM returns, or let `cmk-check snapshot` record `{section}`"
            ),
            place: Place::root(self.doc, &format!("{base}{}", flaw.pointer), resource),
        }
    }

    fn section<T: Body>(&self, section: &str, hint: &str) -> Section<Resource<T>> {
        match self.get(section) {
            None => Err(self.missing(
                section,
                &format!("the snapshot has no `{section}` section"),
                hint,
            )),
            Some(value) => self.resource(value, section, hint),
        }
    }

    /// An optional array section of bodies, each a resource of its own.
    fn list<T: Body>(&self, section: &str, hint: &str) -> Section<Vec<Resource<T>>> {
        let base = self.pointer(section);
        match self.get(section) {
            None => Err(self.missing(
                section,
                &format!("the snapshot has no `{section}` section"),
                hint,
            )),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let at = format!("{base}/{i}");
                    Resource::read(item, self.doc, &at, hint)
                        .map_err(|flaw| self.unusable(section, &at, &flaw, hint))
                })
                .collect(),
            Some(other) => Err(self.unusable(
                section,
                &base,
                &Flaw {
                    pointer: String::new(),
                    message: format!("expected an array of bodies, found {}", describe(other)),
                },
                hint,
            )),
        }
    }

    fn located_string(&self, value: &Value, section: &str) -> Section<Located<String>> {
        let pointer = self.pointer(section);
        match value.as_str() {
            Some(text) => Ok(Located {
                value: text.to_string(),
                place: Place::root(self.doc, &pointer, text),
            }),
            None => Err(self.unusable(
                section,
                &pointer,
                &Flaw {
                    pointer: String::new(),
                    message: format!("expected a string, found {}", describe(value)),
                },
                "",
            )),
        }
    }

    fn missing(&self, section: &str, reason: &str, resource: &str) -> Gap {
        Gap {
            reason: reason.to_string(),
            label: format!("`{section}` is missing"),
            remedy: format!(
                "add `{section}` to the snapshot, or let `cmk-check snapshot` record it"
            ),
            place: Place::root(self.doc, "", resource),
        }
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "`null`",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
