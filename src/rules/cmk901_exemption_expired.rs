use super::{Check, ExemptionCheck, Rule};
use crate::engine::Level;

/// Found by the engine when it applies the exemptions of `cmk-check.toml`.
pub static RULE: Rule = Rule {
    code: "CMK901",
    name: "exemption-expired",
    default_level: Level::Deny,
    summary: "No configured exemption is past its expiry date",
    doc: include_str!("../../rules/CMK901.md"),
    url: "https://learn.microsoft.com/azure/cosmos-db/postgresql/concepts-customer-managed-keys",
    unverified_at_own_level: true,
    reads: &[],
    check: Check::Exemptions(ExemptionCheck::Expired),
};
