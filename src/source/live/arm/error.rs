//! What went wrong reading ARM, in words that are safe to print: every server-given string is
//! redacted and clipped.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use thiserror::Error;

use crate::source::live::redact::Redactor;

/// Why a paged read stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// A `nextLink` or `$skipToken` that was already followed: the pages go round in a loop.
    Repeated,
    /// More pages than [`Limits`] allows.
    Pages(usize),
    /// More items than [`Limits`] allows.
    Items(usize),
    /// More bytes, all pages together, than [`Limits`] allows.
    Bytes(usize),
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ArmError {
    #[error("ARM answered {status}{}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    #[error("ARM did not answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("could not reach ARM: {0}")]
    Transport(String),
    #[error("ARM answered with `{0}`, not JSON")]
    ContentType(String),
    #[error("ARM's answer could not be read: {0}")]
    Malformed(String),
    #[error("refusing to follow a link to `{0}`: it is not the ARM endpoint")]
    ForeignLink(String),
    #[error("{what} was not read to its end: {}; a partial list is not checked", truncation(*.after, .why))]
    Truncated {
        what: &'static str,
        /// Pages read before stopping.
        after: usize,
        why: Truncation,
    },
    #[error("the answer is larger than {}, the most cmk-check reads of one answer", size(*.0))]
    TooLarge(usize),
    /// An error a fleet snapshot recorded, as it was said when it happened.
    #[error("{0}")]
    Replayed(String),
}

fn truncation(after: usize, why: &Truncation) -> String {
    let pages = |n: usize| format!("{n} page{}", if n == 1 { "" } else { "s" });
    match why {
        Truncation::Repeated => {
            format!("after {} it led back to a page already read", pages(after))
        }
        Truncation::Pages(limit) => format!("it has more than {}", pages(*limit)),
        Truncation::Items(limit) => {
            format!(
                "it holds more than {limit} items (stopped after {})",
                pages(after)
            )
        }
        Truncation::Bytes(limit) => format!(
            "its pages add up to more than {} (stopped after {})",
            size(*limit),
            pages(after)
        ),
    }
}

/// `16 MiB`, `64 KiB`, `1000 bytes`.
fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

impl ArmError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What to do about an answer that was not wrong but could not be used whole; `None` when
    /// trying again is the advice.
    pub fn remedy(&self) -> Option<&'static str> {
        match self {
            Self::Truncated { .. } => Some(
                "look at it in the Azure portal; ARM's lists end within a few pages, so one that loops or runs on comes from the endpoint or a proxy in between (`--arm-endpoint`, HTTPS_PROXY)",
            ),
            Self::TooLarge(_) => Some(
                "ARM's answers are a few MB at most: check the endpoint or a proxy in between (`--arm-endpoint`, HTTPS_PROXY)",
            ),
            _ => None,
        }
    }

    pub(super) fn retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Transport(_) => true,
            _ => false,
        }
    }

    /// The same error with every server-given string redacted, and clipped: a server picks
    /// the length of a link or a message, and a terminal should not have to show megabytes.
    pub fn redacted(self, redactor: &Redactor) -> Self {
        let text = |s: String| clip(redactor.text(&s));
        match self {
            Self::Status {
                status,
                code,
                message,
            } => Self::Status {
                status,
                code: code.map(text),
                message: message.map(text),
            },
            Self::Transport(s) => Self::Transport(text(s)),
            Self::ContentType(s) => Self::ContentType(text(s)),
            Self::Malformed(s) => Self::Malformed(text(s)),
            Self::ForeignLink(s) => Self::ForeignLink(text(s)),
            Self::Replayed(s) => Self::Replayed(text(s)),
            same @ (Self::Timeout(_) | Self::Truncated { .. } | Self::TooLarge(_)) => same,
        }
    }
}

/// The most of one server-given string an error keeps: more than any message ARM writes.
const MAX_TEXT: usize = 2_000;

fn clip(text: String) -> String {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

/// An error and its causes, which say what failed (`dns error`, `connection refused`).
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// ARM's error body: `{"error": {"code", "message"}}`.
pub(super) fn status_error(status: StatusCode, body: &[u8]) -> ArmError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let text = |key: &str| {
        error
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    ArmError::Status {
        status: status.as_u16(),
        code: text("code"),
        message: text("message"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::credentials::Secret;

    #[test]
    fn error_bodies_are_read_when_present() {
        let e = status_error(
            StatusCode::FORBIDDEN,
            br#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#,
        );
        assert_eq!(e.to_string(), "ARM answered 403 AuthorizationFailed: no");
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, b"<html>").to_string(),
            "ARM answered 502"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(16 * 1024 * 1024), "16 MiB");
        assert_eq!(size(64 * 1024), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(
            ArmError::TooLarge(16 * 1024 * 1024).to_string(),
            "the answer is larger than 16 MiB, the most cmk-check reads of one answer"
        );
    }

    #[test]
    fn every_server_given_string_of_an_error_is_redacted() {
        let redactor = Redactor::new(&Secret::new("tok-123456"));
        let echoed = || "sent Bearer tok-123456".to_string();
        let errors = [
            ArmError::Status {
                status: 403,
                code: Some(echoed()),
                message: Some(echoed()),
            },
            ArmError::Transport(echoed()),
            ArmError::ContentType(echoed()),
            ArmError::Malformed(echoed()),
            ArmError::ForeignLink(echoed()),
        ];
        for error in errors {
            let text = error.redacted(&redactor).to_string();
            assert!(!text.contains("tok-123456"), "{text}");
            assert!(text.contains("sent Bearer [redacted]"), "{text}");
        }
    }

    #[test]
    fn a_long_server_string_is_clipped_after_redaction() {
        let redactor = Redactor::new(&Secret::new("tok-123456"));
        let long = format!("{}é tok-123456", "a".repeat(MAX_TEXT - 1));
        let clipped = ArmError::ForeignLink(long).redacted(&redactor).to_string();
        assert!(
            clipped.contains(&format!("{}… (13 more bytes)", "a".repeat(MAX_TEXT - 1))),
            "{clipped}"
        );
        assert!(!clipped.contains("tok-"));
        let near_end = format!("{}tok-123456", "a".repeat(MAX_TEXT - 4));
        let clipped = ArmError::Malformed(near_end)
            .redacted(&redactor)
            .to_string();
        assert!(
            !clipped.contains("tok-"),
            "a token cut in two is still redacted: {clipped}"
        );
    }
}
