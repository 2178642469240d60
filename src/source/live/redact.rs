//! Redaction of credentials from text a server sent. A server may echo the request's
//! `Authorization` header into an error message, a header or a body; whatever cmk-check takes
//! from a server passes through here before it can reach a terminal, a report or a snapshot.

use std::sync::{Arc, RwLock};

use azure_core::credentials::Secret;
use serde_json::Value;

/// What replaces a credential.
pub const REDACTED: &str = "[redacted]";

/// The secrets of one run (the ARM token, the Key Vault tokens minted so far), and the shapes
/// of credentials in general: JWTs and `Bearer` values.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<Secret>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").finish_non_exhaustive()
    }
}

impl Redactor {
    pub fn new(secret: &Secret) -> Self {
        let redactor = Self::default();
        redactor.remember(secret);
        redactor
    }

    /// Adds a secret, such as a token minted later in the run.
    pub fn remember(&self, secret: &Secret) {
        if secret.secret().is_empty() {
            return;
        }
        if let Ok(mut secrets) = self.secrets.write() {
            if !secrets.iter().any(|s| s.secret() == secret.secret()) {
                secrets.push(secret.clone());
            }
        }
    }

    /// `text` without any known secret, JWT or `Bearer` value.
    pub fn text(&self, text: &str) -> String {
        let mut text = text.to_string();
        // A poisoned lock still holds the secrets: a panic elsewhere must not disable redaction.
        let secrets = match self.secrets.read() {
            Ok(secrets) => secrets,
            Err(poisoned) => poisoned.into_inner(),
        };
        for secret in secrets.iter() {
            for form in forms(secret.secret()) {
                if text.contains(&form) {
                    text = text.replace(&form, REDACTED);
                }
            }
        }
        patterns(&text)
    }

    /// Redacts every string of `value`, keys included.
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(s) => self.in_place(s),
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(map) => {
                if map.keys().any(|k| self.text(k) != *k) {
                    let old = std::mem::take(map);
                    for (key, mut item) in old {
                        self.value(&mut item);
                        map.insert(self.text(&key), item);
                    }
                } else {
                    map.values_mut().for_each(|item| self.value(item));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Redacts `text` where it stands.
    pub fn in_place(&self, text: &mut String) {
        let redacted = self.text(text);
        if redacted != *text {
            *text = redacted;
        }
    }
}

/// A secret as it is written in text, and as a URL query carries it.
fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string()];
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    if encoded != secret {
        forms.push(encoded);
    }
    forms
}

/// `text` without JWTs or `Bearer` values, whoever they belong to.
pub fn patterns(text: &str) -> String {
    bearer_values(&jwts(text))
}

fn base64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// A JWT (JWS or JWE): `eyJ` (base64url of `{"`), then dot-separated base64url segments, at
/// least three. The start must not be inside a longer base64url word.
fn jwts(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(found) = text[i..].find("eyJ") {
        let start = i + found;
        let inside_word = start > 0 && base64url(bytes[start - 1]);
        let end = if inside_word {
            None
        } else {
            jwt_end(bytes, start)
        };
        match end {
            Some(end) => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
            }
            None => i = start + 3,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the JWT that starts at `start` ends, if it is one.
fn jwt_end(bytes: &[u8], start: usize) -> Option<usize> {
    let segment = |from: usize| {
        bytes[from..]
            .iter()
            .position(|&c| !base64url(c))
            .map_or(bytes.len(), |n| from + n)
    };
    let mut end = segment(start);
    let mut dots = 0;
    while end < bytes.len() && bytes[end] == b'.' {
        let next = segment(end + 1);
        // The header and the payload are never empty; an unsigned JWT's signature is.
        if next == end + 1 && dots == 0 {
            break;
        }
        dots += 1;
        end = next;
    }
    (dots >= 2).then_some(end)
}

/// The b64token after `Bearer ` (RFC 6750), whatever its shape.
fn bearer_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(found) = lower[i..].find("bearer") {
        let start = i + found;
        i = start + "bearer".len();
        if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let spaces = bytes[i..]
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t'))
            .count();
        let from = i + spaces;
        let to = bytes[from..]
            .iter()
            .position(|&c| !b64token(c))
            .map_or(bytes.len(), |n| from + n);
        let to = to + bytes[to..].iter().take_while(|&&c| c == b'=').count();
        if spaces == 0 || to == from {
            continue;
        }
        out.push_str(&text[copied..from]);
        out.push_str(REDACTED);
        copied = to;
        i = to;
    }
    out.push_str(&text[copied..]);
    out
}

fn b64token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJl";

    fn redactor() -> Redactor {
        Redactor::new(&Secret::new("s3cr3t+t/ok"))
    }

    #[test]
    fn the_known_secret_is_redacted_as_written_and_as_a_query_carries_it() {
        let r = redactor();
        assert_eq!(r.text("token s3cr3t+t/ok here"), "token [redacted] here");
        assert_eq!(r.text("?t=s3cr3t%2Bt%2Fok&x=1"), "?t=[redacted]&x=1");
    }

    #[test]
    fn jwts_are_redacted_wherever_they_stand() {
        let r = Redactor::default();
        assert_eq!(
            r.text(&format!("token={JWT}&next=1")),
            "token=[redacted]&next=1"
        );
        assert_eq!(r.text(&format!("\"{JWT}\"")), "\"[redacted]\"");
        assert_eq!(r.text("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."), REDACTED);
        // JWE: five segments.
        assert_eq!(r.text("eyJhbGci.a.b.c.d!"), "[redacted]!");
    }

    #[test]
    fn what_only_resembles_a_jwt_is_kept() {
        let r = Redactor::default();
        for kept in [
            "keyJwt.a.b",
            "eyJhbGci only",
            "eyJa.b",
            "modulus AQABeyJ9.x.y",
            "eyJ",
            "",
        ] {
            assert_eq!(r.text(kept), kept);
        }
    }

    #[test]
    fn bearer_values_are_redacted_in_any_case() {
        let r = Redactor::default();
        assert_eq!(
            r.text("header Authorization: Bearer abc.def-ghi~jkl+m/n== was sent"),
            "header Authorization: Bearer [redacted] was sent"
        );
        assert_eq!(r.text("bearer\tx1"), "bearer\t[redacted]");
        assert_eq!(
            r.text("BEARER x1, BEARER y2"),
            "BEARER [redacted], BEARER [redacted]"
        );
        assert_eq!(r.text("Bearer"), "Bearer");
        assert_eq!(r.text("Bearer "), "Bearer ");
        assert_eq!(r.text("unbearerable x"), "unbearerable x");
    }

    #[test]
    fn text_that_is_not_ascii_is_left_whole() {
        let r = redactor();
        assert_eq!(r.text("clé — Bearer é"), "clé — Bearer é");
        assert_eq!(r.text("é eyJ€.a.b"), "é eyJ€.a.b");
    }

    #[test]
    fn every_string_of_a_body_is_redacted_keys_included() {
        let r = redactor();
        let mut body = json!({
            "id": "/subscriptions/x",
            "tags": {"s3cr3t+t/ok": "Bearer s3cr3t+t/ok", "jwt": JWT},
            "list": [1, true, null, "s3cr3t+t/ok"],
        });
        r.value(&mut body);
        assert_eq!(
            body,
            json!({
                "id": "/subscriptions/x",
                "tags": {"[redacted]": "Bearer [redacted]", "jwt": "[redacted]"},
                "list": [1, true, null, "[redacted]"],
            })
        );
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "tags", "list"], "the order of members is kept");
    }

    #[test]
    fn secrets_learnt_later_are_redacted_and_empty_ones_ignored() {
        let r = Redactor::default();
        let clone = r.clone();
        clone.remember(&Secret::new("minted-later"));
        r.remember(&Secret::new(""));
        assert_eq!(r.text("x minted-later y"), "x [redacted] y");
        assert_eq!(format!("{r:?}"), "Redactor { .. }");
    }
}
