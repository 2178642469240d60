use super::monitoring::{near_misses, why_not, Watched};
use super::{Check, Rule};
use crate::arm;
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK022",
    name: "cluster-health-not-monitored",
    default_level: Level::Warn,
    summary: "An enabled Resource Health alert on the cluster notifies an action group",
    doc: include_str!("../../rules/CMK022.md"),
    url: "https://learn.microsoft.com/azure/service-health/resource-health-alert-monitor-guide",
    // Without alert data an offline run must not fail the gate for monitoring alone.
    unverified_at_own_level: true,
    reads: &[],
    check: Check::State(check),
};

const CLUSTER_TYPE: &str = "Microsoft.DBforPostgreSQL/serverGroupsv2";

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let requirement = "that the cluster turning inaccessible will be noticed";
    let cluster = match &cx.state.cluster {
        Ok(Some(cluster)) => cluster,
        // No cluster body: a planned cluster known only by its key and identity.
        Ok(None) => return Vec::new(),
        Err(gap) => return vec![gap.unverified(requirement)],
    };
    if arm::resource_group_from_id(&cluster.id).is_none() {
        return vec![Violation::unverified(
            cluster.at("/id"),
            format!(
                "could not verify {requirement}: where cluster `{}` will be created is not known",
                cluster.name
            ),
            "the cluster's resource ID",
            "give the cluster body its `id` (/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.DBforPostgreSQL/serverGroupsv2/<name>), or check the template that creates it",
        )];
    }
    let alerts = match &cx.state.alerts {
        Ok(alerts) => alerts,
        Err(gap) => return vec![gap.unverified(requirement)],
    };
    let watched = Watched {
        id: &cluster.id,
        resource_type: CLUSTER_TYPE,
        category: "ResourceHealth",
        must_name_resource: false,
    };
    if alerts
        .iter()
        .any(|alert| why_not(&alert.body, &watched).is_none())
    {
        return Vec::new();
    }
    let group = arm::resource_group_from_id(&cluster.id).unwrap_or("<resource-group>");
    let scope = cluster
        .id
        .rsplit_once("/providers/")
        .map_or(cluster.id.as_str(), |(rg, _)| rg);
    vec![Violation::new(
        cluster.at(""),
        format!(
            "no enabled Resource Health alert on cluster `{}` notifies anyone ({})",
            cluster.name,
            near_misses(alerts, &watched)
        ),
        "no alert watches this cluster's health",
        format!(
            "az monitor activity-log alert create --name cmk-cluster-health-{name} --resource-group {group} \
             --scope {scope} --condition \"category=ResourceHealth and resourceType={CLUSTER_TYPE}\" \
             --action-group <action-group-id>\n\
             Bicep: resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {{ name: 'cmk-cluster-health-{name}', \
             location: 'Global', properties: {{ enabled: true, scopes: [ resourceGroup().id ], condition: {{ allOf: [ \
             {{ field: 'category', equals: 'ResourceHealth' }}, {{ field: 'resourceType', equals: '{CLUSTER_TYPE}' }} ] }}, \
             actions: {{ actionGroups: [ {{ actionGroupId: actionGroup.id }} ] }} }} }}",
            name = cluster.name
        ),
    )]
}
