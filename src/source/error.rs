//! Input that cmk-check cannot use. Each variant carries the text and a span, so the edge can
//! render it pointing at the line and column.

use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, SourceSpan};

use crate::source::document::SourceDoc;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum InputError {
    #[error("could not read `{path}`")]
    #[diagnostic(code(cmk_check::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("`{name}` is not valid JSON: {message}")]
    #[diagnostic(code(cmk_check::json_syntax))]
    Syntax {
        name: String,
        message: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{message}")]
        span: SourceSpan,
    },

    #[error("`{field}` has the wrong shape: {message}")]
    #[diagnostic(
        code(cmk_check::json_shape),
        help("the sections of a snapshot are the bodies ARM returns; compare with `az resource show --ids <id>`")
    )]
    Shape {
        field: String,
        message: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{message}")]
        span: SourceSpan,
    },

    #[error("`{name}` is not a cmk-check snapshot: {reason}")]
    #[diagnostic(
        code(cmk_check::not_a_snapshot),
        help("a snapshot is a JSON object starting with `\"cmkCheckSnapshot\": 1`; `cmk-check snapshot` writes one")
    )]
    NotASnapshot {
        name: String,
        reason: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{reason}")]
        span: SourceSpan,
    },
}

/// A file's text.
pub fn read_text(path: &std::path::Path) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The JSON value of a document, or a syntax error at its line and column.
pub fn parse_json(doc: &Arc<SourceDoc>) -> Result<serde_json::Value, InputError> {
    serde_json::from_str(doc.text()).map_err(|e| {
        // serde_json appends " at line L column C"; the label already shows where.
        let text = e.to_string();
        let message = text
            .rfind(" at line ")
            .map_or(text.clone(), |cut| text[..cut].to_string());
        InputError::Syntax {
            name: doc.name().to_string(),
            message,
            src: Arc::clone(doc),
            span: (offset_of(doc.text(), e.line(), e.column()), 0).into(),
        }
    })
}

/// Byte offset of a 1-based line and column as serde_json reports them.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}
