//! JUnit XML, for CI systems that show test reports (GitLab, Azure Pipelines, Jenkins): each
//! rule that ran is a test case of one suite named after the target.
//!
//! A rule with findings fails; a rule that could not verify is an *error*, since the check did
//! not get to run rather than found something wrong; a rule whose findings are all exempted
//! passes and says why in its system-out.

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::engine::{Finding, Report};
use crate::render::sarif::{file_region, resource_ref};
use crate::render::RenderError;

/// One suite per checked target (a template may declare several clusters).
pub fn render(reports: &[Report]) -> Result<String, RenderError> {
    let mut junit = quick_junit::Report::new("cmk-check");
    for report in reports {
        junit.add_test_suite(suite(report));
    }
    Ok(junit.to_string()?)
}

fn suite(report: &Report) -> TestSuite {
    let mut suite = TestSuite::new(report.target.as_str());
    for rule in &report.checked {
        let (active, exempted): (Vec<&Finding>, Vec<&Finding>) = report
            .findings
            .iter()
            .filter(|f| f.rule.code == rule.code)
            .partition(|f| f.exemption.is_none());
        let status = match active.first() {
            None => TestCaseStatus::success(),
            Some(first) => {
                let unverified = active.iter().any(|f| f.violation.unverified);
                let (kind, ty) = if unverified {
                    (NonSuccessKind::Error, "unverified")
                } else {
                    let worst = active.iter().map(|f| f.severity).max();
                    (
                        NonSuccessKind::Failure,
                        worst.map_or("error", |s| s.as_str()),
                    )
                };
                let mut status = TestCaseStatus::non_success(kind);
                status
                    .set_message(first.violation.message.as_str())
                    .set_type(ty)
                    .set_description(
                        active
                            .iter()
                            .map(|f| describe(f))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                status
            }
        };
        let mut case = TestCase::new(format!("{} {}", rule.code, rule.name), status);
        case.set_classname(report.target.as_str());
        if !exempted.is_empty() {
            let lines: Vec<String> = exempted
                .iter()
                .map(|f| {
                    let reason = f
                        .exemption
                        .as_ref()
                        .map(|e| e.reason.as_str())
                        .unwrap_or_default();
                    format!(
                        "exempted: {} (at {}): {reason}",
                        f.violation.message,
                        resource_ref(&f.violation.place)
                    )
                })
                .collect();
            case.set_system_out(lines.join("\n"));
        }
        suite.add_test_case(case);
    }
    suite
}

/// One finding as the failure text shows it: what, where (file and resource), and the fix.
fn describe(finding: &Finding) -> String {
    let mut text = format!(
        "{}: {}\n",
        finding.severity.as_str(),
        finding.violation.message
    );
    if let Some(region) = file_region(finding) {
        text.push_str(&format!(
            "  --> {}:{}:{}\n",
            region.path, region.start_line, region.start_column
        ));
    }
    text.push_str(&format!(
        "  at {}\n",
        resource_ref(&finding.violation.place)
    ));
    let mut help = finding.violation.help.lines();
    if let Some(first) = help.next() {
        text.push_str(&format!("  help: {first}\n"));
    }
    for line in help {
        text.push_str(&format!("        {line}\n"));
    }
    text
}
