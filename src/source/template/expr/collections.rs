//! Array and object functions beyond the basic ones: `indexOf`/`lastIndexOf`, `skip`/`take`,
//! `flatten`, `intersection`, `items`, `objectKeys`, `shallowMerge`, `min`/`max`, `range`,
//! `indexFromEnd`/`tryIndexFromEnd`.
//!
//! Where ARM's order or comparison is not documented precisely (the "alphabetical" order of
//! `items()`, case in keys), the result is known only when every plausible reading agrees.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::builtins::Ctx;
use super::eval::{Fail, Val};
use super::limits;
use super::value::{compare_strings, deep_equal, describe, equal_ignoring_case, is_caseless};

/// `indexOf(text, part)` / `lastIndexOf(text, part)`, without regard to case (documented), or
/// the same for an element of an array.
pub(super) fn index_of(ctx: &Ctx<'_>, args: &[Val], last: bool) -> Result<Val, Fail> {
    let (container, item) = ctx.two(args)?;
    let index = match (&container.value, &item.value) {
        (Value::String(text), Value::String(part)) => string_index(ctx, text, part, last)?,
        (Value::Array(items), item) => array_index(ctx, items, item, last)?,
        (Value::Null, _) | (_, Value::Null) => return Err(ctx.null()),
        (Value::String(_), other) => {
            return Err(ctx.error(format!(
                "looks for a string in a string, got {}",
                describe(other)
            )))
        }
        (other, _) => {
            return Err(ctx.error(format!(
                "expects a string or an array, got {}",
                describe(other)
            )))
        }
    };
    Ok(ctx.val(Value::from(index)))
}

/// The UTF-16 index of `part` in `text` as .NET's `OrdinalIgnoreCase`, where cmk-check is sure
/// of it: letters outside ASCII must have no case.
fn string_index(ctx: &Ctx<'_>, text: &str, part: &str, last: bool) -> Result<i64, Fail> {
    let sure = |s: &str| s.chars().all(|c| c.is_ascii() || is_caseless(c));
    if !sure(text) || !sure(part) {
        return Err(
            ctx.unsure("ignores case, and how it does for letters outside ASCII is not confirmed")
        );
    }
    if part.is_empty() && last {
        return Err(
            ctx.unsure("of an empty string: .NET versions disagree on where it is found last")
        );
    }
    let (text_folded, part_folded) = (text.to_ascii_lowercase(), part.to_ascii_lowercase());
    let found = if last {
        text_folded.rfind(&part_folded)
    } else {
        text_folded.find(&part_folded)
    };
    Ok(match found {
        Some(at) => utf16_index(text, at),
        None => -1,
    })
}

fn utf16_index(text: &str, byte_at: usize) -> i64 {
    text.get(..byte_at)
        .map_or(0, |head| head.encode_utf16().count()) as i64
}

/// The index of `item` among `items`; Unknown where a string element differs from it only in
/// case, since whether ARM then matches is not confirmed.
fn array_index(ctx: &Ctx<'_>, items: &[Value], item: &Value, last: bool) -> Result<i64, Fail> {
    let mut found = None;
    for (index, candidate) in items.iter().enumerate() {
        ctx.charge(limits::NODE_COST)?;
        if let (Value::String(a), Value::String(b)) = (candidate, item) {
            if a != b && equal_ignoring_case(a, b) != Some(false) {
                return Err(ctx.unsure(format!(
                    "of `{b}` among strings that differ from it only in case: ARM's answer is not \
                     confirmed"
                )));
            }
        }
        match deep_equal(candidate, item) {
            Some(true) => {
                found = Some(index);
                if !last {
                    break;
                }
            }
            Some(false) => {}
            None => {
                return Err(ctx.unsure(
                    "of an integer among numbers with a fraction: ARM's answer is not confirmed",
                ))
            }
        }
    }
    Ok(found.map_or(-1, |index| index as i64))
}

/// `skip(value, count)` / `take(value, count)` of an array or a string (in UTF-16 code units);
/// counts below 0 are 0 and counts beyond the length are the length (documented).
pub(super) fn skip_or_take(ctx: &Ctx<'_>, args: Vec<Val>, take: bool) -> Result<Val, Fail> {
    let count = match args.get(1) {
        Some(count) => ctx.integer(count)?,
        None => return Err(ctx.arity(&args)),
    };
    if i32::try_from(count).is_err() {
        return Err(ctx.unsure(format!(
            "with the count {count}, beyond 32 bits: ARM's answer is not confirmed"
        )));
    }
    let count = usize::try_from(count).unwrap_or(0);
    let Some(value) = args.into_iter().next() else {
        return Err(ctx.error("needs a value"));
    };
    let result = match value.value {
        Value::Array(items) => {
            let cut = count.min(items.len());
            let mut items = items;
            let rest = items.split_off(cut);
            Value::Array(if take { items } else { rest })
        }
        Value::String(text) => {
            let units: Vec<u16> = text.encode_utf16().collect();
            let cut = count.min(units.len());
            let (head, tail) = units.split_at(cut);
            let part = if take { head } else { tail };
            Value::String(String::from_utf16(part).map_err(|_| {
                ctx.unsure("cuts a character outside the Basic Multilingual Plane in two")
            })?)
        }
        Value::Null => return Err(ctx.null()),
        other => {
            return Err(ctx.error(format!(
                "expects an array or a string, got {}",
                describe(&other)
            )))
        }
    };
    Ok(ctx.val(result))
}

/// `flatten(arrays)`: the elements of the inner arrays, one level only.
pub(super) fn flatten(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    let Some(outer) = args.into_iter().next() else {
        return Err(ctx.error("needs an array"));
    };
    let items = match outer.value {
        Value::Array(items) => items,
        Value::Null => return Err(ctx.null()),
        other => return Err(ctx.error(format!("expects an array, got {}", describe(&other)))),
    };
    let mut flat = Vec::new();
    for item in items {
        match item {
            Value::Array(inner) => flat.extend(inner),
            other => {
                return Err(ctx.unsure(format!(
                    "of an array with {} among its elements: ARM's answer is not confirmed",
                    describe(&other)
                )))
            }
        }
    }
    Ok(ctx.val(Value::Array(flat)))
}

/// `intersection(a, b, ...)` of objects (the members of the first that every other has, with an
/// equal value) or of arrays (the elements of the first that every other has).
pub(super) fn intersection(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    if args.iter().any(|arg| arg.value.is_null()) {
        return Err(ctx.null());
    }
    let mut values = args.into_iter().map(|arg| arg.value);
    let first = values.next().unwrap_or(Value::Null);
    let others: Vec<Value> = values.collect();
    let kinds_differ = others.iter().any(|other| {
        other.is_object() != first.is_object() || other.is_array() != first.is_array()
    });
    match first {
        Value::Object(members) if !kinds_differ => {
            let mut kept = Map::new();
            for (key, value) in members {
                if every_has_member(ctx, &others, &key, &value)? {
                    kept.insert(key, value);
                }
            }
            Ok(ctx.val(Value::Object(kept)))
        }
        Value::Array(items) if !kinds_differ => {
            let mut kept: Vec<Value> = Vec::new();
            for item in items {
                if contains_value(ctx, &kept, &item)? {
                    return Err(ctx.unsure(
                        "of a first array with repeated elements: whether ARM keeps them is not \
                         confirmed",
                    ));
                }
                let mut everywhere = true;
                for other in &others {
                    let Value::Array(other) = other else {
                        continue;
                    };
                    everywhere &= contains_value(ctx, other, &item)?;
                }
                if everywhere {
                    kept.push(item);
                }
            }
            Ok(ctx.val(Value::Array(kept)))
        }
        first => {
            let kinds: Vec<&str> = std::iter::once(&first)
                .chain(&others)
                .map(describe)
                .collect();
            Err(ctx.error(format!(
                "expects only objects or only arrays, got {}",
                kinds.join(", ")
            )))
        }
    }
}

fn every_has_member(
    ctx: &Ctx<'_>,
    others: &[Value],
    key: &str,
    value: &Value,
) -> Result<bool, Fail> {
    for other in others {
        let Value::Object(other) = other else {
            continue;
        };
        ctx.charge(other.len() as u64 * limits::KEY_COMPARISON_COST)?;
        if other
            .keys()
            .any(|candidate| candidate != key && equal_ignoring_case(candidate, key) != Some(false))
        {
            return Err(ctx.unsure(format!(
                "of objects with keys that differ only in case (`{key}`): ARM's answer is not \
                 confirmed"
            )));
        }
        ctx.charge(limits::NODE_COST)?;
        match other.get(key).map(|candidate| deep_equal(candidate, value)) {
            None | Some(Some(false)) => return Ok(false),
            Some(Some(true)) => {}
            Some(None) => return Err(mixed_numbers(ctx)),
        }
    }
    Ok(true)
}

fn contains_value(ctx: &Ctx<'_>, items: &[Value], item: &Value) -> Result<bool, Fail> {
    for candidate in items {
        ctx.charge(limits::NODE_COST)?;
        match deep_equal(candidate, item) {
            Some(true) => return Ok(true),
            Some(false) => {}
            None => return Err(mixed_numbers(ctx)),
        }
    }
    Ok(false)
}

fn mixed_numbers(ctx: &Ctx<'_>) -> Fail {
    ctx.unsure("of integers and numbers with a fraction: ARM's answer is not confirmed")
}

/// The keys of an object in the order ARM's "alphabetical" sort gives them, where every
/// plausible reading of it agrees; `None` otherwise.
fn sorted_keys(members: &Map<String, Value>) -> Option<Vec<&String>> {
    let mut keys: Vec<&String> = members.keys().collect();
    let mut sure = true;
    keys.sort_by(|a, b| {
        compare_strings(a, b).unwrap_or_else(|| {
            sure = false;
            Ordering::Equal
        })
    });
    sure.then_some(keys)
}

fn object<'v>(ctx: &Ctx<'_>, val: &'v Val) -> Result<&'v Map<String, Value>, Fail> {
    match &val.value {
        Value::Object(members) => Ok(members),
        Value::Null => Err(ctx.null()),
        other => Err(ctx.error(format!("expects an object, got {}", describe(other)))),
    }
}

/// `items(object)`: `[{key, value}, ...]`, sorted by key (documented).
pub(super) fn items(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    let members = object(ctx, ctx.one(&args)?)?;
    let keys = sorted_keys(members).ok_or_else(|| {
        ctx.unsure(
            "sorts the keys alphabetically, and in which order for these keys is not confirmed",
        )
    })?;
    let entries = keys
        .into_iter()
        .map(|key| {
            let mut entry = Map::new();
            entry.insert("key".to_owned(), Value::String(key.clone()));
            entry.insert(
                "value".to_owned(),
                members.get(key).cloned().unwrap_or_default(),
            );
            Value::Object(entry)
        })
        .collect();
    Ok(ctx.val(Value::Array(entries)))
}

/// `objectKeys(object)`: known when the template's order and the alphabetical one agree, since
/// which of them ARM keeps is not documented.
pub(super) fn object_keys(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let members = object(ctx, ctx.one(args)?)?;
    let written: Vec<&String> = members.keys().collect();
    if sorted_keys(members).as_ref() != Some(&written) {
        return Err(ctx.unsure(
            "of keys whose written and alphabetical orders differ: which one ARM gives is not \
             confirmed",
        ));
    }
    let keys = written
        .into_iter()
        .map(|key| Value::String(key.clone()))
        .collect();
    Ok(ctx.val(Value::Array(keys)))
}

/// `shallowMerge(objects)`: the members of each object in turn, later ones replacing earlier ones
/// at the top level only.
pub(super) fn shallow_merge(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    let Some(list) = args.into_iter().next() else {
        return Err(ctx.error("needs an array of objects"));
    };
    let objects = match list.value {
        Value::Array(objects) => objects,
        Value::Null => return Err(ctx.null()),
        other => return Err(ctx.error(format!("expects an array, got {}", describe(&other)))),
    };
    let mut merged = Map::new();
    for object in objects {
        let Value::Object(members) = object else {
            return Err(ctx.unsure(format!(
                "of an array with {}: ARM's answer is not confirmed",
                describe(&object)
            )));
        };
        for (key, value) in members {
            if let Some(slot) = merged.get_mut(&key) {
                *slot = value;
                continue;
            }
            ctx.charge(merged.len() as u64 * limits::KEY_COMPARISON_COST)?;
            if merged
                .keys()
                .any(|existing| equal_ignoring_case(existing, &key) != Some(false))
            {
                return Err(ctx.unsure(format!(
                    "of objects with keys that differ only in case (`{key}`): ARM's answer is not \
                     confirmed"
                )));
            }
            merged.insert(key, value);
        }
    }
    Ok(ctx.val(Value::Object(merged)))
}

/// `min(...)` / `max(...)` of integers, given as arguments or as one array.
pub(super) fn min_or_max(ctx: &Ctx<'_>, args: &[Val], max: bool) -> Result<Val, Fail> {
    let values: Vec<&Value> = match args {
        [Val {
            value: Value::Array(items),
            ..
        }] => items.iter().collect(),
        _ if args.iter().any(|arg| arg.value.is_array()) => {
            return Err(
                ctx.unsure("of arrays mixed with other arguments: ARM's answer is not confirmed")
            )
        }
        _ => args.iter().map(|arg| &arg.value).collect(),
    };
    let mut best: Option<i64> = None;
    for value in values {
        let number = match value {
            Value::Number(number) => number.as_i64().ok_or_else(|| {
                ctx.unsure(
                    "of numbers with a fraction or beyond 64 bits: ARM's answer is not confirmed",
                )
            })?,
            Value::Null => return Err(ctx.null()),
            other => return Err(ctx.error(format!("expects integers, got {}", describe(other)))),
        };
        best = Some(match best {
            Some(current) if max => current.max(number),
            Some(current) => current.min(number),
            None => number,
        });
    }
    best.map(|value| ctx.val(Value::from(value)))
        .ok_or_else(|| ctx.unsure("of an empty array: ARM's answer is not confirmed"))
}

/// `range(startIndex, count)`: documented, `count` is 0 to 10,000 and the sum at most
/// 2,147,483,647.
pub(super) fn range(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    const MAX_COUNT: i64 = 10_000;
    let (start, count) = ctx.two(args)?;
    let (start, count) = (ctx.integer(start)?, ctx.integer(count)?);
    if !(0..=MAX_COUNT).contains(&count) {
        return Err(ctx.error(format!("takes a count from 0 to {MAX_COUNT}, got {count}")));
    }
    if start.saturating_add(count) > i64::from(i32::MAX) {
        return Err(ctx.error(format!(
            "needs a start and a count whose sum is at most {}, got {start} and {count}",
            i32::MAX
        )));
    }
    if start < i64::from(i32::MIN) {
        return Err(ctx.unsure(format!(
            "with the start {start}, beyond 32 bits: ARM's answer is not confirmed"
        )));
    }
    let items = (start..start + count).map(Value::from).collect();
    Ok(ctx.val(Value::Array(items)))
}

/// `indexFromEnd(array, n)` / `tryIndexFromEnd(array, n)`: the element `n` places from the end
/// (`n` = 1 is the last), what Bicep's `[^n]` and `[?^n]` compile to. Out of range, ARM's answer
/// is not documented.
pub(super) fn index_from_end(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    let from_end = match args.get(1) {
        Some(from_end) => ctx.integer(from_end)?,
        None => return Err(ctx.arity(&args)),
    };
    let Some(array) = args.into_iter().next() else {
        return Err(ctx.error("needs an array"));
    };
    let items = match array.value {
        Value::Array(items) => items,
        Value::Null => return Err(ctx.null()),
        other => {
            return Err(ctx.unsure(format!(
                "of {}: ARM's answer is not confirmed",
                describe(&other)
            )))
        }
    };
    let count = items.len();
    usize::try_from(from_end)
        .ok()
        .filter(|&n| (1..=count).contains(&n))
        .and_then(|n| items.into_iter().nth(count - n))
        .map(|value| ctx.val(value))
        .ok_or_else(|| {
            ctx.unsure(format!(
                "of the element {from_end} from the end of an array of {count} element(s): ARM's \
                 answer is not documented"
            ))
        })
}
