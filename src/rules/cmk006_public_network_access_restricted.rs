use super::{vault_args, vault_properties, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK006",
    name: "public-network-access-restricted",
    default_level: Level::Deny,
    summary: "The key vault allows public network access from all networks",
    doc: include_str!("../../rules/CMK006.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(Subject::Vault, "/properties/publicNetworkAccess"),
        Read(Subject::Vault, "/properties/networkAcls"),
    ],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let (vault, props) = match vault_properties(cx, "public network access") {
        Ok(found) => found,
        Err(unverified) => return vec![unverified],
    };
    let mut found = Vec::new();
    // Absent means enabled; ARM returns "Enabled"/"Disabled" but accepts any case.
    if let Some(access) = props.public_network_access.as_deref() {
        if !access.eq_ignore_ascii_case("Enabled") {
            found.push(Violation::new(
                vault.at("/properties/publicNetworkAccess"),
                format!(
                    "Key Vault `{}` has public network access `{access}`",
                    vault.name
                ),
                "must be `Enabled`",
                format!(
                    "az keyvault update {} --public-network-access Enabled",
                    vault_args(vault)
                ),
            ));
        }
    }
    // Absent network rules mean Allow.
    let action = props
        .network_acls
        .as_ref()
        .and_then(|acls| acls.default_action.as_deref());
    if let Some(action) = action {
        if !action.eq_ignore_ascii_case("Allow") {
            found.push(Violation::new(
                vault.at("/properties/networkAcls/defaultAction"),
                format!("Key Vault `{}` denies network access by default (`defaultAction` is `{action}`)", vault.name),
                "must be `Allow`",
                format!("az keyvault update {} --default-action Allow", vault_args(vault)),
            ));
        }
    }
    found
}
