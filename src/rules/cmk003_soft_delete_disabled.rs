use super::{flatten, vault_args, vault_properties, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK003",
    name: "soft-delete-disabled",
    default_level: Level::Deny,
    summary: "The key vault has soft delete enabled",
    doc: include_str!("../../rules/CMK003.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Vault, "/properties/enableSoftDelete")],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(vault_properties(cx, "soft delete").map(|(vault, props)| {
        // Absent means enabled: soft delete is on for every vault created since 2020.
        (props.enable_soft_delete == Some(false)).then(|| {
            Violation::new(
                vault.at("/properties/enableSoftDelete"),
                format!("Key Vault `{}` has soft delete disabled", vault.name),
                "must be `true`",
                format!(
                    "az keyvault update {} --enable-soft-delete true",
                    vault_args(vault)
                ),
            )
        })
    }))
}
