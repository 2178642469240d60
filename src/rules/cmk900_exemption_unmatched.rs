use super::{Check, ExemptionCheck, Rule};
use crate::engine::Level;

/// Found by the engine when it applies the exemptions of `cmk-check.toml`.
pub static RULE: Rule = Rule {
    code: "CMK900",
    name: "exemption-unmatched",
    default_level: Level::Warn,
    summary: "Every configured exemption matches a finding",
    doc: include_str!("../../rules/CMK900.md"),
    url: "https://learn.microsoft.com/azure/cosmos-db/postgresql/concepts-customer-managed-keys",
    unverified_at_own_level: true,
    reads: &[],
    check: Check::Exemptions(ExemptionCheck::Unmatched),
};
