use super::{flatten, vault_args, vault_properties, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK004",
    name: "purge-protection-disabled",
    default_level: Level::Deny,
    summary: "The key vault has purge protection enabled",
    doc: include_str!("../../rules/CMK004.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Vault, "/properties/enablePurgeProtection")],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(vault_properties(cx, "purge protection").map(|(vault, props)| {
        // Absent or null means disabled.
        (props.enable_purge_protection != Some(true)).then(|| {
            Violation::new(
                vault.at("/properties/enablePurgeProtection"),
                format!("Key Vault `{}` has purge protection disabled", vault.name),
                "must be `true`",
                format!(
                    "az keyvault update {} --enable-purge-protection true   (it cannot be turned off again)",
                    vault_args(vault)
                ),
            )
        })
    }))
}
