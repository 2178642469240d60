use super::{set_property, vault_args};
use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK007",
    name: "rbac-permission-model",
    default_level: Level::Deny,
    summary: "The key vault uses the access-policy permission model, not Azure RBAC",
    doc: include_str!("../../rules/CMK007.md"),
    url: docs::CONCEPTS,
    reads: &[Property(
        Subject::Vault,
        "/properties/enableRbacAuthorization",
    )],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let (vault, props) = cx.vault_properties("the permission model")?;
    // Absent means false: the access-policy model (see the template source for newer APIs).
    if props.enable_rbac_authorization != Some(true) {
        return Ok(Vec::new());
    }
    Ok(vec![Violation::at(
        vault.at("/properties/enableRbacAuthorization"),
    )
    .message(format!(
        "Key Vault `{}` uses the Azure RBAC permission model",
        vault.name
    ))
    .label("must be `false`")
    .help("then grant the identity an access policy (CMK008)")
    .fix(set_property(
        vault,
        "/properties/enableRbacAuthorization",
        serde_json::json!(false),
        vec![format!(
            "az keyvault update {} --enable-rbac-authorization false",
            vault_args(vault)
        )],
    ))])
}
