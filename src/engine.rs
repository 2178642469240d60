//! Runs the rules over a [`State`] and stamps each fact a rule reports with its code, level and
//! reference. Rules stay pure: the clock comes in through [`Options::now`].

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::azure::{id, keyuri};
use crate::lint::{
    Check, Context, ExemptionUse, KeyFileContext, Level, Property, Rule, Severity, Subject,
    Violation,
};
use crate::model::key_file::KeyFile;
use crate::rules;
use crate::state::{Place, Resource, State, Unknown};

fn addressed(mut violation: Violation) -> Violation {
    violation.message = violation.place.addressed(&violation.message);
    violation
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
            && (id::same_id(&self.resource, finding.resource())
                || keyuri::same_uri(&self.resource, finding.resource()))
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

/// The lowest severity that fails the run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    Note,
    Warning,
    #[default]
    Error,
    Never,
}

impl FailOn {
    /// Whether a finding of `severity` fails the run.
    pub fn counts(self, severity: Severity) -> bool {
        match self {
            Self::Note => true,
            Self::Warning => severity >= Severity::Warning,
            Self::Error => severity >= Severity::Error,
            Self::Never => false,
        }
    }

    pub fn fails(self, worst: Option<Severity>) -> bool {
        worst.is_some_and(|w| self.counts(w))
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    /// What was checked: the cluster, or the key URI of a planned one.
    pub target: String,
    /// Sorted by code, then resource, then pointer ([`sort`]).
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
    let service_managed = state.is_service_managed();
    for rule in rules::ALL {
        let Some(severity) = options.level(rule).severity() else {
            continue;
        };
        let check = match rule.check {
            Check::State(check) if !service_managed => check,
            Check::Cluster(check) => check,
            _ => continue,
        };
        checked.push(*rule);
        let unknown = unknown_inputs(rule, state);
        let violations = if unknown.is_empty() {
            check(&context).unwrap_or_else(|unverified| vec![unverified])
        } else {
            unknown
        };
        if violations.is_empty() {
            rules_passed += 1;
        }
        // Could not verify is said at the rule's own level: never stronger than a violation.
        findings.extend(violations.into_iter().map(|violation| Finding {
            rule,
            severity,
            violation: addressed(violation),
            exemption: None,
        }));
    }
    apply_exemptions(options, &mut findings, &mut checked, &mut rules_passed);
    sort(&mut findings);
    Report {
        target: state.target_name(),
        findings,
        checked,
        rules_passed,
    }
}

/// Runs the rules of a key file (its own, and the key rules it can break before import) over
/// it; the cluster rules do not apply and are not reported as checked.
pub fn run_key_file(file: &KeyFile, options: &Options) -> Report {
    let context = KeyFileContext {
        file,
        now: options.now,
        expiry_warning_days: options.expiry_warning_days,
    };
    let mut findings = Vec::new();
    let mut checked = Vec::new();
    let mut rules_passed = 0;
    for (rule, check) in rules::key_file_checks() {
        let Some(severity) = options.level(rule).severity() else {
            continue;
        };
        checked.push(rule);
        let violations = check(&context).unwrap_or_else(|unverified| vec![unverified]);
        if violations.is_empty() {
            rules_passed += 1;
        }
        findings.extend(violations.into_iter().map(|violation| Finding {
            rule,
            severity,
            violation,
            exemption: None,
        }));
    }
    apply_exemptions(options, &mut findings, &mut checked, &mut rules_passed);
    sort(&mut findings);
    Report {
        target: file.path.clone(),
        findings,
        checked,
        rules_passed,
    }
}

/// By code, resource, pointer and message: the order of every report. When the cluster is
/// not available, that comes first, and the likely causes of its lost key access right after
/// it: the reader of an outage starts at its explanation.
pub fn sort(findings: &mut [Finding]) {
    let unavailable = findings
        .iter()
        .any(|f| f.code() == rules::not_available_code() && !f.violation.unverified);
    let rank = |f: &Finding| -> usize {
        if !unavailable {
            return 0;
        }
        // After the named causes: a key that could not be read at all (deleted, or behind a
        // closed firewall), which the rules reading the key report as unverified.
        let key_unread = f.violation.unverified
            && f.rule
                .reads
                .iter()
                .any(|Property(subject, _)| *subject == Subject::Key);
        // A named cause counts when it was found, not when it could not be verified.
        let named = (!f.violation.unverified)
            .then(|| rules::lost_access_rank(f.code()))
            .flatten();
        named.unwrap_or(if key_unread {
            usize::MAX - 1
        } else {
            usize::MAX
        })
    };
    findings.sort_by(|a, b| {
        (
            rank(a),
            a.code(),
            a.resource(),
            a.pointer(),
            &a.violation.message,
        )
            .cmp(&(
                rank(b),
                b.code(),
                b.resource(),
                b.pointer(),
                &b.violation.message,
            ))
    });
}

/// Marks the findings that exemptions cover, then runs the rules about the exemptions
/// themselves (CMK900, CMK901), which point at where each is written.
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
    for rule in rules::ALL {
        let (Some(severity), Check::Exemptions(check)) =
            (options.level(rule).severity(), rule.check)
        else {
            continue;
        };
        checked.push(*rule);
        let before = findings.len();
        for (exemption, matched) in options.exemptions.iter().zip(&used) {
            let found = check(&ExemptionUse {
                rule: exemption.rule,
                resource: &exemption.resource,
                expires: exemption.expires,
                place: &exemption.place,
                matched: *matched,
                today,
            });
            findings.extend(found.map(|violation| Finding {
                rule,
                severity,
                violation,
                exemption: None,
            }));
        }
        if findings.len() == before {
            *rules_passed += 1;
        }
    }
}

/// The unknowns of one subject of the state.
fn unknowns_of(state: &State, subject: Subject) -> Vec<&Unknown> {
    fn of<T>(resource: &Resource<T>) -> impl Iterator<Item = &Unknown> {
        resource.unknown.iter()
    }
    match subject {
        Subject::Identity => state.identity.iter().flat_map(of).collect(),
        Subject::Vault => state.vault.iter().flat_map(of).collect(),
        Subject::Key => state.key.iter().flat_map(of).collect(),
        Subject::KeyVersions => state.key_versions.iter().flatten().flat_map(of).collect(),
        Subject::Cluster => match &state.cluster {
            Ok(Some(cluster)) => of(cluster).collect(),
            _ => Vec::new(),
        },
        Subject::Alerts => state.alerts.iter().flatten().flat_map(of).collect(),
        Subject::VaultDiagnostics => state
            .vault_diagnostics
            .iter()
            .flatten()
            .flat_map(of)
            .collect(),
        Subject::Availability => match &state.availability {
            Ok(Some(status)) => of(status).collect(),
            _ => Vec::new(),
        },
    }
}

/// The rule's inputs that cannot be known (a template value left to deployment) or read (a
/// value of the wrong type): one unverified finding for each, at the value, instead of a
/// verdict on a guess.
fn unknown_inputs(rule: &Rule, state: &State) -> Vec<Violation> {
    let mut found: Vec<Violation> = Vec::new();
    for Property(subject, pointer) in rule.reads {
        for unknown in unknowns_of(state, *subject) {
            if !overlaps(&unknown.pointer, pointer)
                || found
                    .iter()
                    .any(|v| v.place.absolute() == unknown.at.absolute())
            {
                continue;
            }
            let mut violation = Violation::at(unknown.at.clone())
                .unverified()
                .message(format!(
                    "could not verify that {}: {}",
                    requirement(rule),
                    unknown.reason
                ))
                .label(unknown.label.clone())
                .help(unknown.help.clone())
                .caused_by(unknown.reason.clone());
            violation.within = unknown.within.clone();
            found.push(violation);
        }
    }
    found
}

/// The rule's summary as a clause: "the key vault has soft delete enabled".
fn requirement(rule: &Rule) -> String {
    let summary = rule.summary;
    let mut chars = summary.chars();
    match chars.next() {
        // Two capitals: an acronym (`RSA ...`), kept.
        Some(_) if chars.next().is_some_and(char::is_uppercase) => summary.to_string(),
        Some(first) => format!("{}{}", first.to_lowercase(), &summary[first.len_utf8()..]),
        None => String::new(),
    }
}

/// One pointer is the other or lies inside it.
fn overlaps(a: &str, b: &str) -> bool {
    let a = a.to_ascii_lowercase();
    let b = b.to_ascii_lowercase();
    let inside =
        |x: &str, y: &str| x == y || x.strip_prefix(y).is_some_and(|rest| rest.starts_with('/'));
    inside(&a, &b) || inside(&b, &a)
}

/// The findings of several targets as one report: a finding about a resource they share (one
/// vault for two clusters) is reported once.
pub fn merge(reports: &[Report]) -> Report {
    let mut seen = std::collections::HashSet::new();
    let mut findings: Vec<Finding> = Vec::new();
    for finding in reports.iter().flat_map(|r| &r.findings) {
        let key = (
            finding.code(),
            finding.resource().to_string(),
            finding.pointer().to_string(),
            finding.violation.message.clone(),
        );
        if seen.insert(key) {
            findings.push(finding.clone());
        }
    }
    sort(&mut findings);
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
