use super::{Check, Read, Rule, Subject, HOW_TO_URL};
use crate::arm;
use crate::engine::{Context, Level, Violation};
use crate::state::{Gap, Resource};

pub static RULE: Rule = Rule {
    code: "CMK002",
    name: "region-mismatch",
    default_level: Level::Deny,
    summary: "The identity and the key vault are in the cluster's region",
    doc: include_str!("../../rules/CMK002.md"),
    url: HOW_TO_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(Subject::Identity, "/location"),
        Read(Subject::Vault, "/location"),
        Read(Subject::Cluster, "/location"),
    ],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let region = match &cx.state.location {
        Ok(region) => region,
        Err(gap) => {
            return vec![
                gap.unverified("that the identity and the vault are in the cluster's region")
            ]
        }
    };
    let mut found = Vec::new();
    let identity = cx
        .state
        .identity
        .as_ref()
        .map(|r| (r, r.body.location.as_deref()));
    compare(
        &mut found,
        &region.value,
        "identity",
        identity,
        |name, region, group| {
            format!("resources cannot move between regions: create the identity there: `az identity create --name {name} --resource-group {group} --location {region}`")
        },
    );
    let vault = cx
        .state
        .vault
        .as_ref()
        .map(|r| (r, r.body.location.as_deref()));
    compare(
        &mut found,
        &region.value,
        "Key Vault",
        vault,
        |name, region, group| {
            format!("a vault cannot move between regions: create one there with a new key: `az keyvault create --name <new-vault> --resource-group {group} --location {region} --retention-days 90 --enable-purge-protection true` (vault `{name}` stays where it is)")
        },
    );
    // A cluster that could not be read is reported by the rules that need its body.
    if let Ok(Some(cluster)) = &cx.state.cluster {
        if let Some(location) = cluster.body.location.as_deref() {
            if !arm::same_region(location, &region.value) {
                found.push(Violation::new(
                    cluster.at("/location"),
                    format!("cluster `{}` is in `{location}`, but the target region is `{}`", cluster.name, region.value),
                    format!("must be `{}`", arm::normalize_region(&region.value)),
                    "give one region: the snapshot's `location` and the cluster's `location` must agree",
                ));
            }
        }
    }
    found
}

fn compare<T>(
    found: &mut Vec<Violation>,
    region: &str,
    kind: &str,
    resource: Result<(&Resource<T>, Option<&str>), &Gap>,
    help: impl Fn(&str, &str, &str) -> String,
) {
    match resource {
        Err(gap) => {
            found.push(gap.unverified(&format!("the region of the {}", kind.to_lowercase())))
        }
        Ok((resource, None)) => found.push(Violation::unverified(
            resource.at("/location"),
            format!(
                "could not verify the region of {kind} `{}`: its body has no `location`",
                resource.name
            ),
            format!("must be `{}`", arm::normalize_region(region)),
            "record the whole body ARM returns for the resource",
        )),
        Ok((resource, Some(location))) if !arm::same_region(location, region) => {
            found.push(Violation::new(
                resource.at("/location"),
                format!(
                    "{kind} `{}` is in `{location}`, not in the cluster's region `{region}`",
                    resource.name
                ),
                format!("must be `{}`", arm::normalize_region(region)),
                help(
                    &resource.name,
                    &arm::normalize_region(region),
                    arm::resource_group_from_id(&resource.id).unwrap_or("<resource-group>"),
                ),
            ))
        }
        Ok(_) => {}
    }
}
