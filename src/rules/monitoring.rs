//! Whether an activity-log alert would fire for a resource's events and tell someone: shared by
//! CMK021 (the key vault) and CMK022 (the cluster).

use crate::azure::id;
use crate::model::alert::ConditionLeaf;
use crate::model::ActivityLogAlert;
use crate::state::Resource;

/// The events an alert must catch: those of one resource, in one category.
pub(super) struct Watched<'a> {
    pub id: &'a str,
    pub resource_type: &'a str,
    pub category: &'a str,
    /// Must a condition name the resource (by ID, type or provider), or may it cover a whole
    /// category of a scope?
    pub must_name_resource: bool,
}

/// `None` when the alert covers the events; otherwise why not, in a few words.
pub(super) fn why_not(alert: &ActivityLogAlert, watched: &Watched<'_>) -> Option<String> {
    if !scoped_to(alert, watched) {
        return Some("is scoped elsewhere".to_string());
    }
    if !alert.enabled() {
        return Some("is disabled".to_string());
    }
    let conditions = alert.conditions();
    if let Some(leaf) = conditions.iter().find(|leaf| !accepts(leaf, watched)) {
        return Some(match leaf.field.as_deref() {
            Some(field) => format!("has a condition on `{field}` that excludes it"),
            None => "has an `anyOf` condition that excludes it".to_string(),
        });
    }
    if watched.category.eq_ignore_ascii_case("ResourceHealth")
        && !conditions.iter().any(|l| names(l, "category"))
    {
        return Some("does not select the `ResourceHealth` category".to_string());
    }
    if watched.must_name_resource && !conditions.iter().any(|l| selects_resource(l, watched)) {
        return Some("selects no resource by ID, type or provider".to_string());
    }
    if !alert.notifies() {
        return Some("notifies no action group".to_string());
    }
    None
}

/// Near misses named at most; a subscription may hold hundreds of alerts.
const NAMED: usize = 5;

/// A finding's help: why each alert falls short, those scoped to the resource first; past a
/// few, the rest are counted.
pub(super) fn near_misses(alerts: &[Resource<ActivityLogAlert>], watched: &Watched<'_>) -> String {
    if alerts.is_empty() {
        return "no activity-log alert exists in the subscription".to_string();
    }
    let (scoped, elsewhere): (Vec<_>, Vec<_>) = alerts
        .iter()
        .partition(|alert| scoped_to(&alert.body, watched));
    let misses: Vec<String> = scoped
        .iter()
        .chain(&elsewhere)
        .filter_map(|alert| {
            why_not(&alert.body, watched).map(|why| format!("alert `{}` {why}", alert.name))
        })
        .collect();
    if misses.len() <= NAMED {
        return misses.join("; ");
    }
    let in_scope = misses.len() - elsewhere.len();
    let mut said: Vec<String> = misses.into_iter().take(NAMED).collect();
    if in_scope > NAMED {
        said.push(format!("{} more fall short", in_scope - NAMED));
    }
    match elsewhere.len() - NAMED.saturating_sub(in_scope) {
        0 => {}
        1 => said.push("1 more is scoped elsewhere".to_string()),
        n => said.push(format!("{n} more are scoped elsewhere")),
    }
    said.join("; ")
}

fn scoped_to(alert: &ActivityLogAlert, watched: &Watched<'_>) -> bool {
    alert
        .scopes()
        .iter()
        .any(|scope| in_scope(scope, watched.id))
}

/// A scope covers the resource itself, its resource group or its subscription. ARM writes
/// scopes with or without the leading `/`.
fn in_scope(scope: &str, resource: &str) -> bool {
    let scope = scope.trim().trim_matches('/').to_ascii_lowercase();
    let id = resource.trim().trim_matches('/').to_ascii_lowercase();
    !scope.is_empty() && (id == scope || id.starts_with(&format!("{scope}/")))
}

fn names(leaf: &ConditionLeaf, field: &str) -> bool {
    leaf.field
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case(field))
}

/// What an event of the watched resource says in `field`; `None` for fields it does not
/// decide (level, status, operationName...), which cmk-check does not hold against an alert.
fn event_value(field: &str, watched: &Watched<'_>) -> Option<String> {
    let provider = watched.resource_type.split('/').next().unwrap_or_default();
    match field.to_ascii_lowercase().as_str() {
        "resourceid" => Some(watched.id.to_string()),
        "resourcetype" => Some(watched.resource_type.to_string()),
        "resourceprovider" => Some(provider.to_string()),
        "resourcegroup" => id::resource_group_from_id(watched.id).map(str::to_string),
        "category" => Some(watched.category.to_string()),
        _ => None,
    }
}

/// Whether the leaf lets the watched resource's events through.
fn accepts(leaf: &ConditionLeaf, watched: &Watched<'_>) -> bool {
    if let Some(group) = &leaf.any_of {
        return group.is_empty() || group.iter().any(|member| accepts(member, watched));
    }
    let Some(field) = leaf.field.as_deref() else {
        return true;
    };
    match event_value(field, watched) {
        None => true,
        Some(value) => leaf.values().iter().any(|v| same_value(field, v, &value)),
    }
}

/// Whether the leaf picks the resource out by ID, type or provider (not merely lets it through).
/// An `anyOf` group does when every member names resources and one of them is the watched one:
/// Azure fires for any member that matches.
fn selects_resource(leaf: &ConditionLeaf, watched: &Watched<'_>) -> bool {
    if let Some(group) = &leaf.any_of {
        return !group.is_empty()
            && group.iter().all(names_resources)
            && group.iter().any(|member| selects_resource(member, watched));
    }
    names_resources(leaf) && accepts(leaf, watched)
}

fn names_resources(leaf: &ConditionLeaf) -> bool {
    if let Some(group) = &leaf.any_of {
        return !group.is_empty() && group.iter().all(names_resources);
    }
    leaf.field.as_deref().is_some_and(|field| {
        ["resourceId", "resourceType", "resourceProvider"]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(field))
    })
}

fn same_value(field: &str, expected: &str, actual: &str) -> bool {
    if field.eq_ignore_ascii_case("resourceId") {
        id::same_id(expected, actual)
    } else {
        expected.trim().eq_ignore_ascii_case(actual.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::SourceDoc;

    fn alert(name: &str, scope: &str, enabled: bool) -> Resource<ActivityLogAlert> {
        let body = serde_json::json!({
            "id": format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/activityLogAlerts/{name}"),
            "name": name,
            "properties": {"enabled": enabled, "scopes": [scope], "condition": {"allOf": [{"field": "category", "equals": "ResourceHealth"}]}},
        });
        let doc = SourceDoc::fetched("alert", body.to_string());
        Resource::read(&body, &doc, "", name).unwrap_or_else(|flaw| unreachable!("{flaw:?}"))
    }

    #[test]
    fn many_alerts_are_named_a_few_and_counted() {
        let cluster = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/serverGroupsv2/c";
        let watched = Watched {
            id: cluster,
            resource_type: "Microsoft.DBforPostgreSQL/serverGroupsv2",
            category: "ResourceHealth",
            must_name_resource: false,
        };
        let mut alerts: Vec<_> = (0..12)
            .map(|i| {
                alert(
                    &format!("other-{i}"),
                    "/subscriptions/s/resourceGroups/other",
                    true,
                )
            })
            .collect();
        alerts.extend((0..7).map(|i| {
            alert(
                &format!("off-{i}"),
                "/subscriptions/s/resourceGroups/rg",
                false,
            )
        }));
        let said = near_misses(&alerts, &watched);
        assert!(said.starts_with("alert `off-0` is disabled; "), "{said}");
        assert!(
            said.ends_with("; 2 more fall short; 12 more are scoped elsewhere"),
            "{said}"
        );
        assert!(!said.contains("other-"), "{said}");

        let few = near_misses(&alerts[10..14], &watched);
        assert_eq!(few, "alert `off-0` is disabled; alert `off-1` is disabled; alert `other-10` is scoped elsewhere; alert `other-11` is scoped elsewhere");
        let elsewhere = near_misses(&alerts[..8], &watched);
        assert!(
            elsewhere.ends_with("alert `other-4` is scoped elsewhere; 3 more are scoped elsewhere"),
            "{elsewhere}"
        );
        assert_eq!(
            near_misses(&[], &watched),
            "no activity-log alert exists in the subscription"
        );
    }

    #[test]
    fn scopes_with_or_without_leading_slash() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
        assert!(in_scope("subscriptions/s", id));
        assert!(in_scope("/subscriptions/S/resourcegroups/RG", id));
        assert!(in_scope(id, id));
        assert!(!in_scope("/subscriptions/s/resourceGroups/rg2", id));
        assert!(!in_scope("/subscriptions/s2", id));
        assert!(!in_scope("", id));
    }
}
