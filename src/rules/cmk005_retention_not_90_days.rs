use super::{create_vault, recovery, set_property};
use crate::azure::{docs, id};
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK005",
    name: "retention-not-90-days",
    default_level: Level::Deny,
    summary: "The key vault keeps deleted objects for exactly 90 days",
    doc: include_str!("../../rules/CMK005.md"),
    url: docs::CONCEPTS,
    reads: &[Property(
        Subject::Vault,
        "/properties/softDeleteRetentionInDays",
    )],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

const REQUIRED_DAYS: i64 = 90;
const HELP: &str = "the retention cannot change after a vault is created: create a new vault and key, and give the cluster the new key";

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "the soft-delete retention";
    let (vault, props) = match cx.vault_properties(requirement) {
        Ok(found) => found,
        // Without the vault, its key's recovery level still tells.
        Err(unverified) => {
            let key = cx.key(requirement).map_err(|_| unverified.clone())?;
            let evidence = recovery::of(&key.body).ok_or(unverified)?;
            let days = key.body.recoverable_days();
            return Ok(
                if !evidence.customized_retention && days.is_none_or(|d| d == REQUIRED_DAYS) {
                    Vec::new()
                } else {
                    let fact = match days {
                        Some(days) => {
                            format!("keeps deleted objects for {days} days, not {REQUIRED_DAYS}")
                        }
                        None => {
                            format!("keeps deleted objects for fewer than {REQUIRED_DAYS} days")
                        }
                    };
                    vec![recovery::finding(
                        key,
                        &fact,
                        "`CustomizedRecoverable`: a retention other than 90 days",
                    )
                    .help(HELP)
                    .fix(Fix::Replace(vec![create_vault(
                        "<resource-group>",
                        "<region>",
                    )]))]
                },
            );
        }
    };
    let days = props.soft_delete_retention_in_days.unwrap_or(REQUIRED_DAYS);
    if days == REQUIRED_DAYS {
        return Ok(Vec::new());
    }
    let location = vault
        .body
        .location
        .as_deref()
        .map_or_else(|| "<region>".to_string(), id::normalize_region);
    let group = id::resource_group_from_id(&vault.id).unwrap_or("<resource-group>");
    let replace = Fix::Replace(vec![create_vault(group, &location)]);
    let fix = match vault.declared {
        // Not created yet: the template can still say 90.
        Some(_) => set_property(
            vault,
            "/properties/softDeleteRetentionInDays",
            serde_json::json!(REQUIRED_DAYS),
            Vec::new(),
        ),
        None => replace,
    };
    Ok(vec![Violation::at(
        vault.at("/properties/softDeleteRetentionInDays"),
    )
    .message(format!(
        "Key Vault `{}` keeps deleted objects for {days} days, not {REQUIRED_DAYS}",
        vault.name
    ))
    .label("must be `90`")
    .help(if vault.declared.is_some() { "" } else { HELP })
    .fix(fix)])
}
