//! The fleet report: every audited cluster with its findings, and the findings of many clusters
//! grouped by their root cause. It is built from the engine's reports, or read back from its JSON
//! (`cmk-check merge`), and every format is rendered from it alone.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::engine::{FailOn, Report};
use crate::lint::Severity;
use crate::render::json::JsonFinding;
use crate::render::span::{one_line, printable, wrap};
use crate::source::fleet::{ClusterInfo, Problem};

pub const KIND: &str = "fleet";
pub const VERSION: u32 = 1;

/// The fleet report, as `--format json` writes it (documented in
/// `tests/schemas/cmk-check-fleet-v1.schema.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetReport {
    pub kind: String,
    pub version: u32,
    /// The codes of the rules that ran, in catalog order.
    pub rules_checked: Vec<String>,
    /// In order of resource ID.
    pub clusters: Vec<ClusterEntry>,
    pub problems: Vec<Problem>,
    pub summary: FleetSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterEntry {
    #[serde(flatten)]
    pub info: ClusterInfo,
    pub findings: Vec<JsonFinding>,
    pub summary: Counts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Findings no exemption covers.
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub exempted: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetSummary {
    pub clusters: usize,
    pub subscriptions: usize,
    pub customer_managed: usize,
    pub service_managed: usize,
    /// Clusters Resource Health reports as not `Available`.
    pub not_available: usize,
    /// Clusters with an error.
    pub failing: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub exempted: usize,
    pub problems: usize,
}

impl Counts {
    fn of(findings: &[JsonFinding]) -> Self {
        let mut counts = Self::default();
        for f in findings {
            if f.exemption.is_some() {
                counts.exempted += 1;
                continue;
            }
            match f.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Note => counts.notes += 1,
            }
        }
        counts
    }
}

impl FleetReport {
    /// The report of an audit: each cluster with the engine's report on its state.
    /// Each report is taken in turn and kept as its findings only, so that a fleet's states
    /// and sources need not be held at once.
    pub fn new(
        clusters: impl IntoIterator<Item = (ClusterInfo, Report)>,
        problems: Vec<Problem>,
    ) -> Self {
        // The rules a customer-managed cluster was checked by, else those of any cluster.
        let mut rules_checked: Option<(bool, Vec<String>)> = None;
        let entries = clusters
            .into_iter()
            .map(|(info, report)| {
                if rules_checked
                    .as_ref()
                    .is_none_or(|(cmk, _)| !cmk && info.customer_managed)
                {
                    let codes = report.checked.iter().map(|r| r.code.to_string()).collect();
                    rules_checked = Some((info.customer_managed, codes));
                }
                let findings: Vec<JsonFinding> =
                    report.findings.iter().map(JsonFinding::of).collect();
                ClusterEntry {
                    summary: Counts::of(&findings),
                    info,
                    findings,
                }
            })
            .collect();
        let rules_checked = rules_checked.map(|(_, codes)| codes).unwrap_or_default();
        Self::assemble(rules_checked, entries, problems)
    }

    /// One report from the reports of several shards: the report one run over all of them
    /// would have given.
    pub fn merge(reports: Vec<FleetReport>) -> Self {
        let mut rules: Vec<String> = Vec::new();
        let mut clusters: BTreeMap<String, ClusterEntry> = BTreeMap::new();
        let mut problems = Vec::new();
        for report in reports {
            if rules.len() < report.rules_checked.len() {
                rules = report.rules_checked;
            }
            for entry in report.clusters {
                clusters.insert(entry.info.id.to_ascii_lowercase(), entry);
            }
            problems.extend(report.problems);
        }
        Self::assemble(rules, clusters.into_values().collect(), problems)
    }

    fn assemble(
        rules_checked: Vec<String>,
        mut clusters: Vec<ClusterEntry>,
        mut problems: Vec<Problem>,
    ) -> Self {
        clusters.sort_by_key(|c| c.info.id.to_ascii_lowercase());
        problems.sort();
        problems.dedup();
        let subscriptions: BTreeSet<String> = clusters
            .iter()
            .map(|c| c.info.subscription.to_ascii_lowercase())
            .collect();
        let mut summary = FleetSummary {
            clusters: clusters.len(),
            subscriptions: subscriptions.len(),
            problems: problems.len(),
            ..FleetSummary::default()
        };
        for c in &clusters {
            if c.info.customer_managed {
                summary.customer_managed += 1;
            } else {
                summary.service_managed += 1;
            }
            if c.info.availability.as_ref().is_some_and(|a| !a.available()) {
                summary.not_available += 1;
            }
            if c.summary.errors > 0 {
                summary.failing += 1;
            }
            summary.errors += c.summary.errors;
            summary.warnings += c.summary.warnings;
            summary.notes += c.summary.notes;
            summary.exempted += c.summary.exempted;
        }
        Self {
            kind: KIND.to_string(),
            version: VERSION,
            rules_checked,
            clusters,
            problems,
            summary,
        }
    }

    /// The worst severity of a finding that counts.
    pub fn worst(&self) -> Option<Severity> {
        self.clusters
            .iter()
            .flat_map(|c| &c.findings)
            .filter(|f| f.exemption.is_none())
            .map(|f| f.severity)
            .max()
    }

    /// `12 clusters: 3 failing, 5 errors, 2 warnings; 1 not available; 1 problem`
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let n = |count: usize, word: &str| {
            format!("{count} {word}{}", if count == 1 { "" } else { "s" })
        };
        let mut line = format!(
            "{} in {}: {} failing, {}, {}",
            n(s.clusters, "cluster"),
            n(s.subscriptions, "subscription"),
            s.failing,
            n(s.errors, "error"),
            n(s.warnings, "warning")
        );
        if s.exempted > 0 {
            let _ = write!(line, ", {} exempted", s.exempted);
        }
        if s.not_available > 0 {
            let _ = write!(line, "; {} not available", s.not_available);
        }
        if s.problems > 0 {
            let _ = write!(line, "; {}", n(s.problems, "problem"));
        }
        line
    }

    /// Clusters worst first: not available, then by errors, then warnings, then name.
    pub fn worst_first(&self) -> Vec<&ClusterEntry> {
        let mut order: Vec<&ClusterEntry> = self.clusters.iter().collect();
        order.sort_by_key(|c| {
            let unavailable = c.info.availability.as_ref().is_some_and(|a| !a.available());
            (
                std::cmp::Reverse(unavailable),
                std::cmp::Reverse(c.summary.errors),
                std::cmp::Reverse(c.summary.warnings),
                c.info.name.to_ascii_lowercase(),
                c.info.id.to_ascii_lowercase(),
            )
        });
        order
    }

    /// The findings of all clusters by root cause: one resource's fault shared by many
    /// clusters is one group listing them (the blast radius).
    pub fn causes(&self) -> Vec<Cause<'_>> {
        let mut groups: BTreeMap<(String, String, String), Cause<'_>> = BTreeMap::new();
        for cluster in &self.clusters {
            for finding in cluster.findings.iter().filter(|f| f.exemption.is_none()) {
                let key = (
                    finding.code.clone(),
                    finding.resource.to_ascii_lowercase(),
                    format!("{}\u{0}{}", finding.pointer, finding.message),
                );
                let group = groups.entry(key).or_insert_with(|| Cause {
                    finding,
                    clusters: Vec::new(),
                });
                group.finding = if finding.severity > group.finding.severity {
                    finding
                } else {
                    group.finding
                };
                group.clusters.push(&cluster.info);
            }
        }
        let mut causes: Vec<Cause<'_>> = groups.into_values().collect();
        causes.sort_by_key(|c| {
            (
                std::cmp::Reverse(c.finding.severity),
                std::cmp::Reverse(c.clusters.len()),
                c.finding.code.clone(),
                c.finding.resource.to_ascii_lowercase(),
            )
        });
        causes
    }
}

/// One finding and every cluster it is about.
#[derive(Debug)]
pub struct Cause<'a> {
    pub finding: &'a JsonFinding,
    pub clusters: Vec<&'a ClusterInfo>,
}

fn encryption(info: &ClusterInfo) -> &'static str {
    if info.customer_managed {
        "customer-managed"
    } else {
        "service-managed"
    }
}

fn availability(info: &ClusterInfo) -> String {
    info.availability
        .as_ref()
        .map_or_else(|| "-".to_string(), |a| a.state.clone())
}

fn first_finding(entry: &ClusterEntry) -> String {
    let mut findings: Vec<&JsonFinding> = entry
        .findings
        .iter()
        .filter(|f| f.exemption.is_none())
        .collect();
    findings.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.code.clone()));
    findings
        .first()
        .map_or_else(String::new, |f| format!("{} {}", f.code, f.message))
}

/// The most cluster names a group lists before counting the rest.
const NAMED: usize = 10;

fn names(clusters: &[&ClusterInfo]) -> String {
    let mut names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    let more = names.len().saturating_sub(NAMED);
    let mut text = names.into_iter().take(NAMED).collect::<Vec<_>>().join(", ");
    if more > 0 {
        let _ = write!(text, " and {more} more");
    }
    text
}

/// The table, the clusters not available, the root causes and the problems, for people.
pub fn human(report: &FleetReport, width: usize) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "cmk-check audit: {} clusters in {} subscriptions ({} customer-managed, {} service-managed)\n",
        s.clusters, s.subscriptions, s.customer_managed, s.service_managed
    );
    let rows: Vec<[String; 8]> = report
        .worst_first()
        .into_iter()
        .map(|c| {
            [
                one_line(&c.info.name),
                c.info.subscription.clone(),
                one_line(&c.info.location),
                encryption(&c.info).to_string(),
                one_line(&availability(&c.info)),
                c.summary.errors.to_string(),
                c.summary.warnings.to_string(),
                one_line(&first_finding(c)),
            ]
        })
        .collect();
    let header = [
        "cluster",
        "subscription",
        "region",
        "encryption",
        "availability",
        "errors",
        "warnings",
        "first finding",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()).take(7) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i < 7 {
                let _ = write!(text, "{cell:<w$}  ", w = widths[i]);
            } else {
                text.push_str(cell);
            }
        }
        text.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(&header));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
    let unavailable: Vec<&ClusterEntry> = report
        .worst_first()
        .into_iter()
        .filter(|c| c.info.availability.as_ref().is_some_and(|a| !a.available()))
        .collect();
    if !unavailable.is_empty() {
        let _ = writeln!(out, "\nnot available ({}):", unavailable.len());
        for c in unavailable {
            let state = c.info.availability.as_ref();
            let summary = state
                .and_then(|a| a.summary.as_deref())
                .unwrap_or("no summary");
            let mut codes: Vec<&str> = c
                .findings
                .iter()
                .filter(|f| f.exemption.is_none())
                .map(|f| f.code.as_str())
                .collect();
            // Two findings of one rule (a vault closed two ways) are one cause.
            codes.dedup();
            let _ = writeln!(
                out,
                "  {} ({}): {}; likely causes: {}",
                one_line(&c.info.name),
                one_line(&availability(&c.info)),
                one_line(summary),
                if codes.is_empty() {
                    "none found".to_string()
                } else {
                    codes.join(", ")
                }
            );
        }
    }
    for cause in report.causes() {
        let f = cause.finding;
        let mark = match f.severity {
            Severity::Error => "×",
            Severity::Warning => "⚠",
            Severity::Note => "☞",
        };
        let _ = writeln!(out, "\n{}({})", f.code, f.name);
        let _ = writeln!(
            out,
            "  {mark} {}",
            wrap(&one_line(&f.message), width.saturating_sub(4)).replace('\n', "\n    ")
        );
        let _ = writeln!(
            out,
            "    clusters ({}): {}",
            cause.clusters.len(),
            names(&cause.clusters)
        );
        let at = if f.pointer.is_empty() {
            f.resource.clone()
        } else {
            format!("{}#{}", f.resource, f.pointer)
        };
        let _ = writeln!(out, "    at {}", one_line(&at));
        let help: Vec<String> = f.help.lines().map(one_line).collect();
        if let Some((first, rest)) = help.split_first() {
            let _ = writeln!(out, "  help: {first}");
            for line in rest {
                let _ = writeln!(out, "        {line}");
            }
        }
    }
    if !report.problems.is_empty() {
        let _ = writeln!(out, "\nproblems:");
        for p in &report.problems {
            let _ = writeln!(out, "  {}: {}", one_line(&p.scope), one_line(&p.message));
            let _ = writeln!(out, "    {}", one_line(&p.remedy));
        }
    }
    let _ = writeln!(out, "\n{}", report.summary_line());
    out
}

/// Written as it is serialized: a tenant's report need not be held twice, as findings and text.
pub fn write_json(report: &FleetReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// GitHub: one annotation per root cause (the findings are about Azure resources, not files),
/// then the summary line.
pub fn github(report: &FleetReport) -> String {
    let mut out = String::new();
    for cause in report.causes() {
        let f = cause.finding;
        let name = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let message = format!(
            "{}\nclusters ({}): {}\nat {}#{}\n{}",
            f.message,
            cause.clusters.len(),
            names(&cause.clusters),
            f.resource,
            f.pointer,
            f.help
        );
        let title = crate::render::github::escape_property(&format!("{} {}", f.code, f.name));
        let _ = writeln!(
            out,
            "::{name} title={title}::{}",
            crate::render::github::escape_data(&message)
        );
    }
    let _ = writeln!(out, "{}", report.summary_line());
    out
}

/// The job summary: the table in Markdown.
pub fn step_summary(report: &FleetReport) -> String {
    let mut out = String::from("## cmk-check audit\n\n");
    out.push_str("| cluster | subscription | region | encryption | availability | errors | warnings | first finding |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    let cell = |text: &str| printable(text).replace('|', "\\|").replace('\n', "<br>");
    for c in report.worst_first() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&c.info.name),
            cell(&c.info.subscription),
            cell(&c.info.location),
            encryption(&c.info),
            cell(&availability(&c.info)),
            c.summary.errors,
            c.summary.warnings,
            cell(&first_finding(c))
        );
    }
    let _ = writeln!(out, "\n**{}**", report.summary_line());
    out
}

/// JUnit: a suite per cluster, a case per rule checked; a case fails on findings at or above
/// `--fail-on`.
pub fn junit(report: &FleetReport, fail_on: FailOn) -> Result<String, quick_junit::SerializeError> {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut junit = quick_junit::Report::new("cmk-check audit");
    for cluster in &report.clusters {
        let mut suite = TestSuite::new(printable(&cluster.info.id).as_ref());
        for code in &report.rules_checked {
            let failing: Vec<&JsonFinding> = cluster
                .findings
                .iter()
                .filter(|f| &f.code == code && f.exemption.is_none() && fail_on.counts(f.severity))
                .collect();
            let status = match failing.first() {
                None => TestCaseStatus::success(),
                Some(first) => {
                    let kind = if failing.iter().any(|f| f.unverified) {
                        NonSuccessKind::Error
                    } else {
                        NonSuccessKind::Failure
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    status
                        .set_message(printable(&first.message).as_ref())
                        .set_type(first.severity.as_str())
                        .set_description(
                            failing
                                .iter()
                                .map(|f| {
                                    format!(
                                        "{}: {}\n  at {}#{}\n  help: {}",
                                        f.severity.as_str(),
                                        printable(&f.message),
                                        f.resource,
                                        f.pointer,
                                        printable(&f.help)
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join("\n"),
                        );
                    status
                }
            };
            let name = crate::rules::find(code)
                .map_or_else(|| code.clone(), |r| format!("{} {}", r.code, r.name));
            let mut case = TestCase::new(name, status);
            case.set_classname(printable(&cluster.info.id).as_ref());
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string()
}
