//! Evaluation of a parsed expression: argument order, Unknown propagation, the lazy functions
//! (`if`, `and`, `or`, `coalesce`), the `.name` / `[index]` accessors and the bounds on what
//! values and work an evaluation may take (see `limits`). The lambda functions live in `lambda`.

use std::cell::RefCell;
use std::ops::Range;

use serde_json::Value;

use super::builtins;
use super::lambda;
use super::limits::{self, Budget, MAX_WORK, NODE_COST};
use super::parse::Node;
use super::value::{describe, equal_ignoring_case};
use super::{Evaluated, ExprError, Scope};

/// A known value. `open` marks values that come, wholly or partly, from the [`Scope`]: those
/// objects may describe only part of the real resource, so a missing property of theirs is
/// Unknown rather than an error.
#[derive(Debug, Clone)]
pub(super) struct Val {
    pub(super) value: Value,
    pub(super) open: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Unknown {
    pub(super) reason: String,
    pub(super) span: Range<usize>,
}

#[derive(Debug, Clone)]
pub(super) enum Out {
    Known(Val),
    Unknown(Unknown),
}

/// Why a function gave no value; the caller adds the call's span.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Fail {
    /// ARM would reject the template.
    Error(String),
    /// The value cannot be known before deployment, or cmk-check is not sure of ARM's answer.
    Unknown(String),
}

pub(super) type Res = Result<Out, ExprError>;

pub(super) fn evaluate(node: &Node, scope: &dyn Scope) -> Result<Evaluated, ExprError> {
    let evaluator = Evaluator {
        scope,
        budget: Budget::new(MAX_WORK),
        locals: RefCell::new(Vec::new()),
    };
    Ok(match evaluator.eval(node)? {
        Out::Known(val) => Evaluated::Known(val.value),
        Out::Unknown(unknown) => Evaluated::Unknown {
            reason: unknown.reason,
            span: unknown.span,
        },
    })
}

/// Turns the scope's answer into a function result (the caller puts it at the call's span).
pub(super) fn from_scope(evaluated: Evaluated) -> Result<Val, Fail> {
    match evaluated {
        Evaluated::Known(value) => Ok(Val { value, open: true }),
        Evaluated::Unknown { reason, .. } => Err(Fail::Unknown(reason)),
    }
}

pub(super) fn fail_at(fail: Fail, span: Range<usize>) -> Res {
    match fail {
        Fail::Error(message) => Err(ExprError { message, span }),
        Fail::Unknown(reason) => Ok(Out::Unknown(Unknown { reason, span })),
    }
}

/// An Unknown that comes from the base of an accessor chain is reported on the whole chain
/// (`reference('x').outputs.id`); one from deeper inside keeps its own span.
fn widen(unknown: Unknown, base: &Node, span: &Range<usize>) -> Out {
    let span = if unknown.span == base.span() {
        span.clone()
    } else {
        unknown.span
    };
    Out::Unknown(Unknown {
        reason: unknown.reason,
        span,
    })
}

/// A variable of the lambdas being evaluated (`lambdaVariables('x')`).
#[derive(Debug)]
pub(super) struct Local {
    pub(super) name: String,
    pub(super) val: Val,
}

pub(super) struct Evaluator<'a> {
    pub(super) scope: &'a dyn Scope,
    pub(super) budget: Budget,
    /// The variables of the enclosing lambdas, innermost last.
    pub(super) locals: RefCell<Vec<Local>>,
}

impl Evaluator<'_> {
    pub(super) fn eval(&self, node: &Node) -> Res {
        let Some(_active) = limits::Active::enter() else {
            return Ok(Out::Unknown(Unknown {
                reason: limits::too_nested(),
                span: node.span(),
            }));
        };
        if !self.budget.charge(NODE_COST) {
            return Ok(Out::Unknown(Unknown {
                reason: limits::exhausted(),
                span: node.span(),
            }));
        }
        self.eval_node(node)
    }

    fn eval_node(&self, node: &Node) -> Res {
        match node {
            Node::Str { value, .. } => Ok(known(Value::String(value.clone()))),
            Node::Int { value, .. } => Ok(known(Value::from(*value))),
            Node::Bool { value, .. } => Ok(known(Value::Bool(*value))),
            Node::Call { name, args, span } => self.call(name, args, span),
            Node::Property { base, name, span } => match self.eval(base)? {
                Out::Unknown(unknown) => Ok(widen(unknown, base, span)),
                Out::Known(val) => {
                    let key = Value::String(name.clone());
                    fail_or(access(val, &key, true), span)
                }
            },
            Node::Index { base, index, span } => {
                let base_out = self.eval(base)?;
                let index_out = self.eval(index)?;
                match (base_out, index_out) {
                    (Out::Unknown(unknown), _) => Ok(widen(unknown, base, span)),
                    (Out::Known(_), Out::Unknown(unknown)) => Ok(Out::Unknown(unknown)),
                    (Out::Known(val), Out::Known(key)) => {
                        fail_or(access(val, &key.value, false), span)
                    }
                }
            }
        }
    }

    fn call(&self, name: &str, args: &[Node], span: &Range<usize>) -> Res {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "if" => return self.call_if(args, span),
            "and" => return self.call_and_or(name, args, span, false),
            "or" => return self.call_and_or(name, args, span, true),
            "coalesce" => return self.call_coalesce(args, span),
            "lambda" => {
                return fail_at(
                    Fail::Error(format!(
                        "`{name}()` can only be an argument of {}",
                        lambda::TAKERS
                    )),
                    span.clone(),
                )
            }
            "lambdavariables" => return self.call_lambda_variables(name, args, span),
            _ if lambda::takes_lambdas(&lower) => {
                return self.call_with_lambdas(&lower, name, args, span)
            }
            _ => {}
        }
        // Everything else evaluates all its arguments first, as ARM does: an error anywhere in
        // them is an error of the template, whatever else is unknown.
        let mut values = Vec::with_capacity(args.len());
        let mut first_unknown = None;
        for arg in args {
            match self.eval(arg)? {
                Out::Known(val) => values.push(val),
                Out::Unknown(unknown) => {
                    first_unknown.get_or_insert(unknown);
                }
            }
        }
        if let Err(fail) = builtins::check_arity(&lower, name, args.len()) {
            return fail_at(fail, span.clone());
        }
        if let Some(reason) = builtins::never_known(&lower, name) {
            return fail_at(Fail::Unknown(reason), span.clone());
        }
        if let Some(unknown) = first_unknown {
            return Ok(Out::Unknown(unknown));
        }
        let ctx = builtins::Ctx {
            scope: self.scope,
            name,
            open: values.iter().any(|val| val.open),
            budget: &self.budget,
        };
        match builtins::call(&ctx, &lower, values) {
            Ok(val) => self.admit(val, builtins::gives_scope_value(&lower), span),
            Err(fail) => fail_at(fail, span.clone()),
        }
    }

    /// Checks a value a call gave against the bounds, and pays for it: it was built or copied.
    /// `from_scope`: the value comes from the scope, not from the template.
    pub(super) fn admit(&self, val: Val, from_scope: bool, span: &Range<usize>) -> Res {
        let unknown = |reason: String| {
            Ok(Out::Unknown(Unknown {
                reason,
                span: span.clone(),
            }))
        };
        match limits::measure(&val.value) {
            Ok(size) if self.budget.charge(size.cost()) => Ok(Out::Known(val)),
            Ok(_) => unknown(limits::exhausted()),
            Err(oversize) if from_scope => unknown(format!(
                "{}; cmk-check does not evaluate such values",
                oversize.message().replace("would exceed", "exceeds")
            )),
            Err(oversize) => Err(ExprError {
                message: oversize.message(),
                span: span.clone(),
            }),
        }
    }

    /// `lambdaVariables('name')`: the innermost lambda variable of that name.
    fn call_lambda_variables(&self, name: &str, args: &[Node], span: &Range<usize>) -> Res {
        let [arg] = args else {
            return Err(ExprError {
                message: format!("`{name}()` takes 1 argument, got {}", args.len()),
                span: span.clone(),
            });
        };
        let wanted = match self.eval(arg)? {
            Out::Unknown(unknown) => return Ok(Out::Unknown(unknown)),
            Out::Known(Val {
                value: Value::String(wanted),
                ..
            }) => wanted,
            Out::Known(other) => {
                return Err(ExprError {
                    message: format!(
                        "`{name}()` expects the name of a lambda variable, got {}",
                        describe(&other.value)
                    ),
                    span: span.clone(),
                })
            }
        };
        let found = {
            let locals = self.locals.borrow();
            let exact = locals.iter().rev().find(|local| local.name == wanted);
            exact
                .or_else(|| {
                    locals
                        .iter()
                        .rev()
                        .find(|local| equal_ignoring_case(&local.name, &wanted) == Some(true))
                })
                .map(|local| local.val.clone())
        };
        match found {
            Some(val) => self.admit(val, true, span),
            None if self.locals.borrow().is_empty() => Err(ExprError {
                message: format!("`{name}()` is used outside of a lambda"),
                span: span.clone(),
            }),
            None => Err(ExprError {
                message: format!("no enclosing lambda has a variable `{wanted}`"),
                span: span.clone(),
            }),
        }
    }

    /// `if(condition, then, else)`: ARM evaluates only the branch it takes.
    fn call_if(&self, args: &[Node], span: &Range<usize>) -> Res {
        let [condition, then, otherwise] = args else {
            return Err(ExprError {
                message: format!("`if()` takes 3 arguments, got {}", args.len()),
                span: span.clone(),
            });
        };
        let condition = match self.eval(condition)? {
            Out::Unknown(unknown) => return Ok(Out::Unknown(unknown)),
            Out::Known(val) => val,
        };
        match condition.value {
            Value::Bool(true) => self.eval(then),
            Value::Bool(false) => self.eval(otherwise),
            other => Err(ExprError {
                message: format!(
                    "`if()` expects a boolean condition, got {}",
                    describe(&other)
                ),
                span: span.clone(),
            }),
        }
    }

    /// `and(...)` (`or(...)` when `decisive` is true): a known `false` (`true`) decides the result
    /// whatever the other arguments are.
    fn call_and_or(&self, name: &str, args: &[Node], span: &Range<usize>, decisive: bool) -> Res {
        if args.len() < 2 {
            return Err(ExprError {
                message: format!("`{name}()` takes at least 2 arguments, got {}", args.len()),
                span: span.clone(),
            });
        }
        let mut first_unknown: Option<Unknown> = None;
        let mut decided = false;
        for arg in args {
            let out = match self.eval(arg) {
                Ok(out) => out,
                // Reached only if the arguments before it did not decide the result, which is
                // unknown; and whether ARM evaluates the arguments after a deciding one is not
                // confirmed.
                Err(error) => {
                    if decided {
                        return fail_at(
                            Fail::Unknown(format!(
                                "whether ARM evaluates the arguments of `{name}()` after a \
                                 deciding one (here one fails: {}) is not confirmed",
                                error.message
                            )),
                            span.clone(),
                        );
                    }
                    return match first_unknown {
                        Some(unknown) => Ok(Out::Unknown(unknown)),
                        None => Err(error),
                    };
                }
            };
            match out {
                Out::Unknown(unknown) => {
                    first_unknown.get_or_insert(unknown);
                }
                Out::Known(val) => match val.value {
                    Value::Bool(value) if value == decisive => decided = true,
                    Value::Bool(_) => {}
                    other => {
                        if decided {
                            return fail_at(
                                Fail::Unknown(format!(
                                    "whether ARM evaluates the arguments of `{name}()` after a \
                                     deciding one (here one is {}) is not confirmed",
                                    describe(&other)
                                )),
                                span.clone(),
                            );
                        }
                        return match first_unknown {
                            Some(unknown) => Ok(Out::Unknown(unknown)),
                            None => Err(ExprError {
                                message: format!(
                                    "`{name}()` expects boolean arguments, got {}",
                                    describe(&other)
                                ),
                                span: span.clone(),
                            }),
                        };
                    }
                },
            }
        }
        if decided {
            return Ok(known(Value::Bool(decisive)));
        }
        Ok(match first_unknown {
            Some(unknown) => Out::Unknown(unknown),
            None => known(Value::Bool(!decisive)),
        })
    }

    /// `coalesce(...)`: the first argument that is not null.
    fn call_coalesce(&self, args: &[Node], span: &Range<usize>) -> Res {
        if args.is_empty() {
            return Err(ExprError {
                message: "`coalesce()` takes at least 1 argument, got 0".to_owned(),
                span: span.clone(),
            });
        }
        let mut result: Option<Out> = None;
        for arg in args {
            match self.eval(arg) {
                Err(error) => {
                    return match result {
                        None => Err(error),
                        Some(Out::Unknown(unknown)) => Ok(Out::Unknown(unknown)),
                        // Whether ARM evaluates the arguments after the chosen one is not
                        // confirmed; if it does, this error fails the template.
                        Some(Out::Known(_)) => fail_at(
                            Fail::Unknown(format!(
                                "whether ARM evaluates the arguments of `coalesce()` after the \
                                 first one that is not null (here one fails: {}) is not confirmed",
                                error.message
                            )),
                            span.clone(),
                        ),
                    };
                }
                Ok(out) => {
                    if result.is_some() {
                        continue;
                    }
                    match out {
                        Out::Known(Val {
                            value: Value::Null, ..
                        }) => {}
                        decided => result = Some(decided),
                    }
                }
            }
        }
        Ok(result.unwrap_or_else(|| known(Value::Null)))
    }
}

pub(super) fn known(value: Value) -> Out {
    Out::Known(Val { value, open: false })
}

fn fail_or(result: Result<Val, Fail>, span: &Range<usize>) -> Res {
    match result {
        Ok(val) => Ok(Out::Known(val)),
        Err(fail) => fail_at(fail, span.clone()),
    }
}

/// `base.name` (`dotted`) or `base[key]`.
fn access(base: Val, key: &Value, dotted: bool) -> Result<Val, Fail> {
    let shown = match key {
        Value::String(name) if dotted => format!("`.{name}`"),
        Value::String(name) => format!("`['{name}']`"),
        other => format!("`[{other}]`"),
    };
    let open = base.open;
    let missing = |what: String| {
        if open {
            Fail::Unknown(format!("{what} is not known before deployment"))
        } else {
            Fail::Error(what)
        }
    };
    match (base.value, key) {
        (Value::Object(mut members), Value::String(name)) => {
            if let Some(value) = members.remove(name) {
                return Ok(Val { value, open });
            }
            let mut matches: Vec<Value> = Vec::new();
            for (candidate, value) in members {
                match equal_ignoring_case(&candidate, name) {
                    Some(true) => matches.push(value),
                    Some(false) => {}
                    None => {
                        return Err(Fail::Unknown(format!(
                            "{shown}: whether ARM matches the property `{candidate}` is not \
                             confirmed"
                        )))
                    }
                }
            }
            if matches.len() > 1 {
                return Err(Fail::Unknown(format!(
                    "{shown}: several properties differ from `{name}` only in case"
                )));
            }
            match matches.pop() {
                Some(value) => Ok(Val { value, open }),
                None => Err(missing(format!("the property {shown}"))),
            }
        }
        (Value::Array(items), Value::Number(number)) => {
            let Some(index) = number.as_i64() else {
                return Err(Fail::Error(format!(
                    "the array index {shown} is not an integer"
                )));
            };
            let Ok(position) = usize::try_from(index) else {
                return Err(Fail::Error(format!("the array index {shown} is negative")));
            };
            let count = items.len();
            match items.into_iter().nth(position) {
                Some(value) => Ok(Val { value, open }),
                None => Err(missing(format!(
                    "the element {shown} of an array of {count} element(s)"
                ))),
            }
        }
        (Value::Object(_), other) => Err(Fail::Error(format!(
            "an object's properties are named by strings, not by {}",
            describe(other)
        ))),
        (Value::Array(_), other) => Err(Fail::Error(format!(
            "an array's elements are numbered by integers, not by {}",
            describe(other)
        ))),
        (other, _) => Err(Fail::Error(format!(
            "{shown} cannot be read from {}",
            describe(&other)
        ))),
    }
}
