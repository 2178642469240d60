//! The ARM template expression language: the `[...]` strings of a deployment template (also what
//! `bicep build` emits), parsed with byte spans and evaluated as far as they can be known before
//! a deployment.
//!
//! The evaluator never guesses. A value is [`Evaluated::Known`] only when ARM would compute the
//! same value; anything that depends on the deployment (`reference()`, `newGuid()`, ...), on a
//! function cmk-check does not implement, or on an ARM behaviour cmk-check could not confirm (the
//! culture-aware order of `less('a', 'B')`, the key order of `string()` of an object, ...) is
//! [`Evaluated::Unknown`] with the span of the sub-expression responsible. A template that ARM
//! itself would reject (a syntax error, `toLower(1)`, a parameter that does not exist) is an
//! [`ExprError`], also with a span. Nothing here panics, whatever the input.
//!
//! Where the behaviour comes from:
//! - the grammar follows ARM's own `ExpressionScanner`/`ExpressionParser`: string literals in
//!   single quotes (`''` escapes a quote), 32-bit integers with an optional sign (no fractions),
//!   function calls (names are case-insensitive, `namespace.name(...)` is a user-defined
//!   function), and `.name` / `[expr]` accessors after a call. As an extension, a bare `true` /
//!   `false` is accepted where ARM requires `true()` / `false()`.
//! - a string is an expression when it starts with `[` and ends with `]`; `[[...]` is the literal
//!   `[...]`; anything else, `[[abc` included, is literal text.
//! - `if()` evaluates only the branch it takes; `and()`/`or()` are decided by a known `false` /
//!   `true` whatever their unknown arguments; `coalesce()` is decided by the first argument that
//!   is known not to be null. Every other function evaluates all its arguments, and is Unknown
//!   when one of them is (a wrong number of arguments is still an error).
//! - property names are matched exactly, then without regard to case, as ARM does. A property or
//!   an element missing from a value the [`Scope`] gave (a parameter, `resourceGroup()`, a
//!   `reference()`) is Unknown, since the scope may know only part of it; missing from a value
//!   the template builds (`createObject()`, `json()`), it is an error.
//! - `union()` merges nested objects (ARM documents this since 2024) and replaces everything else.
//! - `tryGet()`, what Bicep's `.?` compiles to, is evaluated too.
//! - `uniqueString()` is ARM's 64-bit MurmurHash variant (`ComputeHash.MurmurHash64`) of the
//!   UTF-8 of the arguments joined with `-`, as 13 base-32 characters; `guid()` is a name-based
//!   UUID v5 (SHA-1) in the namespace `11fb06fb-712d-4ddd-98c7-e71bbd588830` over the arguments
//!   joined with `-`. The tests check both against outputs of real deployments.
//! - `utcNow()` is the [`Scope::deployment_time`], which the scope gives only in the default value
//!   of a parameter: anywhere else ARM rejects the template. The date functions follow ARM's
//!   documentation, a year of `dateTimeAdd()` being 365 days (see `expr/date.rs`).
//! - the lambda functions (`filter`, `map`, `reduce`, `sort`, `toObject`, `groupBy`, `mapValues`)
//!   evaluate their `lambda(...)` once per element (see `expr/lambda.rs`).
//! - no input can exhaust the stack, the memory or the time: ARM's 24,576-character limit on an
//!   expression, a syntax tree of at most 128 levels, values of at most 1 MiB and 256 levels built
//!   by the template (an error at the call that crosses it), a budget of work per evaluation and
//!   of nested evaluations per thread (Unknown beyond them). See `expr/limits.rs`.

use std::ops::Range;

pub use serde_json::Value;

mod builtins;
mod collections;
mod date;
mod eval;
mod format;
mod hash;
mod lambda;
mod limits;
mod parse;
#[cfg(test)]
mod tests;
mod text;
mod value;

/// Result of evaluating: a value known before deployment, or not.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluated {
    Known(Value),
    /// Cannot be known before deployment, or uses something unsupported. `span` is the byte range,
    /// inside the evaluated string, of the sub-expression that made it unknown (e.g. the
    /// `reference(...)` call or the unsupported function call), so a diagnostic can point at it.
    Unknown {
        reason: String,
        span: Range<usize>,
    },
}

impl Evaluated {
    /// The value, when it is known.
    pub fn known(&self) -> Option<&Value> {
        match self {
            Evaluated::Known(value) => Some(value),
            Evaluated::Unknown { .. } => None,
        }
    }
}

/// A syntax error or a type error (e.g. concat of an object and an int) in an expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub message: String,
    /// Byte range inside the evaluated string.
    pub span: Range<usize>,
}

/// What the expressions can see.
///
/// The span of an [`Evaluated::Unknown`] returned by a scope is not used: the evaluator reports
/// the span of the call that asked (`parameters('x')`, `reference(...)`), with the scope's reason.
pub trait Scope {
    /// The value of a template parameter; names are case-insensitive. `None`: no such parameter.
    fn parameter(&self, name: &str) -> Option<Evaluated>;
    /// The value of a template variable; names are case-insensitive. The caller evaluates
    /// variables lazily (and may recurse into [`evaluate_value`]). `None`: no such variable.
    fn variable(&self, name: &str) -> Option<Evaluated>;
    /// `resourceGroup()`: object `{id, name, location, ...}` or Unknown.
    fn resource_group(&self) -> Evaluated;
    /// `subscription()`: object `{id, subscriptionId, tenantId, displayName}` or Unknown.
    fn subscription(&self) -> Evaluated;
    /// The current index of the innermost copy loop, or of the loop named `loop_name`; `None`
    /// when the expression is not inside such a loop.
    fn copy_index(&self, loop_name: Option<&str>) -> Option<i64>;
    /// `reference(x)`/`reference(x, apiVersion, 'Full')`: x is a resource ID string or a
    /// symbolic name.
    fn reference(&self, target: &str, full: bool) -> Evaluated;
    /// The deployment's subscription ID (a string), for `resourceId`/`subscriptionResourceId`.
    fn subscription_id(&self) -> Evaluated;
    /// The deployment's resource group name (a string), for `resourceId`.
    fn resource_group_name(&self) -> Evaluated;
    /// The instant of the deployment, which `utcNow()` gives. ARM allows `utcNow()` only in the
    /// default value of a parameter: `None` everywhere else.
    fn deployment_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }
}

/// Whether ARM evaluates `raw` as an expression: it starts with `[` and ends with `]`, and is not
/// the escape `[[...]`.
pub fn is_expression(raw: &str) -> bool {
    is_language_expression(raw) && !raw.starts_with("[[")
}

/// ARM's own test (`ExpressionParser.IsLanguageExpression`): `[[...]` passes it too, and then
/// evaluates to the literal `[...]`.
fn is_language_expression(raw: &str) -> bool {
    raw.starts_with('[') && raw.len() >= 2 && raw.ends_with(']')
}

/// Evaluates a template string value: `[expr]` is an expression, `[[...]` is the literal `[...]`,
/// anything else is the literal string.
pub fn evaluate_string(raw: &str, scope: &dyn Scope) -> Result<Evaluated, ExprError> {
    if !is_language_expression(raw) {
        return Ok(Evaluated::Known(Value::String(raw.to_owned())));
    }
    if let Some(rest) = raw.strip_prefix('[').filter(|rest| rest.starts_with('[')) {
        return Ok(Evaluated::Known(Value::String(rest.to_owned())));
    }
    let node = parse::parse(raw)?;
    if parse::beyond_length(raw).is_some() {
        // The expression fits ARM's limit without its brackets but not with them.
        return Ok(Evaluated::Unknown {
            reason: format!(
                "with its brackets, the expression is longer than ARM's limit of {} characters, \
                 and whether ARM counts them is not confirmed",
                limits::MAX_EXPRESSION_CHARS
            ),
            span: 0..raw.len(),
        });
    }
    eval::evaluate(&node, scope)
}

/// Evaluates any JSON value: strings as [`evaluate_string`], arrays and objects element by
/// element.
///
/// The result is Unknown when any part is; it then reports the first Unknown (in array order,
/// then in the order of the map's keys) and, as the second member, the JSON pointer, relative to
/// `value`, of the string it came from: its span is relative to that string. An error anywhere
/// wins over an Unknown, since ARM would fail on it; it comes with the pointer of the failing
/// string. A property name that is itself an expression is reported as Unknown, with a span
/// relative to the name.
pub fn evaluate_value(
    value: &Value,
    scope: &dyn Scope,
) -> Result<(Evaluated, Option<String>), (ExprError, String)> {
    let mut walker = Walker {
        scope,
        first_unknown: None,
        evaluated_bytes: 0,
    };
    let mut pointer = String::new();
    let known = walker.walk(value, &mut pointer, 0)?;
    Ok(match walker.first_unknown {
        None => (Evaluated::Known(known), None),
        Some(FirstUnknown {
            reason,
            span,
            pointer,
        }) => (Evaluated::Unknown { reason, span }, Some(pointer)),
    })
}

struct FirstUnknown {
    reason: String,
    span: Range<usize>,
    pointer: String,
}

/// The state of [`evaluate_value`] as it goes through a value.
struct Walker<'s> {
    scope: &'s dyn Scope,
    first_unknown: Option<FirstUnknown>,
    /// The size of the values the expressions gave so far: each is bounded, and so is their sum,
    /// or a template of many strings could still make a huge value.
    evaluated_bytes: u64,
}

impl Walker<'_> {
    fn unknown(&mut self, reason: String, span: Range<usize>, pointer: &str) {
        if self.first_unknown.is_none() {
            self.first_unknown = Some(FirstUnknown {
                reason,
                span,
                pointer: pointer.to_owned(),
            });
        }
    }

    fn walk(
        &mut self,
        value: &Value,
        pointer: &mut String,
        depth: usize,
    ) -> Result<Value, (ExprError, String)> {
        if depth > limits::MAX_VALUE_DEPTH {
            // Only a literal of the template can be this deep; the value of an expression never is.
            self.unknown(
                format!(
                    "the value is nested more than {} levels deep: cmk-check does not evaluate it",
                    limits::MAX_VALUE_DEPTH
                ),
                0..0,
                pointer,
            );
            return Ok(Value::Null);
        }
        match value {
            Value::String(raw) => self.string(raw, pointer),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let before = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&index.to_string());
                    let result = self.walk(item, pointer, depth + 1);
                    pointer.truncate(before);
                    out.push(result?);
                }
                Ok(Value::Array(out))
            }
            Value::Object(members) => {
                let mut out = serde_json::Map::new();
                for (key, member) in members {
                    let before = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    if is_language_expression(key) {
                        self.unknown(
                            "property names that are expressions are not supported by cmk-check"
                                .to_owned(),
                            0..key.len(),
                            pointer,
                        );
                        pointer.truncate(before);
                        continue;
                    }
                    let result = self.walk(member, pointer, depth + 1);
                    pointer.truncate(before);
                    out.insert(key.clone(), result?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn string(&mut self, raw: &str, pointer: &str) -> Result<Value, (ExprError, String)> {
        match evaluate_string(raw, self.scope) {
            Ok(Evaluated::Known(value)) => {
                if is_expression(raw) {
                    let bytes = limits::measure(&value).map_or(u64::MAX, |size| size.bytes);
                    self.evaluated_bytes = self.evaluated_bytes.saturating_add(bytes);
                    if self.evaluated_bytes > limits::MAX_VALUE_BYTES {
                        let error = ExprError {
                            message: limits::too_big(),
                            span: 0..raw.len(),
                        };
                        return Err((error, pointer.to_owned()));
                    }
                }
                Ok(value)
            }
            Ok(Evaluated::Unknown { reason, span }) => {
                self.unknown(reason, span, pointer);
                Ok(Value::Null)
            }
            Err(error) => Err((error, pointer.to_owned())),
        }
    }
}

/// ARM's `uniqueString(args...)`: 13 characters of `[a-z2-7]`.
pub fn unique_string(args: &[&str]) -> String {
    hash::unique_string(&args.join("-"))
}

/// ARM's `guid(args...)`: a lower-case UUID v5.
pub fn guid(args: &[&str]) -> String {
    hash::guid(&args.join("-"))
}
