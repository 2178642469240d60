//! `azurerm_monitor_activity_log_alert` as the ARM activity-log alert the monitoring rules read.

use serde_json::{json, Value};

use super::plan::Instance;
use super::resources::same;
use super::shaped::Shaped;
use super::values::{Builder, Expect, Leaf};
use crate::azure::ALERT_TYPE;
use crate::model::ActivityLogAlert;
use crate::state::{Resource, Section};

/// `azurerm_monitor_activity_log_alert`'s `criteria` and the condition field each one tests.
const CRITERIA: [(&str, &str, bool); 16] = [
    ("category", "category", false),
    ("operation_name", "operationName", false),
    ("resource_provider", "resourceProvider", false),
    ("resource_type", "resourceType", false),
    ("resource_group", "resourceGroup", false),
    ("resource_id", "resourceId", false),
    ("level", "level", false),
    ("status", "status", false),
    ("sub_status", "subStatus", false),
    ("caller", "caller", false),
    ("resource_providers", "resourceProvider", true),
    ("resource_types", "resourceType", true),
    ("resource_groups", "resourceGroup", true),
    ("resource_ids", "resourceId", true),
    ("levels", "level", true),
    ("statuses", "status", true),
];

impl<'p> Builder<'p> {
    pub(super) fn alert(&self, instance: &Instance<'p>) -> Section<Resource<ActivityLogAlert>> {
        let mut shaped = Shaped::new(self, instance, ALERT_TYPE);
        if instance.kind == "azapi_resource" {
            self.azapi_body(&mut shaped);
            return shaped.finish();
        }
        shaped.map(
            "/properties/enabled",
            &["enabled"],
            Expect::Any,
            same,
            Some(json!(true)),
        );
        let scopes = instance
            .values
            .get("scopes")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let unknown_scopes = instance
            .change
            .as_ref()
            .and_then(|c| c.after_unknown.get("scopes"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut known = Vec::new();
        for i in 0..scopes.max(unknown_scopes) {
            let index = i.to_string();
            if let Some(scope) = shaped.map(
                &format!("/properties/scopes/{i}"),
                &["scopes", &index],
                Expect::Id,
                same,
                None,
            ) {
                known.push(scope);
            }
        }
        shaped.set("/properties/scopes", Value::Array(known));
        let mut conditions = Vec::new();
        for (attribute, field, many) in CRITERIA {
            let path = ["criteria", "0", attribute];
            let at = format!("/properties/condition/allOf/{}", conditions.len());
            let pointer = format!("{at}/{}", if many { "containsAny" } else { "equals" });
            let expect = if field == "resourceId" {
                Expect::Id
            } else {
                Expect::Any
            };
            let before = shaped.unknown.len();
            let value = match shaped.builder.leaf(instance, &path, expect) {
                Leaf::Known(Value::Array(items)) if many && items.is_empty() => continue,
                Leaf::Absent => continue,
                _ => shaped.map(&pointer, &path, expect, same, None),
            };
            if shaped.unknown.len() > before {
                shaped.set(&format!("{at}/field"), json!(field));
                conditions.push(json!({ "field": field }));
                continue;
            }
            let Some(value) = value else { continue };
            shaped.written_at(&at, &path);
            let key = if many { "containsAny" } else { "equals" };
            conditions.push(json!({ "field": field, key: value }));
        }
        shaped.set("/properties/condition/allOf", Value::Array(conditions));
        let actions = instance
            .values
            .get("action")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut groups = Vec::new();
        for i in 0..actions {
            let index = i.to_string();
            let pointer = format!("/properties/actions/actionGroups/{i}/actionGroupId");
            if let Some(id) = shaped.map(
                &pointer,
                &["action", &index, "action_group_id"],
                Expect::Id,
                same,
                None,
            ) {
                groups.push(json!({ "actionGroupId": id }));
            }
        }
        shaped.set("/properties/actions/actionGroups", Value::Array(groups));
        shaped.finish()
    }
}
