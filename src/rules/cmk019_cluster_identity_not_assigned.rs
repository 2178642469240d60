use crate::azure::{docs, id};
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK019",
    name: "cluster-identity-not-assigned",
    default_level: Level::Deny,
    summary: "The identity named by dataEncryption is assigned to the cluster",
    doc: include_str!("../../rules/CMK019.md"),
    url: docs::HOW_TO,
    reads: &[
        Property(
            Subject::Cluster,
            "/properties/dataEncryption/primaryUserAssignedIdentityId",
        ),
        Property(Subject::Cluster, "/identity/userAssignedIdentities"),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let cluster = match cx.cluster("that the cluster holds its key's identity")? {
        Some(cluster) if cluster.body.uses_customer_managed_key() => cluster,
        _ => return Ok(Vec::new()),
    };
    let pointer = "/properties/dataEncryption/primaryUserAssignedIdentityId";
    let primary = cluster
        .body
        .data_encryption()
        .and_then(|d| d.primary_user_assigned_identity_id.as_deref());
    let Some(primary) = primary else {
        return Ok(vec![Violation::at(cluster.at(pointer))
            .message(format!(
                "cluster `{}` uses a customer-managed key but names no identity to reach it",
                cluster.name
            ))
            .label("must be the resource ID of a user-assigned identity of the cluster")
            .fix(Fix::Edit(
                "\"dataEncryption\": {\"primaryUserAssignedIdentityId\": \"<identity-id>\"}"
                    .to_string(),
            ))]);
    };
    let assigned = cluster
        .body
        .identity
        .as_ref()
        .and_then(|i| i.user_assigned_identities.as_ref());
    if assigned.is_some_and(|ids| ids.keys().any(|id| id::same_id(id, primary))) {
        return Ok(Vec::new());
    }
    Ok(vec![Violation::at(cluster.at(pointer))
        .message(format!(
            "cluster `{}` reaches its key through identity `{}`, which is not assigned to the cluster",
            cluster.name,
            id::name_from_id(primary)
        ))
        .label("must be one of the keys of `identity.userAssignedIdentities`")
        .help("assign it to the cluster")
        .fix(Fix::Edit(format!(
            "\"identity\": {{\"type\": \"UserAssigned\", \"userAssignedIdentities\": {{\"{primary}\": {{}}}}}}"
        )))])
}
