//! Azure facts in one place: resource types, API versions, resource IDs and key URIs, each
//! cloud's endpoints and DNS suffixes, and Microsoft's documentation of the requirements.

pub mod cloud;
pub mod id;
pub mod keyuri;

pub const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
pub const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";
pub const KEY_TYPE: &str = "Microsoft.KeyVault/vaults/keys";
pub const ACCESS_POLICIES_TYPE: &str = "Microsoft.KeyVault/vaults/accessPolicies";
pub const CLUSTER_TYPE: &str = "Microsoft.DBforPostgreSQL/serverGroupsv2";
pub const ALERT_TYPE: &str = "Microsoft.Insights/activityLogAlerts";
pub const DEPLOYMENT_TYPE: &str = "Microsoft.Resources/deployments";
pub const DIAGNOSTIC_SETTINGS_TYPE: &str = "Microsoft.Insights/diagnosticSettings";
pub const AVAILABILITY_TYPE: &str = "Microsoft.ResourceHealth/availabilityStatuses";

/// The API versions cmk-check reads with.
pub mod api {
    pub const IDENTITY: &str = "2024-11-30";
    pub const KEY_VAULT: &str = "2024-11-01";
    pub const CLUSTER: &str = "2023-03-02-preview";
    pub const ALERTS: &str = "2020-10-01";
    pub const RESOURCE_GRAPH: &str = "2024-04-01";
    pub const DIAGNOSTIC_SETTINGS: &str = "2021-05-01-preview";
    pub const AVAILABILITY: &str = "2023-10-01-preview";
}

/// The RBAC actions a read needs, which Reader grants: named when a read is denied.
pub mod actions {
    pub const READ_IDENTITY: &str = "Microsoft.ManagedIdentity/userAssignedIdentities/read";
    pub const READ_VAULT: &str = "Microsoft.KeyVault/vaults/read";
    pub const READ_KEY: &str = "Microsoft.KeyVault/vaults/keys/read";
    pub const READ_KEY_VERSIONS: &str = "Microsoft.KeyVault/vaults/keys/versions/read";
    pub const READ_ALERTS: &str = "Microsoft.Insights/activityLogAlerts/read";
    pub const READ_CLUSTER: &str = "Microsoft.DBforPostgreSQL/serverGroupsv2/read";
    pub const READ_DIAGNOSTIC_SETTINGS: &str = "Microsoft.Insights/diagnosticSettings/read";
    pub const READ_AVAILABILITY: &str = "Microsoft.ResourceHealth/availabilityStatuses/read";
}

/// Microsoft's pages on the requirements the rules check.
pub mod docs {
    pub const CONCEPTS: &str =
        "https://learn.microsoft.com/azure/cosmos-db/postgresql/concepts-customer-managed-keys";
    pub const HOW_TO: &str =
        "https://learn.microsoft.com/azure/cosmos-db/postgresql/how-to-customer-managed-keys";
    pub const RESOURCE_HEALTH_ALERTS: &str =
        "https://learn.microsoft.com/azure/service-health/resource-health-alert-monitor-guide";
    pub const KEY_TYPES: &str = "https://learn.microsoft.com/azure/key-vault/keys/about-keys";
    pub const SOFT_DELETE: &str =
        "https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview";
    pub const BYOK: &str = "https://learn.microsoft.com/azure/key-vault/keys/byok-specification";
    pub const IMPORT: &str =
        "https://learn.microsoft.com/azure/key-vault/keys/hsm-protected-keys-byok";
    pub const BACKUP: &str = "https://learn.microsoft.com/azure/key-vault/general/backup";
    pub const SECURITY_WORLDS: &str =
        "https://learn.microsoft.com/azure/key-vault/general/overview-security-worlds";
    pub const KEY_VAULT_LOGGING: &str =
        "https://learn.microsoft.com/azure/key-vault/general/logging";
    pub const RESOURCE_HEALTH: &str =
        "https://learn.microsoft.com/azure/service-health/resource-health-overview";
}
