use super::{flatten, vault_properties, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK005",
    name: "retention-not-90-days",
    default_level: Level::Deny,
    summary: "The key vault keeps deleted objects for exactly 90 days",
    doc: include_str!("../../rules/CMK005.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(
        Subject::Vault,
        "/properties/softDeleteRetentionInDays",
    )],
    check: Check::State(check),
};

const REQUIRED_DAYS: i64 = 90;

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(vault_properties(cx, "the soft-delete retention").map(|(vault, props)| {
        let days = props.soft_delete_retention_in_days.unwrap_or(REQUIRED_DAYS);
        (days != REQUIRED_DAYS).then(|| {
            let location = vault.body.location.as_deref().unwrap_or("<region>");
            Violation::new(
                vault.at("/properties/softDeleteRetentionInDays"),
                format!("Key Vault `{}` keeps deleted objects for {days} days, not {REQUIRED_DAYS}", vault.name),
                "must be `90`",
                format!(
                    "the retention cannot change after a vault is created: create a new vault and key, \
                     `az keyvault create --name <new-vault> --resource-group <resource-group> --location {location} \
                     --retention-days 90 --enable-purge-protection true`"
                ),
            )
        })
    }))
}
