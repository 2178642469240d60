//! JUnit XML, for CI systems that show test reports (GitLab, Azure Pipelines, Jenkins): each
//! rule that ran is a test case of one suite named after the target.
//!
//! A rule with findings that fail the gate (at or above `--fail-on`) fails; if it could not
//! verify, it is an *error*, since the check did not get to run rather than found something
//! wrong. A rule whose findings are all below the gate, or all exempted, passes: the dashboard
//! shows a passing gate as passing, and the case carries the findings as properties and output.

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::engine::{FailOn, Finding, Report};
use crate::render::span::{file_region, printable, resource_ref};
use crate::render::RenderError;

/// One suite per checked target (a template may declare several clusters).
pub fn render(reports: &[Report], fail_on: FailOn) -> Result<String, RenderError> {
    let mut junit = quick_junit::Report::new("cmk-check");
    for report in reports {
        junit.add_test_suite(suite(report, fail_on));
    }
    Ok(junit.to_string()?)
}

fn suite(report: &Report, fail_on: FailOn) -> TestSuite {
    let mut suite = TestSuite::new(printable(&report.target).as_ref());
    for rule in &report.checked {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule.code == rule.code)
            .collect();
        let (failing, passing): (Vec<&Finding>, Vec<&Finding>) = findings
            .iter()
            .partition(|f| f.exemption.is_none() && fail_on.counts(f.severity));
        let status = match failing.first() {
            None => TestCaseStatus::success(),
            Some(first) => {
                let unverified = failing.iter().any(|f| f.violation.unverified);
                let (kind, ty) = if unverified {
                    (NonSuccessKind::Error, "unverified")
                } else {
                    let worst = failing.iter().map(|f| f.severity).max();
                    (
                        NonSuccessKind::Failure,
                        worst.map_or("error", |s| s.as_str()),
                    )
                };
                let mut status = TestCaseStatus::non_success(kind);
                status
                    .set_message(printable(&first.violation.message).as_ref())
                    .set_type(ty)
                    .set_description(
                        failing
                            .iter()
                            .map(|f| describe(f))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                status
            }
        };
        let mut case = TestCase::new(format!("{} {}", rule.code, rule.name), status);
        case.set_classname(printable(&report.target).as_ref());
        if !passing.is_empty() {
            for finding in &passing {
                let kind = if finding.exemption.is_some() {
                    "exempted"
                } else {
                    finding.severity.as_str()
                };
                case.add_property(Property::new(
                    format!("cmk-check.{kind}"),
                    printable(&finding.violation.message).as_ref(),
                ));
            }
            let lines: Vec<String> = passing.iter().map(|f| passing_line(f)).collect();
            case.set_system_out(lines.join("\n"));
        }
        suite.add_test_case(case);
    }
    suite
}

/// A finding that does not fail the gate, as the case's output says it.
fn passing_line(finding: &Finding) -> String {
    let at = resource_ref(&finding.violation.place);
    let message = printable(&finding.violation.message);
    match &finding.exemption {
        Some(exemption) => format!(
            "exempted: {message} (at {at}): {}",
            printable(&exemption.reason)
        ),
        None => format!("{}: {message} (at {at})", finding.severity.as_str()),
    }
}

/// One finding as the failure text shows it: what, where (file and resource), and the fix.
fn describe(finding: &Finding) -> String {
    let mut text = format!(
        "{}: {}\n",
        finding.severity.as_str(),
        printable(&finding.violation.message)
    );
    if let Some(region) = file_region(&finding.violation) {
        text.push_str(&format!(
            "  --> {}:{}:{}\n",
            region.path, region.start_line, region.start_column
        ));
    }
    text.push_str(&format!(
        "  at {}\n",
        resource_ref(&finding.violation.place)
    ));
    let help = finding.violation.help_text();
    let mut help = help.lines();
    if let Some(first) = help.next() {
        text.push_str(&format!("  help: {}\n", printable(first)));
    }
    for line in help {
        text.push_str(&format!("        {}\n", printable(line)));
    }
    text
}
