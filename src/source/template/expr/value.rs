//! JSON values the way ARM's `JToken`s behave: equality, serialization, case and comparison.
//! Each helper answers `None` (or an `Err` with the reason) where ARM's answer could not be
//! confirmed, so that the caller reports an Unknown instead of guessing.

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// "a string", "an integer", ... for messages.
pub(super) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a number with a fraction",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `JToken.DeepEquals`: same type and value, objects by their (case-sensitive) keys in any order.
/// `None` where an integer meets a number with a fraction.
pub(super) fn deep_equal(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() != y.is_f64() {
                None
            } else {
                Some(x == y)
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            all_equal(x.iter().zip(y))
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut pairs = Vec::with_capacity(x.len());
            for (key, value) in x {
                match y.get(key) {
                    Some(other) => pairs.push((value, other)),
                    None => return Some(false),
                }
            }
            all_equal(pairs)
        }
        _ => Some(a == b),
    }
}

fn all_equal<'v>(pairs: impl IntoIterator<Item = (&'v Value, &'v Value)>) -> Option<bool> {
    let mut unsure = false;
    for (x, y) in pairs {
        match deep_equal(x, y) {
            Some(false) => return Some(false),
            Some(true) => {}
            None => unsure = true,
        }
    }
    if unsure {
        None
    } else {
        Some(true)
    }
}

/// Whether `serde_json::Map` keeps insertion order (the `preserve_order` feature). Without it,
/// the keys of a template's objects come back sorted and their written order is lost.
fn map_keeps_order() -> bool {
    let mut map = Map::new();
    map.insert("b".to_owned(), Value::Null);
    map.insert("a".to_owned(), Value::Null);
    map.keys().next().is_some_and(|key| key == "b")
}

/// Compact JSON as ARM writes it for `string()` (Newtonsoft, no indentation).
pub(super) fn to_compact_json(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(value, &mut out, map_keeps_order())?;
    Ok(out)
}

fn write_json(value: &Value, out: &mut String, keeps_order: bool) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) if number.is_f64() => {
            return Err(format!(
                "ARM's text for the number {number} may differ from cmk-check's"
            ))
        }
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => write_json_string(text, out)?,
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(item, out, keeps_order)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            if members.len() > 1 && !keeps_order {
                return Err(
                    "the order of an object's keys is not kept, and ARM writes them in \
                            template order"
                        .to_owned(),
                );
            }
            out.push('{');
            for (index, (key, member)) in members.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json_string(key, out)?;
                out.push(':');
                write_json(member, out, keeps_order)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_json_string(text: &str, out: &mut String) -> Result<(), String> {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') => {
                return Err(format!(
                    "ARM's escape for the character U+{:04X} may differ from cmk-check's",
                    u32::from(c)
                ))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

/// .NET's `ToLowerInvariant`/`ToUpperInvariant`, for the characters where cmk-check is sure of
/// it: ASCII, and characters without case. `None` for other letters.
pub(super) fn change_case(text: &str, upper: bool) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            });
        } else if is_caseless(c) {
            out.push(c);
        } else {
            return None;
        }
    }
    Some(out)
}

pub(super) fn is_caseless(c: char) -> bool {
    c.to_lowercase().eq(std::iter::once(c)) && c.to_uppercase().eq(std::iter::once(c))
}

/// Case-insensitive equality (.NET's `OrdinalIgnoreCase`) where cmk-check is sure of it: equal
/// strings, or ASCII ones.
pub(super) fn equal_ignoring_case(a: &str, b: &str) -> Option<bool> {
    if a == b {
        Some(true)
    } else if a.is_ascii() && b.is_ascii() {
        Some(a.eq_ignore_ascii_case(b))
    } else {
        None
    }
}

/// Case-insensitive `starts_with` (`ends_with` when `from_end`), as .NET's `OrdinalIgnoreCase`,
/// where cmk-check is sure of it: an exact match, or ASCII text.
pub(super) fn affix_ignoring_case(text: &str, affix: &str, from_end: bool) -> Option<bool> {
    let exact = if from_end {
        text.ends_with(affix)
    } else {
        text.starts_with(affix)
    };
    if exact {
        return Some(true);
    }
    if !text.is_ascii() || !affix.is_ascii() {
        return None;
    }
    let (text, affix) = (text.as_bytes(), affix.as_bytes());
    let part = if from_end {
        text.len()
            .checked_sub(affix.len())
            .and_then(|start| text.get(start..))
    } else {
        text.get(..affix.len())
    };
    Some(part.is_some_and(|part| part.eq_ignore_ascii_case(affix)))
}

/// Order of two strings for `less()` and friends. ARM compares them with a culture-aware
/// comparison; cmk-check answers only where that agrees with the ordinal order: ASCII letters and
/// digits, compared the same with and without case.
pub(super) fn compare_strings(a: &str, b: &str) -> Option<Ordering> {
    if a == b {
        return Some(Ordering::Equal);
    }
    let plain = |s: &str| s.bytes().all(|byte| byte.is_ascii_alphanumeric());
    if !plain(a) || !plain(b) {
        return None;
    }
    let ordinal = a.cmp(b);
    let folded = a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase());
    (ordinal == folded).then_some(ordinal)
}

/// Length in UTF-16 code units, as .NET counts it.
pub(super) fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}
