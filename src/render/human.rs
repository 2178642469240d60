//! rustc/miette-style diagnostics: one report per finding, labelled in the user's own file.
//! Findings that one missing or unreadable input made unverifiable are one report.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NarratableReportHandler,
    SourceCode,
};

use crate::document::SourceDoc;
use crate::engine::{Finding, Report};
use crate::lint::Severity;
use crate::render::span::{label, one_line, wrap, written_label};
use crate::render::summary_line;

/// How to draw the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Colours and terminal hyperlinks.
    pub color: bool,
    /// Screen-reader friendly prose instead of drawings.
    pub narrated: bool,
    pub width: usize,
}

impl Style {
    /// What snapshot tests use: unicode, no colour, fixed width.
    pub const PLAIN: Style = Style {
        color: false,
        narrated: false,
        width: 100,
    };
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    for group in groups(report) {
        let diagnostic = Shown::new(&group, style.width);
        let rendered = if style.narrated {
            NarratableReportHandler::new().render_report(&mut out, &diagnostic)
        } else {
            let theme = if style.color {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            // The text comes wrapped: prose by words, commands and IDs never.
            GraphicalReportHandler::new_themed(theme)
                .with_width(style.width)
                .with_wrap_lines(false)
                .with_urls(style.color)
                .render_report(&mut out, &diagnostic)
        };
        // Writing into a String cannot fail; a failure would only lose this one report.
        if rendered.is_err() {
            out.push_str(&format!("{}: {}\n", diagnostic.code, diagnostic.message));
        }
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// The most places one diagnostic labels; the others are counted.
const MAX_LABELS: usize = 8;

/// The findings that count, those with one cause together, in report order: one missing
/// section or one unknown value is one diagnostic, whatever it keeps from being verified.
fn groups(report: &Report) -> Vec<Vec<&Finding>> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    let mut index: std::collections::HashMap<(usize, String), usize> =
        std::collections::HashMap::new();
    for finding in report.active() {
        let violation = &finding.violation;
        let Some(cause) = violation.cause.as_ref().filter(|_| violation.unverified) else {
            groups.push(vec![finding]);
            continue;
        };
        let key = (Arc::as_ptr(&violation.place.doc) as usize, cause.clone());
        match index.get(&key) {
            Some(&at) => groups[at].push(finding),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![finding]);
            }
        }
    }
    groups
}

/// One report as miette draws it.
#[derive(Debug)]
struct Shown {
    code: String,
    severity: Severity,
    message: String,
    help: String,
    url: &'static str,
    doc: Arc<SourceDoc>,
    labels: Vec<LabeledSpan>,
    /// The same value in the `.tf` file, for a value of a Terraform plan.
    written: Option<WrittenHere>,
}

/// Where the user writes the labelled value, when that is another file than the one labelled.
#[derive(Debug)]
struct WrittenHere {
    doc: Arc<SourceDoc>,
    label: LabeledSpan,
}

impl WrittenHere {
    fn of(finding: &Finding) -> Option<Self> {
        let written = finding.violation.place.written_in.as_ref()?;
        let (_, spot) = written_label(&finding.violation)?;
        Some(Self {
            doc: Arc::clone(&written.doc),
            label: LabeledSpan::new_primary_with_span(
                Some(one_line(&spot.text)),
                (spot.offset, spot.len),
            ),
        })
    }
}

impl fmt::Display for WrittenHere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "written in `{}`", one_line(self.doc.name()))
    }
}

impl std::error::Error for WrittenHere {}

impl Diagnostic for WrittenHere {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.doc)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

impl Shown {
    fn new(group: &[&Finding], width: usize) -> Self {
        let first = group[0];
        let violation = &first.violation;
        let severity = group
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(first.severity);
        let (code, message, help) = match group {
            [one] => (
                format!("{}({})", one.rule.code, one.rule.name),
                violation.message.clone(),
                violation.help.clone(),
            ),
            many => {
                let cause = violation.cause.clone().unwrap_or_default();
                let codes: Vec<&str> = many.iter().map(|f| f.rule.code).collect();
                let requirements: Vec<String> = many
                    .iter()
                    .map(|f| format!("{} ({})", requirement_of(f, &cause), f.rule.code))
                    .collect();
                (
                    codes.join(", "),
                    violation.place.addressed(&format!(
                        "could not verify {} requirements: {cause}",
                        many.len()
                    )),
                    format!(
                        "{}\nnot verified: {}",
                        violation.help,
                        requirements.join("; ")
                    ),
                )
            }
        };
        let help: String = help.lines().map(one_line).collect::<Vec<_>>().join("\n");
        let mut help = wrap(&help, width.saturating_sub(8));
        for line in violation.fix.iter().flat_map(|fix| fix.lines()) {
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(&one_line(line));
        }
        let explain = match group {
            [one] => format!(
                "see `cmk-check explain {}` for why this matters",
                one.rule.code
            ),
            _ => format!(
                "see `cmk-check explain {}` (and the others) for why these matter",
                first.rule.code
            ),
        };
        if !help.is_empty() {
            help.push('\n');
        }
        help.push_str(&explain);
        Self {
            code: one_line(&code),
            severity,
            message: wrap(&one_line(&message), width.saturating_sub(4)),
            help,
            url: first.rule.url,
            doc: Arc::clone(&violation.place.doc),
            labels: labels(group),
            written: WrittenHere::of(first),
        }
    }
}

/// One label per place the group's cause is at, the first the primary one.
fn labels(group: &[&Finding]) -> Vec<LabeledSpan> {
    let mut seen = std::collections::HashSet::new();
    let spots: Vec<_> = group
        .iter()
        .map(|f| label(&f.violation))
        .filter(|spot| seen.insert((spot.offset, spot.len)))
        .collect();
    let more = spots.len().saturating_sub(MAX_LABELS);
    spots
        .into_iter()
        .take(MAX_LABELS)
        .enumerate()
        .map(|(i, spot)| {
            let mut text = one_line(&spot.text);
            if i == 0 && more > 0 {
                text.push_str(&format!(" (and {more} more places)"));
            }
            if i == 0 {
                LabeledSpan::new_primary_with_span(Some(text), (spot.offset, spot.len))
            } else {
                LabeledSpan::new_with_span(Some(text), (spot.offset, spot.len))
            }
        })
        .collect()
}

/// What a finding of a group could not verify: its message without the shared cause.
fn requirement_of(finding: &Finding, cause: &str) -> String {
    let place = &finding.violation.place;
    let message = place.unaddressed(&finding.violation.message);
    let without_cause = message
        .strip_suffix(cause)
        .map_or(message, |m| m.trim_end_matches(": "));
    without_cause
        .strip_prefix("could not verify ")
        .unwrap_or(without_cause)
        .to_string()
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown {}

impl Diagnostic for Shown {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.url))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.doc)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        let written = self.written.as_ref()?;
        Some(Box::new(std::iter::once(written as &dyn Diagnostic)))
    }
}
