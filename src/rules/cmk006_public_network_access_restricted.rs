use super::{set_property, vault_args};
use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK006",
    name: "public-network-access-restricted",
    default_level: Level::Deny,
    summary: "The key vault allows public network access from all networks",
    doc: include_str!("../../rules/CMK006.md"),
    url: docs::CONCEPTS,
    reads: &[
        Property(Subject::Vault, "/properties/publicNetworkAccess"),
        Property(Subject::Vault, "/properties/networkAcls"),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let (vault, props) = cx.vault_properties("public network access")?;
    let mut found = Vec::new();
    // Absent means enabled; ARM returns "Enabled"/"Disabled" but accepts any case.
    if let Some(access) = props.public_network_access.as_deref() {
        if !access.eq_ignore_ascii_case("Enabled") {
            found.push(
                Violation::at(vault.at("/properties/publicNetworkAccess"))
                    .message(format!(
                        "Key Vault `{}` has public network access `{access}`",
                        vault.name
                    ))
                    .label("must be `Enabled`")
                    .fix(set_property(
                        vault,
                        "/properties/publicNetworkAccess",
                        serde_json::json!("Enabled"),
                        vec![format!(
                            "az keyvault update {} --public-network-access Enabled",
                            vault_args(vault)
                        )],
                    )),
            );
        }
    }
    // Absent network rules mean Allow.
    let action = props
        .network_acls
        .as_ref()
        .and_then(|acls| acls.default_action.as_deref());
    if let Some(action) = action {
        if !action.eq_ignore_ascii_case("Allow") {
            found.push(
                Violation::at(vault.at("/properties/networkAcls/defaultAction"))
                    .message(format!("Key Vault `{}` denies network access by default (`defaultAction` is `{action}`)", vault.name))
                    .label("must be `Allow`")
                    .fix(set_property(
                        vault,
                        "/properties/networkAcls/defaultAction",
                        serde_json::json!("Allow"),
                        vec![format!("az keyvault update {} --default-action Allow", vault_args(vault))],
                    )),
            );
        }
    }
    Ok(found)
}
