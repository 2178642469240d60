use super::monitoring::{near_misses, why_not, Watched};
use super::{Check, Rule};
use crate::arm;
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK021",
    name: "key-access-not-monitored",
    default_level: Level::Warn,
    summary: "An enabled activity-log alert on the key vault notifies an action group",
    doc: include_str!("../../rules/CMK021.md"),
    url: "https://learn.microsoft.com/azure/cosmos-db/postgresql/concepts-customer-managed-keys",
    // Without alert data an offline run must not fail the gate for monitoring alone.
    unverified_at_own_level: true,
    reads: &[],
    check: Check::State(check),
};

const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let requirement = "that loss of key access will be noticed";
    let vault = match &cx.state.vault {
        Ok(vault) => vault,
        Err(gap) => return vec![gap.unverified(requirement)],
    };
    let alerts = match &cx.state.alerts {
        Ok(alerts) => alerts,
        Err(gap) => return vec![gap.unverified(requirement)],
    };
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
        return Vec::new();
    }
    let group = arm::resource_group_from_id(&vault.id).unwrap_or("<resource-group>");
    vec![Violation::new(
        vault.at(""),
        format!(
            "no enabled activity-log alert on Key Vault `{}` notifies anyone ({})",
            vault.name,
            near_misses(alerts, &watched)
        ),
        "no alert watches this vault",
        format!(
            "az monitor activity-log alert create --name cmk-key-access-{name} --resource-group {group} \
             --scope {id} --condition \"category=Administrative and resourceType={VAULT_TYPE}\" \
             --action-group <action-group-id>\n\
             Bicep: resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {{ name: 'cmk-key-access-{name}', \
             location: 'Global', properties: {{ enabled: true, scopes: [ '{id}' ], condition: {{ allOf: [ \
             {{ field: 'category', equals: 'Administrative' }}, {{ field: 'resourceType', equals: '{VAULT_TYPE}' }} ] }}, \
             actions: {{ actionGroups: [ {{ actionGroupId: actionGroup.id }} ] }} }} }}",
            name = vault.name,
            id = vault.id
        ),
    )]
}
