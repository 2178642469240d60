use serde::Deserialize;
use serde_json::Value;

use super::{unflatten, Body, Moves};

/// `GET /subscriptions/{s}/providers/Microsoft.Insights/activityLogAlerts` item, api-version
/// 2020-10-01; `az monitor activity-log alert list` prints the same with its properties at the
/// top level.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActivityLogAlert {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<AlertProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlertProperties {
    pub scopes: Option<Vec<String>>,
    pub condition: Option<AlertCondition>,
    pub actions: Option<AlertActions>,
    /// Absent means enabled: the API's default.
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertCondition {
    pub all_of: Option<Vec<ConditionLeaf>>,
}

/// One test of an event, or (with `anyOf`) a group of which one must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionLeaf {
    pub field: Option<String>,
    pub equals: Option<String>,
    pub contains_any: Option<Vec<String>>,
    pub any_of: Option<Vec<ConditionLeaf>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertActions {
    pub action_groups: Option<Vec<ActionGroupRef>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionGroupRef {
    pub action_group_id: Option<String>,
}

impl ActivityLogAlert {
    pub fn enabled(&self) -> bool {
        self.properties
            .as_ref()
            .and_then(|p| p.enabled)
            .unwrap_or(true)
    }

    pub fn scopes(&self) -> &[String] {
        self.properties
            .as_ref()
            .and_then(|p| p.scopes.as_deref())
            .unwrap_or_default()
    }

    pub fn conditions(&self) -> &[ConditionLeaf] {
        self.properties
            .as_ref()
            .and_then(|p| p.condition.as_ref())
            .and_then(|c| c.all_of.as_deref())
            .unwrap_or_default()
    }

    pub fn notifies(&self) -> bool {
        self.properties
            .as_ref()
            .and_then(|p| p.actions.as_ref())
            .and_then(|a| a.action_groups.as_ref())
            .is_some_and(|groups| {
                groups.iter().any(|g| {
                    g.action_group_id
                        .as_deref()
                        .is_some_and(|id| !id.trim().is_empty())
                })
            })
    }
}

impl Body for ActivityLogAlert {
    fn arm_shape(body: &Value) -> Option<(Value, Moves)> {
        unflatten(body, &["scopes", "condition", "actions", "enabled"])
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl ConditionLeaf {
    /// The values this leaf accepts for its field.
    pub fn values(&self) -> Vec<&str> {
        let mut values: Vec<&str> = self.equals.iter().map(String::as_str).collect();
        values.extend(self.contains_any.iter().flatten().map(String::as_str));
        values
    }
}
