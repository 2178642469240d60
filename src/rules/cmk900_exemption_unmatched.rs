use crate::azure::{docs, id};
use crate::lint::{Check, ExemptionUse, Input, Level, Rule, Violation};

pub static RULE: Rule = Rule {
    code: "CMK900",
    name: "exemption-unmatched",
    default_level: Level::Warn,
    summary: "Every configured exemption matches a finding",
    doc: include_str!("../../rules/CMK900.md"),
    url: docs::CONCEPTS,
    reads: &[],
    breakable_in: &[Input::Config],
    check: Check::Exemptions(check),
};

fn check(exemption: &ExemptionUse<'_>) -> Option<Violation> {
    let expired = exemption.expires.is_some_and(|last| exemption.today > last);
    (!expired && !exemption.matched).then(|| {
        Violation::at(exemption.place.clone())
            .message(format!(
                "the exemption of {} for `{}` matched no finding",
                exemption.rule.code,
                id::name_from_id(exemption.resource)
            ))
            .label("this entry exempts nothing")
            .help("remove the entry; compare `rule` and `resource` with the findings of `--format json`")
    })
}
