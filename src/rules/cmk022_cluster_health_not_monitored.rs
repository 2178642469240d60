use super::monitoring::{near_misses, why_not, Watched};
use crate::azure::{docs, id, CLUSTER_TYPE};
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK022",
    name: "cluster-health-not-monitored",
    default_level: Level::Warn,
    summary: "An enabled Resource Health alert on the cluster notifies an action group",
    doc: include_str!("../../rules/CMK022.md"),
    url: docs::RESOURCE_HEALTH_ALERTS,
    reads: &[
        Property(Subject::Cluster, "/id"),
        Property(Subject::Alerts, ""),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "that the cluster turning inaccessible will be noticed";
    // No cluster body: a planned cluster known only by its key and identity.
    let Some(cluster) = cx.cluster(requirement)? else {
        return Ok(Vec::new());
    };
    let Some(group) = id::resource_group_from_id(&cluster.id) else {
        return Err(Violation::at(cluster.at("/id"))
            .unverified()
            .message(format!(
                "could not verify {requirement}: where cluster `{}` will be created is not known",
                cluster.name
            ))
            .label("the cluster's resource ID")
            .help("give the cluster body its `id` (/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.DBforPostgreSQL/serverGroupsv2/<name>), or check the template that creates it"));
    };
    let alerts = cx.alerts(requirement)?;
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
        return Ok(Vec::new());
    }
    let scope = cluster
        .id
        .rsplit_once("/providers/")
        .map_or(cluster.id.as_str(), |(rg, _)| rg);
    let name = &cluster.name;
    let fix = match cluster.declared {
        Some(_) => Fix::Edit(format!(
            "resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {{ name: 'cmk-cluster-health-{name}', location: 'Global', properties: {{ enabled: true, scopes: [ resourceGroup().id ], condition: {{ allOf: [ {{ field: 'category', equals: 'ResourceHealth' }}, {{ field: 'resourceType', equals: '{CLUSTER_TYPE}' }} ] }}, actions: {{ actionGroups: [ {{ actionGroupId: actionGroup.id }} ] }} }} }}"
        )),
        None => Fix::InPlace(vec![format!(
            "az monitor activity-log alert create --name cmk-cluster-health-{name} --resource-group {group} --scope {scope} --condition \"category=ResourceHealth and resourceType={CLUSTER_TYPE}\" --action-group <action-group-id>"
        )]),
    };
    Ok(vec![Violation::at(cluster.at(""))
        .message(format!(
            "no enabled Resource Health alert on cluster `{}` notifies anyone ({})",
            cluster.name,
            near_misses(alerts, &watched)
        ))
        .label("no alert watches this cluster's health")
        .help(if cluster.declared.is_some() {
            "declare an alert (Bicep):"
        } else {
            ""
        })
        .fix(fix)])
}
