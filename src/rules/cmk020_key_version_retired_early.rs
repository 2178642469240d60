use super::{key_vault_name, Check, Rule, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};
use crate::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK020",
    name: "key-version-retired-early",
    default_level: Level::Warn,
    summary: "After a manual rotation, the previous key version stays enabled for 24 hours",
    doc: include_str!("../../rules/CMK020.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[],
    check: Check::State(check),
};

const GRACE_SECONDS: i64 = 24 * 3600;

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let versions = match &cx.state.key_versions {
        Ok(versions) => versions,
        Err(gap) => return vec![gap.unverified("that the previous key version is still enabled")],
    };
    let mut dated = Vec::with_capacity(versions.len());
    for version in versions {
        match version.body.created() {
            Some(created) => dated.push((created, version)),
            None => {
                return vec![Violation::unverified(
                    version.at("/properties/attributes/created"),
                    format!(
                        "could not verify the key's rotation: version `{}` has no creation date",
                        version.body.label()
                    ),
                    "the version's `created` attribute",
                    "record the versions as ARM lists them: GET .../keys/<key>/versions",
                )]
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
        return Vec::new();
    };
    let now = unix(cx.now);
    if now - newest_created >= GRACE_SECONDS {
        return Vec::new();
    }
    let at = previous.at("/properties/attributes/enabled");
    match previous.body.enabled() {
        Some(true) => Vec::new(),
        Some(false) => vec![Violation::new(
            at,
            format!(
                "key version `{}` was disabled less than 24 hours after `{}` replaced it (created {})",
                previous.body.label(),
                newest.body.label(),
                format_unix(*newest_created)
            ),
            format!("must stay `true` until {}", format_unix(newest_created + GRACE_SECONDS)),
            format!(
                "az keyvault key set-attributes --vault-name {} --name {} --version {} --enabled true",
                key_vault_name(cx),
                cx.state.key.as_ref().map_or("<key>", |k| k.name.as_str()),
                previous.body.label()
            ),
        )],
        None => vec![Violation::unverified(
            at,
            format!("could not verify that key version `{}` is still enabled: it has no `enabled` attribute", previous.body.label()),
            "must be `true`",
            "record the versions as ARM lists them: GET .../keys/<key>/versions",
        )],
    }
}
