use super::{flatten, vault_args, vault_properties, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK007",
    name: "rbac-permission-model",
    default_level: Level::Deny,
    summary: "The key vault uses the access-policy permission model, not Azure RBAC",
    doc: include_str!("../../rules/CMK007.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Vault, "/properties/enableRbacAuthorization")],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(vault_properties(cx, "the permission model").map(|(vault, props)| {
        // Absent means false: the access-policy model.
        (props.enable_rbac_authorization == Some(true)).then(|| {
            Violation::new(
                vault.at("/properties/enableRbacAuthorization"),
                format!("Key Vault `{}` uses the Azure RBAC permission model", vault.name),
                "must be `false`",
                format!(
                    "az keyvault update {} --enable-rbac-authorization false, then grant the identity an access policy (CMK008)",
                    vault_args(vault)
                ),
            )
        })
    }))
}
