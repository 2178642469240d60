use super::{recovery, set_property, vault_args};
use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK003",
    name: "soft-delete-disabled",
    default_level: Level::Deny,
    summary: "The key vault has soft delete enabled",
    doc: include_str!("../../rules/CMK003.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Vault, "/properties/enableSoftDelete")],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "soft delete";
    let (vault, props) = match cx.vault_properties(requirement) {
        Ok(found) => found,
        // Without the vault, its key's recovery level still tells.
        Err(unverified) => {
            let key = cx.key(requirement).map_err(|_| unverified.clone())?;
            let evidence = recovery::of(&key.body).ok_or(unverified)?;
            return Ok(if evidence.soft_delete {
                Vec::new()
            } else {
                vec![recovery::finding(
                    key,
                    "has soft delete disabled",
                    "a level without `Recoverable`: soft delete is off",
                )
                .help("turn soft delete on in the vault")
                .fix(crate::lint::Fix::InPlace(vec![format!(
                    "az keyvault update --name {} --set properties.enableSoftDelete=true",
                    super::key_vault_name(cx)
                )]))]
            });
        }
    };
    // Absent means enabled: soft delete is on for every vault created since 2020.
    if props.enable_soft_delete != Some(false) {
        return Ok(Vec::new());
    }
    Ok(vec![Violation::at(
        vault.at("/properties/enableSoftDelete"),
    )
    .message(format!(
        "Key Vault `{}` has soft delete disabled",
        vault.name
    ))
    .label("must be `true`")
    .fix(set_property(
        vault,
        "/properties/enableSoftDelete",
        serde_json::json!(true),
        vec![format!(
            "az keyvault update {} --set properties.enableSoftDelete=true",
            vault_args(vault)
        )],
    ))])
}
