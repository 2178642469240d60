use super::{flatten, key, key_vault_name, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};
use crate::model::key::KeyField;

pub static RULE: Rule = Rule {
    code: "CMK016",
    name: "key-operations-restricted",
    default_level: Level::Deny,
    summary: "The key permits the wrapKey and unwrapKey operations",
    doc: include_str!("../../rules/CMK016.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Key, "/properties/keyOps")],
    check: Check::State(check),
};

const REQUIRED: [&str; 2] = ["wrapKey", "unwrapKey"];

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(key(cx, "the key's permitted operations").map(|key| {
        let at = key.at(key.body.pointer(KeyField::Ops));
        let Some(ops) = key.body.ops.as_deref() else {
            return Some(Violation::unverified(
                at,
                format!("could not verify the operations key `{}` permits: its body lists none", key.name),
                "must include `wrapKey` and `unwrapKey`",
                "record the whole key body: `az keyvault key show --vault-name <vault> --name <key>`",
            ));
        };
        let missing: Vec<&str> = REQUIRED
            .into_iter()
            .filter(|r| !ops.iter().any(|op| op.eq_ignore_ascii_case(r)))
            .collect();
        (!missing.is_empty()).then(|| {
            let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ");
            let mut wanted: Vec<&str> = ops.iter().map(String::as_str).collect();
            wanted.extend(missing.iter().copied());
            Violation::new(
                at,
                format!("key `{}` does not permit {list}", key.name),
                "must include `wrapKey` and `unwrapKey`",
                format!(
                    "az keyvault key set-attributes --vault-name {} --name {} --ops {}",
                    key_vault_name(cx),
                    key.name,
                    wanted.join(" ")
                ),
            )
        })
    }))
}
