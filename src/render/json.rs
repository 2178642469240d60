//! The JSON report, version 1 (a public contract: fields are added, never renamed).

use serde::{Deserialize, Serialize};

use crate::engine::{Finding, Report};
use crate::lint::{Fix, Severity};

pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport {
    version: u32,
    findings: Vec<JsonFinding>,
    summary: JsonSummary,
}

/// One finding as the JSON reports (of `check` and of the fleet) write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonFinding {
    pub code: String,
    pub name: String,
    pub severity: Severity,
    pub message: String,
    pub resource: String,
    pub pointer: String,
    pub help: String,
    pub unverified: bool,
    /// Added after v1's first fields: the commands or the edit that fix the finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<JsonFix>,
    /// Added after v1's first fields: the Terraform address of a resource a plan declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Added after v1's first fields: present only on findings a config exemption covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<JsonExemption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonFix {
    /// `inPlace` (run these), `replace` (it cannot be fixed where it is: create these instead)
    /// or `edit` (change the code that declares it).
    pub kind: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonExemption {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
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

impl JsonFinding {
    pub fn of(f: &Finding) -> Self {
        Self {
            code: f.rule.code.to_string(),
            name: f.rule.name.to_string(),
            severity: f.severity,
            message: f.violation.message.clone(),
            resource: f.resource().to_string(),
            pointer: f.pointer().to_string(),
            help: f.violation.help_text(),
            unverified: f.violation.unverified,
            address: f.violation.place.address.clone(),
            fix: f.violation.fix.as_ref().map(|fix| JsonFix {
                kind: match fix {
                    Fix::InPlace(_) => "inPlace",
                    Fix::Replace(_) => "replace",
                    Fix::Edit(_) => "edit",
                }
                .to_string(),
                lines: fix.lines().to_vec(),
            }),
            exemption: f.exemption.as_ref().map(|e| JsonExemption {
                reason: e.reason.clone(),
                expires: e.expires.map(|d| d.to_string()),
            }),
        }
    }
}

pub fn render(report: &Report) -> Result<String, serde_json::Error> {
    let body = JsonReport {
        version: VERSION,
        findings: report.findings.iter().map(JsonFinding::of).collect(),
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
