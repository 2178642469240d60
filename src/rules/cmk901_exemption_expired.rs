use crate::azure::{docs, id};
use crate::lint::{Check, ExemptionUse, Input, Level, Rule, Violation};

pub static RULE: Rule = Rule {
    code: "CMK901",
    name: "exemption-expired",
    default_level: Level::Deny,
    summary: "No configured exemption is past its expiry date",
    doc: include_str!("../../rules/CMK901.md"),
    url: docs::CONCEPTS,
    reads: &[],
    breakable_in: &[Input::Config],
    check: Check::Exemptions(check),
};

fn check(exemption: &ExemptionUse<'_>) -> Option<Violation> {
    let last = exemption.expires.filter(|last| exemption.today > *last)?;
    Some(
        Violation::at(exemption.place.clone())
            .message(format!(
                "the exemption of {} for `{}` expired on {last}",
                exemption.rule.code,
                id::name_from_id(exemption.resource)
            ))
            .label("past this date the exemption no longer applies")
            .help("remove the entry, or renew `expires` with a reason that still holds"),
    )
}
