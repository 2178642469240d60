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

/// Byte offset of a 1-based line and column as serde_json reports them.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}
