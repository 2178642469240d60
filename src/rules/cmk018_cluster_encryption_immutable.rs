use super::{Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::arm;
use crate::engine::{Context, Level, Violation};
use crate::keyuri::KeyUri;

pub static RULE: Rule = Rule {
    code: "CMK018",
    name: "cluster-encryption-immutable",
    default_level: Level::Deny,
    summary:
        "An existing cluster is not switched to, or moved between, customer-managed keys in place",
    doc: include_str!("../../rules/CMK018.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(Subject::Cluster, "/properties/dataEncryption"),
        Read(Subject::Identity, "/id"),
    ],
    check: Check::State(check),
};

const RESTORE_HELP: &str = "encryption is chosen when a cluster is created: restore it to a new cluster with the \
     encryption you want (PUT serverGroupsv2 with `sourceResourceId`, `sourceLocation`, `pointInTimeUTC`, \
     `identity` and `dataEncryption`), then move clients to it";

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let cluster = match &cx.state.cluster {
        Ok(Some(cluster)) if cluster.body.exists() => cluster,
        Ok(_) => return Vec::new(),
        Err(gap) => return vec![gap.unverified("whether the cluster's encryption can change")],
    };
    let Ok(target) = &cx.state.key_uri else {
        return Vec::new();
    };
    let current = cluster.body.data_encryption();
    if !cluster.body.uses_customer_managed_key() {
        let kind = current
            .and_then(|d| d.encryption_type.as_deref())
            .unwrap_or("service-managed keys");
        return vec![Violation::new(
            cluster.at("/properties/dataEncryption/type"),
            format!(
                "cluster `{}` already exists with `{kind}` encryption; it cannot switch to a customer-managed key in place",
                cluster.name
            ),
            "fixed when the cluster was created",
            RESTORE_HELP,
        )];
    }
    let mut found = Vec::new();
    let current_key = current.and_then(|d| d.primary_key_uri.as_deref());
    if let Some(current_key) = current_key {
        // A new version of the same key is a rotation, which the service allows.
        let same_key = match (KeyUri::parse(current_key), KeyUri::parse(&target.value)) {
            (Ok(a), Ok(b)) => a.same_key(&b),
            _ => current_key.eq_ignore_ascii_case(&target.value),
        };
        if !same_key {
            found.push(Violation::new(
                cluster.at("/properties/dataEncryption/primaryKeyUri"),
                format!(
                    "cluster `{}` is encrypted with `{current_key}`; it cannot move to `{}` in place",
                    cluster.name, target.value
                ),
                "fixed when the cluster was created (only a new version of this key may replace it)",
                RESTORE_HELP,
            ));
        }
    }
    let current_identity = current.and_then(|d| d.primary_user_assigned_identity_id.as_deref());
    if let (Some(current_identity), Ok(identity)) = (current_identity, &cx.state.identity) {
        if !arm::same_id(current_identity, &identity.id) {
            found.push(Violation::new(
                cluster.at("/properties/dataEncryption/primaryUserAssignedIdentityId"),
                format!(
                    "cluster `{}` reaches its key through identity `{}`; it cannot switch to `{}` in place",
                    cluster.name,
                    arm::name_from_id(current_identity),
                    identity.name
                ),
                "fixed when the cluster was created",
                RESTORE_HELP,
            ));
        }
    }
    found
}
