use crate::azure::keyuri::KeyUri;
use crate::azure::{docs, id};
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK018",
    name: "cluster-encryption-immutable",
    default_level: Level::Deny,
    summary:
        "An existing cluster is not switched to, or moved between, customer-managed keys in place",
    doc: include_str!("../../rules/CMK018.md"),
    url: docs::CONCEPTS,
    reads: &[
        Property(Subject::Cluster, "/properties/dataEncryption"),
        Property(Subject::Identity, "/id"),
    ],
    breakable_in: &[Input::Snapshot],
    check: Check::State(check),
};

const RESTORE_HELP: &str = "encryption is chosen when a cluster is created: restore it to a new cluster with the \
     encryption you want (PUT serverGroupsv2 with `sourceResourceId`, `sourceLocation`, `pointInTimeUTC`, \
     `identity` and `dataEncryption`), then move clients to it";

/// The vault and key a URI names, even when its version segment is malformed.
fn vault_and_key(uri: &str) -> Option<(String, String)> {
    match KeyUri::parse(uri) {
        Ok(parsed) => Some((parsed.host, parsed.name.to_ascii_lowercase())),
        Err(_) => KeyUri::lenient(uri).map(|(vault, key)| (vault, key.to_ascii_lowercase())),
    }
}

fn check(cx: &Context<'_>) -> Outcome {
    let cluster = match cx.cluster("whether the cluster's encryption can change")? {
        Some(cluster) if cluster.body.exists() => cluster,
        _ => return Ok(Vec::new()),
    };
    let Ok(target) = &cx.state.key_uri else {
        return Ok(Vec::new());
    };
    let current = cluster.body.data_encryption();
    if !cluster.body.uses_customer_managed_key() {
        let kind = current
            .and_then(|d| d.encryption_type.as_deref())
            .unwrap_or("service-managed keys");
        return Ok(vec![Violation::at(cluster.at("/properties/dataEncryption/type"))
            .message(format!(
                "cluster `{}` already exists with `{kind}` encryption; it cannot switch to a customer-managed key in place",
                cluster.name
            ))
            .label("fixed when the cluster was created")
            .help(RESTORE_HELP)]);
    }
    let mut found = Vec::new();
    if let Some(current_key) = current.and_then(|d| d.primary_key_uri.as_deref()) {
        // A new version of the same key is a rotation, which the service allows. Vault names
        // compare by their first DNS label when one side does not parse.
        let same_key = match (vault_and_key(current_key), vault_and_key(&target.value)) {
            (Some((va, ka)), Some((vb, kb))) => {
                let vault = |v: &str| v.split('.').next().unwrap_or(v).to_string();
                ka == kb && vault(&va) == vault(&vb)
            }
            _ => current_key.eq_ignore_ascii_case(&target.value),
        };
        if !same_key {
            found.push(
                Violation::at(cluster.at("/properties/dataEncryption/primaryKeyUri"))
                    .message(format!(
                        "cluster `{}` is encrypted with `{current_key}`; it cannot move to `{}` in place",
                        cluster.name, target.value
                    ))
                    .label("fixed when the cluster was created (only a new version of this key may replace it)")
                    .help(RESTORE_HELP),
            );
        }
    }
    let current_identity = current.and_then(|d| d.primary_user_assigned_identity_id.as_deref());
    if let (Some(current_identity), Ok(identity)) = (current_identity, &cx.state.identity) {
        if !id::same_id(current_identity, &identity.id) {
            found.push(
                Violation::at(cluster.at("/properties/dataEncryption/primaryUserAssignedIdentityId"))
                    .message(format!(
                        "cluster `{}` reaches its key through identity `{}`; it cannot switch to `{}` in place",
                        cluster.name,
                        id::name_from_id(current_identity),
                        identity.name
                    ))
                    .label("fixed when the cluster was created")
                    .help(RESTORE_HELP),
            );
        }
    }
    Ok(found)
}
