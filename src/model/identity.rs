use serde::Deserialize;

/// `GET Microsoft.ManagedIdentity/userAssignedIdentities/{name}`.
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
    pub fn client_id(&self) -> Option<&str> {
        self.properties.as_ref()?.client_id.as_deref()
    }
    pub fn tenant_id(&self) -> Option<&str> {
        self.properties.as_ref()?.tenant_id.as_deref()
    }
}
