use std::collections::BTreeSet;

use super::{
    identity_properties, vault_args, vault_properties, Check, Read, Rule, Subject, HOW_TO_URL,
};
use crate::arm;
use crate::engine::{Context, Level, Violation};
use crate::model::vault::AccessPolicy;

pub static RULE: Rule = Rule {
    code: "CMK008",
    name: "key-permissions-missing",
    default_level: Level::Deny,
    summary: "An access policy grants the identity get, wrapKey and unwrapKey on keys",
    doc: include_str!("../../rules/CMK008.md"),
    url: HOW_TO_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(Subject::Vault, "/properties/accessPolicies"),
        Read(Subject::Identity, "/properties/principalId"),
        Read(Subject::Identity, "/properties/tenantId"),
    ],
    check: Check::State(check),
};

const REQUIRED: [&str; 3] = ["get", "wrapKey", "unwrapKey"];

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let requirement = "the identity's key permissions";
    let (vault, props) = match vault_properties(cx, requirement) {
        Ok(found) => found,
        Err(unverified) => return vec![unverified],
    };
    let (identity, identity_props) = match identity_properties(cx, requirement) {
        Ok(found) => found,
        Err(unverified) => return vec![unverified],
    };
    let (Some(principal), Some(tenant)) = (
        identity_props.principal_id.as_deref(),
        identity_props.tenant_id.as_deref(),
    ) else {
        return vec![Violation::unverified(
            identity.at("/properties/principalId"),
            format!(
                "could not verify {requirement}: identity `{}` has no principalId or tenantId",
                identity.name
            ),
            "the identity's principal (object) ID",
            "record the whole body ARM returns: `az identity show --ids <identity-id>`",
        )];
    };
    let policies = props.access_policies.as_deref().unwrap_or_default();
    let grants = |p: &AccessPolicy| {
        p.object_id
            .as_deref()
            .is_some_and(|o| arm::same_guid(o, principal))
            && p.tenant_id
                .as_deref()
                .is_some_and(|t| arm::same_guid(t, tenant))
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
        .map(|p| p.to_ascii_lowercase())
        .collect();
    if granted.contains("all") {
        return Vec::new();
    }
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|p| !granted.contains(&p.to_ascii_lowercase()))
        .collect();
    if missing.is_empty() {
        return Vec::new();
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
    let fix = format!(
        "az keyvault set-policy {} --object-id {principal} --key-permissions get wrapKey unwrapKey",
        vault_args(vault)
    );
    if let Some(first) = matching.first() {
        return vec![Violation::new(
            vault.at(format!(
                "/properties/accessPolicies/{first}/permissions/keys"
            )),
            message,
            format!("must include {list}"),
            fix,
        )];
    }
    // No entry grants the identity: point at the entry that almost does, and say why it does not.
    let near_miss = policies.iter().enumerate().find_map(|(i, p)| {
        let object = p.object_id.as_deref()?;
        let base = format!("/properties/accessPolicies/{i}");
        if identity_props.client_id.as_deref().is_some_and(|c| arm::same_guid(c, object)) {
            return Some((
                format!("{base}/objectId"),
                format!("this is the identity's client ID; access policies take its principal ID `{principal}`"),
            ));
        }
        if !arm::same_guid(object, principal) {
            return None;
        }
        if p.application_id.as_deref().is_some_and(|a| !a.trim().is_empty()) {
            return Some((
                format!("{base}/applicationId"),
                "a compound identity (with `applicationId`) does not grant the managed identity alone".to_string(),
            ));
        }
        Some((
            format!("{base}/tenantId"),
            format!("must be the identity's tenant `{tenant}`"),
        ))
    });
    let (pointer, label) = near_miss.unwrap_or_else(|| {
        (
            "/properties/accessPolicies".to_string(),
            format!("no entry has objectId `{principal}` (the identity's principal ID)"),
        )
    });
    vec![Violation::new(vault.at(pointer), message, label, fix)]
}
