//! String functions beyond the basic ones: encodings (`base64`, data URIs, URI components,
//! `uri`), `padLeft`, `join` and `float`.
//!
//! ARM runs on .NET, whose encoders differ in details (which characters a URI encoder keeps, how
//! lenient a base64 decoder is); cmk-check answers only for the inputs where those details cannot
//! matter, and is Unknown elsewhere.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use super::builtins::Ctx;
use super::eval::{Fail, Val};
use super::limits;
use super::value::{describe, utf16_len};

/// The prefix ARM's `dataUri()` writes (documented: `data:text/plain;charset=utf8;base64,`).
const DATA_URI_PREFIX: &str = "data:text/plain;charset=utf8;base64,";

/// `base64`, `base64ToString`, `base64ToJson`, `dataUri`, `dataUriToString`, `uri`,
/// `uriComponent`, `uriComponentToString`.
pub(super) fn encoding(ctx: &Ctx<'_>, lower: &str, args: &[Val]) -> Result<Val, Fail> {
    if lower == "uri" {
        let (base, relative) = ctx.two(args)?;
        return uri(ctx, ctx.string(base)?, ctx.string(relative)?);
    }
    let text = ctx.string(ctx.one(args)?)?;
    let value = match lower {
        "base64" => Value::String(STANDARD.encode(text)),
        "base64tostring" => Value::String(decode_base64_text(ctx, text)?),
        "base64tojson" => {
            let decoded = decode_base64_text(ctx, text)?;
            serde_json::from_str(&decoded).map_err(|_| {
                ctx.unsure(
                    "of text that is not strict JSON: ARM's parser accepts more, and its answer \
                     is not confirmed",
                )
            })?
        }
        "datauri" => {
            let encoded = STANDARD.encode(text);
            if limits::too_long((DATA_URI_PREFIX.len() + encoded.len()) as u64) {
                return Err(Fail::Error(limits::too_big()));
            }
            Value::String(format!("{DATA_URI_PREFIX}{encoded}"))
        }
        "datauritostring" => Value::String(data_uri_to_string(ctx, text)?),
        "uricomponent" => Value::String(uri_component(ctx, text)?),
        _ => Value::String(uri_component_to_string(ctx, text)?),
    };
    Ok(ctx.val(value))
}

/// Decodes base64 into UTF-8 text, as `Convert.FromBase64String` and `Encoding.UTF8` do. Only
/// canonical base64 is read (.NET ignores white space in it); anything else is Unknown, since how
/// lenient .NET is there is not confirmed.
fn decode_base64_text(ctx: &Ctx<'_>, text: &str) -> Result<String, Fail> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect();
    let bytes = STANDARD.decode(compact).map_err(|_| {
        ctx.unsure("of text that is not canonical base64: ARM's answer is not confirmed")
    })?;
    String::from_utf8(bytes).map_err(|_| {
        ctx.unsure("of bytes that are not UTF-8: how ARM replaces them is not confirmed")
    })
}

/// `dataUriToString()` of the base64 data URIs whose text is certain: without a media type (as
/// the documentation's example) or `text/plain` in UTF-8.
fn data_uri_to_string(ctx: &Ctx<'_>, text: &str) -> Result<String, Fail> {
    let unsure = || {
        ctx.unsure(
            "of a data URI other than `data:;base64,...` or `data:text/plain;charset=utf8;base64,...`: \
             ARM's answer is not confirmed",
        )
    };
    let rest = text.strip_prefix("data:").ok_or_else(unsure)?;
    let (media_type, data) = rest.split_once(";base64,").ok_or_else(unsure)?;
    let utf8 = match media_type {
        "" | "text/plain" => false,
        "text/plain;charset=utf8" | "text/plain;charset=utf-8" => true,
        _ => return Err(unsure()),
    };
    let decoded = decode_base64_text(ctx, data)?;
    // Without a charset, RFC 2397 says US-ASCII: only ASCII text reads the same either way.
    if !utf8 && !decoded.is_ascii() {
        return Err(ctx.unsure(
            "of a data URI without a charset whose bytes are not ASCII: ARM's answer is not \
             confirmed",
        ));
    }
    Ok(decoded)
}

/// `uriComponent()`: .NET's `Uri.EscapeDataString` and `WebUtility.UrlEncode` agree on every
/// character but the space and `~!*()'`: those are Unknown, the rest is percent-encoded in
/// UTF-8 with upper-case digits (documented: `http%3A%2F%2Fcontoso.com`).
fn uri_component(ctx: &Ctx<'_>, text: &str) -> Result<String, Fail> {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                out.push(char::from(byte))
            }
            b' ' | b'~' | b'!' | b'*' | b'(' | b')' | b'\'' => {
                return Err(ctx.unsure(format!(
                    "of text with `{}`, which .NET's URI encoders treat differently: ARM's answer \
                     is not confirmed",
                    char::from(byte)
                )))
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    if limits::too_long(out.len() as u64) {
        return Err(Fail::Error(limits::too_big()));
    }
    Ok(out)
}

/// `uriComponentToString()`: percent-decoding where .NET's decoders agree (no `+`, only
/// complete escapes, UTF-8 bytes).
fn uri_component_to_string(ctx: &Ctx<'_>, text: &str) -> Result<String, Fail> {
    let unsure = |what: &str| {
        ctx.unsure(format!(
            "of text with {what}, which .NET's URI decoders treat differently: ARM's answer is \
             not confirmed"
        ))
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => return Err(unsure("`+`")),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|pair| std::str::from_utf8(pair).ok())
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| unsure("a `%` that is not followed by two hex digits"))?;
                out.push(hex);
                i += 3;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| unsure("escapes that are not UTF-8"))
}

/// `uri(baseUri, relativeUri)` for the cases where RFC 3986 resolution, .NET's `Uri` and the
/// documented examples agree: an `http(s)` base with a lower-case host, no port, query or
/// fragment and a path with a `/`; a relative path of plain characters. The result is the base
/// up to its last `/`, then the relative path.
fn uri(ctx: &Ctx<'_>, base: &str, relative: &str) -> Result<Val, Fail> {
    let unsure = |what: &str| {
        ctx.unsure(format!(
            "with {what}: how ARM resolves it (RFC 3986, .NET's `Uri`) is not confirmed"
        ))
    };
    let plain_path = |path: &str| {
        path.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
            && !path
                .split('/')
                .any(|segment| segment == "." || segment == "..")
    };
    let after_scheme = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .ok_or_else(|| unsure("a base that does not start with `http://` or `https://`"))?;
    let (host, path) = after_scheme
        .split_once('/')
        .ok_or_else(|| unsure("a base without a path"))?;
    let plain_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'));
    if !plain_host {
        return Err(unsure(
            "a host other than lower-case letters, digits, `-` and `.`",
        ));
    }
    if !plain_path(path) {
        return Err(unsure("a base path other than letters, digits and `-_./`"));
    }
    if relative.is_empty() || relative.starts_with('/') || !plain_path(relative) {
        return Err(unsure(
            "a relative URI that is empty, starts with `/` or has characters other than letters, \
             digits and `-_./`",
        ));
    }
    let kept = base
        .rfind('/')
        .map_or(base, |at| base.get(..=at).unwrap_or(base));
    if limits::too_long((kept.len() + relative.len()) as u64) {
        return Err(Fail::Error(limits::too_big()));
    }
    Ok(ctx.val(Value::String(format!("{kept}{relative}"))))
}

/// `padLeft(valueToPad, totalLength, [paddingCharacter])`, counting UTF-16 code units.
pub(super) fn pad_left(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let (Some(value), Some(total)) = (args.first(), args.get(1)) else {
        return Err(ctx.arity(args));
    };
    let text = match &value.value {
        Value::String(text) => text.clone(),
        Value::Number(number) if number.is_i64() || number.is_u64() => number.to_string(),
        Value::Null => return Err(ctx.null()),
        other => {
            return Err(ctx.error(format!(
                "expects a string or an integer to pad, got {}",
                describe(other)
            )))
        }
    };
    let total = ctx.integer(total)?;
    let padding = match args.get(2) {
        None => ' ',
        Some(padding) => {
            let padding = ctx.string(padding)?;
            let mut chars = padding.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.len_utf16() == 1 => c,
                _ => {
                    return Err(ctx.unsure(format!(
                        "with the padding `{padding}`, which is not one character: ARM's answer \
                         is not confirmed"
                    )))
                }
            }
        }
    };
    let Ok(total) = u64::try_from(total) else {
        return Err(ctx.unsure(format!(
            "with the negative length {total}: ARM's answer is not confirmed"
        )));
    };
    let fill = total.saturating_sub(utf16_len(&text) as u64);
    let bytes = (text.len() as u64).saturating_add(fill.saturating_mul(padding.len_utf8() as u64));
    if limits::too_long(bytes) {
        return Err(Fail::Error(limits::too_big()));
    }
    let mut out: String = std::iter::repeat_n(padding, fill as usize).collect();
    out.push_str(&text);
    Ok(ctx.val(Value::String(out)))
}

/// `join(inputArray, delimiter)` of strings.
pub(super) fn join(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let (items, delimiter) = ctx.two(args)?;
    let delimiter = ctx.string(delimiter)?;
    let items = match &items.value {
        Value::Array(items) => items,
        Value::Null => return Err(ctx.null()),
        other => return Err(ctx.error(format!("expects an array, got {}", describe(other)))),
    };
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(part) => parts.push(part.as_str()),
            other => {
                return Err(ctx.unsure(format!(
                    "of an array with {}: how ARM writes it is not confirmed",
                    describe(other)
                )))
            }
        }
    }
    let bytes: usize = parts.iter().map(|part| part.len()).sum::<usize>()
        + parts
            .len()
            .saturating_sub(1)
            .saturating_mul(delimiter.len());
    if limits::too_long(bytes as u64) {
        return Err(Fail::Error(limits::too_big()));
    }
    Ok(ctx.val(Value::String(parts.join(delimiter))))
}

/// `float(arg)`, only where the number is exact in binary floating point, so that any correct
/// parser (.NET's included) gives the same one.
pub(super) fn float(ctx: &Ctx<'_>, arg: &Val) -> Result<Val, Fail> {
    let inexact = || {
        ctx.unsure(
            "of a number that binary floating point cannot hold exactly (or written in a form \
             cmk-check does not read): the value ARM picks is not confirmed",
        )
    };
    let number = match &arg.value {
        Value::Number(number) if number.is_f64() => return Ok(ctx.val(arg.value.clone())),
        Value::Number(number) => number
            .as_i64()
            .filter(|value| value.unsigned_abs() <= 1 << 53)
            .map(|value| value as f64)
            .ok_or_else(inexact)?,
        Value::String(text) => exact_decimal(text).ok_or_else(inexact)?,
        Value::Null => return Err(ctx.null()),
        other => {
            return Err(ctx.error(format!(
                "expects a string or an integer, got {}",
                describe(other)
            )))
        }
    };
    serde_json::Number::from_f64(number)
        .map(|number| ctx.val(Value::Number(number)))
        .ok_or_else(inexact)
}

/// The value of `[-]digits[.digits]` when binary floating point holds it exactly: `m / 10^k` is
/// exact when `m / 5^k` is a whole number of at most 53 bits.
fn exact_decimal(text: &str) -> Option<f64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let dangling_point = digits.contains('.') && fraction.is_empty();
    if whole.is_empty() || !plain(whole) || !plain(fraction) || dangling_point {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    let all = format!("{whole}{fraction}");
    let significant = all.trim_start_matches('0');
    if significant.len() > 38 {
        return None;
    }
    let mantissa: u128 = if significant.is_empty() {
        // .NET Framework and .NET Core disagree on the sign of `-0`.
        if negative {
            return None;
        }
        0
    } else {
        significant.parse().ok()?
    };
    let scale = u32::try_from(fraction.len()).ok()?;
    let five = 5_u128.checked_pow(scale)?;
    if !mantissa.is_multiple_of(five) {
        return None;
    }
    let whole_part = mantissa / five;
    if whole_part > 1 << 53 {
        return None;
    }
    let value = whole_part as f64 / 2_f64.powi(i32::try_from(scale).ok()?);
    Some(if negative { -value } else { value })
}
