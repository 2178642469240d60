use serde::Deserialize;

use super::Body;

/// `GET Microsoft.KeyVault/vaults/{name}`, which `az keyvault show` prints as it is.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Vault {
    pub id: Option<String>,
    pub name: Option<String>,
    pub location: Option<String>,
    pub properties: Option<VaultProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultProperties {
    pub tenant_id: Option<String>,
    pub sku: Option<Sku>,
    pub vault_uri: Option<String>,
    pub access_policies: Option<Vec<AccessPolicy>>,
    pub enable_soft_delete: Option<bool>,
    pub soft_delete_retention_in_days: Option<i64>,
    pub enable_purge_protection: Option<bool>,
    pub enable_rbac_authorization: Option<bool>,
    pub public_network_access: Option<String>,
    pub network_acls: Option<NetworkAcls>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Sku {
    pub family: Option<String>,
    /// `standard` or `premium`.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAcls {
    pub default_action: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicy {
    pub tenant_id: Option<String>,
    pub object_id: Option<String>,
    pub application_id: Option<String>,
    pub permissions: Option<Permissions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Permissions {
    pub keys: Option<Vec<String>>,
}

impl Vault {
    pub fn props(&self) -> Option<&VaultProperties> {
        self.properties.as_ref()
    }
}

impl Body for Vault {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
