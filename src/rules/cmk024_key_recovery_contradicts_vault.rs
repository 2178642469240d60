use super::recovery;
use crate::azure::docs;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::key::RECOVERY_LEVEL;

pub static RULE: Rule = Rule {
    code: "CMK024",
    name: "key-recovery-contradicts-vault",
    default_level: Level::Deny,
    summary: "The key's recovery level agrees with its vault's soft delete and purge protection",
    doc: include_str!("../../rules/CMK024.md"),
    url: docs::SOFT_DELETE,
    // The vault's settings are CMK003's and CMK004's to report when they cannot be read; a
    // contradiction needs a claim, and an unreadable one claims nothing.
    reads: &[Property(Subject::Key, RECOVERY_LEVEL)],
    breakable_in: &[Input::Snapshot],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    // Without both sides there is nothing to contradict: CMK003 and CMK004 use what there is.
    let (Ok(key), Ok(vault)) = (&cx.state.key, &cx.state.vault) else {
        return Ok(Vec::new());
    };
    let (Some(evidence), Some(props)) = (recovery::of(&key.body), vault.body.props()) else {
        return Ok(Vec::new());
    };
    let claims_soft_delete = props.enable_soft_delete != Some(false);
    let claims_purge_protection = props.enable_purge_protection == Some(true);
    let contradiction = if claims_purge_protection && !evidence.purge_protection {
        "purge protection"
    } else if claims_soft_delete && !evidence.soft_delete {
        "soft delete"
    } else {
        return Ok(Vec::new());
    };
    let level = key.body.recovery_level().unwrap_or_default();
    Ok(vec![Violation::at(key.at(RECOVERY_LEVEL))
        .message(format!(
            "key `{}` has recovery level `{level}`, which means its vault has no {contradiction}, but Key Vault `{}` says it has",
            key.name, vault.name
        ))
        .label("Key Vault computes this from the vault that holds the key")
        .help("the key and the vault were read at different times or from different vaults: check that the key URI is on this vault, and read both again (`cmk-check snapshot`)")])
}
