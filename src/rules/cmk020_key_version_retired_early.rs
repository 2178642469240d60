use super::key_vault_name;
use crate::azure::docs;
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::key::CREATED;
use crate::model::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK020",
    name: "key-version-retired-early",
    default_level: Level::Warn,
    summary: "After a manual rotation, the previous key version stays enabled for 24 hours",
    doc: include_str!("../../rules/CMK020.md"),
    url: docs::CONCEPTS,
    reads: &[
        Property(Subject::Key, CREATED),
        Property(Subject::KeyVersions, "/properties/attributes"),
    ],
    breakable_in: &[Input::Snapshot],
    check: Check::State(check),
};

const GRACE_SECONDS: i64 = 24 * 3600;

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "that the previous key version is still enabled";
    let now = unix(cx.now);
    // A current version a day old or more: no rotation is in its grace period.
    if let Ok(key) = &cx.state.key {
        if key
            .body
            .created()
            .is_some_and(|created| now.saturating_sub(created) >= GRACE_SECONDS)
        {
            return Ok(Vec::new());
        }
    }
    let versions = cx.key_versions(requirement)?;
    let mut dated = Vec::with_capacity(versions.len());
    for version in versions {
        match version.body.created() {
            Some(created) => dated.push((created, version)),
            None => {
                return Err(Violation::at(version.at(CREATED_VERSION))
                    .unverified()
                    .message(format!(
                        "could not verify the key's rotation: version `{}` has no creation date",
                        version.body.label()
                    ))
                    .label("the version's `created` attribute")
                    .help("record the versions as ARM lists them: GET .../keys/<key>/versions"))
            }
        }
    }
    // Newest first; ties broken by name so the order is stable.
    dated.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.body.label().cmp(b.1.body.label()))
    });
    let (Some((newest_created, newest)), Some((_, previous))) = (dated.first(), dated.get(1))
    else {
        return Ok(Vec::new());
    };
    if now.saturating_sub(*newest_created) >= GRACE_SECONDS {
        return Ok(Vec::new());
    }
    let at = previous.at(ENABLED_VERSION);
    match previous.body.enabled() {
        Some(true) => Ok(Vec::new()),
        Some(false) => Ok(vec![Violation::at(at)
            .message(format!(
                "key version `{}` was disabled less than 24 hours after `{}` replaced it (created {})",
                previous.body.label(),
                newest.body.label(),
                format_unix(*newest_created)
            ))
            .label(format!("must stay `true` until {}", format_unix(newest_created.saturating_add(GRACE_SECONDS))))
            .fix(Fix::InPlace(vec![format!(
                "az keyvault key set-attributes --vault-name {} --name {} --version {} --enabled true",
                key_vault_name(cx),
                cx.state.key.as_ref().map_or("<key>", |k| k.name.as_str()),
                previous.body.label()
            )]))]),
        None => Err(Violation::at(at)
            .unverified()
            .message(format!(
                "could not verify that key version `{}` is still enabled: it has no `enabled` attribute",
                previous.body.label()
            ))
            .label("must be `true`")
            .help("record the versions as ARM lists them: GET .../keys/<key>/versions")),
    }
}

const CREATED_VERSION: &str = "/properties/attributes/created";
const ENABLED_VERSION: &str = "/properties/attributes/enabled";
