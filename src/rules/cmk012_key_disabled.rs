use super::{flatten, key, key_vault_name, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};
use crate::model::key::KeyField;

pub static RULE: Rule = Rule {
    code: "CMK012",
    name: "key-disabled",
    default_level: Level::Deny,
    summary: "The key is enabled",
    doc: include_str!("../../rules/CMK012.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Key, "/properties/attributes/enabled")],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(key(cx, "that the key is enabled").map(|key| {
        let at = key.at(key.body.pointer(KeyField::Enabled));
        match key.body.enabled() {
            Some(true) => None,
            Some(false) => Some(Violation::new(
                at,
                format!("key `{}` is disabled", key.name),
                "must be `true`",
                format!(
                    "az keyvault key set-attributes --vault-name {} --name {} --enabled true",
                    key_vault_name(cx),
                    key.name
                ),
            )),
            // Key Vault always returns `enabled`; without it we cannot tell.
            None => Some(Violation::unverified(
                at,
                format!("could not verify that key `{}` is enabled: its attributes have no `enabled`", key.name),
                "must be `true`",
                "record the whole key body: `az keyvault key show --vault-name <vault> --name <key>`",
            )),
        }
    }))
}
