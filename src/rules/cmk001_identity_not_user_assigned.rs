use super::{Check, Read, Rule, Subject, HOW_TO_URL};
use crate::arm;
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK001",
    name: "identity-not-user-assigned",
    default_level: Level::Deny,
    summary: "The identity is a user-assigned managed identity",
    doc: include_str!("../../rules/CMK001.md"),
    url: HOW_TO_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(Subject::Identity, "/type"),
        Read(Subject::Cluster, "/identity/type"),
    ],
    check: Check::State(check),
};

const USER_ASSIGNED: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    match &cx.state.identity {
        Err(gap) => found.push(gap.unverified("that the identity is user-assigned")),
        Ok(identity) => {
            let (kind, pointer) = match &identity.body.resource_type {
                Some(kind) => (Some(kind.clone()), "/type"),
                None => (
                    identity.body.id.as_deref().and_then(arm::type_from_id),
                    "/id",
                ),
            };
            match kind {
                None => found.push(Violation::unverified(
                    identity.at("/type"),
                    format!("could not verify that identity `{}` is user-assigned: its body has neither `type` nor `id`", identity.name),
                    format!("must be `{USER_ASSIGNED}`"),
                    "record the whole body ARM returns: `az identity show --ids <identity-id>`",
                )),
                Some(kind) if !kind.eq_ignore_ascii_case(USER_ASSIGNED) => found.push(Violation::new(
                    identity.at(pointer),
                    format!("identity `{}` is a `{kind}`, not a user-assigned managed identity", identity.name),
                    format!("must be `{USER_ASSIGNED}`"),
                    "create a user-assigned identity in the cluster's region: `az identity create --name <identity> --resource-group <resource-group> --location <region>`",
                )),
                Some(_) => {}
            }
        }
    }
    let cluster = match &cx.state.cluster {
        Ok(cluster) => cluster.as_ref(),
        Err(gap) => {
            found.push(gap.unverified("the cluster's identity type"));
            None
        }
    };
    if let Some(cluster) = cluster {
        // An existing cluster without CMK is CMK018's business, not a wrong identity.
        if cluster.body.exists() && !cluster.body.uses_customer_managed_key() {
            return found;
        }
        let help = "give the cluster the identity: `\"identity\": {\"type\": \"UserAssigned\", \"userAssignedIdentities\": {\"<identity-id>\": {}}}`";
        match cluster.body.identity.as_ref().and_then(|i| i.identity_type.as_deref()) {
            Some(kind) if kind.eq_ignore_ascii_case("UserAssigned") => {}
            Some(kind) => found.push(Violation::new(
                cluster.at("/identity/type"),
                format!("cluster `{}` has identity type `{kind}`; customer-managed-key encryption needs a user-assigned identity", cluster.name),
                "must be `UserAssigned`",
                help,
            )),
            None => found.push(Violation::new(
                cluster.at("/identity/type"),
                format!("cluster `{}` has no user-assigned identity", cluster.name),
                "must be `UserAssigned`",
                help,
            )),
        }
    }
    found
}
