//! Runs the rules over a [`State`] and stamps each fact a rule reports with its code, level and
//! reference. Rules stay pure: the clock comes in through [`Options::now`].

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::rules::{self, Check, ExemptionCheck, Read, Rule, Subject};
use crate::state::{Gap, Place, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Note => "note",
        }
    }
}

/// What a rule is set to: off, a warning, or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Warn => "warn",
            Self::Deny => "deny",
        }
    }

    fn severity(self) -> Option<Severity> {
        match self {
            Self::Allow => None,
            Self::Warn => Some(Severity::Warning),
            Self::Deny => Some(Severity::Error),
        }
    }
}

/// One fact a rule found: what is wrong, where, what it must be, and how to fix it.
#[derive(Debug, Clone)]
pub struct Violation {
    pub place: Place,
    pub message: String,
    /// Said at the offending property: what the value must be.
    pub label: String,
    pub help: String,
    /// The rule could not tell: the data it needs is missing or could not be read.
    pub unverified: bool,
    /// Byte range inside a string value that is wrong (the bad part of a key URI).
    pub within: Option<std::ops::Range<usize>>,
}

impl Violation {
    pub fn new(
        place: Place,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Self {
            place,
            message: message.into(),
            label: label.into(),
            help: help.into(),
            unverified: false,
            within: None,
        }
    }

    /// Narrows the label to part of the string value.
    pub fn within(mut self, range: std::ops::Range<usize>) -> Self {
        self.within = Some(range);
        self
    }

    /// A requirement that could not be checked. It never passes silently.
    pub fn unverified(
        place: Place,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Self {
            unverified: true,
            ..Self::new(place, message, label, help)
        }
    }
}

impl Gap {
    /// The finding of a rule that needed what this gap lacks; `requirement` says what could
    /// not be verified (`purge protection`).
    pub fn unverified(&self, requirement: &str) -> Violation {
        Violation::unverified(
            self.place.clone(),
            format!("could not verify {requirement}: {}", self.reason),
            self.label.clone(),
            self.remedy.clone(),
        )
    }
}

/// A violation stamped by the engine.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub violation: Violation,
    /// Set when a configured exemption covers this finding: it is reported, but does not count.
    pub exemption: Option<Exemption>,
}

/// An accepted finding, from the config: which rule on which resource, why, until when.
#[derive(Debug, Clone)]
pub struct Exemption {
    pub rule: &'static Rule,
    /// ARM resource ID or key URI.
    pub resource: String,
    pub reason: String,
    /// The last day the exemption applies.
    pub expires: Option<NaiveDate>,
    /// Where the exemption is written.
    pub place: Place,
}

impl Exemption {
    fn expired(&self, today: NaiveDate) -> bool {
        self.expires.is_some_and(|last| today > last)
    }

    fn covers(&self, finding: &Finding) -> bool {
        self.rule.code == finding.code()
            && (crate::arm::same_id(&self.resource, finding.resource())
                || crate::keyuri::same_uri(&self.resource, finding.resource()))
    }
}

impl Finding {
    pub fn code(&self) -> &'static str {
        self.rule.code
    }
    pub fn resource(&self) -> &str {
        &self.violation.place.resource
    }
    pub fn pointer(&self) -> &str {
        &self.violation.place.pointer
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub now: DateTime<Utc>,
    pub expiry_warning_days: i64,
    /// Overrides of the rules' default levels, by code.
    pub levels: HashMap<&'static str, Level>,
    pub exemptions: Vec<Exemption>,
}

impl Options {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            expiry_warning_days: 30,
            levels: HashMap::new(),
            exemptions: Vec::new(),
        }
    }

    pub fn level(&self, rule: &Rule) -> Level {
        self.levels
            .get(rule.code)
            .copied()
            .unwrap_or(rule.default_level)
    }
}

/// What a rule reads besides the state.
pub struct Context<'a> {
    pub state: &'a State,
    pub now: DateTime<Utc>,
    pub expiry_warning_days: i64,
}

#[derive(Debug, Clone)]
pub struct Report {
    /// What was checked: the cluster, or the key URI of a planned one.
    pub target: String,
    /// Sorted by code, then resource, then pointer.
    pub findings: Vec<Finding>,
    /// The rules that ran (those not set to `allow`), in catalog order.
    pub checked: Vec<&'static Rule>,
    pub rules_passed: usize,
}

impl Report {
    /// Findings that count: those no exemption covers.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.exemption.is_none())
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.active().filter(|f| f.severity == severity).count()
    }

    pub fn worst(&self) -> Option<Severity> {
        self.active().map(|f| f.severity).max()
    }

    pub fn rules_checked(&self) -> usize {
        self.checked.len()
    }
}

pub fn run(state: &State, options: &Options) -> Report {
    let context = Context {
        state,
        now: options.now,
        expiry_warning_days: options.expiry_warning_days,
    };
    let mut findings = Vec::new();
    let mut checked = Vec::new();
    let mut rules_passed = 0;
    for rule in rules::ALL {
        let Some(severity) = options.level(rule).severity() else {
            continue;
        };
        let Check::State(check) = rule.check else {
            continue;
        };
        checked.push(*rule);
        let unknown = unknown_inputs(rule, state);
        let violations = if unknown.is_empty() {
            check(&context)
        } else {
            unknown
        };
        if violations.is_empty() {
            rules_passed += 1;
        }
        findings.extend(violations.into_iter().map(|violation| Finding {
            rule,
            // A requirement that could not be verified fails closed, whatever the rule's level.
            severity: if violation.unverified && !rule.unverified_at_own_level {
                Severity::Error
            } else {
                severity
            },
            violation,
            exemption: None,
        }));
    }
    apply_exemptions(options, &mut findings, &mut checked, &mut rules_passed);
    findings.sort_by(|a, b| {
        (a.code(), a.resource(), a.pointer(), &a.violation.message).cmp(&(
            b.code(),
            b.resource(),
            b.pointer(),
            &b.violation.message,
        ))
    });
    Report {
        target: state.target_name(),
        findings,
        checked,
        rules_passed,
    }
}

/// Marks the findings that exemptions cover, then reports the exemptions that matched nothing
/// or are past their date (CMK900, CMK901) where they are written.
fn apply_exemptions(
    options: &Options,
    findings: &mut Vec<Finding>,
    checked: &mut Vec<&'static Rule>,
    rules_passed: &mut usize,
) {
    if options.exemptions.is_empty() {
        return;
    }
    let today = options.now.date_naive();
    let mut used = vec![false; options.exemptions.len()];
    for finding in findings.iter_mut() {
        let covering = options
            .exemptions
            .iter()
            .enumerate()
            .find(|(_, e)| !e.expired(today) && e.covers(finding));
        if let Some((index, exemption)) = covering {
            used[index] = true;
            finding.exemption = Some(exemption.clone());
        }
    }
    let mut extra = Vec::new();
    for rule in rules::ALL {
        let (Some(severity), Check::Exemptions(kind)) =
            (options.level(rule).severity(), rule.check)
        else {
            continue;
        };
        checked.push(*rule);
        let before = extra.len();
        for (exemption, used) in options.exemptions.iter().zip(&used) {
            let violation = match kind {
                ExemptionCheck::Expired if exemption.expired(today) => Violation::new(
                    exemption.place.clone(),
                    format!(
                        "the exemption of {} for `{}` expired on {}",
                        exemption.rule.code,
                        crate::arm::name_from_id(&exemption.resource),
                        exemption.expires.map(|d| d.to_string()).unwrap_or_default()
                    ),
                    "past this date the exemption no longer applies",
                    "remove the entry, or renew `expires` with a reason that still holds",
                ),
                ExemptionCheck::Unmatched if !exemption.expired(today) && !used => Violation::new(
                    exemption.place.clone(),
                    format!(
                        "the exemption of {} for `{}` matched no finding",
                        exemption.rule.code,
                        crate::arm::name_from_id(&exemption.resource)
                    ),
                    "this entry exempts nothing",
                    "remove the entry; compare `rule` and `resource` with the findings of `--format json`",
                ),
                _ => continue,
            };
            extra.push(Finding {
                rule,
                severity,
                violation,
                exemption: None,
            });
        }
        if extra.len() == before {
            *rules_passed += 1;
        }
    }
    findings.extend(extra);
}

/// The rule's inputs that a template leaves to deployment time: one unverified finding for
/// each, at the expression, instead of a verdict on a guess.
fn unknown_inputs(rule: &Rule, state: &State) -> Vec<Violation> {
    let mut found: Vec<Violation> = Vec::new();
    for Read(subject, pointer) in rule.reads {
        let unknowns = match subject {
            Subject::Identity => state.identity.as_ref().map(|r| &r.unknown),
            Subject::Vault => state.vault.as_ref().map(|r| &r.unknown),
            Subject::Key => state.key.as_ref().map(|r| &r.unknown),
            Subject::Cluster => match &state.cluster {
                Ok(Some(cluster)) => Ok(&cluster.unknown),
                _ => continue,
            },
        };
        let Ok(unknowns) = unknowns else { continue };
        for unknown in unknowns.iter().filter(|u| overlaps(&u.pointer, pointer)) {
            if found
                .iter()
                .any(|v| v.place.absolute() == unknown.at.absolute())
            {
                continue;
            }
            let summary = rule.summary;
            let requirement = summary.char_indices().nth(1).map_or_else(
                || summary.to_lowercase(),
                |(i, _)| format!("{}{}", summary[..i].to_lowercase(), &summary[i..]),
            );
            let mut violation = Violation::unverified(
                unknown.at.clone(),
                format!("could not verify that {requirement}: {}", unknown.reason),
                unknown.label.clone(),
                unknown.help.clone(),
            );
            violation.within = unknown.within.clone();
            found.push(violation);
        }
    }
    found
}

/// One pointer is the other or lies inside it.
fn overlaps(a: &str, b: &str) -> bool {
    let inside =
        |x: &str, y: &str| x == y || x.strip_prefix(y).is_some_and(|rest| rest.starts_with('/'));
    inside(a, b) || inside(b, a)
}

/// The findings of several targets as one report: a finding about a resource they share (one
/// vault for two clusters) is reported once.
pub fn merge(reports: &[Report]) -> Report {
    let mut findings: Vec<Finding> = Vec::new();
    for finding in reports.iter().flat_map(|r| &r.findings) {
        let duplicate = findings.iter().any(|f| {
            f.code() == finding.code()
                && f.resource() == finding.resource()
                && f.pointer() == finding.pointer()
                && f.violation.message == finding.violation.message
        });
        if !duplicate {
            findings.push(finding.clone());
        }
    }
    findings.sort_by(|a, b| {
        (a.code(), a.resource(), a.pointer(), &a.violation.message).cmp(&(
            b.code(),
            b.resource(),
            b.pointer(),
            &b.violation.message,
        ))
    });
    let checked: Vec<&'static Rule> = reports
        .first()
        .map(|r| r.checked.clone())
        .unwrap_or_default();
    let rules_passed = checked
        .iter()
        .filter(|rule| findings.iter().all(|f| f.code() != rule.code))
        .count();
    let target = reports
        .iter()
        .map(|r| r.target.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Report {
        target,
        findings,
        checked,
        rules_passed,
    }
}
