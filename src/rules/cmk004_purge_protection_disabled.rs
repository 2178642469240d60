use super::{recovery, set_property, vault_args};
use crate::azure::docs;
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK004",
    name: "purge-protection-disabled",
    default_level: Level::Deny,
    summary: "The key vault has purge protection enabled",
    doc: include_str!("../../rules/CMK004.md"),
    url: docs::CONCEPTS,
    reads: &[Property(
        Subject::Vault,
        "/properties/enablePurgeProtection",
    )],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "purge protection";
    let help = "purge protection cannot be turned off again once on";
    let (vault, props) = match cx.vault_properties(requirement) {
        Ok(found) => found,
        // Without the vault, its key's recovery level still tells.
        Err(unverified) => {
            let key = cx.key(requirement).map_err(|_| unverified.clone())?;
            let evidence = recovery::of(&key.body).ok_or(unverified)?;
            return Ok(if evidence.purge_protection {
                Vec::new()
            } else {
                vec![recovery::finding(
                    key,
                    "has purge protection disabled",
                    "a level with `Purgeable`: purge protection is off",
                )
                .help(help)
                .fix(Fix::InPlace(vec![format!(
                    "az keyvault update --name {} --enable-purge-protection true",
                    super::key_vault_name(cx)
                )]))]
            });
        }
    };
    // Absent or null means disabled.
    if props.enable_purge_protection == Some(true) {
        return Ok(Vec::new());
    }
    Ok(vec![Violation::at(
        vault.at("/properties/enablePurgeProtection"),
    )
    .message(format!(
        "Key Vault `{}` has purge protection disabled",
        vault.name
    ))
    .label("must be `true`")
    .help(help)
    .fix(set_property(
        vault,
        "/properties/enablePurgeProtection",
        serde_json::json!(true),
        vec![format!(
            "az keyvault update {} --enable-purge-protection true",
            vault_args(vault)
        )],
    ))])
}
