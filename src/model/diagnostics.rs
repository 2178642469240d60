use serde::Deserialize;

use super::Body;

/// `GET {resource}/providers/Microsoft.Insights/diagnosticSettings` item, api-version
/// 2021-05-01-preview.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DiagnosticSetting {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<DiagnosticProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticProperties {
    pub workspace_id: Option<String>,
    pub storage_account_id: Option<String>,
    pub event_hub_authorization_rule_id: Option<String>,
    pub logs: Option<Vec<LogSetting>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogSetting {
    pub category: Option<String>,
    pub category_group: Option<String>,
    pub enabled: Option<bool>,
}

/// The Key Vault log category that records data-plane operations on keys.
pub const AUDIT_CATEGORY: &str = "AuditEvent";
/// The category groups that include `AuditEvent`.
pub const AUDIT_GROUPS: [&str; 2] = ["audit", "allLogs"];

impl DiagnosticSetting {
    /// Whether an enabled log entry selects the vault's `AuditEvent` category.
    pub fn sends_audit_events(&self) -> bool {
        self.properties
            .as_ref()
            .and_then(|p| p.logs.as_deref())
            .unwrap_or_default()
            .iter()
            .filter(|log| log.enabled == Some(true))
            .any(|log| {
                log.category
                    .as_deref()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case(AUDIT_CATEGORY))
                    || log.category_group.as_deref().is_some_and(|g| {
                        AUDIT_GROUPS
                            .iter()
                            .any(|a| g.trim().eq_ignore_ascii_case(a))
                    })
            })
    }

    /// Whether the setting names somewhere for the logs to go. ARM writes an empty string for
    /// a destination that is not set.
    pub fn has_destination(&self) -> bool {
        self.properties.as_ref().is_some_and(|p| {
            [
                &p.workspace_id,
                &p.storage_account_id,
                &p.event_hub_authorization_rule_id,
            ]
            .iter()
            .any(|d| d.as_deref().is_some_and(|d| !d.trim().is_empty()))
        })
    }
}

impl Body for DiagnosticSetting {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
