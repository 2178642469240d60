//! Reading an input file as ARM would accept it: UTF-8 with or without a byte-order mark, of a
//! bounded size, and JSON whose syntax errors point at their line and column.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use super::SourceDoc;

/// The largest input cmk-check reads (a template is at most 4 MiB in ARM; a fleet snapshot of
/// ten thousand clusters is about 100 MiB). `/dev/zero` or a runaway pipe stops here.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Error, Diagnostic)]
pub enum ReadError {
    #[error("could not read `{path}`")]
    #[diagnostic(code(cmk_check::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("`{path}` is larger than {} MiB, the most cmk-check reads", MAX_INPUT_BYTES / (1024 * 1024))]
    #[diagnostic(
        code(cmk_check::too_large),
        help("give the file ARM or `cmk-check snapshot` wrote; inputs of that size are not templates, plans or snapshots")
    )]
    TooLarge { path: PathBuf },

    #[error("`{name}` is not UTF-8 text: {message}")]
    #[diagnostic(
        code(cmk_check::encoding),
        help("save the file as UTF-8 (with or without a byte-order mark), as ARM expects")
    )]
    Encoding {
        name: String,
        message: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{message}")]
        span: SourceSpan,
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
}

/// The text of a file: at most [`MAX_INPUT_BYTES`], UTF-8, its byte-order mark dropped.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // A regular file says its size; a pipe or a device is read only up to the bound.
    if file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > MAX_INPUT_BYTES)
    {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    decode(&path.display().to_string(), bytes)
}

/// UTF-8 bytes as text, a leading byte-order mark dropped; anything else is located.
pub fn decode(name: &str, mut bytes: Vec<u8>) -> Result<String, ReadError> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let doc = SourceDoc::file(name, String::new());
        return Err(ReadError::Encoding {
            name: name.to_string(),
            message: "it starts with a UTF-16 byte-order mark".to_string(),
            src: doc,
            span: (0, 0).into(),
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        // The lossy text has the same bytes up to the first invalid one.
        let doc = SourceDoc::file(name, text);
        ReadError::Encoding {
            name: name.to_string(),
            message: "this byte is not UTF-8".to_string(),
            src: doc,
            span: (at, 1).into(),
        }
    })
}

/// The JSON value of a document, or a syntax error at its line and column.
pub fn parse_json(doc: &Arc<SourceDoc>) -> Result<serde_json::Value, ReadError> {
    serde_json::from_str(doc.text()).map_err(|e| {
        // serde_json appends " at line L column C"; the label already shows where.
        let text = e.to_string();
        let message = text
            .rfind(" at line ")
            .map_or(text.clone(), |cut| text[..cut].to_string());
        ReadError::Syntax {
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
    let mut at = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let text = decode("t.json", b"\xEF\xBB\xBF{\"a\": 1}".to_vec()).unwrap();
        assert_eq!(text, "{\"a\": 1}");
    }

    #[test]
    fn bad_bytes_and_utf16_are_located() {
        let Err(ReadError::Encoding { span, .. }) = decode("t.json", b"{\"a\": \"\xFF\"}".to_vec())
        else {
            panic!("not refused");
        };
        assert_eq!(span.offset(), 7);
        assert!(matches!(
            decode("t.json", b"\xFF\xFE{\0".to_vec()),
            Err(ReadError::Encoding { .. })
        ));
    }

    #[test]
    fn a_device_is_read_only_up_to_the_bound() {
        if Path::new("/dev/zero").exists() {
            assert!(matches!(
                read_text(Path::new("/dev/zero")),
                Err(ReadError::TooLarge { .. })
            ));
        }
    }
}
