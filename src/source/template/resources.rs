//! The resources a declared cluster uses, from the template when it declares them (with the
//! defaults ARM gives what it leaves out), else referenced for the live reader.

use serde_json::{json, Value};

use super::build::{gap_for, unknown_near, Builder};
use super::runtime::{
    client_of, key_uri, principal_of, vault_uri, DEPLOYMENT_TENANT, UNKNOWN_RESOURCE_GROUP,
    UNKNOWN_SUBSCRIPTION,
};
use super::walk::Declaration;
use crate::azure::cloud::CloudName;
use crate::azure::id as arm;
use crate::azure::keyuri::KeyUri;
use crate::azure::{
    ACCESS_POLICIES_TYPE as POLICIES_TYPE, ALERT_TYPE, IDENTITY_TYPE, KEY_TYPE, VAULT_TYPE,
};
use crate::document::json::Members as _;
use crate::model::key::{KeyAttributes, ENABLED, OPS, SIZE};
use crate::model::{ActivityLogAlert, Cluster, Identity, Key, KeyVersion, Vault};
use crate::source::complete::Referenced;
use crate::state::{Gap, Located, Place, Resource, Section, Unknown};

/// From this Key Vault API version on, a vault created without `enableRbacAuthorization` uses
/// Azure RBAC.
const RBAC_DEFAULT_FROM: &str = "2026-02-01";

/// Key Vault's operations for a key created without `keyOps`.
const ALL_KEY_OPS: [&str; 6] = [
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
];

/// Whether a vault of `api_version` (`2026-02-01`, `2026-02-01-preview`) defaults to RBAC.
fn defaults_to_rbac(api_version: &str) -> bool {
    let date = api_version.get(..10).unwrap_or(api_version);
    date >= RBAC_DEFAULT_FROM
}

/// The cloud of a key URI's vault, from its DNS suffix, also when the rest of it is malformed.
fn cloud_of(uri: &str) -> Option<CloudName> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let host = rest.split(['/', ':']).next()?;
    CloudName::of_vault_suffix(host.split_once('.')?.1)
}

type Sections = (
    Section<Resource<Vault>>,
    Section<Resource<Key>>,
    Section<Vec<Resource<KeyVersion>>>,
);

impl Builder<'_> {
    pub(super) fn identity(
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
            return Err(gap_for(cluster, pointer));
        };
        let Some(declared) = self.find(IDENTITY_TYPE, &id) else {
            let name = arm::name_from_id(&id);
            // Azure cannot be asked for an ID made of stand-ins: no need to sign in for it.
            if id.contains(UNKNOWN_SUBSCRIPTION) || id.contains(UNKNOWN_RESOURCE_GROUP) {
                return Err(Gap {
                    reason: format!("identity `{name}` is not declared in the template, and its ID is built from the deployment's subscription and resource group, which are not known"),
                    label: "this identity".to_string(),
                    remedy: "give `--subscription` and `--resource-group` so that cmk-check can read it".to_string(),
                    place: cluster.at(pointer),
                });
            }
            referenced.identity = Some((id.clone(), cluster.at(pointer)));
            return Err(not_read(cluster.at(pointer), &format!("identity `{name}`")));
        };
        let mut evaluation = self.body(declared, &["location"]);
        // Assigned by Azure when the identity is created.
        evaluation.body.put(
            "properties",
            json!({
                "principalId": principal_of(declared.short_name()),
                "clientId": client_of(declared.short_name()),
                "tenantId": DEPLOYMENT_TENANT,
            }),
        );
        self.resource(declared, evaluation)
    }

    pub(super) fn vault_and_key(
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
        // The vaults the template declares get the DNS suffix of the key URI's cloud when it
        // names one, else the suffix of the cloud deployed to.
        let cloud = cloud_of(&uri.value).unwrap_or(self.cloud);
        let vault = self
            .world
            .iter()
            .find(|d| d.is(VAULT_TYPE) && d.short_name().eq_ignore_ascii_case(&vault_name))
            .map(|declared| self.vault(declared, cloud));
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
            .map(|declared| self.key(declared, cloud));
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

    fn vault(&self, declared: &Declaration, cloud: CloudName) -> Section<Resource<Vault>> {
        let mut evaluation = self.body(declared, &["location", "properties"]);
        if evaluation.body.member("properties").is_none() {
            evaluation.body.put("properties", json!({}));
        }
        let mut remap = Vec::new();
        let mut policies: Vec<Value> = evaluation
            .body
            .at("/properties/accessPolicies")
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
                .at("/properties/accessPolicies")
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
        if let Some(properties) = evaluation.body.member_mut("properties") {
            properties.put("accessPolicies", Value::Array(policies));
        }
        let mut vault: Resource<Vault> = self.resource(declared, evaluation)?;
        let rbac_default = !unknown_near(&vault.unknown, "/properties/enableRbacAuthorization")
            && defaults_to_rbac(&declared.api_version);
        let properties = vault.body.properties.get_or_insert_with(Default::default);
        if properties.enable_rbac_authorization.is_none() && rbac_default {
            properties.enable_rbac_authorization = Some(true);
        }
        // Assigned by Key Vault: the vault's name under its cloud's suffix.
        properties.vault_uri = Some(vault_uri(declared.short_name(), cloud));
        vault.remap = remap;
        Ok(vault)
    }

    fn key(&self, declared: &Declaration, cloud: CloudName) -> Section<Resource<Key>> {
        let evaluation = self.body(declared, &["properties"]);
        let mut key: Resource<Key> = self.resource(declared, evaluation)?;
        let rsa = key.body.is_rsa();
        // Key Vault's defaults for a key created without them; an unknown value stays unknown.
        let size = !unknown_near(&key.unknown, SIZE);
        let ops = !unknown_near(&key.unknown, OPS);
        let enabled = !unknown_near(&key.unknown, ENABLED);
        let properties = key.body.properties.get_or_insert_with(Default::default);
        if rsa && size && properties.key_size.is_none() {
            properties.key_size = Some(2048);
        }
        if ops && properties.key_ops.is_none() {
            properties.key_ops = Some(ALL_KEY_OPS.iter().map(|o| o.to_string()).collect());
        }
        let attributes = properties
            .attributes
            .get_or_insert_with(KeyAttributes::default);
        if enabled && attributes.enabled.is_none() {
            attributes.enabled = Some(true);
        }
        let vault = declared.name.split('/').next().unwrap_or_default();
        properties.key_uri = Some(key_uri(vault, declared.short_name(), cloud));
        key.id = key.body.uri().map_or(key.id, str::to_string);
        Ok(key)
    }

    /// The alerts the template declares. Those already in Azure are added by the live reader.
    pub(super) fn alerts(
        &self,
        cluster: &Resource<Cluster>,
    ) -> Section<Vec<Resource<ActivityLogAlert>>> {
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
pub(super) fn reconcile(
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

/// A resource the template only references, before the live reader has been.
fn not_read(place: Place, what: &str) -> Gap {
    Gap {
        reason: format!("{what} is not declared in the template and was not read from Azure (`--offline`)"),
        label: format!("{what} is referenced here"),
        remedy: "run without `--offline` (with `--subscription` and `--resource-group` when the template uses them) to read it".to_string(),
        place,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rbac_default_goes_by_the_date_of_the_api_version() {
        assert!(defaults_to_rbac("2026-02-01"));
        assert!(defaults_to_rbac("2026-02-01-preview"));
        assert!(!defaults_to_rbac("2025-05-01"));
        assert!(!defaults_to_rbac(""));
    }

    #[test]
    fn a_key_uri_names_its_cloud_even_when_malformed() {
        assert_eq!(
            cloud_of("https://kv.vault.azure.cn/keys/k/bad"),
            Some(CloudName::China)
        );
        assert_eq!(
            cloud_of("https://KV.vault.usgovcloudapi.net:443/keys/k"),
            Some(CloudName::UsGovernment)
        );
        assert_eq!(cloud_of("https://kv.example.com/keys/k"), None);
    }
}
