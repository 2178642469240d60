//! Renderers: each turns a [`Report`](crate::engine::Report) into the text of one format.

pub mod catalog;
pub mod fleet;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod script;
pub mod span;

use crate::engine::{FailOn, Report};
use crate::lint::Severity;

/// The report formats of `cmk-check check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// rustc-style diagnostics for people
    Human,
    /// The version 1 JSON report
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// GitHub Actions workflow commands (annotations)
    Github,
    /// JUnit XML: one test case per rule
    Junit,
}

/// The reports of one run in `format`: JUnit keeps a suite per target, the other formats show
/// the findings of all targets together (`merged`).
pub fn render(
    reports: &[Report],
    merged: &Report,
    format: Format,
    style: human::Style,
    fail_on: FailOn,
) -> Result<String, RenderError> {
    Ok(match format {
        Format::Human => human::render(merged, style),
        Format::Json => json::render(merged)?,
        Format::Sarif => sarif::render(merged)?,
        Format::Github => github::render(merged),
        Format::Junit => junit::render(reports, fail_on)?,
    })
}

/// Why a report could not be turned into the text of a format. Serializers of in-memory values
/// fail only on a bug, but the CLI must report it rather than print half a file.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("could not write the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("could not write the report as JUnit XML: {0}")]
    Junit(#[from] quick_junit::SerializeError),
}

/// `2 errors, 1 warning; 18 of 20 rules passed`
pub fn summary_line(report: &Report) -> String {
    let count = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![
        count(report.count(Severity::Error), "error"),
        count(report.count(Severity::Warning), "warning"),
    ];
    let notes = report.count(Severity::Note);
    if notes > 0 {
        parts.push(count(notes, "note"));
    }
    let exempted = report.findings.len() - report.active().count();
    if exempted > 0 {
        parts.push(format!("{exempted} exempted"));
    }
    format!(
        "{}; {} of {} rules passed",
        parts.join(", "),
        report.rules_passed,
        report.rules_checked()
    )
}
