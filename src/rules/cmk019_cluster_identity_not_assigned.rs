use super::{Check, Read, Rule, Subject, HOW_TO_URL};
use crate::arm;
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK019",
    name: "cluster-identity-not-assigned",
    default_level: Level::Deny,
    summary: "The identity named by dataEncryption is assigned to the cluster",
    doc: include_str!("../../rules/CMK019.md"),
    url: HOW_TO_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(
            Subject::Cluster,
            "/properties/dataEncryption/primaryUserAssignedIdentityId",
        ),
        Read(Subject::Cluster, "/identity/userAssignedIdentities"),
    ],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let cluster = match &cx.state.cluster {
        Ok(Some(cluster)) if cluster.body.uses_customer_managed_key() => cluster,
        Ok(_) => return Vec::new(),
        Err(gap) => return vec![gap.unverified("that the cluster holds its key's identity")],
    };
    let primary = cluster
        .body
        .data_encryption()
        .and_then(|d| d.primary_user_assigned_identity_id.as_deref());
    let Some(primary) = primary else {
        return vec![Violation::new(
            cluster.at("/properties/dataEncryption/primaryUserAssignedIdentityId"),
            format!("cluster `{}` uses a customer-managed key but names no identity to reach it", cluster.name),
            "must be the resource ID of a user-assigned identity of the cluster",
            "set `properties.dataEncryption.primaryUserAssignedIdentityId` to the identity's resource ID",
        )];
    };
    let assigned = cluster
        .body
        .identity
        .as_ref()
        .and_then(|i| i.user_assigned_identities.as_ref());
    let is_assigned = assigned.is_some_and(|ids| ids.keys().any(|id| arm::same_id(id, primary)));
    if is_assigned {
        return Vec::new();
    }
    vec![Violation::new(
        cluster.at("/properties/dataEncryption/primaryUserAssignedIdentityId"),
        format!(
            "cluster `{}` reaches its key through identity `{}`, which is not assigned to the cluster",
            cluster.name,
            arm::name_from_id(primary)
        ),
        "must be one of the keys of `identity.userAssignedIdentities`",
        format!("add it: `\"identity\": {{\"type\": \"UserAssigned\", \"userAssignedIdentities\": {{\"{primary}\": {{}}}}}}`"),
    )]
}
