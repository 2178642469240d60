//! Bounds on what one expression may cost, so that no template, however hostile, can exhaust the
//! stack, the memory or the time of cmk-check.
//!
//! - ARM documents that a template expression is at most 24,576 characters long; a longer one is
//!   an error, as it is for ARM.
//! - The syntax tree of an expression is at most [`MAX_DEPTH`] levels high. ARM documents no such
//!   limit; 128 is far beyond what people or Bicep write (Bicep nests a few levels), and it keeps
//!   the recursive parser, evaluator and `Drop` of the tree well within a thread's stack.
//! - Every value a function builds is at most [`MAX_VALUE_BYTES`] of compact JSON and at most
//!   [`MAX_VALUE_DEPTH`] levels deep. ARM limits a whole template, with its variables and
//!   parameters expanded, to 4 MB and each resource to 1 MB (after compression); a single value
//!   of more than a mebibyte has no place in a real template, while 26 variables doubling a
//!   string would otherwise take gigabytes. A value given by the [`Scope`](super::Scope) beyond
//!   these bounds is Unknown instead, since the template did not build it.
//! - The work of one evaluation (nodes evaluated, bytes of values built or copied) is bounded by
//!   [`MAX_WORK`]; beyond it the result is Unknown, since ARM's answer may well exist.
//! - The scope evaluates parameters and variables by calling the evaluator again, so a chain of
//!   variables that use one another nests evaluations. The nodes being evaluated at once on a
//!   thread, across those nested evaluations, are at most [`MAX_ACTIVE_NODES`]: one expression
//!   of the greatest height fits, with room for chains of variables; deeper, the result is
//!   Unknown rather than a stack overflow.

use std::cell::Cell;

use serde_json::Value;

/// ARM's documented limit on the length of a template expression, in .NET characters.
pub(super) const MAX_EXPRESSION_CHARS: usize = 24_576;

/// The greatest height of an expression's syntax tree.
pub(super) const MAX_DEPTH: usize = 128;

/// The greatest size of a value, as compact JSON in UTF-8.
pub(super) const MAX_VALUE_BYTES: u64 = 1 << 20;

/// The greatest nesting of arrays and objects in a value.
pub(super) const MAX_VALUE_DEPTH: usize = 256;

/// The work one evaluation may do, in the units of [`Budget`].
pub(super) const MAX_WORK: u64 = 100_000_000;

/// What evaluating one node costs besides the values it makes: about the time of copying a
/// hundred bytes.
pub(super) const NODE_COST: u64 = 100;

/// What comparing two keys costs: about copying an element.
pub(super) const KEY_COMPARISON_COST: u64 = ELEMENT_COST;

/// What one array element or object member costs besides its JSON text: about the memory of a
/// `serde_json::Value`.
const ELEMENT_COST: u64 = 32;

/// The greatest number of nodes being evaluated at once on a thread, nested evaluations
/// included.
pub(super) const MAX_ACTIVE_NODES: usize = 2 * MAX_DEPTH;

thread_local! {
    static ACTIVE_NODES: Cell<usize> = const { Cell::new(0) };
}

/// A node being evaluated, counted in [`MAX_ACTIVE_NODES`] until it is dropped.
pub(super) struct Active(());

impl Active {
    /// `None` when the thread already evaluates [`MAX_ACTIVE_NODES`] nodes.
    pub(super) fn enter() -> Option<Active> {
        ACTIVE_NODES.with(|active| {
            let now = active.get();
            (now < MAX_ACTIVE_NODES).then(|| {
                active.set(now + 1);
                Active(())
            })
        })
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        ACTIVE_NODES.with(|active| active.set(active.get().saturating_sub(1)));
    }
}

/// The reason of the Unknown given beyond [`MAX_ACTIVE_NODES`].
pub(super) fn too_nested() -> String {
    format!(
        "this expression and the parameters and variables it uses nest more than \
         {MAX_ACTIVE_NODES} levels of evaluation: cmk-check does not evaluate them"
    )
}

/// The size of a value that is within the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Size {
    /// Length of its compact JSON text.
    pub(super) bytes: u64,
    /// Number of JSON values in it, itself included.
    pub(super) nodes: u64,
}

impl Size {
    /// Its share of the [`Budget`]: about the memory it takes.
    pub(super) fn cost(self) -> u64 {
        self.bytes
            .saturating_add(self.nodes.saturating_mul(ELEMENT_COST))
    }
}

/// Why a value is beyond the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Oversize {
    Bytes,
    Depth,
}

impl Oversize {
    /// The message of the error at the call that built such a value.
    pub(super) fn message(self) -> String {
        match self {
            Oversize::Bytes => too_big(),
            Oversize::Depth => format!(
                "the value of this expression would be nested more than {MAX_VALUE_DEPTH} levels \
                 deep, cmk-check's limit"
            ),
        }
    }
}

/// The message for a value beyond [`MAX_VALUE_BYTES`].
pub(super) fn too_big() -> String {
    format!("the value of this expression would exceed {MAX_VALUE_BYTES} bytes, cmk-check's limit")
}

/// Whether a text of `bytes` bytes would make a value beyond [`MAX_VALUE_BYTES`].
pub(super) fn too_long(bytes: u64) -> bool {
    bytes.saturating_add(2) > MAX_VALUE_BYTES
}

/// Measures `value`, giving up as soon as it is beyond a limit: the cost is at most that of the
/// limits themselves, and the recursion at most [`MAX_VALUE_DEPTH`] deep, whatever the value.
pub(super) fn measure(value: &Value) -> Result<Size, Oversize> {
    let mut size = Size { bytes: 0, nodes: 0 };
    add(value, 0, &mut size)?;
    Ok(size)
}

fn add(value: &Value, depth: usize, size: &mut Size) -> Result<(), Oversize> {
    if depth > MAX_VALUE_DEPTH {
        return Err(Oversize::Depth);
    }
    size.nodes += 1;
    let own = match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(number) => number_len(number),
        Value::String(text) => string_len(text),
        Value::Array(items) => {
            for item in items {
                add(item, depth + 1, size)?;
            }
            // Brackets and commas.
            items.len().max(1) as u64 + 1
        }
        Value::Object(members) => {
            for (key, member) in members {
                // The key and its colon.
                size.bytes = size.bytes.saturating_add(string_len(key) + 1);
                add(member, depth + 1, size)?;
            }
            members.len().max(1) as u64 + 1
        }
    };
    size.bytes = size.bytes.saturating_add(own);
    if size.bytes > MAX_VALUE_BYTES {
        return Err(Oversize::Bytes);
    }
    Ok(())
}

fn number_len(number: &serde_json::Number) -> u64 {
    if let Some(value) = number.as_u64() {
        decimal_digits(value)
    } else if let Some(value) = number.as_i64() {
        1 + decimal_digits(value.unsigned_abs())
    } else {
        number.to_string().len() as u64
    }
}

fn decimal_digits(mut value: u64) -> u64 {
    let mut digits = 1;
    while value >= 10 {
        value /= 10;
        digits += 1;
    }
    digits
}

/// Length of a JSON string literal: quotes and escapes included.
fn string_len(text: &str) -> u64 {
    let escapes: u64 = text
        .bytes()
        .map(|byte| match byte {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum();
    text.len() as u64 + escapes + 2
}

/// The work left to one evaluation. Interior mutability lets the evaluator and the functions it
/// calls share it through `&`.
#[derive(Debug)]
pub(super) struct Budget {
    left: Cell<u64>,
}

impl Budget {
    pub(super) fn new(units: u64) -> Self {
        Budget {
            left: Cell::new(units),
        }
    }

    /// Spends `units`; `false` once the budget is exhausted (it stays exhausted).
    pub(super) fn charge(&self, units: u64) -> bool {
        let left = self.left.get();
        match left.checked_sub(units) {
            Some(rest) => {
                self.left.set(rest);
                true
            }
            None => {
                self.left.set(0);
                false
            }
        }
    }
}

/// The reason of the Unknown given when the budget is exhausted.
pub(super) fn exhausted() -> String {
    format!(
        "evaluating this expression takes more work than cmk-check allows ({MAX_WORK} units); \
         ARM's answer is not computed"
    )
}
