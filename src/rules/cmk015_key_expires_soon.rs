use super::{flatten, key, key_vault_name, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};
use crate::model::key::KeyField;
use crate::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK015",
    name: "key-expires-soon",
    default_level: Level::Warn,
    summary: "The key does not expire within the warning window",
    doc: include_str!("../../rules/CMK015.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Key, "/properties/attributes/exp")],
    check: Check::State(check),
};

const SECONDS_PER_DAY: i64 = 86_400;

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(key(cx, "the key's expiration date").map(|key| {
        let exp = key.body.expires()?;
        let now = unix(cx.now);
        let window_end = now.saturating_add(cx.expiry_warning_days.saturating_mul(SECONDS_PER_DAY));
        // Already expired is CMK014's finding.
        (exp > now && exp <= window_end).then(|| {
            let days = (exp - now) / SECONDS_PER_DAY;
            Violation::new(
                key.at(key.body.pointer(KeyField::Expires)),
                format!(
                    "key `{}` expires on {} (in {days} day{}); the cluster becomes inaccessible then",
                    key.name,
                    format_unix(exp),
                    if days == 1 { "" } else { "s" }
                ),
                format!("must be more than {} days away", cx.expiry_warning_days),
                format!(
                    "extend it, `az keyvault key set-attributes --vault-name {} --name {} --expires <date>`, or rotate now and keep the old version enabled for 24 hours",
                    key_vault_name(cx),
                    key.name
                ),
            )
        })
    }))
}
