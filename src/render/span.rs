//! What every renderer needs of a finding's place and text: where its label goes, what the
//! label says, and text that is safe to print.

use std::borrow::Cow;

use crate::document::{Origin, SourceDoc};
use crate::lint::Violation;
use crate::state::Place;

/// A label in the document: its byte range and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub offset: usize,
    pub len: usize,
    pub text: String,
}

/// Where the label of `violation` goes: on the property, or on the part of a string value that
/// is wrong, or (when the property is absent) on the object that should hold it, saying so.
pub fn label(violation: &Violation) -> Label {
    let place = &violation.place;
    label_in(&place.doc, &place.absolute(), &place.pointer, violation)
}

/// The label on the same value in the file the user writes it in (the `.tf` attribute of a
/// planned value), when that is another document.
pub fn written_label(violation: &Violation) -> Option<(&SourceDoc, Label)> {
    let written = violation.place.written_in.as_ref()?;
    Some((
        &written.doc,
        label_in(&written.doc, &written.pointer, &written.pointer, violation),
    ))
}

/// The label at `pointer` of `doc`; `named` ends with the name said missing when it is absent.
fn label_in(doc: &SourceDoc, pointer: &str, named: &str, violation: &Violation) -> Label {
    let anchor = doc.anchor(pointer);
    let text = if anchor.exact {
        violation.label.clone()
    } else {
        format!(
            "`{}` is missing; {}",
            named.rsplit('/').next().unwrap_or_default(),
            violation.label
        )
    };
    let (offset, len) = match (&violation.within, anchor.exact) {
        // Inside a string value: skip its opening quote.
        (Some(range), true) if range.end < anchor.len => {
            (anchor.offset + 1 + range.start, range.len())
        }
        _ => (anchor.offset, anchor.len),
    };
    let (offset, len) = doc.drawable(offset, len);
    Label { offset, len, text }
}

/// Text without the characters that would act on a terminal or reorder what it shows: control
/// characters and bidirectional overrides are written as escapes (`\u{1b}`).
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hazardous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hazardous(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Line breaks stay: the renderers lay text out by lines. Tabs and carriage returns go.
fn hazardous(c: char) -> bool {
    c != '\n' && (c.is_control() || crate::document::hazardous(c))
}

/// The most characters one message, label or command line shows: a value of a megabyte in a
/// resource name must not flood the terminal.
const MAX_LINE: usize = 1_000;

/// Text meant to be one line (a message, a label, a command), printable, its line breaks
/// written as `\n`, and cut at [`MAX_LINE`] characters.
pub fn one_line(text: &str) -> String {
    let printable = printable(text);
    let mut out = String::with_capacity(printable.len().min(MAX_LINE + 4));
    for (i, c) in printable.chars().enumerate() {
        if i == MAX_LINE {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Prose wrapped at `width`, by words; a `code span` stays whole on one line, so an ID, a URL or
/// a quoted command never breaks.
pub fn wrap(prose: &str, width: usize) -> String {
    let mut out = String::with_capacity(prose.len() + 16);
    for (i, line) in prose.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut column = 0;
        for word in words(line) {
            let len = word.chars().count();
            if column > 0 && column + 1 + len > width {
                out.push('\n');
                column = 0;
            } else if column > 0 {
                out.push(' ');
                column += 1;
            }
            out.push_str(word);
            column += len;
        }
    }
    out
}

/// The words of a line; a backtick span with its neighbours (`` `x`, ``) is one word.
fn words(line: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    let mut in_code = false;
    for (i, c) in line.char_indices() {
        if c == '`' {
            in_code = !in_code;
        }
        match (c == ' ' && !in_code, start) {
            (true, Some(s)) => {
                words.push(&line[s..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(&line[s..]);
    }
    words
}

/// A place in a file the user gave, in the 1-based lines and columns (characters, end
/// exclusive) that SARIF regions and GitHub annotations use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRegion {
    /// The document's name with forward slashes and no leading `./`.
    pub path: String,
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// The region a dashboard shows a finding at: where the user writes the value (the `.tf`
/// attribute) when known, else its label; `None` when its text was fetched from Azure and so is
/// no file a code-scanning dashboard could open.
pub fn file_region(violation: &Violation) -> Option<FileRegion> {
    match written_label(violation) {
        Some((doc, spot)) => Some(region(doc, &spot)),
        None => document_region(violation),
    }
}

/// The region of the finding's label in its own document (the plan, for a planned value).
pub fn document_region(violation: &Violation) -> Option<FileRegion> {
    let doc = &violation.place.doc;
    (doc.origin == Origin::File).then(|| region(doc, &label(violation)))
}

fn region(doc: &SourceDoc, spot: &Label) -> FileRegion {
    let (start_line, start_column) = doc.line_col(spot.offset);
    let (end_line, end_column) = doc.line_col(spot.offset + spot.len);
    FileRegion {
        path: relative_path(doc.name()),
        start_line,
        start_column,
        end_line,
        end_column,
    }
}

/// `resource#pointer`: where a finding is when there is no file to point into.
pub fn resource_ref(place: &Place) -> String {
    let resource = if place.resource.is_empty() {
        place.doc.name()
    } else {
        place.resource.as_str()
    };
    if place.pointer.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}#{}", place.pointer)
    }
}

/// Dashboards resolve paths against the repository root with `/` separators.
pub fn relative_path(name: &str) -> String {
    let mut path = name.replace('\\', "/");
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_do_not_break() {
        let text = "run `az keyvault update --name kv --enable-purge-protection true` then wait";
        let wrapped = wrap(text, 20);
        assert!(wrapped
            .lines()
            .any(|l| l == "`az keyvault update --name kv --enable-purge-protection true`"));
        assert_eq!(wrap("a b c", 3), "a b\nc");
    }

    #[test]
    fn one_line_text_stays_one_short_line() {
        assert_eq!(one_line("a\nb"), "a\\nb");
        assert_eq!(one_line(&"x".repeat(5_000)).chars().count(), MAX_LINE + 1);
    }

    #[test]
    fn escapes_are_made_visible() {
        assert_eq!(printable("kv\u{1b}]8;;x\u{7}"), "kv\\u{1b}]8;;x\\u{7}");
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
        assert!(matches!(printable("plain\ntext"), Cow::Borrowed(_)));
    }
}
