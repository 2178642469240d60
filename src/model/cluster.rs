use std::collections::BTreeMap;

use serde::Deserialize;

use super::Body;

/// `Microsoft.DBforPostgreSQL/serverGroupsv2`: the GET body of an existing cluster, or the PUT
/// body of a planned one (which has no `provisioningState`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Cluster {
    pub id: Option<String>,
    pub name: Option<String>,
    pub location: Option<String>,
    pub identity: Option<ClusterIdentity>,
    pub properties: Option<ClusterProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterIdentity {
    #[serde(rename = "type")]
    pub identity_type: Option<String>,
    pub user_assigned_identities: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProperties {
    pub provisioning_state: Option<String>,
    pub data_encryption: Option<DataEncryption>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataEncryption {
    #[serde(rename = "type")]
    pub encryption_type: Option<String>,
    pub primary_key_uri: Option<String>,
    pub primary_user_assigned_identity_id: Option<String>,
}

/// `dataEncryption.type` of a cluster that uses a customer-managed key.
pub const CUSTOMER_MANAGED: &str = "AzureKeyVault";

impl Cluster {
    pub fn data_encryption(&self) -> Option<&DataEncryption> {
        self.properties.as_ref()?.data_encryption.as_ref()
    }

    /// A body with a provisioning state came from GET: the cluster already exists.
    pub fn exists(&self) -> bool {
        self.properties
            .as_ref()
            .is_some_and(|p| p.provisioning_state.is_some())
    }

    pub fn uses_customer_managed_key(&self) -> bool {
        self.data_encryption()
            .and_then(|d| d.encryption_type.as_deref())
            .is_some_and(|t| t.eq_ignore_ascii_case(CUSTOMER_MANAGED))
    }
}

impl Body for Cluster {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
