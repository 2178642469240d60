//! GitHub Actions: workflow commands that annotate the snapshot file in the run's summary and in
//! pull requests, and a Markdown job summary for `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;

use crate::engine::{Finding, Report};
use crate::lint::Severity;
use crate::render::span::{file_region, printable, resource_ref};
use crate::render::summary_line;

/// One workflow command per finding that counts, then the summary line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in report.active() {
        out.push_str(&command(finding));
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

fn command(finding: &Finding) -> String {
    let name = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let mut properties = Vec::new();
    let mut message = finding.violation.message.clone();
    match file_region(&finding.violation) {
        Some(region) => {
            properties.push(("file", region.path));
            properties.push(("line", region.start_line.to_string()));
            properties.push(("col", region.start_column.to_string()));
            properties.push(("endLine", region.end_line.to_string()));
            properties.push(("endColumn", region.end_column.to_string()));
        }
        // Without a file the annotation has no place of its own: say where in Azure it is.
        None => {
            message.push_str("\nat ");
            message.push_str(&resource_ref(&finding.violation.place));
        }
    }
    properties.push((
        "title",
        format!("{} {}", finding.rule.code, finding.rule.name),
    ));
    message.push('\n');
    message.push_str(&finding.violation.help_text());
    let properties = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect::<Vec<_>>()
        .join(",");
    format!("::{name} {properties}::{}", escape_data(&message))
}

/// The escaping of `@actions/core` for a command's message: a raw newline would end the
/// command, and `%` starts an escape.
pub fn escape_data(text: &str) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    // What is left that a terminal would act on is made visible.
    printable(&escaped).into_owned()
}

/// The escaping of `@actions/core` for a property value, where `:` and `,` are separators.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A Markdown job summary, for appending to `$GITHUB_STEP_SUMMARY`.
pub fn step_summary(report: &Report) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(out, "## cmk-check: {}\n", code_span(&report.target));
    let active: Vec<&Finding> = report.active().collect();
    if active.is_empty() {
        let _ = writeln!(
            out,
            "✅ **Passed**: no finding counts against the {} rules checked.\n",
            report.rules_checked()
        );
    } else {
        out.push_str("| severity | code | resource | message |\n");
        out.push_str("|---|---|---|---|\n");
        for finding in &active {
            let severity = if finding.violation.unverified {
                format!("{} (could not verify)", finding.severity.as_str())
            } else {
                finding.severity.as_str().to_string()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&severity),
                cell(&rule_ref(finding)),
                cell(&code_span(&resource_ref(&finding.violation.place))),
                cell(&finding.violation.message),
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "**{}**", summary_line(report));
    let exempted: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.exemption.is_some())
        .collect();
    if !exempted.is_empty() {
        out.push_str("\n### Exempted\n\n");
        out.push_str("These findings are reported but do not count.\n\n");
        out.push_str("| code | resource | message | reason |\n");
        out.push_str("|---|---|---|---|\n");
        for finding in exempted {
            let reason = finding
                .exemption
                .as_ref()
                .map(|e| e.reason.as_str())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&rule_ref(finding)),
                cell(&code_span(&resource_ref(&finding.violation.place))),
                cell(&finding.violation.message),
                cell(reason),
            );
        }
    }
    out
}

fn rule_ref(finding: &Finding) -> String {
    format!("{} {}", finding.rule.code, code_span(finding.rule.name))
}

/// A table cell: a `|` would end the cell (GitHub honours `\|` even inside code spans) and a
/// newline the row.
fn cell(text: &str) -> String {
    printable(text)
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

/// Inline code whose fence is longer than any run of backticks in the text.
fn code_span(text: &str) -> String {
    let longest = text
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest + 1);
    let pad = if longest > 0 { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_the_toolkit() {
        assert_eq!(escape_data("100%\r\n: ,"), "100%25%0D%0A: ,");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn code_spans_outgrow_backticks() {
        assert_eq!(code_span("kv"), "`kv`");
        assert_eq!(code_span("a`b"), "`` a`b ``");
    }
}
