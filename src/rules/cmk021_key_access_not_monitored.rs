use super::monitoring::{near_misses, why_not, Watched};
use crate::azure::{docs, id, VAULT_TYPE};
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK021",
    name: "key-access-not-monitored",
    default_level: Level::Warn,
    summary: "An enabled activity-log alert on the key vault notifies an action group",
    doc: include_str!("../../rules/CMK021.md"),
    url: docs::CONCEPTS,
    reads: &[
        Property(Subject::Vault, "/id"),
        Property(Subject::Alerts, ""),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "that loss of key access will be noticed";
    let vault = cx.vault(requirement)?;
    let alerts = cx.alerts(requirement)?;
    let watched = Watched {
        id: &vault.id,
        resource_type: VAULT_TYPE,
        category: "Administrative",
        must_name_resource: true,
    };
    if alerts
        .iter()
        .any(|alert| why_not(&alert.body, &watched).is_none())
    {
        return Ok(Vec::new());
    }
    let group = id::resource_group_from_id(&vault.id).unwrap_or("<resource-group>");
    let name = &vault.name;
    let vault_id = &vault.id;
    let bicep = format!(
        "resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {{ name: 'cmk-key-access-{name}', location: 'Global', properties: {{ enabled: true, scopes: [ '{vault_id}' ], condition: {{ allOf: [ {{ field: 'category', equals: 'Administrative' }}, {{ field: 'resourceType', equals: '{VAULT_TYPE}' }} ] }}, actions: {{ actionGroups: [ {{ actionGroupId: actionGroup.id }} ] }} }} }}"
    );
    let fix = match vault.declared {
        Some(_) => Fix::Edit(bicep),
        None => Fix::InPlace(vec![format!(
            "az monitor activity-log alert create --name cmk-key-access-{name} --resource-group {group} --scope {vault_id} --condition \"category=Administrative and resourceType={VAULT_TYPE}\" --action-group <action-group-id>"
        )]),
    };
    Ok(vec![Violation::at(vault.at(""))
        .message(format!(
            "no enabled activity-log alert on Key Vault `{}` notifies anyone ({})",
            vault.name,
            near_misses(alerts, &watched)
        ))
        .label("no alert watches this vault")
        .help(if vault.declared.is_some() {
            "declare an alert (Bicep):"
        } else {
            ""
        })
        .fix(fix)])
}
