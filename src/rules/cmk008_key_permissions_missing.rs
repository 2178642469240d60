use std::collections::BTreeSet;

use super::vault_args;
use crate::azure::{docs, id};
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::vault::AccessPolicy;

pub static RULE: Rule = Rule {
    code: "CMK008",
    name: "key-permissions-missing",
    default_level: Level::Deny,
    summary: "An access policy grants the identity get, wrapKey and unwrapKey on keys",
    doc: include_str!("../../rules/CMK008.md"),
    url: docs::HOW_TO,
    reads: &[
        Property(Subject::Vault, "/properties/accessPolicies"),
        Property(Subject::Identity, "/properties/principalId"),
        Property(Subject::Identity, "/properties/tenantId"),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

const REQUIRED: [&str; 3] = ["get", "wrapKey", "unwrapKey"];

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "the identity's key permissions";
    let (vault, props) = cx.vault_properties(requirement)?;
    let identity = cx.identity(requirement)?;
    let identity_props = identity.body.properties.as_ref();
    let principal = identity_props.and_then(|p| p.principal_id.as_deref());
    let tenant = identity_props.and_then(|p| p.tenant_id.as_deref());
    let (Some(principal), Some(tenant)) = (principal, tenant) else {
        return Err(Violation::at(identity.at("/properties/principalId"))
            .unverified()
            .message(format!(
                "could not verify {requirement}: identity `{}` has no principalId or tenantId",
                identity.name
            ))
            .label("the identity's principal (object) ID")
            .help("record the whole body ARM returns: `az identity show --ids <identity-id>`"));
    };
    let policies = props.access_policies.as_deref().unwrap_or_default();
    let grants = |p: &AccessPolicy| {
        p.object_id
            .as_deref()
            .is_some_and(|o| id::same_guid(o, principal))
            && p.tenant_id
                .as_deref()
                .is_some_and(|t| id::same_guid(t, tenant))
            && p.application_id
                .as_deref()
                .is_none_or(|a| a.trim().is_empty())
    };
    let matching: Vec<usize> = (0..policies.len())
        .filter(|i| grants(&policies[*i]))
        .collect();
    // Permissions may be split over several entries for the same principal.
    let granted: BTreeSet<String> = matching
        .iter()
        .filter_map(|i| policies[*i].permissions.as_ref()?.keys.as_ref())
        .flatten()
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    if granted.contains("all") {
        return Ok(Vec::new());
    }
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|p| !granted.contains(&p.to_ascii_lowercase()))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let list = missing
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "Key Vault `{}` does not grant identity `{}` the key permission{} {list}",
        vault.name,
        identity.name,
        if missing.len() == 1 { "" } else { "s" }
    );
    let fix = super::terraform_grant(vault, identity).unwrap_or_else(|| match vault.declared {
        Some(_) => Fix::Edit(format!(
            "\"accessPolicies\": [{{\"tenantId\": \"[subscription().tenantId]\", \"objectId\": \"[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', '{}')).principalId]\", \"permissions\": {{\"keys\": [\"get\", \"wrapKey\", \"unwrapKey\"]}}}}]",
            identity.name
        )),
        // `set-policy` replaces the entry's key permissions: it keeps those already granted.
        None => Fix::InPlace(vec![format!(
            "az keyvault set-policy {} --object-id {principal} --key-permissions {}",
            vault_args(vault),
            kept_and_required(&matching, policies).join(" ")
        )]),
    });
    if let Some(first) = matching.first() {
        return Ok(vec![Violation::at(vault.at(format!(
            "/properties/accessPolicies/{first}/permissions/keys"
        )))
        .message(message)
        .label(format!("must include {list}"))
        .fix(fix)]);
    }
    // No entry grants the identity: point at the entry that almost does, and say why it does not.
    let client = identity_props.and_then(|p| p.client_id.as_deref());
    let near_miss = policies.iter().enumerate().find_map(|(i, p)| {
        let object = p.object_id.as_deref()?;
        let base = format!("/properties/accessPolicies/{i}");
        if client.is_some_and(|c| id::same_guid(c, object)) {
            return Some((
                format!("{base}/objectId"),
                format!("this is the identity's client ID; access policies take its principal ID `{principal}`"),
            ));
        }
        if !id::same_guid(object, principal) {
            return None;
        }
        if p.application_id.as_deref().is_some_and(|a| !a.trim().is_empty()) {
            return Some((
                format!("{base}/applicationId"),
                "a compound identity (with `applicationId`) does not grant the managed identity alone".to_string(),
            ));
        }
        Some((format!("{base}/tenantId"), format!("must be the identity's tenant `{tenant}`")))
    });
    let (pointer, label) = near_miss.unwrap_or_else(|| {
        (
            "/properties/accessPolicies".to_string(),
            format!("no entry has objectId `{principal}` (the identity's principal ID)"),
        )
    });
    Ok(vec![Violation::at(vault.at(pointer))
        .message(message)
        .label(label)
        .fix(fix)])
}

/// The key permissions of the identity's entries, then the required ones it lacks, each once.
fn kept_and_required(matching: &[usize], policies: &[AccessPolicy]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    matching
        .iter()
        .filter_map(|i| policies[*i].permissions.as_ref()?.keys.as_ref())
        .flatten()
        .map(|p| p.trim().to_string())
        .chain(REQUIRED.map(String::from))
        .filter(|p| !p.is_empty() && seen.insert(p.to_ascii_lowercase()))
        .collect()
}
