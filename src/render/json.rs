//! The JSON report, version 1 (a public contract: fields are added, never renamed).

use serde::Serialize;

use crate::engine::Report;
use crate::lint::{Fix, Severity};

pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    resource: &'a str,
    pointer: &'a str,
    help: String,
    unverified: bool,
    /// Added after v1's first fields: the commands or the edit that fix the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
    /// Added after v1's first fields: present only on findings a config exemption covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    exemption: Option<JsonExemption<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    /// `inPlace` (run these), `replace` (it cannot be fixed where it is: create these instead)
    /// or `edit` (change the code that declares it).
    kind: &'static str,
    lines: &'a [String],
}

#[derive(Serialize)]
struct JsonExemption<'a> {
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSummary {
    /// Counts of the findings no exemption covers.
    errors: usize,
    warnings: usize,
    notes: usize,
    rules_checked: usize,
    exempted: usize,
}

pub fn render(report: &Report) -> Result<String, serde_json::Error> {
    let findings = report
        .findings
        .iter()
        .map(|f| JsonFinding {
            code: f.rule.code,
            name: f.rule.name,
            severity: f.severity,
            message: &f.violation.message,
            resource: f.resource(),
            pointer: f.pointer(),
            help: f.violation.help_text(),
            unverified: f.violation.unverified,
            fix: f.violation.fix.as_ref().map(|fix| JsonFix {
                kind: match fix {
                    Fix::InPlace(_) => "inPlace",
                    Fix::Replace(_) => "replace",
                    Fix::Edit(_) => "edit",
                },
                lines: fix.lines(),
            }),
            exemption: f.exemption.as_ref().map(|e| JsonExemption {
                reason: &e.reason,
                expires: e.expires.map(|d| d.to_string()),
            }),
        })
        .collect();
    let body = JsonReport {
        version: VERSION,
        findings,
        summary: JsonSummary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            notes: report.count(Severity::Note),
            rules_checked: report.rules_checked(),
            exempted: report.findings.len() - report.active().count(),
        },
    };
    let mut text = serde_json::to_string_pretty(&body)?;
    text.push('\n');
    Ok(text)
}
