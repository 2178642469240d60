//! What Azure assigns when a declared resource is created (an identity's principal, a vault's
//! URI, a key's URI, a deployment's outputs), as `reference()` gives it before deployment.

use std::rc::Rc;

use serde_json::{json, Map, Value};

use super::deployment::{Env, Frame};
use super::expr::{self, Evaluated};
use super::walk::Declaration;
use crate::azure::cloud::CloudName;
use crate::document::json::Members as _;

/// Stand-ins for values that exist only once the deployment runs. They compare equal to
/// themselves, so that `reference(identity).principalId` in an access policy matches the identity
/// it names, and never to a literal GUID.
pub const DEPLOYMENT_TENANT: &str = "<tenant of the deployment>";
pub const UNKNOWN_SUBSCRIPTION: &str = "<subscription>";
pub const UNKNOWN_RESOURCE_GROUP: &str = "<resource-group>";

pub fn principal_of(identity: &str) -> String {
    format!("<principal ID of identity {identity}>")
}

pub fn client_of(identity: &str) -> String {
    format!("<client ID of identity {identity}>")
}

/// `https://<vault>.<suffix>/`, as Key Vault names a vault of the cloud.
pub fn vault_uri(vault: &str, cloud: CloudName) -> String {
    format!("https://{vault}.{}/", cloud.vault_suffix())
}

/// A key's versionless URI.
pub fn key_uri(vault: &str, key: &str, cloud: CloudName) -> String {
    format!("https://{vault}.{}/keys/{key}", cloud.vault_suffix())
}

/// The properties of a declared resource, as an object to add to.
fn object(value: Value) -> Value {
    if value.is_object() {
        value
    } else {
        Value::Object(Map::new())
    }
}

/// What `reference()` gives for a resource the template declares: its properties, plus what
/// Azure adds at creation, as stand-ins when the value is assigned then.
pub(super) fn runtime_properties(env: &Env<'_>, declared: &Declaration) -> Value {
    let kind = declared.kind.to_ascii_lowercase();
    let cloud = env.frame.deployment.cloud();
    match kind.as_str() {
        "microsoft.managedidentity/userassignedidentities" => json!({
            "principalId": principal_of(declared.short_name()),
            "clientId": client_of(declared.short_name()),
            "tenantId": DEPLOYMENT_TENANT,
        }),
        "microsoft.keyvault/vaults/keys" => {
            let mut properties = object(env.properties_of(declared));
            let vault = declared.name.split('/').next().unwrap_or_default();
            // The version is assigned at creation; the versionless URI names the same key.
            let uri = key_uri(vault, declared.short_name(), cloud);
            properties.put("keyUri", json!(uri));
            properties.put("keyUriWithVersion", json!(uri));
            properties
        }
        "microsoft.keyvault/vaults" => {
            let mut properties = object(env.properties_of(declared));
            properties.put("vaultUri", json!(vault_uri(declared.short_name(), cloud)));
            properties
        }
        "microsoft.resources/deployments" => {
            let Some(inner) = &declared.inner else {
                return Value::Null;
            };
            let frame = Frame::new(Rc::clone(inner));
            let inner_env = Env {
                frame: &frame,
                world: env.world,
            };
            let outputs: Map<String, Value> = inner
                .outputs
                .iter()
                .filter_map(|(name, output)| {
                    let raw = output.member("value")?;
                    let value = match expr::evaluate_value(raw, &inner_env) {
                        Ok((Evaluated::Known(value), _)) => value,
                        _ => return None,
                    };
                    Some((
                        name.clone(),
                        json!({ "type": output.member("type"), "value": value }),
                    ))
                })
                .collect();
            json!({ "outputs": outputs })
        }
        _ => env.properties_of(declared),
    }
}
