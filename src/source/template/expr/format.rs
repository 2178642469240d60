//! `format()`: .NET composite formatting (`{0}`, `{1,-8}`, `{0:D3}`, `{{` and `}}`).

use serde_json::Value;

use super::eval::Fail;
use super::limits;
use super::value::utf16_len;

/// Widths and precisions above this would build strings far beyond ARM's own limits.
const MAX_WIDTH: usize = 131_072;

/// Formats `format` with `args`. Errors are what .NET rejects (`FormatException`); Unknown covers
/// format strings and argument types whose ARM output cmk-check could not confirm.
pub(super) fn format(format: &str, args: &[Value]) -> Result<String, Fail> {
    let chars: Vec<char> = format.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = String::with_capacity(format.len());
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            '{' if at(i + 1) == Some('{') => {
                out.push('{');
                i += 2;
            }
            '}' if at(i + 1) == Some('}') => {
                out.push('}');
                i += 2;
            }
            '}' => {
                return Err(Fail::Error(
                    "`format()`: a lone `}` in the format string (write `}}` for a brace)"
                        .to_owned(),
                ))
            }
            '{' => {
                i += 1;
                let item = read_item(&chars, &mut i)?;
                let arg = args.get(item.index).ok_or_else(|| {
                    Fail::Error(format!(
                        "`format()`: the format string uses `{{{}}}` but only {} argument(s) follow it",
                        item.index,
                        args.len()
                    ))
                })?;
                let text = format_argument(arg, item.spec.as_deref())?;
                pad(&mut out, &text, item.width, item.left)?;
                if limits::too_long(out.len() as u64) {
                    return Err(Fail::Error(limits::too_big()));
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

struct Item {
    index: usize,
    width: usize,
    left: bool,
    spec: Option<String>,
}

fn malformed() -> Fail {
    Fail::Error(
        "`format()`: malformed format item; items look like `{0}`, `{0,8}` or `{0:D2}` \
         (write `{{` for a brace)"
            .to_owned(),
    )
}

/// Reads a format item after its `{`, up to and including its `}`, as .NET's `AppendFormat`.
fn read_item(chars: &[char], i: &mut usize) -> Result<Item, Fail> {
    let at = |i: usize| chars.get(i).copied();
    let number = |i: &mut usize| -> Option<usize> {
        let start = *i;
        let mut value: usize = 0;
        while let Some(digit) = at(*i).and_then(|c| c.to_digit(10)) {
            value = value.saturating_mul(10).saturating_add(digit as usize);
            *i += 1;
        }
        (*i > start).then_some(value)
    };
    let skip_spaces = |i: &mut usize| {
        while at(*i) == Some(' ') {
            *i += 1;
        }
    };
    let index = number(i).ok_or_else(malformed)?;
    skip_spaces(i);
    let mut width = 0;
    let mut left = false;
    if at(*i) == Some(',') {
        *i += 1;
        skip_spaces(i);
        if at(*i) == Some('-') {
            left = true;
            *i += 1;
        }
        width = number(i).ok_or_else(malformed)?;
        skip_spaces(i);
    }
    let mut spec = None;
    if at(*i) == Some(':') {
        *i += 1;
        let mut text = String::new();
        loop {
            match at(*i) {
                None => return Err(malformed()),
                Some('}') => break,
                Some('{') => {
                    return Err(Fail::Unknown(
                        "`format()`: ARM's reading of a `{` inside a format specifier is not \
                         confirmed"
                            .to_owned(),
                    ))
                }
                Some(c) => {
                    text.push(c);
                    *i += 1;
                }
            }
        }
        if at(*i + 1) == Some('}') {
            return Err(Fail::Unknown(
                "`format()`: ARM's reading of `}}` right after a format specifier is not confirmed"
                    .to_owned(),
            ));
        }
        spec = Some(text);
    }
    if at(*i) != Some('}') {
        return Err(malformed());
    }
    *i += 1;
    Ok(Item {
        index,
        width,
        left,
        spec,
    })
}

fn pad(out: &mut String, text: &str, width: usize, left: bool) -> Result<(), Fail> {
    if width > MAX_WIDTH {
        return Err(Fail::Unknown(format!(
            "`format()`: a field width of {width} is beyond what cmk-check evaluates"
        )));
    }
    let fill = width.saturating_sub(utf16_len(text));
    if !left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out.push_str(text);
    if left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    Ok(())
}

fn format_argument(arg: &Value, spec: Option<&str>) -> Result<String, Fail> {
    let unsure = |what: &str| {
        Fail::Unknown(format!(
            "`format()`: ARM's text for {what} is not confirmed"
        ))
    };
    match arg {
        // Neither strings nor booleans take format specifiers in .NET: they are ignored.
        Value::String(text) => Ok(text.clone()),
        Value::Bool(true) => Ok("True".to_owned()),
        Value::Bool(false) => Ok("False".to_owned()),
        Value::Null => Ok(String::new()),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => format_integer(integer, spec.unwrap_or_default()).ok_or_else(|| {
                unsure(&format!(
                    "an integer with the specifier `{}`",
                    spec.unwrap_or_default()
                ))
            }),
            None => Err(unsure("this number")),
        },
        Value::Array(_) => Err(unsure("an array")),
        Value::Object(_) => Err(unsure("an object")),
    }
}

/// The .NET standard numeric formats cmk-check is sure of: none / `G`, `D`n and, for values that
/// are not negative, `X`n.
fn format_integer(value: i64, spec: &str) -> Option<String> {
    let mut chars = spec.chars();
    let Some(kind) = chars.next() else {
        return Some(value.to_string());
    };
    let precision_text: String = chars.collect();
    let precision = if precision_text.is_empty() {
        0
    } else if precision_text.bytes().all(|b| b.is_ascii_digit()) {
        precision_text.parse::<usize>().ok()?
    } else {
        return None;
    };
    if precision > 1000 {
        return None;
    }
    match kind {
        'G' | 'g' if precision_text.is_empty() => Some(value.to_string()),
        'D' | 'd' => {
            let digits = format!("{:0precision$}", value.unsigned_abs());
            Some(if value < 0 {
                format!("-{digits}")
            } else {
                digits
            })
        }
        'X' if value >= 0 => Some(format!("{value:0precision$X}")),
        'x' if value >= 0 => Some(format!("{value:0precision$x}")),
        _ => None,
    }
}
