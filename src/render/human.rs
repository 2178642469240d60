//! rustc/miette-style diagnostics: one report per finding, labelled in the user's own file.

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NarratableReportHandler,
    SourceCode,
};

use crate::engine::{Finding, Report, Severity};
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
    for finding in report.active() {
        let diagnostic = FindingDiagnostic::new(finding);
        let rendered = if style.narrated {
            NarratableReportHandler::new().render_report(&mut out, &diagnostic)
        } else {
            let theme = if style.color {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            GraphicalReportHandler::new_themed(theme)
                .with_width(style.width)
                // A word broken inside, even at a hyphen, would break a command when copied.
                .with_break_words(false)
                .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
                .with_urls(style.color)
                .render_report(&mut out, &diagnostic)
        };
        // Writing into a String cannot fail; a failure would only lose this one report.
        if rendered.is_err() {
            out.push_str(&format!(
                "{}: {}\n",
                finding.code(),
                finding.violation.message
            ));
        }
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// A finding seen through miette's eyes.
#[derive(Debug)]
pub struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    label: LabeledSpan,
    help: String,
}

impl<'a> FindingDiagnostic<'a> {
    pub fn new(finding: &'a Finding) -> Self {
        let place = &finding.violation.place;
        let anchor = place.doc.anchor(&place.absolute());
        let text = if anchor.exact {
            finding.violation.label.clone()
        } else {
            let property = place.pointer.rsplit('/').next().unwrap_or_default();
            format!("`{property}` is missing; {}", finding.violation.label)
        };
        let (offset, len) = match (&finding.violation.within, anchor.exact) {
            // Inside a string value: skip its opening quote.
            (Some(range), true) if range.end < anchor.len => {
                (anchor.offset + 1 + range.start, range.len())
            }
            _ => (anchor.offset, anchor.len),
        };
        let help = format!(
            "{}\nsee `cmk-check explain {}` for why this matters",
            finding.violation.help,
            finding.code()
        );
        Self {
            finding,
            label: LabeledSpan::new_primary_with_span(Some(text), (offset, len)),
            help,
        }
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.violation.message)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let rule = self.finding.rule;
        Some(Box::new(format!("{}({})", rule.code, rule.name)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.rule.url))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.finding.violation.place.doc.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}
