use super::{flatten, key, key_vault_name, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};
use crate::model::key::KeyField;
use crate::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK014",
    name: "key-expired",
    default_level: Level::Deny,
    summary: "The key's expiration date, if set, is in the future",
    doc: include_str!("../../rules/CMK014.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Key, "/properties/attributes/exp")],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(key(cx, "the key's expiration date").map(|key| {
        let exp = key.body.expires()?;
        (exp <= unix(cx.now)).then(|| {
            Violation::new(
                key.at(key.body.pointer(KeyField::Expires)),
                format!("key `{}` expired on {}", key.name, format_unix(exp)),
                format!("must be after now ({})", format_unix(unix(cx.now))),
                format!(
                    "extend it, `az keyvault key set-attributes --vault-name {} --name {} --expires <date>`, or rotate to a new version and point the cluster at it",
                    key_vault_name(cx),
                    key.name
                ),
            )
        })
    }))
}
