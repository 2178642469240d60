use super::{key_vault_name, set_property};
use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::key::NOT_BEFORE;
use crate::model::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK013",
    name: "key-not-yet-active",
    default_level: Level::Deny,
    summary: "The key's activation date, if set, is in the past",
    doc: include_str!("../../rules/CMK013.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, NOT_BEFORE)],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("the key's activation date")?;
    let now = unix(cx.now);
    let Some(nbf) = key.body.not_before().filter(|nbf| *nbf > now) else {
        return Ok(Vec::new());
    };
    Ok(vec![Violation::at(key.at(NOT_BEFORE))
        .message(format!(
            "key `{}` is not active until {}",
            key.name,
            format_unix(nbf)
        ))
        .label(format!("must be before now ({})", format_unix(now)))
        .help("wait until it is active, or move the activation date")
        .fix(set_property(
            key,
            NOT_BEFORE,
            serde_json::json!(now),
            vec![format!(
                "az keyvault key set-attributes --vault-name {} --name {} --not-before {}",
                key_vault_name(cx),
                key.name,
                format_unix(now)
            )],
        ))])
}
