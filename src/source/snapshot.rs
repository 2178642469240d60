//! Snapshot format v1: one JSON object holding the ARM bodies of the identity, vault, key, key
//! versions and cluster, plus the target region and key URI.

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::arm;
use crate::model::key::{KeyBundle, ManagementKey};
use crate::model::{ActivityLogAlert, Cluster, Identity, Key, KeyVersion, Vault};
use crate::source::document::{escape, SourceDoc};
use crate::source::error::{parse_json, read_text, InputError};
use crate::state::{Gap, Located, Place, Resource, Section, State};

pub const FORMAT_VERSION: u64 = 1;

pub fn read(path: &Path) -> Result<State, InputError> {
    parse(&path.display().to_string(), read_text(path)?)
}

pub fn parse(name: &str, text: String) -> Result<State, InputError> {
    let doc = SourceDoc::file(name, text);
    let root = parse_json(&doc)?;
    let reader = Reader { doc: &doc, name };
    reader.check_header(&root)?;

    let cluster = match root.get("cluster") {
        Some(value) => Some(reader.resource::<Cluster>(value, "/cluster", |c| {
            names(c.id.as_deref(), c.name.as_deref(), "cluster")
        })?),
        None => None,
    };
    let root_place = |resource: String| Place {
        doc: Arc::clone(&doc),
        base: String::new(),
        resource,
        pointer: String::new(),
        label_at: None,
    };

    let key_uri = match (root.get("keyUri"), &cluster) {
        (Some(_), _) => Ok(reader.located_string(&root, "keyUri")?),
        (None, Some(c)) => match c
            .body
            .data_encryption()
            .and_then(|d| d.primary_key_uri.clone())
        {
            Some(value) => Ok(Located {
                value,
                place: c.at("/properties/dataEncryption/primaryKeyUri"),
            }),
            None => Err(reader.gap(
                "keyUri",
                "neither `keyUri` nor `cluster.properties.dataEncryption.primaryKeyUri` is given",
                root_place(c.id.clone()),
            )),
        },
        (None, None) => Err(reader.gap(
            "keyUri",
            "the snapshot has no `keyUri`",
            root_place(String::new()),
        )),
    };
    let target_resource = key_uri
        .as_ref()
        .map(|k| k.value.clone())
        .unwrap_or_default();

    let location = match (root.get("location"), &cluster) {
        (Some(_), _) => Ok(reader.located_string(&root, "location")?),
        (None, Some(c)) => match c.body.location.clone() {
            Some(value) => Ok(Located {
                value,
                place: c.at("/location"),
            }),
            None => Err(reader.gap(
                "location",
                "neither `location` nor `cluster.location` is given",
                c.at(""),
            )),
        },
        (None, None) => Err(reader.gap(
            "location",
            "the snapshot has no `location` and no `cluster`",
            root_place(target_resource.clone()),
        )),
    };

    // A missing section is reported against the resource it should hold, as far as the rest of
    // the snapshot names it, else against the target.
    let identity_hint = cluster
        .as_ref()
        .and_then(|c| c.body.data_encryption())
        .and_then(|d| d.primary_user_assigned_identity_id.clone())
        .unwrap_or_else(|| target_resource.clone());
    let vault_hint = key_uri
        .as_ref()
        .ok()
        .and_then(|k| crate::keyuri::KeyUri::parse(&k.value).ok())
        .map_or_else(
            || target_resource.clone(),
            |k| format!("https://{}", k.host),
        );

    let identity =
        reader.section::<Identity, _>(&root, "identity", root_place(identity_hint), |i| {
            names(i.id.as_deref(), i.name.as_deref(), "identity")
        })?;
    let vault = reader.section::<Vault, _>(&root, "vault", root_place(vault_hint), |v| {
        names(v.id.as_deref(), v.name.as_deref(), "vault")
    })?;
    let key = match root.get("key") {
        None => Err(reader.gap(
            "key",
            "the snapshot has no `key` section",
            root_place(target_resource.clone()),
        )),
        Some(value) => Ok(reader.key(value)?),
    };
    let key_versions = reader.list::<KeyVersion>(
        &root,
        "keyVersions",
        "key version",
        root_place(target_resource.clone()),
        |v| names(v.id.as_deref(), v.name.as_deref(), "key version"),
    )?;
    let alerts = reader.list::<ActivityLogAlert>(
        &root,
        "activityLogAlerts",
        "activity-log alert",
        root_place(target_resource),
        |a| names(a.id.as_deref(), a.name.as_deref(), "alert"),
    )?;

    Ok(State {
        location,
        key_uri,
        identity,
        vault,
        key,
        key_versions,
        cluster: Ok(cluster),
        alerts,
    })
}

/// (display name, id) of a resource body.
fn names(id: Option<&str>, name: Option<&str>, fallback: &str) -> (String, String) {
    let name = name
        .map(str::to_string)
        .or_else(|| id.map(|i| arm::name_from_id(i).to_string()))
        .unwrap_or_else(|| format!("(unnamed {fallback})"));
    let id = id.map_or_else(|| name.clone(), str::to_string);
    (name, id)
}

struct Reader<'a> {
    doc: &'a Arc<SourceDoc>,
    name: &'a str,
}

impl Reader<'_> {
    fn src(&self) -> Arc<SourceDoc> {
        Arc::clone(self.doc)
    }

    fn check_header(&self, root: &Value) -> Result<(), InputError> {
        let fail = |pointer: &str, reason: &str| {
            let a = self.doc.anchor(pointer);
            InputError::NotASnapshot {
                name: self.name.to_string(),
                reason: reason.to_string(),
                src: self.src(),
                span: (a.offset, a.len).into(),
            }
        };
        let Some(object) = root.as_object() else {
            return Err(fail("", "the top level must be a JSON object"));
        };
        match object.get("cmkCheckSnapshot") {
            None => Err(fail("", "`cmkCheckSnapshot` is missing")),
            Some(v) if v.as_u64() == Some(FORMAT_VERSION) => Ok(()),
            Some(_) => Err(fail(
                "/cmkCheckSnapshot",
                "this cmk-check reads snapshot format 1 only",
            )),
        }
    }

    fn shape(&self, pointer: &str, field: &str, message: &str) -> InputError {
        let a = self.doc.anchor(pointer);
        InputError::Shape {
            field: field.to_string(),
            message: message.to_string(),
            src: self.src(),
            span: (a.offset, a.len).into(),
        }
    }

    fn deserialize<T: DeserializeOwned>(&self, value: &Value, base: &str) -> Result<T, InputError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let mut pointer = base.to_string();
            let mut field = base.trim_start_matches('/').replace('/', ".");
            for segment in e.path().iter() {
                match segment {
                    serde_path_to_error::Segment::Seq { index } => {
                        pointer.push_str(&format!("/{index}"));
                        field.push_str(&format!("[{index}]"));
                    }
                    serde_path_to_error::Segment::Map { key } => {
                        pointer.push_str(&format!("/{}", escape(key)));
                        field.push_str(&format!(".{key}"));
                    }
                    _ => {}
                }
            }
            self.shape(&pointer, &field, &e.inner().to_string())
        })
    }

    fn resource<T: DeserializeOwned>(
        &self,
        value: &Value,
        base: &str,
        naming: impl Fn(&T) -> (String, String),
    ) -> Result<Resource<T>, InputError> {
        if !value.is_object() {
            let field = base.trim_start_matches('/').replace('/', ".");
            return Err(self.shape(
                base,
                &field,
                "expected an object: the body ARM returns for this resource",
            ));
        }
        let body: T = self.deserialize(value, base)?;
        let (name, id) = naming(&body);
        Ok(Resource {
            body,
            name,
            id,
            doc: Arc::clone(self.doc),
            base: base.to_string(),
            unknown: Vec::new(),
            remap: Vec::new(),
        })
    }

    /// An optional array section of bodies, each a resource of its own.
    fn list<T: DeserializeOwned>(
        &self,
        root: &Value,
        key: &str,
        what: &str,
        missing_at: Place,
        naming: impl Fn(&T) -> (String, String),
    ) -> Result<Section<Vec<Resource<T>>>, InputError> {
        match root.get(key) {
            None => Ok(Err(self.gap(
                key,
                &format!("the snapshot has no `{key}` section"),
                missing_at,
            ))),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.resource::<T>(item, &format!("/{key}/{i}"), &naming))
                .collect::<Result<Vec<_>, _>>()
                .map(Ok),
            Some(_) => Err(self.shape(
                &format!("/{key}"),
                key,
                &format!("expected an array of {what} bodies"),
            )),
        }
    }

    fn section<T: DeserializeOwned, F: Fn(&T) -> (String, String)>(
        &self,
        root: &Value,
        key: &str,
        missing_at: Place,
        naming: F,
    ) -> Result<Section<Resource<T>>, InputError> {
        match root.get(key) {
            None => Ok(Err(self.gap(
                key,
                &format!("the snapshot has no `{key}` section"),
                missing_at,
            ))),
            Some(value) => self.resource(value, &format!("/{key}"), naming).map(Ok),
        }
    }

    fn key(&self, value: &Value) -> Result<Resource<Key>, InputError> {
        let is_bundle = value.get("key").is_some_and(Value::is_object);
        let key = if is_bundle {
            Key::from_bundle(self.deserialize::<KeyBundle>(value, "/key")?)
        } else {
            if !value.is_object() {
                return Err(self.shape(
                    "/key",
                    "key",
                    "expected an object: the key body from ARM or a Key Vault KeyBundle",
                ));
            }
            let body: ManagementKey = self.deserialize(value, "/key")?;
            let id = body.id.clone();
            let mut key = Key::from_management(body);
            if key.uri.is_none() {
                key.uri = id;
            }
            key
        };
        let name = key
            .name
            .clone()
            .unwrap_or_else(|| "(unnamed key)".to_string());
        let id = key.uri.clone().unwrap_or_else(|| name.clone());
        Ok(Resource {
            body: key,
            name,
            id,
            doc: Arc::clone(self.doc),
            base: "/key".to_string(),
            unknown: Vec::new(),
            remap: Vec::new(),
        })
    }

    fn located_string(&self, root: &Value, key: &str) -> Result<Located<String>, InputError> {
        let pointer = format!("/{key}");
        let value = root
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| self.shape(&pointer, key, "expected a string"))?;
        Ok(Located {
            value: value.to_string(),
            place: Place {
                doc: Arc::clone(self.doc),
                base: String::new(),
                resource: value.to_string(),
                pointer,
                label_at: None,
            },
        })
    }

    fn gap(&self, key: &str, reason: &str, place: Place) -> Gap {
        Gap {
            reason: reason.to_string(),
            label: format!("`{key}` is missing"),
            remedy: format!("add `{key}` to the snapshot, or let `cmk-check snapshot` record it"),
            place,
        }
    }
}
