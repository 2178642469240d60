use crate::azure::docs;
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK025",
    name: "cluster-not-customer-managed",
    // A platform team that mandates CMK turns it on (`--require-cmk`, or `require-cmk = true`).
    default_level: Level::Allow,
    summary: "An existing cluster is encrypted with a customer-managed key",
    doc: include_str!("../../rules/CMK025.md"),
    url: docs::CONCEPTS,
    reads: &[Property(
        Subject::Cluster,
        "/properties/dataEncryption/type",
    )],
    breakable_in: &[Input::Snapshot],
    check: Check::Cluster(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let Some(cluster) = cx.cluster("the cluster's encryption")? else {
        return Ok(Vec::new());
    };
    if !cluster.body.exists() || cluster.body.uses_customer_managed_key() {
        return Ok(Vec::new());
    }
    let kind = cluster
        .body
        .data_encryption()
        .and_then(|d| d.encryption_type.as_deref())
        .unwrap_or("SystemManaged");
    Ok(vec![Violation::at(cluster.at("/properties/dataEncryption/type"))
        .message(format!(
            "cluster `{}` is encrypted with service-managed keys (`{kind}`), not a customer-managed key",
            cluster.name
        ))
        .label("must be `AzureKeyVault`")
        .help("encryption is chosen when a cluster is created: prepare an identity, a vault and a key that pass this check, restore the cluster into a new one with them (a point-in-time restore with `identity` and `dataEncryption`), then move clients to it")
        .fix(Fix::Replace(vec![format!(
            "cmk-check check --location {} --identity <identity-id> --key <key-uri>",
            cluster.body.location.as_deref().unwrap_or("<region>")
        )]))])
}
