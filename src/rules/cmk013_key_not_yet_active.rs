use super::{flatten, key, key_vault_name, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};
use crate::model::key::KeyField;
use crate::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK013",
    name: "key-not-yet-active",
    default_level: Level::Deny,
    summary: "The key's activation date, if set, is in the past",
    doc: include_str!("../../rules/CMK013.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Key, "/properties/attributes/nbf")],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(key(cx, "the key's activation date").map(|key| {
        let nbf = key.body.not_before()?;
        (nbf > unix(cx.now)).then(|| {
            Violation::new(
                key.at(key.body.pointer(KeyField::NotBefore)),
                format!("key `{}` is not active until {}", key.name, format_unix(nbf)),
                format!("must be before now ({})", format_unix(unix(cx.now))),
                format!(
                    "wait until it is active, or move the activation date: `az keyvault key set-attributes --vault-name {} --name {} --not-before {}`",
                    key_vault_name(cx),
                    key.name,
                    cx.now.format("%Y-%m-%dT%H:%M:%SZ")
                ),
            )
        })
    }))
}
