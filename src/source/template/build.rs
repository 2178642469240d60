//! From a walked template to one [`State`] per cluster: declared resources are read from their
//! properties with ARM's defaults; what the template only references is left for the live reader.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::deployment::{
    client_of, principal_of, Declaration, Env, DEPLOYMENT_TENANT, UNKNOWN_SUBSCRIPTION,
};
use super::expr::{self, Evaluated};
use crate::azure::id as arm;
use crate::azure::keyuri::KeyUri;
use crate::azure::{
    ACCESS_POLICIES_TYPE as POLICIES_TYPE, ALERT_TYPE, CLUSTER_TYPE, IDENTITY_TYPE, KEY_TYPE,
    VAULT_TYPE,
};
use crate::document::{escape, SourceDoc};
use crate::model::{ActivityLogAlert, Body, Cluster, Identity, Key, Vault};
use crate::source::complete::{Planned, Referenced};
use crate::state::{Declared, Gap, Located, Place, Resource, Section, State, Unknown};
/// From this Key Vault API version on, a vault created without `enableRbacAuthorization` uses
/// Azure RBAC.
const RBAC_DEFAULT_FROM: &str = "2026-02-01";

/// A body evaluated from a template resource, with the places of the values it could not know.
struct Evaluation {
    body: Value,
    unknown: Vec<Unknown>,
}

struct Builder<'a> {
    doc: &'a Arc<SourceDoc>,
    world: &'a [Declaration],
}

/// Every CMK cluster of the template as a check target, and a note for each one without CMK.
pub fn clusters(
    doc: &Arc<SourceDoc>,
    world: &[Declaration],
    notes: &mut Vec<String>,
) -> Vec<Planned> {
    let builder = Builder { doc, world };
    world
        .iter()
        .filter(|d| d.is(CLUSTER_TYPE))
        .filter_map(|cluster| builder.cluster(cluster, notes))
        .collect()
}

impl Builder<'_> {
    fn env<'b>(&'b self, declared: &'b Declaration) -> Env<'b> {
        Env {
            frame: &declared.frame,
            world: self.world,
        }
    }

    fn place(&self, declared: &Declaration, pointer: &str) -> Place {
        Place {
            doc: Arc::clone(self.doc),
            base: declared.pointer.clone(),
            resource: declared.id.clone(),
            pointer: pointer.to_string(),
            label_at: None,
        }
    }

    /// Evaluates `raw` (at `pointer` in the resource), keeping the known parts and recording
    /// the unknown ones. Object keys that are expressions are evaluated too.
    fn evaluate(
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
                    let mut found = self.unknown(
                        declared,
                        pointer,
                        &format!("`{}` {}", excerpt(text, &span), reason_text(&reason)),
                    );
                    found.within = Some(span).filter(|s| !s.is_empty());
                    unknown.push(found);
                    Value::Null
                }
                Err(e) => {
                    unknown.push(self.unknown(
                        declared,
                        pointer,
                        &format!("`{text}` does not evaluate: {e}"),
                    ));
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
                        _ => {
                            if expr::is_expression(key) {
                                unknown.push(self.unknown(
                                    declared,
                                    &at,
                                    &format!(
                                        "the property name `{key}` is known only at deployment"
                                    ),
                                ));
                                continue;
                            }
                            key.clone()
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
    fn body(&self, declared: &Declaration, fields: &[&str]) -> Evaluation {
        let mut unknown = Vec::new();
        let mut body = Map::new();
        body.insert("id".to_string(), json!(declared.id));
        body.insert("name".to_string(), json!(declared.short_name()));
        body.insert("type".to_string(), json!(declared.kind));
        for field in fields {
            if let Some(raw) = declared.raw.get(*field) {
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

    fn resource<T: Body>(
        &self,
        declared: &Declaration,
        evaluation: Evaluation,
    ) -> Result<Resource<T>, Gap> {
        let mut resource =
            Resource::read(&evaluation.body, self.doc, &declared.pointer, &declared.id).map_err(
                |flaw| Gap {
                    reason: format!(
                        "`{}` does not have the shape of a {}: {}",
                        declared.short_name(),
                        declared.kind,
                        flaw.message
                    ),
                    label: "this resource".to_string(),
                    remedy: "compare it with the resource's ARM reference".to_string(),
                    place: self.place(declared, ""),
                },
            )?;
        resource.name = declared.short_name().to_string();
        resource.id = declared.id.clone();
        resource.unknown.extend(evaluation.unknown);
        resource.declared = Some(Declared::Template);
        Ok(resource)
    }

    fn find(&self, kind: &str, id: &str) -> Option<&Declaration> {
        self.world
            .iter()
            .find(|d| d.is(kind) && arm::same_id(&d.id, id))
    }

    fn cluster(&self, declared: &Declaration, notes: &mut Vec<String>) -> Option<Planned> {
        let evaluation = self.body(declared, &["location", "identity", "properties"]);
        let name = declared.short_name().to_string();
        let encryption = evaluation
            .body
            .pointer("/properties/dataEncryption")
            .cloned();
        let uses_cmk = encryption
            .as_ref()
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
            .map(|t| t.eq_ignore_ascii_case("AzureKeyVault"));
        let type_unknown = evaluation
            .unknown
            .iter()
            .any(|u| u.pointer == "/properties/dataEncryption/type");
        if uses_cmk != Some(true) && !type_unknown {
            notes.push(format!(
                "cluster `{name}` does not use a customer-managed key: skipped"
            ));
            return None;
        }
        let cluster: Resource<Cluster> = match self.resource(declared, evaluation) {
            Ok(cluster) => cluster,
            Err(gap) => {
                notes.push(format!("cluster `{name}`: {}", gap.reason));
                return None;
            }
        };
        let located =
            |pointer: &str, value: Option<String>, what: &str| -> Section<Located<String>> {
                match value {
                    Some(value) => Ok(Located {
                        value,
                        place: cluster.at(pointer),
                    }),
                    None => Err(self.gap_for(&cluster, pointer, what)),
                }
            };
        let location = located(
            "/location",
            cluster.body.location.clone(),
            "the cluster's region",
        );
        let key_uri = located(
            "/properties/dataEncryption/primaryKeyUri",
            cluster
                .body
                .data_encryption()
                .and_then(|d| d.primary_key_uri.clone()),
            "the key URI",
        );
        let mut referenced = Referenced::default();
        let identity = self.identity(&cluster, &mut referenced);
        let (vault, key, key_versions) = self.vault_and_key(&key_uri, &mut referenced);
        let identity = reconcile(identity, &vault);
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
            },
            referenced,
        })
    }

    /// A gap at a cluster property: the reason is its unknown expression, or its absence.
    fn gap_for(&self, cluster: &Resource<Cluster>, pointer: &str, what: &str) -> Gap {
        let unknown = cluster.unknown.iter().find(|u| u.pointer == pointer);
        Gap {
            reason: match unknown {
                Some(u) => format!("{what} is {}", u.reason),
                None => format!("the cluster declares no {what}"),
            },
            label: format!("{what} is needed here"),
            remedy: "give it a value known before deployment".to_string(),
            place: cluster.at(pointer),
        }
    }

    fn identity(
        &self,
        cluster: &Resource<Cluster>,
        referenced: &mut Referenced,
    ) -> Section<Resource<Identity>> {
        let pointer = "/properties/dataEncryption/primaryUserAssignedIdentityId";
        let Some(id) = cluster
            .body
            .data_encryption()
            .and_then(|d| d.primary_user_assigned_identity_id.clone())
        else {
            return Err(self.gap_for(cluster, pointer, "the identity's resource ID"));
        };
        let Some(declared) = self.find(IDENTITY_TYPE, &id) else {
            referenced.identity = Some((id.clone(), cluster.at(pointer)));
            return Err(not_read(
                cluster.at(pointer),
                &format!("identity `{}`", arm::name_from_id(&id)),
            ));
        };
        let mut evaluation = self.body(declared, &["location"]);
        // Assigned by Azure when the identity is created.
        evaluation.body["properties"] = json!({
            "principalId": principal_of(declared.short_name()),
            "clientId": client_of(declared.short_name()),
            "tenantId": DEPLOYMENT_TENANT,
        });
        self.resource(declared, evaluation)
    }

    #[allow(
        clippy::type_complexity,
        reason = "the three sections of State that the key URI decides"
    )]
    fn vault_and_key(
        &self,
        key_uri: &Section<Located<String>>,
        referenced: &mut Referenced,
    ) -> (
        Section<Resource<Vault>>,
        Section<Resource<Key>>,
        Section<Vec<Resource<crate::model::KeyVersion>>>,
    ) {
        let uri = match key_uri {
            Ok(uri) => uri,
            Err(gap) => return (Err(gap.clone()), Err(gap.clone()), Err(gap.clone())),
        };
        // A malformed URI is CMK017's finding; the vault and key it still names are checked.
        let (vault_name, key_name) = match KeyUri::parse(&uri.value) {
            Ok(parsed) => (parsed.vault, parsed.name),
            Err(_) => match KeyUri::lenient(&uri.value) {
                Some(named) => named,
                None => {
                    let gap = Gap {
                        reason: format!("the key URI `{}` does not name a key vault", uri.value),
                        label: "this key URI".to_string(),
                        remedy: "fix the key URI (CMK017)".to_string(),
                        place: uri.place.clone(),
                    };
                    return (Err(gap.clone()), Err(gap.clone()), Err(gap));
                }
            },
        };
        let vault = self
            .world
            .iter()
            .find(|d| d.is(VAULT_TYPE) && d.short_name().eq_ignore_ascii_case(&vault_name))
            .map(|declared| self.vault(declared));
        let key = self
            .world
            .iter()
            .find(|d| {
                d.is(KEY_TYPE)
                    && d.short_name().eq_ignore_ascii_case(&key_name)
                    && d.name
                        .split('/')
                        .next()
                        .is_some_and(|v| v.eq_ignore_ascii_case(&vault_name))
            })
            .map(|declared| self.key(declared));
        let parsed = KeyUri::parse(&uri.value).ok();
        if let (Some(parsed), true) = (&parsed, vault.is_none() || key.is_none()) {
            referenced.key = Some((uri.value.clone(), parsed.clone(), uri.place.clone()));
            referenced.vault_missing = vault.is_none();
            referenced.key_missing = key.is_none();
        }
        let missing = |what: String| not_read(uri.place.clone(), what.as_str());
        let vault = vault.unwrap_or_else(|| Err(missing(format!("vault `{vault_name}`"))));
        let (key, versions) = match key {
            // A key the deployment creates has no earlier version to keep.
            Some(key) => (key, Ok(Vec::new())),
            None => (
                Err(missing(format!("key `{key_name}`"))),
                Err(missing(format!("the versions of key `{key_name}`"))),
            ),
        };
        (vault, key, versions)
    }

    fn vault(&self, declared: &Declaration) -> Section<Resource<Vault>> {
        let mut evaluation = self.body(declared, &["location", "properties"]);
        let properties = &mut evaluation.body["properties"];
        if !properties.is_object() {
            *properties = json!({});
        }
        if properties.get("enableRbacAuthorization").is_none()
            && declared.api_version.as_str() >= RBAC_DEFAULT_FROM
        {
            properties["enableRbacAuthorization"] = json!(true);
        }
        properties["vaultUri"] = json!(format!(
            "https://{}.vault.azure.net/",
            declared.short_name()
        ));
        let mut remap = Vec::new();
        let mut policies: Vec<Value> = properties
            .get("accessPolicies")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // `accessPolicies` child resources add to the vault's own.
        for child in self.world.iter().filter(|d| {
            d.is(POLICIES_TYPE)
                && d.name
                    .split('/')
                    .next()
                    .is_some_and(|v| v.eq_ignore_ascii_case(declared.short_name()))
        }) {
            let mut child_unknown = Vec::new();
            let raw = child
                .raw
                .pointer("/properties/accessPolicies")
                .cloned()
                .unwrap_or(Value::Null);
            let added = self.evaluate(
                child,
                &raw,
                "/properties/accessPolicies",
                &mut child_unknown,
            );
            for (j, policy) in added.as_array().into_iter().flatten().enumerate() {
                let at = format!("/properties/accessPolicies/{}", policies.len());
                remap.push((
                    at,
                    format!("{}/properties/accessPolicies/{j}", child.pointer),
                ));
                policies.push(policy.clone());
            }
            // An unknown part of a child's policy is an unknown part of the vault's policies.
            evaluation
                .unknown
                .extend(child_unknown.into_iter().map(|mut u| {
                    u.pointer = "/properties/accessPolicies".to_string();
                    u
                }));
        }
        properties["accessPolicies"] = Value::Array(policies);
        let mut vault: Resource<Vault> = self.resource(declared, evaluation)?;
        vault.remap = remap;
        Ok(vault)
    }

    fn key(&self, declared: &Declaration) -> Section<Resource<Key>> {
        let mut evaluation = self.body(declared, &["properties"]);
        let properties = &mut evaluation.body["properties"];
        if !properties.is_object() {
            *properties = json!({});
        }
        let rsa = properties
            .get("kty")
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case("RSA") || k.eq_ignore_ascii_case("RSA-HSM"));
        // Key Vault's defaults for a key created without them.
        if rsa
            && properties.get("keySize").is_none()
            && !unknown_at(&evaluation.unknown, "/properties/keySize")
        {
            properties["keySize"] = json!(2048);
        }
        if properties.get("keyOps").is_none()
            && !unknown_at(&evaluation.unknown, "/properties/keyOps")
        {
            properties["keyOps"] = json!([
                "encrypt",
                "decrypt",
                "sign",
                "verify",
                "wrapKey",
                "unwrapKey"
            ]);
        }
        if properties.pointer("/attributes/enabled").is_none()
            && !unknown_at(&evaluation.unknown, "/properties/attributes/enabled")
        {
            if !properties.get("attributes").is_some_and(Value::is_object) {
                properties["attributes"] = json!({});
            }
            properties["attributes"]["enabled"] = json!(true);
        }
        let vault = declared.name.split('/').next().unwrap_or_default();
        properties["keyUri"] = json!(format!(
            "https://{vault}.vault.azure.net/keys/{}",
            declared.short_name()
        ));
        let mut key: Resource<Key> = self.resource(declared, evaluation)?;
        key.id = key.body.uri().map_or(key.id, str::to_string);
        Ok(key)
    }

    /// The alerts the template declares. Those already in Azure are added by the live reader.
    fn alerts(&self, cluster: &Resource<Cluster>) -> Section<Vec<Resource<ActivityLogAlert>>> {
        let declared: Vec<Resource<ActivityLogAlert>> = self
            .world
            .iter()
            .filter(|d| d.is(ALERT_TYPE))
            .filter_map(|d| self.resource(d, self.body(d, &["properties"])).ok())
            .collect();
        if declared.is_empty() {
            return Err(Gap {
                reason: "the template declares no activity-log alert".to_string(),
                label: "alerts are needed".to_string(),
                remedy: "declare the alerts, or let cmk-check read the existing ones (without `--offline`, with `--subscription`)".to_string(),
                place: cluster.at(""),
            });
        }
        Ok(declared)
    }
}

/// What a declared identity gets at deployment (its tenant, its principal ID) compares equal to
/// the template's own references to it; against a literal it is unknown, not different.
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
                    "identity `{}` is created in the tenant of the deployment, known only then, and the vault names tenant `{tenant}`",
                    identity.name
                ),
                at: vault.at("/properties/tenantId"),
                within: None,
                label: "compared with the tenant of the deployment".to_string(),
                help: "write `[subscription().tenantId]` to keep the vault in the deployment's tenant, or check the deployed resources with `cmk-check check --identity <id> --key <uri>`".to_string(),
            });
        }
    }
    let principal = identity.body.principal_id().unwrap_or_default().to_string();
    let policies = props.access_policies.as_deref().unwrap_or_default();
    let named = policies
        .iter()
        .any(|p| p.object_id.as_deref() == Some(principal.as_str()));
    let literal = policies
        .iter()
        .any(|p| p.object_id.as_deref().is_some_and(|o| !o.starts_with('<')));
    if principal.starts_with('<') && !named && literal {
        identity.unknown.push(Unknown {
            pointer: "/properties/principalId".to_string(),
            reason: format!(
                "identity `{}` gets its principal ID when it is created, so an access policy naming a literal object ID cannot be matched to it",
                identity.name
            ),
            at: vault.at("/properties/accessPolicies"),
            within: None,
            label: "no policy names the identity's principal ID".to_string(),
            help: format!(
                "grant the identity itself: `\"objectId\": \"[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', '{}')).principalId]\"`",
                identity.name
            ),
        });
    }
    Ok(identity)
}

fn unknown_at(unknown: &[Unknown], pointer: &str) -> bool {
    unknown.iter().any(|u| u.pointer == pointer)
}

/// A resource the template only references, before the live reader has been.
fn not_read(place: Place, what: &str) -> Gap {
    Gap {
        reason: format!("{what} is not declared in the template and was not read from Azure (`--offline`)"),
        label: format!("{what} is referenced here"),
        remedy: "run without `--offline` (with `--subscription` and `--resource-group` when the template uses them) to read it".to_string(),
        place,
    }
}

/// The sub-expression of `text` that made it unknown.
fn excerpt(text: &str, span: &std::ops::Range<usize>) -> String {
    text.get(span.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or(text)
        .to_string()
}

fn reason_text(reason: &str) -> String {
    format!("is not known before deployment: {reason}")
}
