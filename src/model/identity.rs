use serde::Deserialize;
use serde_json::Value;

use super::{unflatten, Body, Moves};

/// `GET Microsoft.ManagedIdentity/userAssignedIdentities/{name}`; `az identity show` prints the
/// same with `principalId`, `clientId` and `tenantId` at the top level.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Identity {
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
    pub location: Option<String>,
    pub properties: Option<IdentityProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProperties {
    pub principal_id: Option<String>,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
}

impl Identity {
    pub fn principal_id(&self) -> Option<&str> {
        self.properties.as_ref()?.principal_id.as_deref()
    }
    pub fn tenant_id(&self) -> Option<&str> {
        self.properties.as_ref()?.tenant_id.as_deref()
    }
}

impl Body for Identity {
    fn arm_shape(body: &Value) -> Option<(Value, Moves)> {
        unflatten(body, &["principalId", "clientId", "tenantId"])
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
