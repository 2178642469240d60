use crate::azure::{docs, id};
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::state::Resource;

pub static RULE: Rule = Rule {
    code: "CMK002",
    name: "region-mismatch",
    default_level: Level::Deny,
    summary: "The identity and the key vault are in the cluster's region",
    doc: include_str!("../../rules/CMK002.md"),
    url: docs::HOW_TO,
    reads: &[
        Property(Subject::Identity, "/location"),
        Property(Subject::Vault, "/location"),
        Property(Subject::Cluster, "/location"),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let region = cx.location("that the identity and the vault are in the cluster's region")?;
    let target = id::normalize_region(&region.value);
    let mut found = Vec::new();
    match cx.identity("the region of the identity") {
        Err(unverified) => found.push(unverified),
        Ok(identity) => {
            let group = id::resource_group_from_id(&identity.id).unwrap_or("<resource-group>");
            // Names are unique per resource group: the new identity needs its own.
            let fix = Fix::Replace(vec![format!(
                "az identity create --name {}-{target} --resource-group {group} --location {target}",
                identity.name
            )]);
            compare(&mut found, &target, "identity", identity, identity.body.location.as_deref(),
                "resources cannot move between regions: create an identity in the cluster's region and use it instead", fix);
        }
    }
    match cx.vault("the region of the key vault") {
        Err(unverified) => found.push(unverified),
        Ok(vault) => {
            let group = id::resource_group_from_id(&vault.id).unwrap_or("<resource-group>");
            let fix = Fix::Replace(vec![super::create_vault(group, &target)]);
            compare(&mut found, &target, "Key Vault", vault, vault.body.location.as_deref(),
                &format!("a vault cannot move between regions: create one in the cluster's region with a new key (vault `{}` stays where it is)", vault.name), fix);
        }
    }
    // A cluster that could not be read is reported by the rules that need its body.
    if let Ok(Some(cluster)) = &cx.state.cluster {
        if let Some(location) = cluster.body.location.as_deref() {
            if !id::same_region(location, &region.value) {
                found.push(
                    Violation::at(cluster.at("/location"))
                        .message(format!("cluster `{}` is in `{location}`, but the target region is `{}`", cluster.name, region.value))
                        .label(format!("must be `{target}`"))
                        .help("give one region: the snapshot's `location` and the cluster's `location` must agree"),
                );
            }
        }
    }
    Ok(found)
}

fn compare<T>(
    found: &mut Vec<Violation>,
    region: &str,
    kind: &str,
    resource: &Resource<T>,
    location: Option<&str>,
    help: &str,
    fix: Fix,
) {
    match location {
        None => found.push(
            Violation::at(resource.at("/location"))
                .unverified()
                .message(format!(
                    "could not verify the region of {kind} `{}`: its body has no `location`",
                    resource.name
                ))
                .label(format!("must be `{region}`"))
                .help("record the whole body ARM returns for the resource"),
        ),
        Some(location) if !id::same_region(location, region) => {
            let fix = match resource.declared {
                Some(_) => super::set_property(
                    resource,
                    "/location",
                    serde_json::json!(region),
                    Vec::new(),
                ),
                None => fix,
            };
            found.push(
                Violation::at(resource.at("/location"))
                    .message(format!(
                        "{kind} `{}` is in `{location}`, not in the cluster's region `{region}`",
                        resource.name
                    ))
                    .label(format!("must be `{region}`"))
                    .help(if resource.declared.is_some() {
                        "declare it in the cluster's region"
                    } else {
                        help
                    })
                    .fix(fix),
            );
        }
        Some(_) => {}
    }
}
