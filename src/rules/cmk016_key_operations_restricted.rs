use super::{key_vault_name, set_property};
use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::key::OPS;

pub static RULE: Rule = Rule {
    code: "CMK016",
    name: "key-operations-restricted",
    default_level: Level::Deny,
    summary: "The key permits the wrapKey and unwrapKey operations",
    doc: include_str!("../../rules/CMK016.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, OPS)],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

const REQUIRED: [&str; 2] = ["wrapKey", "unwrapKey"];

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("the key's permitted operations")?;
    let at = key.at(OPS);
    let Some(ops) = key.body.ops() else {
        return Err(Violation::at(at)
            .unverified()
            .message(format!("could not verify the operations key `{}` permits: its body lists none", key.name))
            .label("must include `wrapKey` and `unwrapKey`")
            .help("record the whole key body: `az keyvault key show --vault-name <vault> --name <key>`"));
    };
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|r| !ops.iter().any(|op| op.trim().eq_ignore_ascii_case(r)))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let list = missing
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    // The list replaces the current one: keep what other consumers use.
    let mut wanted: Vec<&str> = ops.iter().map(String::as_str).collect();
    wanted.extend(missing.iter().copied());
    Ok(vec![Violation::at(at)
        .message(format!("key `{}` does not permit {list}", key.name))
        .label("must include `wrapKey` and `unwrapKey`")
        .fix(set_property(
            key,
            OPS,
            serde_json::json!(wanted),
            vec![format!(
                "az keyvault key set-attributes --vault-name {} --name {} --ops {}",
                key_vault_name(cx),
                key.name,
                wanted.join(" ")
            )],
        ))])
}
