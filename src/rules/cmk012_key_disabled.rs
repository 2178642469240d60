use super::{key_vault_name, set_property};
use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::key::ENABLED;

pub static RULE: Rule = Rule {
    code: "CMK012",
    name: "key-disabled",
    default_level: Level::Deny,
    summary: "The key is enabled",
    doc: include_str!("../../rules/CMK012.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, ENABLED)],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("that the key is enabled")?;
    let at = key.at(ENABLED);
    match key.body.enabled() {
        Some(true) => Ok(Vec::new()),
        Some(false) => Ok(vec![Violation::at(at)
            .message(format!("key `{}` is disabled", key.name))
            .label("must be `true`")
            .fix(set_property(
                key,
                ENABLED,
                serde_json::json!(true),
                vec![format!(
                    "az keyvault key set-attributes --vault-name {} --name {} --enabled true",
                    key_vault_name(cx),
                    key.name
                )],
            ))]),
        // Key Vault always returns `enabled`; without it we cannot tell.
        None => Err(Violation::at(at)
            .unverified()
            .message(format!("could not verify that key `{}` is enabled: its attributes have no `enabled`", key.name))
            .label("must be `true`")
            .help("record the whole key body: `az keyvault key show --vault-name <vault> --name <key>`")),
    }
}
