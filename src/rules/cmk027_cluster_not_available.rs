use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::availability::Availability;

pub static RULE: Rule = Rule {
    code: "CMK027",
    name: "cluster-not-available",
    default_level: Level::Deny,
    summary: "Resource Health reports the existing cluster as Available",
    doc: include_str!("../../rules/CMK027.md"),
    url: docs::RESOURCE_HEALTH,
    reads: &[
        Property(Subject::Cluster, "/properties/provisioningState"),
        Property(Subject::Availability, STATE),
    ],
    breakable_in: &[Input::Snapshot],
    check: Check::State(check),
};

const STATE: &str = "/properties/availabilityState";

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "that the cluster is available";
    // A planned cluster has no health yet.
    let Some(cluster) = cx.cluster(requirement)?.filter(|c| c.body.exists()) else {
        return Ok(Vec::new());
    };
    let Some(status) = cx.availability(requirement)? else {
        return Ok(Vec::new());
    };
    let name = &cluster.name;
    let said = |prefix: &str| {
        let mut text = prefix.to_string();
        if let Some(reason) = status.body.reason_type() {
            text.push_str(&format!(" ({reason})"));
        }
        if let Some(summary) = status.body.summary() {
            text.push_str(&format!(": {}", summary.trim()));
        }
        text
    };
    let at = status.at(STATE);
    match status.body.availability() {
        Some(Availability::Available) => Ok(Vec::new()),
        Some(Availability::NotAvailable) => {
            let state = status.body.state().unwrap_or_default();
            Ok(vec![Violation::at(at)
                .message(said(&format!(
                    "Resource Health reports cluster `{name}` as `{state}`"
                )))
                .label("must be `Available`")
                .help("a cluster that cannot unwrap its key turns Inaccessible: the findings listed after this one are the likely causes (the key disabled or expired, the access policy gone, the vault's firewall closed, the key deleted); once access is given back, the service revalidates the key and the cluster recovers")])
        }
        Some(Availability::Unknown) => Err(Violation::at(at)
            .unverified()
            .message(said(&format!(
                "could not verify that cluster `{name}` is available: Resource Health reports `Unknown`"
            )))
            .label("Resource Health has no recent signal from the cluster")
            .help("Resource Health reports `Unknown` when it has had no signal from the cluster for a while: check again in a few minutes; if it stays `Unknown`, the cluster's own metrics and connections tell whether it is reachable")),
        None => Err(Violation::at(at)
            .unverified()
            .message(format!(
                "could not verify that cluster `{name}` is available: the Resource Health status has no `availabilityState`"
            ))
            .label("`availabilityState` is missing")
            .help("record the whole body Resource Health returns")),
    }
}
