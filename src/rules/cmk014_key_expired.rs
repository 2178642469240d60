use super::{key_vault_name, set_property};
use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::key::EXPIRES;
use crate::model::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK014",
    name: "key-expired",
    default_level: Level::Deny,
    summary: "The key's expiration date, if set, is in the future",
    doc: include_str!("../../rules/CMK014.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, EXPIRES)],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

/// A new expiry a year from now.
pub(super) const EXTENSION_SECONDS: i64 = 365 * 86_400;

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("the key's expiration date")?;
    let now = unix(cx.now);
    let Some(exp) = key.body.expires().filter(|exp| *exp <= now) else {
        return Ok(Vec::new());
    };
    let until = now.saturating_add(EXTENSION_SECONDS);
    Ok(vec![Violation::at(key.at(EXPIRES))
        .message(format!(
            "key `{}` expired on {}",
            key.name,
            format_unix(exp)
        ))
        .label(format!("must be after now ({})", format_unix(now)))
        .help("extend it (here by a year), or rotate to a new version and point the cluster at it")
        .fix(set_property(
            key,
            EXPIRES,
            serde_json::json!(until),
            vec![format!(
                "az keyvault key set-attributes --vault-name {} --name {} --expires {}",
                key_vault_name(cx),
                key.name,
                format_unix(until)
            )],
        ))])
}
