//! The functions that take lambdas (`filter`, `map`, `reduce`, `sort`, `toObject`, `groupBy`,
//! `mapValues`), what Bicep's `filter()`, `map()`, ... compile to. A lambda is
//! `lambda('x', ['y', ...], body)`, valid only as such an argument, and its body reads its
//! variables with `lambdaVariables('x')`.
//!
//! ARM evaluates the body once per element; so does cmk-check, within the work budget. Where the
//! result would depend on how ARM goes about it (the order `sort()` keeps for elements its
//! comparison does not tell apart, keys that differ only in case), it is Unknown.

use std::ops::Range;

use serde_json::{Map, Value};

use super::builtins::check_arity;
use super::eval::{fail_at, Evaluator, Fail, Local, Out, Res, Val};
use super::limits;
use super::parse::Node;
use super::value::{describe, equal_ignoring_case};
use super::ExprError;

/// The functions that take lambdas, for messages.
pub(super) const TAKERS: &str =
    "`filter()`, `map()`, `reduce()`, `sort()`, `toObject()`, `groupBy()` and `mapValues()`";

/// Whether `lower` is a function that takes lambdas.
pub(super) fn takes_lambdas(lower: &str) -> bool {
    matches!(
        lower,
        "filter" | "map" | "reduce" | "sort" | "toobject" | "groupby" | "mapvalues"
    )
}

/// A lambda argument: its variables and its body.
struct Lambda<'n> {
    params: Vec<String>,
    body: &'n Node,
}

/// What the caller of a lambda function is told: a known value, or why not.
enum Step<T> {
    Done(T),
    Stop(Out),
}

/// Propagates a [`Step::Stop`] out of the function.
macro_rules! step {
    ($e:expr) => {
        match $e? {
            Step::Done(value) => value,
            Step::Stop(out) => return Ok(Step::Stop(out)),
        }
    };
}

impl Evaluator<'_> {
    /// A call of the function `lower` (written `name`) that takes lambdas.
    pub(super) fn call_with_lambdas(
        &self,
        lower: &str,
        name: &str,
        args: &[Node],
        span: &Range<usize>,
    ) -> Res {
        if let Err(fail) = check_arity(lower, name, args.len()) {
            return fail_at(fail, span.clone());
        }
        let data_args = if lower == "reduce" { 2 } else { 1 };
        let (data, lambdas) = args.split_at(data_args.min(args.len()));
        let mut parsed = Vec::with_capacity(lambdas.len());
        for (index, node) in lambdas.iter().enumerate() {
            match lambda_of(name, node, data_args + index + 1) {
                Ok(lambda) => parsed.push(lambda),
                Err(fail) => return fail_at(fail, node.span()),
            }
        }
        let mut values = Vec::with_capacity(data.len());
        let mut first_unknown = None;
        for arg in data {
            match self.eval(arg)? {
                Out::Known(val) => values.push(val),
                Out::Unknown(unknown) => {
                    first_unknown.get_or_insert(unknown);
                }
            }
        }
        if let Some(unknown) = first_unknown {
            return Ok(Out::Unknown(unknown));
        }
        let call = Call {
            name,
            span,
            lambdas: &parsed,
        };
        let result = match lower {
            "filter" => self.filter(&call, values),
            "map" => self.map(&call, values),
            "reduce" => self.reduce(&call, values),
            "sort" => self.sort(&call, values),
            "toobject" => self.to_object(&call, values),
            "groupby" => self.group_by(&call, values),
            _ => self.map_values(&call, values),
        }?;
        match result {
            Step::Done(val) => self.admit(val, false, span),
            Step::Stop(out) => Ok(out),
        }
    }

    /// Evaluates `lambda`'s body with its variables bound to `values`.
    fn apply(&self, lambda: &Lambda<'_>, values: Vec<Val>) -> Res {
        let mark = self.locals.borrow().len();
        self.locals
            .borrow_mut()
            .extend(lambda.params.iter().zip(values).map(|(name, val)| Local {
                name: name.clone(),
                val,
            }));
        let result = self.eval(lambda.body);
        self.locals.borrow_mut().truncate(mark);
        result
    }

    fn filter(&self, call: &Call<'_>, values: Vec<Val>) -> Result<Step<Val>, ExprError> {
        let (items, open) = step!(call.array(values));
        let lambda = step!(call.lambda(0, &[1, 2]));
        let mut kept = Vec::new();
        let mut first_unknown = None;
        for (index, item) in items.into_iter().enumerate() {
            let args = with_index(lambda, vec![Val::new(item.clone(), open)], index);
            match self.apply(lambda, args)? {
                Out::Unknown(unknown) => {
                    first_unknown.get_or_insert(unknown);
                }
                Out::Known(Val {
                    value: Value::Bool(keep),
                    ..
                }) => {
                    if keep {
                        kept.push(item);
                    }
                }
                Out::Known(other) => {
                    return call.stop(Fail::Unknown(format!(
                        "`{}()` with a predicate that gives {}: ARM's answer is not confirmed",
                        call.name,
                        describe(&other.value)
                    )))
                }
            }
        }
        Ok(match first_unknown {
            Some(unknown) => Step::Stop(Out::Unknown(unknown)),
            None => Step::Done(Val::new(Value::Array(kept), open)),
        })
    }

    fn map(&self, call: &Call<'_>, values: Vec<Val>) -> Result<Step<Val>, ExprError> {
        let (items, mut open) = step!(call.array(values));
        let lambda = step!(call.lambda(0, &[1, 2]));
        let mut mapped = Vec::with_capacity(items.len());
        let mut first_unknown = None;
        for (index, item) in items.into_iter().enumerate() {
            let args = with_index(lambda, vec![Val::new(item, open)], index);
            match self.apply(lambda, args)? {
                Out::Unknown(unknown) => {
                    first_unknown.get_or_insert(unknown);
                }
                Out::Known(val) => {
                    open |= val.open;
                    mapped.push(val.value);
                }
            }
        }
        Ok(match first_unknown {
            Some(unknown) => Step::Stop(Out::Unknown(unknown)),
            None => Step::Done(Val::new(Value::Array(mapped), open)),
        })
    }

    fn reduce(&self, call: &Call<'_>, mut values: Vec<Val>) -> Result<Step<Val>, ExprError> {
        let initial = values.pop();
        let (items, open) = step!(call.array(values));
        let lambda = step!(call.lambda(0, &[2, 3]));
        let Some(mut current) = initial else {
            return call.stop(Fail::Error(format!(
                "`{}()` needs an initial value",
                call.name
            )));
        };
        for (index, item) in items.into_iter().enumerate() {
            let args = with_index(lambda, vec![current, Val::new(item, open)], index);
            current = match self.apply(lambda, args)? {
                Out::Known(val) => val,
                unknown => return Ok(Step::Stop(unknown)),
            };
        }
        current.open |= open;
        Ok(Step::Done(current))
    }

    /// `sort(array, lambda('a', 'b', ...))`: the lambda tells whether `a` goes before `b`. The
    /// result is known only when the lambda orders every pair one way and not the other, the same
    /// way as a total order: then every sorting algorithm gives the same array.
    fn sort(&self, call: &Call<'_>, values: Vec<Val>) -> Result<Step<Val>, ExprError> {
        let (items, open) = step!(call.array(values));
        let lambda = step!(call.lambda(0, &[2]));
        let count = items.len();
        // `before[i]`: how many elements go before element `i`.
        let mut before = vec![0_usize; count];
        for i in 0..count {
            for j in (i + 1)..count {
                let pair = |a: usize, b: usize| {
                    vec![
                        Val::new(items.get(a).cloned().unwrap_or_default(), open),
                        Val::new(items.get(b).cloned().unwrap_or_default(), open),
                    ]
                };
                let i_first = step!(self.comparison(call, lambda, pair(i, j)));
                let j_first = step!(self.comparison(call, lambda, pair(j, i)));
                if i_first == j_first {
                    return call.stop(Fail::Unknown(format!(
                        "`{}()` with a comparison that does not tell the elements [{i}] and [{j}] \
                         apart: the order ARM gives them is not confirmed",
                        call.name
                    )));
                }
                let later = if i_first { j } else { i };
                if let Some(slot) = before.get_mut(later) {
                    *slot += 1;
                }
            }
        }
        // A comparison that orders each pair one way is a total order exactly when the counts
        // are 0, 1, ..., n-1.
        let mut sorted: Vec<Option<Value>> = vec![None; count];
        for (item, rank) in items.into_iter().zip(before) {
            match sorted.get_mut(rank) {
                Some(slot @ None) => *slot = Some(item),
                _ => {
                    return call.stop(Fail::Unknown(format!(
                        "`{}()` with a comparison that is not a consistent order: the order ARM \
                         gives is not confirmed",
                        call.name
                    )))
                }
            }
        }
        let sorted = sorted.into_iter().flatten().collect();
        Ok(Step::Done(Val::new(Value::Array(sorted), open)))
    }

    fn comparison(
        &self,
        call: &Call<'_>,
        lambda: &Lambda<'_>,
        args: Vec<Val>,
    ) -> Result<Step<bool>, ExprError> {
        match self.apply(lambda, args)? {
            Out::Known(Val {
                value: Value::Bool(first),
                ..
            }) => Ok(Step::Done(first)),
            Out::Known(other) => call.stop(Fail::Unknown(format!(
                "`{}()` with a comparison that gives {}: ARM's answer is not confirmed",
                call.name,
                describe(&other.value)
            ))),
            unknown => Ok(Step::Stop(unknown)),
        }
    }

    /// `toObject(array, keyLambda, [valueLambda])`.
    fn to_object(&self, call: &Call<'_>, values: Vec<Val>) -> Result<Step<Val>, ExprError> {
        let (items, mut open) = step!(call.array(values));
        let key_lambda = step!(call.lambda(0, &[1]));
        let value_lambda = match call.lambdas.get(1) {
            Some(_) => Some(step!(call.lambda(1, &[1]))),
            None => None,
        };
        let mut members = Map::new();
        for item in items {
            let key = step!(self.key(call, key_lambda, Val::new(item.clone(), open)));
            let value = match value_lambda {
                Some(lambda) => match self.apply(lambda, vec![Val::new(item, open)])? {
                    Out::Known(val) => {
                        open |= val.open;
                        val.value
                    }
                    unknown => return Ok(Step::Stop(unknown)),
                },
                None => item,
            };
            step!(call.charge(self, members.len()));
            if members
                .keys()
                .any(|existing| equal_ignoring_case(existing, &key) != Some(false))
            {
                return call.stop(Fail::Unknown(format!(
                    "`{}()` with the key `{key}` twice (perhaps in another case): ARM's answer is \
                     not confirmed",
                    call.name
                )));
            }
            members.insert(key, value);
        }
        Ok(Step::Done(Val::new(Value::Object(members), open)))
    }

    /// A key computed by a lambda: a string.
    fn key(
        &self,
        call: &Call<'_>,
        lambda: &Lambda<'_>,
        item: Val,
    ) -> Result<Step<String>, ExprError> {
        match self.apply(lambda, vec![item])? {
            Out::Known(Val {
                value: Value::String(key),
                ..
            }) => Ok(Step::Done(key)),
            Out::Known(other) => call.stop(Fail::Unknown(format!(
                "`{}()` with a key that is {}: ARM's answer is not confirmed",
                call.name,
                describe(&other.value)
            ))),
            unknown => Ok(Step::Stop(unknown)),
        }
    }

    /// `groupBy(array, lambda)`: the elements under the key the lambda gives them, in order.
    fn group_by(&self, call: &Call<'_>, values: Vec<Val>) -> Result<Step<Val>, ExprError> {
        let (items, open) = step!(call.array(values));
        let lambda = step!(call.lambda(0, &[1]));
        let mut groups = Map::new();
        for item in items {
            let key = step!(self.key(call, lambda, Val::new(item.clone(), open)));
            if let Some(Value::Array(group)) = groups.get_mut(&key) {
                group.push(item);
                continue;
            }
            step!(call.charge(self, groups.len()));
            if groups
                .keys()
                .any(|existing| equal_ignoring_case(existing, &key) != Some(false))
            {
                return call.stop(Fail::Unknown(format!(
                    "`{}()` with keys that differ only in case (`{key}`): ARM's answer is not \
                     confirmed",
                    call.name
                )));
            }
            groups.insert(key, Value::Array(vec![item]));
        }
        Ok(Step::Done(Val::new(Value::Object(groups), open)))
    }

    /// `mapValues(object, lambda)`: the same keys, each value mapped.
    fn map_values(&self, call: &Call<'_>, values: Vec<Val>) -> Result<Step<Val>, ExprError> {
        let Some(input) = values.into_iter().next() else {
            return call.stop(Fail::Error(format!("`{}()` needs an object", call.name)));
        };
        let mut open = input.open;
        let members = match input.value {
            Value::Object(members) => members,
            Value::Null => return call.stop(call.null()),
            other => {
                return call.stop(Fail::Error(format!(
                    "`{}()` expects an object, got {}",
                    call.name,
                    describe(&other)
                )))
            }
        };
        let lambda = step!(call.lambda(0, &[1]));
        let mut mapped = Map::new();
        let mut first_unknown = None;
        for (key, value) in members {
            match self.apply(lambda, vec![Val::new(value, open)])? {
                Out::Known(val) => {
                    open |= val.open;
                    mapped.insert(key, val.value);
                }
                Out::Unknown(unknown) => {
                    first_unknown.get_or_insert(unknown);
                }
            }
        }
        Ok(match first_unknown {
            Some(unknown) => Step::Stop(Out::Unknown(unknown)),
            None => Step::Done(Val::new(Value::Object(mapped), open)),
        })
    }
}

/// One call of a lambda function, for its helpers.
struct Call<'c> {
    name: &'c str,
    span: &'c Range<usize>,
    lambdas: &'c [Lambda<'c>],
}

impl Call<'_> {
    fn stop<T>(&self, fail: Fail) -> Result<Step<T>, ExprError> {
        fail_at(fail, self.span.clone()).map(Step::Stop)
    }

    /// Pays for comparing a key with `count` others.
    fn charge(&self, evaluator: &Evaluator<'_>, count: usize) -> Result<Step<()>, ExprError> {
        if evaluator
            .budget
            .charge(count as u64 * limits::KEY_COMPARISON_COST)
        {
            Ok(Step::Done(()))
        } else {
            self.stop(Fail::Unknown(limits::exhausted()))
        }
    }

    fn null(&self) -> Fail {
        Fail::Unknown(format!(
            "`{}()` with a null argument: ARM's answer is not confirmed",
            self.name
        ))
    }

    /// The input array, and whether it is open.
    fn array(&self, values: Vec<Val>) -> Result<Step<(Vec<Value>, bool)>, ExprError> {
        let Some(input) = values.into_iter().next() else {
            return self.stop(Fail::Error(format!("`{}()` needs an array", self.name)));
        };
        match input.value {
            Value::Array(items) => Ok(Step::Done((items, input.open))),
            Value::Null => self.stop(self.null()),
            other => self.stop(Fail::Error(format!(
                "`{}()` expects an array, got {}",
                self.name,
                describe(&other)
            ))),
        }
    }

    /// The lambda argument `index`, which must have one of `counts` variables.
    fn lambda(&self, index: usize, counts: &[usize]) -> Result<Step<&Lambda<'_>>, ExprError> {
        let Some(lambda) = self.lambdas.get(index) else {
            return self.stop(Fail::Error(format!("`{}()` needs a lambda", self.name)));
        };
        if counts.contains(&lambda.params.len()) {
            return Ok(Step::Done(lambda));
        }
        let expected: Vec<String> = counts.iter().map(usize::to_string).collect();
        self.stop(Fail::Unknown(format!(
            "`{}()` with a lambda of {} variable(s), where {} are expected: ARM's answer is not \
             confirmed",
            self.name,
            lambda.params.len(),
            expected.join(" or ")
        )))
    }
}

/// The arguments of a lambda, with the element's index when the lambda takes one more variable.
fn with_index(lambda: &Lambda<'_>, mut args: Vec<Val>, index: usize) -> Vec<Val> {
    if lambda.params.len() > args.len() {
        args.push(Val::new(Value::from(index), false));
    }
    args
}

/// Reads the argument `node` (the `position`-th of `name()`) as a lambda.
fn lambda_of<'n>(name: &str, node: &'n Node, position: usize) -> Result<Lambda<'n>, Fail> {
    let Node::Call {
        name: callee, args, ..
    } = node
    else {
        return Err(not_a_lambda(name, position));
    };
    if !callee.eq_ignore_ascii_case("lambda") {
        return Err(not_a_lambda(name, position));
    }
    let Some((body, params)) = args.split_last().filter(|(_, params)| !params.is_empty()) else {
        return Err(Fail::Error(format!(
            "`{callee}()` takes at least 2 arguments, got {}",
            args.len()
        )));
    };
    let mut names: Vec<String> = Vec::with_capacity(params.len());
    for param in params {
        let Node::Str { value, .. } = param else {
            return Err(Fail::Unknown(format!(
                "`{callee}()` with a variable name that is not a string literal: ARM's answer is \
                 not confirmed"
            )));
        };
        if names
            .iter()
            .any(|other| equal_ignoring_case(other, value) != Some(false))
        {
            return Err(Fail::Unknown(format!(
                "`{callee}()` with the variable `{value}` twice: ARM's answer is not confirmed"
            )));
        }
        names.push(value.clone());
    }
    Ok(Lambda {
        params: names,
        body,
    })
}

fn not_a_lambda(name: &str, position: usize) -> Fail {
    Fail::Error(format!(
        "`{name}()` expects a lambda such as `lambda('x', ...)` as its argument {position}"
    ))
}

impl Val {
    pub(super) fn new(value: Value, open: bool) -> Self {
        Val { value, open }
    }
}
