use crate::azure::{docs, id, IDENTITY_TYPE};
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK001",
    name: "identity-not-user-assigned",
    default_level: Level::Deny,
    summary: "The identity is a user-assigned managed identity",
    doc: include_str!("../../rules/CMK001.md"),
    url: docs::HOW_TO,
    reads: &[
        Property(Subject::Identity, "/type"),
        Property(Subject::Identity, "/id"),
        Property(Subject::Cluster, "/identity/type"),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let mut found = Vec::new();
    match cx.identity("that the identity is user-assigned") {
        Err(unverified) => found.push(unverified),
        Ok(identity) => {
            let (kind, pointer) = match &identity.body.resource_type {
                Some(kind) => (Some(kind.clone()), "/type"),
                None => (
                    identity.body.id.as_deref().and_then(id::type_from_id),
                    "/id",
                ),
            };
            match kind {
                None => found.push(
                    Violation::at(identity.at("/type"))
                        .unverified()
                        .message(format!("could not verify that identity `{}` is user-assigned: its body has neither `type` nor `id`", identity.name))
                        .label(format!("must be `{IDENTITY_TYPE}`"))
                        .help("record the whole body ARM returns: `az identity show --ids <identity-id>`"),
                ),
                Some(kind) if !kind.eq_ignore_ascii_case(IDENTITY_TYPE) => found.push(
                    Violation::at(identity.at(pointer))
                        .message(format!("identity `{}` is a `{kind}`, not a user-assigned managed identity", identity.name))
                        .label(format!("must be `{IDENTITY_TYPE}`"))
                        .help("create a user-assigned identity in the cluster's region, then give its resource ID to the cluster")
                        .fix(Fix::Replace(vec![
                            "az identity create --name <identity> --resource-group <resource-group> --location <region>".to_string(),
                        ])),
                ),
                Some(_) => {}
            }
        }
    }
    let cluster = match cx.cluster("the cluster's identity type") {
        Ok(cluster) => cluster,
        Err(unverified) => {
            found.push(unverified);
            None
        }
    };
    if let Some(cluster) = cluster {
        // An existing cluster without CMK is CMK018's business, not a wrong identity.
        if cluster.body.exists() && !cluster.body.uses_customer_managed_key() {
            return Ok(found);
        }
        let fix = Fix::Edit(
            "\"identity\": {\"type\": \"UserAssigned\", \"userAssignedIdentities\": {\"<identity-id>\": {}}}"
                .to_string(),
        );
        let kind = cluster
            .body
            .identity
            .as_ref()
            .and_then(|i| i.identity_type.as_deref());
        let message = match kind {
            Some(kind) if kind.eq_ignore_ascii_case("UserAssigned") => return Ok(found),
            Some(kind) => format!("cluster `{}` has identity type `{kind}`; customer-managed-key encryption needs a user-assigned identity", cluster.name),
            None => format!("cluster `{}` has no user-assigned identity", cluster.name),
        };
        found.push(
            Violation::at(cluster.at("/identity/type"))
                .message(message)
                .label("must be `UserAssigned`")
                .help("give the cluster the identity")
                .fix(fix),
        );
    }
    Ok(found)
}
