//! A text the user gave us (or a pretty-printed ARM body), indexed by JSON pointer so that
//! diagnostics can point at the exact property, and read the way ARM reads JSON: property names
//! without regard to case.
//!
//! Diagnostics draw only a window of a long line, found through a line index: a minified file
//! costs no more to render than a pretty one, and miette never sees a column it cannot draw.

pub mod json;
pub mod lenient;
pub mod read;
pub mod similar;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions};
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Byte range of one JSON node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// The member name (`"enablePurgeProtection"`), absent for array elements and the root.
    pub key: Option<(usize, usize)>,
    /// The value itself.
    pub value: (usize, usize),
    /// Objects and arrays: their labels go on the key, since the value spans many lines.
    pub compound: bool,
}

/// Where a text came from: a file the user gave (reports may cite it by path, line and
/// column), or a body cmk-check fetched and pretty-printed (reports cite the resource instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    File,
    Fetched,
}

/// The most of one line a diagnostic shows: a window around the label, in bytes.
pub const WINDOW: usize = 120;

/// Nesting deeper than this is not indexed (its labels fall back to the deepest indexed
/// ancestor): real ARM bodies nest a few levels, and the index must not recurse without bound.
const MAX_INDEX_DEPTH: usize = 128;

#[derive(Debug)]
pub struct SourceDoc {
    name: String,
    text: String,
    language: &'static str,
    pub origin: Origin,
    /// The text as diagnostics draw it, when it holds characters a terminal would act on.
    display: Option<String>,
    /// Keyed by the folded pointer: ARM property names compare without case. Built on the
    /// first label: a clean check of a megabyte plan never needs it.
    nodes: OnceLock<HashMap<String, Node>>,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

/// Where a label goes, and whether the pointed-at property exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub offset: usize,
    pub len: usize,
    pub exact: bool,
}

impl SourceDoc {
    /// A file the user gave, named by its path.
    pub fn file(name: &str, text: String) -> Arc<Self> {
        Self::json(name, text, Origin::File)
    }

    /// A body cmk-check fetched, named after its resource (`vault kv-prod (ARM)`).
    pub fn fetched(name: &str, text: String) -> Arc<Self> {
        Self::json(name, text, Origin::Fetched)
    }

    /// A JSON text, indexed when first asked for a label.
    fn json(name: &str, text: String, origin: Origin) -> Arc<Self> {
        Arc::new(Self::with_nodes(
            name,
            text,
            "json",
            origin,
            OnceLock::new(),
        ))
    }

    /// A file in another language (the TOML config) whose caller indexed the pointers itself.
    pub fn indexed(
        name: &str,
        text: String,
        language: &'static str,
        nodes: HashMap<String, Node>,
    ) -> Arc<Self> {
        let nodes: HashMap<_, _> = nodes.into_iter().map(|(k, v)| (fold(&k), v)).collect();
        Arc::new(Self::with_nodes(
            name,
            text,
            language,
            Origin::File,
            OnceLock::from(nodes),
        ))
    }

    fn with_nodes(
        name: &str,
        text: String,
        language: &'static str,
        origin: Origin,
        nodes: OnceLock<HashMap<String, Node>>,
    ) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let display = text.chars().any(hazardous).then(|| defused(&text));
        Self {
            name: name.to_string(),
            display,
            text,
            language,
            origin,
            nodes,
            line_starts,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The node at `pointer`, its names compared without case.
    pub fn node(&self, pointer: &str) -> Option<&Node> {
        self.nodes().get(&fold(pointer))
    }

    /// Only JSON texts are indexed lazily: the others come with their nodes.
    fn nodes(&self) -> &HashMap<String, Node> {
        self.nodes.get_or_init(|| json_nodes(&self.text))
    }

    /// The label position for `pointer`: the property itself when present, else the nearest
    /// ancestor that exists (so "missing" labels sit on the object that should hold it).
    pub fn anchor(&self, pointer: &str) -> Anchor {
        let folded = fold(pointer);
        let mut current = folded.as_str();
        let mut exact = true;
        loop {
            if let Some(node) = self.nodes().get(current) {
                let (start, end) = match (node.compound, node.key) {
                    (true, Some(key)) => key,
                    (true, None) => (node.value.0, node.value.0 + 1),
                    (false, _) => node.value,
                };
                return Anchor {
                    offset: start,
                    len: end.saturating_sub(start),
                    exact,
                };
            }
            exact = false;
            match current.rfind('/') {
                Some(cut) => current = &current[..cut],
                None => {
                    return Anchor {
                        offset: 0,
                        len: 0,
                        exact: false,
                    }
                }
            }
        }
    }

    /// 0-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|start| *start <= offset)
            .saturating_sub(1)
    }

    /// Byte range of line `line`, without its line break.
    fn line_range(&self, line: usize) -> (usize, usize) {
        let start = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |next| next - 1);
        let end = if self.text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        (start, end.max(start))
    }

    /// 1-based line and column (in characters) of a byte offset, for SARIF and GitHub.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_of(offset);
        let (start, _) = self.line_range(line);
        let column = self.text[start..offset.max(start)].chars().count() + 1;
        (line + 1, column)
    }

    /// The part of `span` a label may cover: its first line, and at most [`WINDOW`] bytes of
    /// it. A label over a value of a hundred thousand lines would take miette minutes to draw.
    pub fn drawable(&self, offset: usize, len: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let (_, line_end) = self.line_range(self.line_of(offset));
        let end = (offset + len)
            .min(line_end.max(offset))
            .min(offset + WINDOW);
        let end = floor_char_boundary(&self.text, end);
        (offset, end - offset)
    }
}

/// The JSON nodes of `text`. A text that the strict span parser rejects still renders, with
/// labels on the first character; the callers report the syntax error itself.
fn json_nodes(text: &str) -> HashMap<String, Node> {
    let mut nodes = HashMap::new();
    let strict = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let collect = CollectOptions {
        comments: CommentCollectionStrategy::Off,
        tokens: false,
    };
    // jsonc-parser recurses once per level: a document nested past the limit is not
    // indexed at all (serde_json, which reports the syntax, refuses it too).
    if json_depth(text) <= MAX_INDEX_DEPTH {
        if let Ok(parsed) = jsonc_parser::parse_to_ast(text, &collect, &strict) {
            if let Some(root) = &parsed.value {
                index(root, String::new(), None, &mut nodes);
            }
        }
    }
    nodes
}

/// Characters that would act on a terminal or reorder what it shows: control characters (line
/// breaks and tabs aside) and bidirectional overrides.
pub fn hazardous(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// The text with each hazardous character replaced by a visible one of the same UTF-8 length,
/// so that every byte offset still holds.
fn defused(text: &str) -> String {
    text.chars()
        .map(|c| match (hazardous(c), c.len_utf8()) {
            (false, _) => c,
            (true, 1) => '?',
            (true, 2) => '\u{bf}',
            (true, _) => '\u{fffd}',
        })
        .collect()
}

/// Property names compare without case in ARM; pointers are folded for the index.
fn fold(pointer: &str) -> String {
    pointer.to_lowercase()
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The deepest nesting of `[` and `{` outside strings: checked before anything recurses.
fn json_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Miette reads the lines around a label through this: found by the line index, and cut to a
/// window when a line is long (a minified file is one line).
impl SourceCode for SourceDoc {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = &self.text;
        if span.offset() > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let start = floor_char_boundary(text, span.offset());
        let end = ceil_char_boundary(text, (span.offset() + span.len()).min(text.len()));
        let first = self.line_of(start);
        let last = self.line_of(end.saturating_sub(1).max(start));
        let from = first.saturating_sub(context_lines_before);
        let to = (last + context_lines_after).min(self.line_starts.len() - 1);
        let long = (from..=to).any(|line| {
            let (s, e) = self.line_range(line);
            e - s > WINDOW
        });
        let (data_start, data_end, data_line) = if long {
            // The label's own line only, cut around the label.
            let (line_start, line_end) = self.line_range(first);
            let room = WINDOW.saturating_sub(end - start) / 2;
            let window_start =
                floor_char_boundary(text, start.saturating_sub(room).max(line_start));
            let window_end =
                ceil_char_boundary(text, (end.max(start) + room).min(line_end.max(start)));
            (window_start, window_end.max(end.min(line_end)), first)
        } else {
            let (line_start, _) = self.line_range(from);
            let (_, line_end) = self.line_range(to);
            (line_start, line_end.max(end), from)
        };
        let data_end = data_end.min(text.len());
        let (line_start, _) = self.line_range(first);
        let column = text[line_start..start.max(line_start)].chars().count();
        let shown = self.display.as_deref().unwrap_or(text);
        let contents = MietteSpanContents::new_named(
            self.name.clone(),
            &shown.as_bytes()[data_start..data_end],
            (data_start, data_end - data_start).into(),
            data_line,
            column,
            to - from + 1,
        )
        .with_language(self.language);
        Ok(Box::new(contents))
    }
}

fn index(
    value: &Value<'_>,
    pointer: String,
    key: Option<(usize, usize)>,
    nodes: &mut HashMap<String, Node>,
) {
    let range = value.range();
    let compound = matches!(value, Value::Object(_) | Value::Array(_));
    match value {
        Value::Object(object) => {
            for prop in &object.properties {
                let name = match &prop.name {
                    ObjectPropName::String(s) => s.value.to_string(),
                    ObjectPropName::Word(w) => w.value.to_string(),
                };
                let key_range = prop.name.range();
                let child = format!("{pointer}/{}", fold(&escape(&name)));
                index(
                    &prop.value,
                    child,
                    Some((key_range.start, key_range.end)),
                    nodes,
                );
            }
        }
        Value::Array(array) => {
            for (i, element) in array.elements.iter().enumerate() {
                index(element, format!("{pointer}/{i}"), None, nodes);
            }
        }
        _ => {}
    }
    // Two names differing only in case: ARM reads the first.
    nodes.entry(pointer).or_insert(Node {
        key,
        value: (range.start, range.end),
        compound,
    });
}

/// RFC 6901 escaping of one reference token.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"vault\": {\n    \"properties\": {\n      \"enableSoftDelete\": false,\n      \"a/b\": [1, 2]\n    }\n  }\n}\n";

    #[test]
    fn scalar_anchor_is_the_value() {
        let doc = SourceDoc::file("t.json", TEXT.to_string());
        let a = doc.anchor("/vault/properties/enableSoftDelete");
        assert!(a.exact);
        assert_eq!(&TEXT[a.offset..a.offset + a.len], "false");
        assert_eq!(doc.line_col(a.offset), (4, 27));
    }

    #[test]
    fn names_compare_without_case_and_labels_keep_the_users_spelling() {
        let doc = SourceDoc::file("t.json", TEXT.to_string());
        let a = doc.anchor("/Vault/PROPERTIES/enablesoftdelete");
        assert!(a.exact);
        assert_eq!(&TEXT[a.offset..a.offset + a.len], "false");
        assert!(doc.node("/VAULT").is_some());
    }

    #[test]
    fn compound_anchor_is_the_key_and_missing_falls_back_to_parent() {
        let doc = SourceDoc::file("t.json", TEXT.to_string());
        let a = doc.anchor("/vault/properties/enablePurgeProtection");
        assert!(!a.exact);
        assert_eq!(&TEXT[a.offset..a.offset + a.len], "\"properties\"");
        let arr = doc.anchor("/vault/properties/a~1b/1");
        assert_eq!(&TEXT[arr.offset..arr.offset + arr.len], "2");
        let root = doc.anchor("/nothing");
        assert_eq!(&TEXT[root.offset..root.offset + root.len], "{");
    }

    #[test]
    fn a_long_line_is_read_as_a_window_around_the_span() {
        let text = format!("{{\"pad\": \"{}\", \"x\": true}}", "y".repeat(100_000));
        let doc = SourceDoc::file("t.json", text.clone());
        let at = doc.anchor("/x");
        let contents = doc
            .read_span(&(at.offset, at.len).into(), 2, 2)
            .unwrap_or_else(|_| unreachable!());
        assert!(contents.data().len() <= WINDOW + 4);
        assert_eq!(contents.line(), 0);
        assert_eq!(contents.column(), at.offset);
        let window = std::str::from_utf8(contents.data()).unwrap_or_default();
        assert!(window.contains("true"));
    }

    #[test]
    fn drawable_spans_stop_at_the_end_of_their_first_line() {
        let text = "{\"a\": \"x\ny\"}".to_string();
        let doc = SourceDoc::file("t.json", text);
        assert_eq!(doc.drawable(6, 100), (6, 2));
    }

    #[test]
    fn deep_nesting_is_not_indexed_and_does_not_overflow() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let doc = SourceDoc::file("t.json", text);
        assert!(doc.node("").is_none());
    }
}
