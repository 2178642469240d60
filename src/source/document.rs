//! A JSON text the user gave us (or a pretty-printed ARM body), indexed by JSON pointer so that
//! diagnostics can point at the exact property.

use std::collections::HashMap;
use std::sync::Arc;

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions};
use miette::{MietteError, NamedSource, SourceCode, SourceSpan, SpanContents};

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

#[derive(Debug)]
pub struct SourceDoc {
    pub source: NamedSource<String>,
    pub origin: Origin,
    nodes: HashMap<String, Node>,
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
        Self::new(name, text, Origin::File)
    }

    /// A body cmk-check fetched, named after its resource (`vault kv-prod (ARM)`).
    pub fn fetched(name: &str, text: String) -> Arc<Self> {
        Self::new(name, text, Origin::Fetched)
    }

    /// Indexes `text`. A text that the strict span parser rejects still renders, with labels on
    /// the first character; the callers report the syntax error itself.
    fn new(name: &str, text: String, origin: Origin) -> Arc<Self> {
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
        if let Ok(parsed) = jsonc_parser::parse_to_ast(&text, &collect, &strict) {
            if let Some(root) = &parsed.value {
                index(root, String::new(), None, &mut nodes);
            }
        }
        Arc::new(Self {
            source: NamedSource::new(name, text).with_language("json"),
            origin,
            nodes,
        })
    }

    /// A file in another language (the TOML config) whose caller indexed the pointers itself.
    pub fn indexed(
        name: &str,
        text: String,
        language: &str,
        nodes: HashMap<String, Node>,
    ) -> Arc<Self> {
        Arc::new(Self {
            source: NamedSource::new(name, text).with_language(language),
            origin: Origin::File,
            nodes,
        })
    }

    pub fn name(&self) -> &str {
        self.source.name()
    }

    pub fn text(&self) -> &str {
        self.source.inner()
    }

    pub fn node(&self, pointer: &str) -> Option<&Node> {
        self.nodes.get(pointer)
    }

    /// The label position for `pointer`: the property itself when present, else the nearest
    /// ancestor that exists (so "missing" labels sit on the object that should hold it).
    pub fn anchor(&self, pointer: &str) -> Anchor {
        let mut current = pointer;
        let mut exact = true;
        loop {
            if let Some(node) = self.nodes.get(current) {
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

    /// 1-based line and column of a byte offset, for formats that want them (SARIF, GitHub).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

/// Errors about the whole input carry the document itself, so they stay small and need no copy.
impl SourceCode for SourceDoc {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        self.source
            .read_span(span, context_lines_before, context_lines_after)
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
                let child = format!("{pointer}/{}", escape(&name));
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
    nodes.insert(
        pointer,
        Node {
            key,
            value: (range.start, range.end),
            compound,
        },
    );
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
}
