//! Renderers: each turns a [`Report`](crate::engine::Report) into the text of one format.

pub mod human;
pub mod json;

use crate::engine::{Report, Severity};

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
