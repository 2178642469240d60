//! The template functions cmk-check evaluates, once their arguments are known, and the table of
//! every function it knows. `if`, `and`, `or` and `coalesce`, which look at their arguments one
//! by one, live in `eval`; the functions that take lambdas in `lambda`; the implementations of
//! the date, text and collection functions in `date`, `text` and `collections`.

use std::fmt::Display;

use serde_json::{Map, Value};

use super::collections;
use super::date;
use super::eval::{from_scope, Fail, Val};
use super::format::format;
use super::hash;
use super::limits::{self, Budget};
use super::text;
use super::value::{
    affix_ignoring_case, change_case, compare_strings, deep_equal, describe, equal_ignoring_case,
    to_compact_json, utf16_len,
};
use super::{Evaluated, Scope};

/// No upper limit on the number of arguments.
pub(super) const MANY: usize = usize::MAX;

/// Every function cmk-check knows (lower case) with its least and greatest numbers of arguments,
/// which ARM checks whatever the values. `call` evaluates them, or tells why it cannot; `eval`
/// handles `if`, `and`, `or`, `coalesce` and those marked "eval" (the lambdas) itself.
pub(super) const SIGNATURES: &[(&str, usize, usize)] = &[
    ("add", 2, 2),
    ("array", 1, 1),
    ("base64", 1, 1),
    ("base64tojson", 1, 1),
    ("base64tostring", 1, 1),
    ("bool", 1, 1),
    ("concat", 1, MANY),
    ("contains", 2, 2),
    ("copyindex", 0, 2),
    ("createarray", 0, MANY),
    ("createobject", 0, MANY),
    ("datauri", 1, 1),
    ("datauritostring", 1, 1),
    ("datetimeadd", 2, 3),
    ("datetimefromepoch", 1, 1),
    ("datetimetoepoch", 1, 1),
    ("deployer", 0, 0),
    ("deployment", 0, 0),
    ("div", 2, 2),
    ("empty", 1, 1),
    ("endswith", 2, 2),
    ("environment", 0, 0),
    ("equals", 2, 2),
    ("extensionresourceid", 3, MANY),
    ("false", 0, 0),
    // eval
    ("filter", 2, 2),
    ("first", 1, 1),
    ("flatten", 1, 1),
    ("float", 1, 1),
    ("format", 1, MANY),
    ("greater", 2, 2),
    ("greaterorequals", 2, 2),
    // eval
    ("groupby", 2, 2),
    ("guid", 1, MANY),
    ("indexfromend", 2, 2),
    ("indexof", 2, 2),
    ("int", 1, 1),
    ("intersection", 2, MANY),
    ("items", 1, 1),
    ("join", 2, 2),
    ("json", 1, 1),
    // eval
    ("lambda", 2, MANY),
    // eval
    ("lambdavariables", 1, 1),
    ("last", 1, 1),
    ("lastindexof", 2, 2),
    ("length", 1, 1),
    ("less", 2, 2),
    ("lessorequals", 2, 2),
    ("managementgroup", 0, 1),
    ("managementgroupresourceid", 2, MANY),
    // eval
    ("map", 2, 2),
    // eval
    ("mapvalues", 2, 2),
    ("max", 1, MANY),
    ("min", 1, MANY),
    ("mod", 2, 2),
    ("mul", 2, 2),
    ("newguid", 0, 0),
    ("not", 1, 1),
    ("null", 0, 0),
    ("objectkeys", 1, 1),
    ("padleft", 2, 3),
    ("parameters", 1, 1),
    ("pickzones", 3, 5),
    ("providers", 1, 2),
    ("range", 2, 2),
    // eval
    ("reduce", 3, 3),
    ("reference", 1, 3),
    ("replace", 3, 3),
    ("resourcegroup", 0, 0),
    ("resourceid", 2, MANY),
    ("shallowmerge", 1, 1),
    ("skip", 2, 2),
    // eval
    ("sort", 2, 2),
    ("split", 2, 2),
    ("startswith", 2, 2),
    ("string", 1, 1),
    ("sub", 2, 2),
    ("subscription", 0, 0),
    ("subscriptionresourceid", 2, MANY),
    ("substring", 2, 3),
    ("take", 2, 2),
    ("tenant", 0, 0),
    ("tenantresourceid", 2, MANY),
    ("tolower", 1, 1),
    // eval
    ("toobject", 2, 3),
    ("toupper", 1, 1),
    ("trim", 1, 1),
    ("true", 0, 0),
    ("tryget", 2, MANY),
    ("tryindexfromend", 2, 2),
    ("union", 2, MANY),
    ("uniquestring", 1, MANY),
    ("uri", 2, 2),
    ("uricomponent", 1, 1),
    ("uricomponenttostring", 1, 1),
    ("utcnow", 0, 1),
    ("variables", 1, 1),
];

/// ARM limits the text `uniqueString()` hashes to this many UTF-16 code units.
const UNIQUE_STRING_LIMIT: usize = 131_072;

/// The reason a call to `lower` (written `name`) is Unknown whatever its arguments: cmk-check
/// does not know the function, or it reads a resource at deployment. `None` for the functions in
/// the table.
pub(super) fn never_known(lower: &str, name: &str) -> Option<String> {
    if SIGNATURES.iter().any(|&(known, ..)| known == lower) {
        return None;
    }
    Some(if lower.starts_with("list") && !lower.contains('.') {
        format!("`{name}()` reads the resource's keys or settings at deployment")
    } else {
        format!("function `{name}` is not supported by cmk-check")
    })
}

/// Whether `lower` gives a value from the scope (a parameter, a variable, a resource), which the
/// template did not build.
pub(super) fn gives_scope_value(lower: &str) -> bool {
    matches!(
        lower,
        "parameters" | "variables" | "reference" | "resourcegroup" | "subscription"
    )
}

/// Why the functions that depend on the deployment are Unknown.
fn deployment_dependent(ctx: &Ctx<'_>, lower: &str) -> Fail {
    Fail::Unknown(match lower {
        "tenant" => "the tenant is known only at deployment".to_owned(),
        "managementgroup" => "the management group is known only at deployment".to_owned(),
        "environment" => "the cloud environment is known only at deployment".to_owned(),
        "deployment" => "the deployment's details are known only at deployment".to_owned(),
        "deployer" => "who deploys is known only at deployment".to_owned(),
        "newguid" => format!("`{}()` changes every deployment", ctx.name),
        "pickzones" => format!(
            "`{}()` depends on the zones Azure offers in the region at deployment",
            ctx.name
        ),
        _ => format!(
            "`{}()` reads the resource provider's registration at deployment",
            ctx.name
        ),
    })
}

/// ARM rejects a call with the wrong number of arguments whatever their values: checked before
/// an unknown argument makes the result Unknown.
pub(super) fn check_arity(lower: &str, name: &str, count: usize) -> Result<(), Fail> {
    let Some(&(_, min, max)) = SIGNATURES.iter().find(|&&(known, ..)| known == lower) else {
        return Ok(());
    };
    if (min..=max).contains(&count) {
        return Ok(());
    }
    let plural = |n: usize| {
        if n == 1 {
            "1 argument".to_owned()
        } else {
            format!("{n} arguments")
        }
    };
    let expected = if min == max {
        plural(min)
    } else if max == MANY {
        format!("at least {}", plural(min))
    } else {
        format!("{min} to {max} arguments")
    };
    Err(Fail::Error(format!(
        "`{name}()` takes {expected}, got {count}"
    )))
}

/// What a function sees besides its arguments.
pub(super) struct Ctx<'a> {
    pub(super) scope: &'a dyn Scope,
    /// The function's name as written.
    pub(super) name: &'a str,
    /// Whether any argument is open (see [`Val`]).
    pub(super) open: bool,
    /// The work left to the evaluation, for the functions whose work is not proportional to
    /// their arguments and result.
    pub(super) budget: &'a Budget,
}

impl Ctx<'_> {
    pub(super) fn error(&self, message: impl Display) -> Fail {
        Fail::Error(format!("`{}()` {message}", self.name))
    }

    pub(super) fn unsure(&self, message: impl Display) -> Fail {
        Fail::Unknown(format!("`{}()` {message}", self.name))
    }

    pub(super) fn null(&self) -> Fail {
        self.unsure("with a null argument: ARM's answer is not confirmed")
    }

    /// Spends `units` of work; Unknown once the budget is exhausted.
    pub(super) fn charge(&self, units: u64) -> Result<(), Fail> {
        if self.budget.charge(units) {
            Ok(())
        } else {
            Err(Fail::Unknown(limits::exhausted()))
        }
    }

    /// Completes a message of another module with the function's name.
    pub(super) fn named(&self, fail: Fail) -> Fail {
        match fail {
            Fail::Error(message) => self.error(message),
            Fail::Unknown(message) => self.unsure(message),
        }
    }

    pub(super) fn val(&self, value: Value) -> Val {
        Val {
            value,
            open: self.open,
        }
    }

    /// The error for a number of arguments that the slice patterns below do not accept.
    pub(super) fn arity(&self, args: &[Val]) -> Fail {
        check_arity(&self.name.to_ascii_lowercase(), self.name, args.len())
            .err()
            .unwrap_or_else(|| self.error(format!("got {} argument(s)", args.len())))
    }

    pub(super) fn one<'v>(&self, args: &'v [Val]) -> Result<&'v Val, Fail> {
        match args {
            [only] => Ok(only),
            _ => Err(self.arity(args)),
        }
    }

    pub(super) fn two<'v>(&self, args: &'v [Val]) -> Result<(&'v Val, &'v Val), Fail> {
        match args {
            [a, b] => Ok((a, b)),
            _ => Err(self.arity(args)),
        }
    }

    pub(super) fn three<'v>(&self, args: &'v [Val]) -> Result<(&'v Val, &'v Val, &'v Val), Fail> {
        match args {
            [a, b, c] => Ok((a, b, c)),
            _ => Err(self.arity(args)),
        }
    }

    pub(super) fn string<'v>(&self, val: &'v Val) -> Result<&'v str, Fail> {
        match &val.value {
            Value::String(text) => Ok(text),
            Value::Null => Err(self.null()),
            other => Err(self.error(format!("expects a string, got {}", describe(other)))),
        }
    }

    pub(super) fn integer(&self, val: &Val) -> Result<i64, Fail> {
        match &val.value {
            Value::Number(number) => number.as_i64().ok_or_else(|| {
                if number.is_f64() {
                    self.error("expects an integer, got a number with a fraction")
                } else {
                    self.error(format!("got the integer {number}, beyond 64 bits"))
                }
            }),
            Value::Null => Err(self.null()),
            other => Err(self.error(format!("expects an integer, got {}", describe(other)))),
        }
    }

    pub(super) fn boolean(&self, val: &Val) -> Result<bool, Fail> {
        match &val.value {
            Value::Bool(value) => Ok(*value),
            other => Err(self.error(format!("expects a boolean, got {}", describe(other)))),
        }
    }
}

/// Evaluates the supported function `lower` on known arguments.
pub(super) fn call(ctx: &Ctx<'_>, lower: &str, args: Vec<Val>) -> Result<Val, Fail> {
    check_arity(lower, ctx.name, args.len())?;
    // The scope evaluates parameters and variables by calling the evaluator again: this frame
    // stays on the stack for each level of such references, so it is kept small, away from the
    // many locals of `compute`.
    match lower {
        "parameters" => lookup(ctx, &args, "parameter"),
        "variables" => lookup(ctx, &args, "variable"),
        "reference" => reference(ctx, &args),
        _ => compute(ctx, lower, args),
    }
}

/// The functions that do not call back into the scope's evaluation.
#[inline(never)]
fn compute(ctx: &Ctx<'_>, lower: &str, args: Vec<Val>) -> Result<Val, Fail> {
    match lower {
        "concat" => concat(ctx, args),
        "format" => format_call(ctx, args),
        "resourceid" => resource_id(ctx, &args, false),
        "subscriptionresourceid" => resource_id(ctx, &args, true),
        "subscription" => from_scope(ctx.scope.subscription()),
        "resourcegroup" => from_scope(ctx.scope.resource_group()),
        "tolower" | "toupper" => {
            let text = ctx.string(ctx.one(&args)?)?;
            change_case(text, lower == "toupper")
                .map(|changed| ctx.val(Value::String(changed)))
                .ok_or_else(|| {
                    ctx.unsure("of letters outside ASCII: .NET's invariant casing is not confirmed")
                })
        }
        "equals" => {
            let (a, b) = ctx.two(&args)?;
            deep_equal(&a.value, &b.value)
                .map(|equal| ctx.val(Value::Bool(equal)))
                .ok_or_else(|| {
                    ctx.unsure("of an integer and a number with a fraction is not confirmed")
                })
        }
        "not" => {
            let value = ctx.boolean(ctx.one(&args)?)?;
            Ok(ctx.val(Value::Bool(!value)))
        }
        "string" => string(ctx, ctx.one(&args)?),
        "int" => int(ctx, ctx.one(&args)?),
        "bool" => boolean(ctx, ctx.one(&args)?),
        "uniquestring" | "guid" => hash_call(ctx, lower, &args),
        "first" | "last" => first_or_last(ctx, args, lower == "last"),
        "split" => split(ctx, &args),
        "replace" => replace(ctx, &args),
        "empty" => {
            let empty = match &ctx.one(&args)?.value {
                Value::Null => true,
                Value::String(text) => text.is_empty(),
                Value::Array(items) => items.is_empty(),
                Value::Object(members) => members.is_empty(),
                other => {
                    return Err(ctx.error(format!(
                        "expects a string, an array or an object, got {}",
                        describe(other)
                    )))
                }
            };
            Ok(ctx.val(Value::Bool(empty)))
        }
        "union" => union(ctx, args),
        "tryget" => try_get(ctx, args),
        "createobject" => create_object(ctx, args),
        "createarray" => Ok(ctx.val(Value::Array(
            args.into_iter().map(|arg| arg.value).collect(),
        ))),
        "copyindex" => copy_index(ctx, &args),
        "length" => {
            let length = match &ctx.one(&args)?.value {
                Value::String(text) => utf16_len(text),
                Value::Array(items) => items.len(),
                Value::Object(members) => members.len(),
                Value::Null => return Err(ctx.null()),
                other => {
                    return Err(ctx.error(format!(
                        "expects a string, an array or an object, got {}",
                        describe(other)
                    )))
                }
            };
            Ok(ctx.val(Value::from(length)))
        }
        "contains" => contains(ctx, &args),
        "substring" => substring(ctx, &args),
        "startswith" | "endswith" => {
            let (text, affix) = ctx.two(&args)?;
            let (text, affix) = (ctx.string(text)?, ctx.string(affix)?);
            affix_ignoring_case(text, affix, lower == "endswith")
                .map(|found| ctx.val(Value::Bool(found)))
                .ok_or_else(|| {
                    ctx.unsure(
                        "ignores case, and how it does for letters outside ASCII is not confirmed",
                    )
                })
        }
        "trim" => {
            let text = ctx.string(ctx.one(&args)?)?;
            Ok(ctx.val(Value::String(text.trim().to_owned())))
        }
        "json" => {
            let text = ctx.string(ctx.one(&args)?)?;
            match serde_json::from_str::<Value>(text) {
                Ok(value) => Ok(ctx.val(value)),
                Err(_) => Err(ctx.unsure(
                    "of text that is not strict JSON: ARM's parser accepts more, and its answer \
                     is not confirmed",
                )),
            }
        }
        "array" => match &ctx.one(&args)?.value {
            Value::Array(_) => Ok(ctx.val(ctx.one(&args)?.value.clone())),
            Value::Null => Err(ctx.null()),
            other => Ok(ctx.val(Value::Array(vec![other.clone()]))),
        },
        "add" | "sub" | "mul" | "div" | "mod" => arithmetic(ctx, lower, &args),
        "less" | "lessorequals" | "greater" | "greaterorequals" => compare(ctx, lower, &args),
        "true" | "false" => Ok(ctx.val(Value::Bool(lower == "true"))),
        "null" => Ok(ctx.val(Value::Null)),
        "utcnow" | "datetimeadd" | "datetimetoepoch" | "datetimefromepoch" => {
            date_call(ctx, lower, &args)
        }
        // Documented: like `utcNow()`, `newGuid()` is allowed only in a parameter's default.
        "newguid" if ctx.scope.deployment_time().is_none() => {
            Err(ctx.error("is only allowed in the default value of a parameter"))
        }
        "tenant" | "managementgroup" | "environment" | "deployment" | "deployer" | "newguid"
        | "pickzones" | "providers" => Err(deployment_dependent(ctx, lower)),
        "extensionresourceid" => extension_resource_id(ctx, &args),
        "tenantresourceid" => scoped_resource_id(ctx, &args, Scoped::Tenant),
        "managementgroupresourceid" => scoped_resource_id(ctx, &args, Scoped::ManagementGroup),
        "base64"
        | "base64tostring"
        | "base64tojson"
        | "datauri"
        | "datauritostring"
        | "uri"
        | "uricomponent"
        | "uricomponenttostring" => text::encoding(ctx, lower, &args),
        "indexof" | "lastindexof" => collections::index_of(ctx, &args, lower == "lastindexof"),
        "padleft" => text::pad_left(ctx, &args),
        "skip" | "take" => collections::skip_or_take(ctx, args, lower == "take"),
        "join" => text::join(ctx, &args),
        "flatten" => collections::flatten(ctx, args),
        "intersection" => collections::intersection(ctx, args),
        "items" => collections::items(ctx, args),
        "objectkeys" => collections::object_keys(ctx, &args),
        "shallowmerge" => collections::shallow_merge(ctx, args),
        "min" | "max" => collections::min_or_max(ctx, &args, lower == "max"),
        "range" => collections::range(ctx, &args),
        "indexfromend" | "tryindexfromend" => collections::index_from_end(ctx, args),
        "float" => text::float(ctx, ctx.one(&args)?),
        _ => Err(Fail::Unknown(format!(
            "function `{}` is not supported by cmk-check",
            ctx.name
        ))),
    }
}

/// `parameters('name')` / `variables('name')`.
fn lookup(ctx: &Ctx<'_>, args: &[Val], kind: &str) -> Result<Val, Fail> {
    let name = ctx.string(ctx.one(args)?)?;
    let found = if kind == "variable" {
        ctx.scope.variable(name)
    } else {
        ctx.scope.parameter(name)
    };
    match found {
        Some(evaluated) => from_scope(evaluated),
        None => Err(Fail::Error(format!("the template has no {kind} `{name}`"))),
    }
}

/// Text of a scalar the way .NET converts it (`True`, `42`); `None` for the others.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(true) => Some("True".to_owned()),
        Value::Bool(false) => Some("False".to_owned()),
        Value::Number(number) if !number.is_f64() => Some(number.to_string()),
        _ => None,
    }
}

fn concat(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    if args.iter().all(|arg| arg.value.is_array()) {
        let mut joined = Vec::new();
        for arg in args {
            if let Value::Array(items) = arg.value {
                joined.extend(items);
            }
        }
        return Ok(ctx.val(Value::Array(joined)));
    }
    let mut out = String::new();
    for arg in &args {
        match (&arg.value, scalar_text(&arg.value)) {
            (_, Some(text)) => {
                if limits::too_long((out.len() + text.len()) as u64) {
                    return Err(Fail::Error(limits::too_big()));
                }
                out.push_str(&text);
            }
            (Value::Null, None) => return Err(ctx.null()),
            (Value::Number(_), None) => {
                return Err(
                    ctx.unsure("of a number with a fraction: ARM's text for it is not confirmed")
                )
            }
            (other, None) => {
                return Err(ctx.error(format!(
                    "joins strings, integers and booleans, or arrays with arrays; got {}",
                    describe(other)
                )))
            }
        }
    }
    Ok(ctx.val(Value::String(out)))
}

fn format_call(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    let mut args = args.into_iter().map(|arg| arg.value);
    let template = match args.next() {
        Some(Value::String(text)) => text,
        Some(Value::Null) | None => return Err(ctx.null()),
        Some(other) => {
            return Err(ctx.error(format!(
                "expects a format string first, got {}",
                describe(&other)
            )))
        }
    };
    let rest: Vec<Value> = args.collect();
    format(&template, &rest).map(|text| ctx.val(Value::String(text)))
}

/// A string the scope gave for the deployment (`what` names it in messages).
fn scope_string(evaluated: Evaluated, what: &str) -> Result<String, Fail> {
    match evaluated {
        Evaluated::Known(Value::String(text)) => Ok(text),
        Evaluated::Known(other) => Err(Fail::Unknown(format!(
            "the deployment's {what} is {} rather than a string",
            describe(&other)
        ))),
        Evaluated::Unknown { reason, .. } => Err(Fail::Unknown(reason)),
    }
}

/// `resourceId([subscriptionId], [resourceGroupName], type, names...)`, or with
/// `subscription_level`, `subscriptionResourceId([subscriptionId], type, names...)`.
fn resource_id(ctx: &Ctx<'_>, args: &[Val], subscription_level: bool) -> Result<Val, Fail> {
    let mut texts = Vec::with_capacity(args.len());
    for arg in args {
        match &arg.value {
            Value::String(text) => texts.push(text.as_str()),
            Value::Null | Value::Number(_) => {
                return Err(ctx.unsure(format!(
                    "with {} among its arguments: ARM's answer is not confirmed",
                    describe(&arg.value)
                )))
            }
            other => {
                return Err(ctx.error(format!("expects string arguments, got {}", describe(other))))
            }
        }
    }
    // The resource type is the first argument with a `/`; the ones before it are the
    // subscription ID and the resource group name.
    let leading = if subscription_level { 1 } else { 2 };
    let Some(type_at) = texts
        .iter()
        .position(|text| text.contains('/'))
        .filter(|&at| at <= leading)
    else {
        return Err(ctx.error(format!(
            "needs a resource type such as `Microsoft.KeyVault/vaults` among its first {} \
             arguments",
            leading + 1
        )));
    };
    let (lead, rest) = texts.split_at(type_at);
    let Some((resource_type, names)) = rest.split_first() else {
        return Err(ctx.error("needs a resource type"));
    };
    let mut segments = resource_type.split('/');
    let namespace = segments.next().unwrap_or_default();
    let types: Vec<&str> = segments.collect();
    if namespace.is_empty() || types.iter().any(|segment| segment.is_empty()) {
        return Err(ctx.unsure(format!(
            "with the resource type `{resource_type}`, which has an empty segment: ARM's answer \
             is not confirmed"
        )));
    }
    if names.iter().any(|name| name.contains('/')) {
        return Err(ctx.unsure("with a name that contains `/`: how ARM splits it is not confirmed"));
    }
    if names.len() != types.len() {
        return Err(ctx.error(format!(
            "got {} name(s) for the resource type `{resource_type}`, which needs {}",
            names.len(),
            types.len()
        )));
    }
    let subscription = || scope_string(ctx.scope.subscription_id(), "subscription ID");
    let group = || scope_string(ctx.scope.resource_group_name(), "resource group name");
    let (subscription, group) = match (subscription_level, lead) {
        (true, []) => (subscription()?, None),
        (true, [given]) => ((*given).to_owned(), None),
        (false, []) => (subscription()?, Some(group()?)),
        (false, [given_group]) => (subscription()?, Some((*given_group).to_owned())),
        (false, [given, given_group]) => ((*given).to_owned(), Some((*given_group).to_owned())),
        _ => return Err(ctx.error("has too many arguments before the resource type")),
    };
    let mut id = format!("/subscriptions/{subscription}");
    if let Some(group) = group {
        id.push_str("/resourceGroups/");
        id.push_str(&group);
    }
    id.push_str("/providers/");
    id.push_str(namespace);
    for (segment, name) in types.iter().zip(names) {
        id.push('/');
        id.push_str(segment);
        id.push('/');
        id.push_str(name);
    }
    Ok(ctx.val(Value::String(id)))
}

/// `reference(target)`, `reference(target, apiVersion)`, `reference(target, apiVersion, 'Full')`.
fn reference(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let mut args = args.iter();
    let target = match args.next() {
        Some(target) => ctx.string(target)?,
        None => return Err(ctx.error("needs a resource")),
    };
    let full = match args.nth(1).map(|arg| &arg.value) {
        None => false,
        Some(Value::String(option)) if option.eq_ignore_ascii_case("full") => true,
        Some(Value::String(option)) => {
            return Err(ctx.unsure(format!(
                "with `{option}` as its third argument: ARM's answer is not confirmed"
            )))
        }
        Some(other) => {
            return Err(ctx.error(format!(
                "expects `'Full'` as its third argument, got {}",
                describe(other)
            )))
        }
    };
    from_scope(ctx.scope.reference(target, full))
}

/// `utcNow()`, `dateTimeAdd()`, `dateTimeToEpoch()`, `dateTimeFromEpoch()`.
fn date_call(ctx: &Ctx<'_>, lower: &str, args: &[Val]) -> Result<Val, Fail> {
    let string_at = |index: usize| args.get(index).map(|arg| ctx.string(arg)).transpose();
    let value = match lower {
        "utcnow" => Value::String(
            date::utc_now(ctx.scope.deployment_time(), string_at(0)?).map_err(|f| ctx.named(f))?,
        ),
        "datetimeadd" => {
            let (Some(base), Some(duration)) = (string_at(0)?, string_at(1)?) else {
                return Err(ctx.arity(args));
            };
            Value::String(
                date::date_time_add(base, duration, string_at(2)?).map_err(|f| ctx.named(f))?,
            )
        }
        "datetimetoepoch" => Value::from(
            date::date_time_to_epoch(ctx.string(ctx.one(args)?)?).map_err(|f| ctx.named(f))?,
        ),
        _ => Value::String(
            date::date_time_from_epoch(ctx.integer(ctx.one(args)?)?).map_err(|f| ctx.named(f))?,
        ),
    };
    Ok(ctx.val(value))
}

/// The string arguments of a resource ID function; Unknown for nulls and numbers, whose
/// conversion is not confirmed.
fn id_texts<'v>(ctx: &Ctx<'_>, args: &'v [Val]) -> Result<Vec<&'v str>, Fail> {
    let mut texts = Vec::with_capacity(args.len());
    for arg in args {
        match &arg.value {
            Value::String(text) => texts.push(text.as_str()),
            Value::Null | Value::Number(_) => {
                return Err(ctx.unsure(format!(
                    "with {} among its arguments: ARM's answer is not confirmed",
                    describe(&arg.value)
                )))
            }
            other => {
                return Err(ctx.error(format!("expects string arguments, got {}", describe(other))))
            }
        }
    }
    Ok(texts)
}

/// `/providers/{namespace}/{type}/{name}[/{type}/{name}...]` for a resource type and its names.
fn provider_path(ctx: &Ctx<'_>, resource_type: &str, names: &[&str]) -> Result<String, Fail> {
    let mut segments = resource_type.split('/');
    let namespace = segments.next().unwrap_or_default();
    let types: Vec<&str> = segments.collect();
    if namespace.is_empty() || types.is_empty() || types.iter().any(|segment| segment.is_empty()) {
        return Err(ctx.unsure(format!(
            "with the resource type `{resource_type}`, which has an empty segment: ARM's answer \
             is not confirmed"
        )));
    }
    if names.iter().any(|name| name.contains('/')) {
        return Err(ctx.unsure("with a name that contains `/`: how ARM splits it is not confirmed"));
    }
    if names.len() != types.len() {
        return Err(ctx.error(format!(
            "got {} name(s) for the resource type `{resource_type}`, which needs {}",
            names.len(),
            types.len()
        )));
    }
    let mut path = format!("/providers/{namespace}");
    for (segment, name) in types.iter().zip(names) {
        path.push('/');
        path.push_str(segment);
        path.push('/');
        path.push_str(name);
    }
    Ok(path)
}

/// `extensionResourceId(resourceId, resourceType, names...)`: the extension's path after the ID
/// of the resource it extends.
fn extension_resource_id(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let texts = id_texts(ctx, args)?;
    let Some((base, rest)) = texts.split_first() else {
        return Err(ctx.arity(args));
    };
    let Some((resource_type, names)) = rest.split_first() else {
        return Err(ctx.arity(args));
    };
    if base.is_empty() || base.ends_with('/') {
        return Err(ctx.unsure(format!(
            "with the resource ID `{base}`: how ARM joins it is not confirmed"
        )));
    }
    let path = provider_path(ctx, resource_type, names)?;
    Ok(ctx.val(Value::String(format!("{base}{path}"))))
}

#[derive(Clone, Copy, PartialEq)]
enum Scoped {
    Tenant,
    ManagementGroup,
}

/// `tenantResourceId(resourceType, names...)` and
/// `managementGroupResourceId([managementGroupId], resourceType, names...)`; without its group,
/// the latter is the deployment's, known only at deployment.
fn scoped_resource_id(ctx: &Ctx<'_>, args: &[Val], scoped: Scoped) -> Result<Val, Fail> {
    let texts = id_texts(ctx, args)?;
    let leading = usize::from(scoped == Scoped::ManagementGroup);
    let Some(type_at) = texts
        .iter()
        .position(|text| text.contains('/'))
        .filter(|&at| at <= leading)
    else {
        return Err(ctx.error(format!(
            "needs a resource type such as `Microsoft.Authorization/roleDefinitions` among its \
             first {} argument(s)",
            leading + 1
        )));
    };
    let (lead, rest) = texts.split_at(type_at);
    let Some((resource_type, names)) = rest.split_first() else {
        return Err(ctx.error("needs a resource type"));
    };
    let path = provider_path(ctx, resource_type, names)?;
    let id =
        match (scoped, lead) {
            (Scoped::Tenant, _) => path,
            (Scoped::ManagementGroup, [group]) => {
                format!("/providers/Microsoft.Management/managementGroups/{group}{path}")
            }
            (Scoped::ManagementGroup, _) => return Err(ctx.unsure(
                "without a management group: the deployment's management group is known only at \
                 deployment",
            )),
        };
    Ok(ctx.val(Value::String(id)))
}

fn string(ctx: &Ctx<'_>, arg: &Val) -> Result<Val, Fail> {
    if let Some(text) = scalar_text(&arg.value) {
        return Ok(ctx.val(Value::String(text)));
    }
    match &arg.value {
        Value::Null => Err(ctx.null()),
        Value::Array(_) | Value::Object(_) => to_compact_json(&arg.value)
            .map(|text| ctx.val(Value::String(text)))
            .map_err(|reason| ctx.unsure(format!("is not confirmed here: {reason}"))),
        _ => Err(ctx.unsure("of a number with a fraction: ARM's text for it is not confirmed")),
    }
}

/// .NET's white space for number and boolean parsing.
fn is_dotnet_parse_space(c: char) -> bool {
    matches!(c, '\u{9}'..='\u{d}' | ' ')
}

fn int(ctx: &Ctx<'_>, arg: &Val) -> Result<Val, Fail> {
    match &arg.value {
        Value::Number(_) => ctx.integer(arg).map(|value| ctx.val(Value::from(value))),
        Value::String(text) => {
            // `long.TryParse`: white space around, an optional sign, decimal digits.
            let trimmed = text.trim_matches(is_dotnet_parse_space);
            let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
            let parsed = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                trimmed.parse::<i64>().ok()
            } else {
                None
            };
            parsed
                .map(|value| ctx.val(Value::from(value)))
                .ok_or_else(|| ctx.error(format!("cannot convert `{text}` to an integer")))
        }
        Value::Null => Err(ctx.null()),
        other => Err(ctx.error(format!(
            "expects a string or an integer, got {}",
            describe(other)
        ))),
    }
}

fn boolean(ctx: &Ctx<'_>, arg: &Val) -> Result<Val, Fail> {
    let value = match &arg.value {
        Value::Bool(value) => *value,
        Value::Number(number) => match number.as_i64() {
            Some(value) => value != 0,
            None if !number.is_f64() => true,
            None => {
                return Err(ctx.unsure("of a number with a fraction: ARM's answer is not confirmed"))
            }
        },
        Value::String(text) => {
            let trimmed = text.trim_matches(|c| is_dotnet_parse_space(c) || c == '\0');
            if trimmed.eq_ignore_ascii_case("true") {
                true
            } else if trimmed.eq_ignore_ascii_case("false") {
                false
            } else {
                return Err(ctx.error(format!("cannot convert `{text}` to a boolean")));
            }
        }
        Value::Null => return Err(ctx.null()),
        other => {
            return Err(ctx.error(format!(
                "expects a string, an integer or a boolean, got {}",
                describe(other)
            )))
        }
    };
    Ok(ctx.val(Value::Bool(value)))
}

/// `uniqueString(...)` and `guid(...)`: the arguments joined with `-`.
fn hash_call(ctx: &Ctx<'_>, lower: &str, args: &[Val]) -> Result<Val, Fail> {
    let mut parts = Vec::with_capacity(args.len());
    for arg in args {
        parts.push(ctx.string(arg)?);
    }
    let joined = parts.join("-");
    let result = if lower == "guid" {
        hash::guid(&joined)
    } else {
        let length = utf16_len(&joined);
        if length > UNIQUE_STRING_LIMIT {
            return Err(ctx.error(format!(
                "hashes at most {UNIQUE_STRING_LIMIT} characters, got {length}"
            )));
        }
        hash::unique_string(&joined)
    };
    Ok(ctx.val(Value::String(result)))
}

fn first_or_last(ctx: &Ctx<'_>, args: Vec<Val>, last: bool) -> Result<Val, Fail> {
    let Some(arg) = args.into_iter().next() else {
        return Err(ctx.error("takes 1 argument"));
    };
    match arg.value {
        Value::Array(items) => {
            let item = if last {
                items.into_iter().next_back()
            } else {
                items.into_iter().next()
            };
            match item {
                Some(value) => Ok(ctx.val(value)),
                // Documented: `first()` of an empty array is null.
                None if !last => Ok(ctx.val(Value::Null)),
                None => Err(ctx.unsure("of an empty array: ARM's answer is not confirmed")),
            }
        }
        Value::String(text) => {
            let c = if last {
                text.chars().next_back()
            } else {
                text.chars().next()
            };
            match c {
                // .NET strings are UTF-16: a character outside the BMP is two of its `char`s.
                Some(c) if c.len_utf16() == 1 => Ok(ctx.val(Value::String(c.to_string()))),
                Some(_) => Err(ctx.unsure(
                    "of text that starts or ends with a character outside the Basic \
                     Multilingual Plane: ARM's answer is not confirmed",
                )),
                // Documented: `first()` of an empty string is an empty string.
                None if !last => Ok(ctx.val(Value::String(String::new()))),
                None => Err(ctx.unsure("of an empty string: ARM's answer is not confirmed")),
            }
        }
        Value::Null => Err(ctx.null()),
        other => Err(ctx.error(format!(
            "expects an array or a string, got {}",
            describe(&other)
        ))),
    }
}

/// .NET's `String.Split(string[], StringSplitOptions.None)`: at each position the first
/// separator (in the given order) that matches splits; empty separators never match.
fn split_dotnet<'t>(text: &'t str, separators: &[&str]) -> Vec<&'t str> {
    let separators: Vec<&str> = separators
        .iter()
        .copied()
        .filter(|separator| !separator.is_empty())
        .collect();
    let mut parts = Vec::new();
    let mut piece_start = 0;
    let mut skip_to = 0;
    for (at, _) in text.char_indices() {
        if at < skip_to {
            continue;
        }
        let rest = text.get(at..).unwrap_or_default();
        if let Some(separator) = separators.iter().find(|s| rest.starts_with(**s)) {
            parts.push(text.get(piece_start..at).unwrap_or_default());
            skip_to = at + separator.len();
            piece_start = skip_to;
        }
    }
    parts.push(text.get(piece_start..).unwrap_or_default());
    parts
}

fn split(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let (text, delimiter) = ctx.two(args)?;
    let text = ctx.string(text)?;
    let separators: Vec<&str> =
        match &delimiter.value {
            Value::String(separator) => vec![separator.as_str()],
            Value::Array(items) if items.is_empty() => return Err(ctx.unsure(
                "with an empty array of delimiters: .NET then splits at white space, and ARM's \
                 answer is not confirmed",
            )),
            Value::Array(items) => {
                let mut separators = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(separator) => separators.push(separator.as_str()),
                        other => {
                            return Err(ctx.error(format!(
                                "expects delimiters that are strings, got {}",
                                describe(other)
                            )))
                        }
                    }
                }
                separators
            }
            Value::Null => return Err(ctx.null()),
            other => {
                return Err(ctx.error(format!(
                    "expects a delimiter string or an array of them, got {}",
                    describe(other)
                )))
            }
        };
    // Each position of the text may be compared with every separator.
    let separators_len: usize = separators.iter().map(|separator| separator.len()).sum();
    ctx.charge((text.len() as u64).saturating_mul(separators_len as u64))?;
    let parts = split_dotnet(text, &separators);
    // Each part is a string of the array: its quotes and a comma.
    let json_len: usize = parts.iter().map(|part| part.len() + 3).sum();
    if limits::too_long(json_len as u64) {
        return Err(Fail::Error(limits::too_big()));
    }
    let parts = parts
        .into_iter()
        .map(|part| Value::String(part.to_owned()))
        .collect();
    Ok(ctx.val(Value::Array(parts)))
}

fn replace(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let (text, old, new) = ctx.three(args)?;
    let (text, old, new) = (ctx.string(text)?, ctx.string(old)?, ctx.string(new)?);
    if old.is_empty() {
        return Err(ctx.error("cannot replace an empty string"));
    }
    // Whether ARM matches `old` regardless of case is not confirmed: answer only where both
    // readings give the same result.
    if !text.is_ascii() || !old.is_ascii() {
        return Err(ctx.unsure(format!(
            "of text outside ASCII: whether ARM matches `{old}` regardless of case, and how, is \
             not confirmed"
        )));
    }
    let exact: Vec<usize> = text.match_indices(old).map(|(at, _)| at).collect();
    let folded: Vec<usize> = text
        .to_ascii_lowercase()
        .match_indices(&old.to_ascii_lowercase())
        .map(|(at, _)| at)
        .collect();
    if exact != folded {
        return Err(ctx.unsure(format!(
            "may match `{old}` with or without regard to case, which is not confirmed, and here \
             it makes a difference"
        )));
    }
    let grown = (exact.len() as u64).saturating_mul(new.len() as u64);
    if limits::too_long((text.len() as u64).saturating_add(grown)) {
        return Err(Fail::Error(limits::too_big()));
    }
    Ok(ctx.val(Value::String(text.replace(old, new))))
}

/// Merges `patch` into `target` as ARM's `union()` does: nested objects merge, anything else is
/// replaced by the later value.
fn merge(
    ctx: &Ctx<'_>,
    target: &mut Map<String, Value>,
    patch: Map<String, Value>,
) -> Result<(), Fail> {
    for (key, value) in patch {
        if let Some(existing) = target.get_mut(&key) {
            match (existing, value) {
                (Value::Object(inner), Value::Object(patch)) => merge(ctx, inner, patch)?,
                (slot, value) => *slot = value,
            }
            continue;
        }
        // Comparing the key with every other one: quadratic, so paid for.
        ctx.charge(target.len() as u64 * limits::KEY_COMPARISON_COST)?;
        if target
            .keys()
            .any(|other| equal_ignoring_case(other, &key) != Some(false))
        {
            return Err(ctx.unsure(format!(
                "of objects with keys that differ only in case (`{key}`): ARM's answer is not \
                 confirmed"
            )));
        }
        target.insert(key, value);
    }
    Ok(())
}

fn union(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    if args.iter().any(|arg| arg.value.is_null()) {
        return Err(ctx.null());
    }
    if args.iter().all(|arg| arg.value.is_object()) {
        let mut merged = Map::new();
        for arg in args {
            if let Value::Object(members) = arg.value {
                merge(ctx, &mut merged, members)?;
            }
        }
        return Ok(ctx.val(Value::Object(merged)));
    }
    if args.iter().all(|arg| arg.value.is_array()) {
        let mut items: Vec<Value> = Vec::new();
        for arg in args {
            let Value::Array(more) = arg.value else {
                continue;
            };
            for item in more {
                let mut seen = false;
                for existing in &items {
                    ctx.charge(limits::NODE_COST)?;
                    match deep_equal(existing, &item) {
                        Some(true) => {
                            seen = true;
                            break;
                        }
                        Some(false) => {}
                        None => {
                            return Err(ctx.unsure(
                                "of arrays mixing integers and numbers with a fraction: ARM's \
                                 answer is not confirmed",
                            ))
                        }
                    }
                }
                if !seen {
                    items.push(item);
                }
            }
        }
        return Ok(ctx.val(Value::Array(items)));
    }
    let kinds: Vec<&str> = args.iter().map(|arg| describe(&arg.value)).collect();
    Err(ctx.error(format!(
        "expects only objects or only arrays, got {}",
        kinds.join(", ")
    )))
}

/// `tryGet(value, key, ...)`, what Bicep's `.?` and `[?...]` compile to: like the accessors, but
/// null where a property or an element is missing, or the value is not an object or an array.
fn try_get(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    let mut args = args.into_iter().map(|arg| arg.value);
    let mut current = args.next().unwrap_or(Value::Null);
    for key in args {
        if current.is_null() {
            break;
        }
        current = match (current, key) {
            (Value::Object(mut members), Value::String(name)) => match members.remove(&name) {
                Some(value) => value,
                None => {
                    let mut matches = Vec::new();
                    for (candidate, value) in members {
                        match equal_ignoring_case(&candidate, &name) {
                            Some(true) => matches.push(value),
                            Some(false) => {}
                            None => {
                                return Err(ctx.unsure(format!(
                                    "of `{name}`: whether ARM matches the property \
                                         `{candidate}` is not confirmed"
                                )))
                            }
                        }
                    }
                    if matches.len() > 1 {
                        return Err(ctx.unsure(format!(
                            "of `{name}`: several properties differ from it only in case"
                        )));
                    }
                    match matches.pop() {
                        Some(value) => value,
                        None if ctx.open => {
                            return Err(ctx.unsure(format!(
                                "of `{name}`: the property is not known before deployment"
                            )))
                        }
                        None => Value::Null,
                    }
                }
            },
            (Value::Array(items), Value::Number(index)) => {
                let count = items.len();
                let found = index
                    .as_u64()
                    .and_then(|index| usize::try_from(index).ok())
                    .and_then(|index| items.into_iter().nth(index));
                match found {
                    Some(value) => value,
                    None if ctx.open && index.as_u64().is_some() => {
                        return Err(ctx.unsure(format!(
                            "of the element [{index}] of an array of {count} element(s): it is not \
                             known before deployment"
                        )))
                    }
                    None => Value::Null,
                }
            }
            (_, Value::String(_) | Value::Number(_)) => Value::Null,
            (_, other) => {
                return Err(ctx.error(format!(
                    "expects keys that are strings or integers, got {}",
                    describe(&other)
                )))
            }
        };
    }
    Ok(ctx.val(current))
}

fn create_object(ctx: &Ctx<'_>, args: Vec<Val>) -> Result<Val, Fail> {
    if !args.len().is_multiple_of(2) {
        return Err(ctx.error(format!(
            "takes keys and values in pairs, got {} argument(s)",
            args.len()
        )));
    }
    let mut members = Map::new();
    let mut args = args.into_iter();
    while let (Some(key), Some(value)) = (args.next(), args.next()) {
        let key = match key.value {
            Value::String(key) => key,
            Value::Null => return Err(ctx.null()),
            other => {
                return Err(ctx.error(format!("expects string keys, got {}", describe(&other))))
            }
        };
        if members.contains_key(&key) {
            return Err(ctx.error(format!("got the key `{key}` twice")));
        }
        members.insert(key, value.value);
    }
    Ok(ctx.val(Value::Object(members)))
}

/// `copyIndex()`, `copyIndex(offset)`, `copyIndex('loop')`, `copyIndex('loop', offset)`.
fn copy_index(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let (loop_name, offset) = match args {
        [] => (None, 0),
        [only] => match &only.value {
            Value::String(name) => (Some(name.as_str()), 0),
            _ => (None, ctx.integer(only)?),
        },
        [name, offset] => (Some(ctx.string(name)?), ctx.integer(offset)?),
        _ => return Err(ctx.error("takes at most 2 arguments")),
    };
    let Some(index) = ctx.scope.copy_index(loop_name) else {
        return Err(match loop_name {
            Some(name) => ctx.error(format!("is used outside of a copy loop named `{name}`")),
            None => ctx.error("is used outside of a copy loop"),
        });
    };
    index
        .checked_add(offset)
        .map(|value| ctx.val(Value::from(value)))
        .ok_or_else(|| ctx.error("overflows 64 bits"))
}

fn contains(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let (container, item) = ctx.two(args)?;
    let found = match (&container.value, &item.value) {
        // Keys are compared without regard to case, strings with it.
        (Value::Object(members), Value::String(key)) => {
            let mut unsure = false;
            let mut found = false;
            for candidate in members.keys() {
                match equal_ignoring_case(candidate, key) {
                    Some(true) => {
                        found = true;
                        break;
                    }
                    Some(false) => {}
                    None => unsure = true,
                }
            }
            if !found && unsure {
                return Err(ctx.unsure(
                    "compares keys without regard to case, and how it does for letters outside \
                     ASCII is not confirmed",
                ));
            }
            found
        }
        (Value::Array(items), item) => {
            let mut unsure = false;
            let mut found = false;
            for candidate in items {
                match deep_equal(candidate, item) {
                    Some(true) => {
                        found = true;
                        break;
                    }
                    Some(false) => {}
                    None => unsure = true,
                }
            }
            if !found && unsure {
                return Err(ctx.unsure(
                    "of an integer among numbers with a fraction: ARM's answer is not confirmed",
                ));
            }
            found
        }
        (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
        (Value::Null, _)
        | (Value::Object(_) | Value::String(_), Value::Null | Value::Number(_)) => {
            return Err(ctx.unsure(format!(
                "of {} in {}: ARM's answer is not confirmed",
                describe(&item.value),
                describe(&container.value)
            )))
        }
        (container, item) => {
            return Err(ctx.error(format!(
                "cannot look for {} in {}",
                describe(item),
                describe(container)
            )))
        }
    };
    Ok(ctx.val(Value::Bool(found)))
}

/// `substring(text, start, [length])`, counted in UTF-16 code units as .NET does.
fn substring(ctx: &Ctx<'_>, args: &[Val]) -> Result<Val, Fail> {
    let mut args = args.iter();
    let (Some(text), Some(start)) = (args.next(), args.next()) else {
        return Err(ctx.error("takes 2 or 3 arguments"));
    };
    let text = ctx.string(text)?;
    let start = ctx.integer(start)?;
    let length = args.next().map(|length| ctx.integer(length)).transpose()?;
    let units: Vec<u16> = text.encode_utf16().collect();
    let Ok(start) = usize::try_from(start) else {
        return Err(ctx.error(format!("got the negative start index {start}")));
    };
    if start > units.len() {
        return Err(ctx.error(format!(
            "got the start index {start}, beyond the text's length {}",
            units.len()
        )));
    }
    let length = match length {
        None => units.len() - start,
        Some(length) => usize::try_from(length)
            .map_err(|_| ctx.error(format!("got the negative length {length}")))?,
    };
    let part = start
        .checked_add(length)
        .and_then(|end| units.get(start..end))
        .ok_or_else(|| {
            ctx.error(format!(
                "got the start index {start} and the length {length}, beyond the text's length {}",
                units.len()
            ))
        })?;
    String::from_utf16(part)
        .map(|part| ctx.val(Value::String(part)))
        .map_err(|_| ctx.unsure("cuts a character outside the Basic Multilingual Plane in two"))
}

fn arithmetic(ctx: &Ctx<'_>, lower: &str, args: &[Val]) -> Result<Val, Fail> {
    let (a, b) = ctx.two(args)?;
    let (a, b) = (ctx.integer(a)?, ctx.integer(b)?);
    if matches!(lower, "div" | "mod") && b == 0 {
        return Err(ctx.error("cannot divide by zero"));
    }
    let result = match lower {
        "add" => a.checked_add(b),
        "sub" => a.checked_sub(b),
        "mul" => a.checked_mul(b),
        "div" => a.checked_div(b),
        _ => a.checked_rem(b),
    };
    result
        .map(|value| ctx.val(Value::from(value)))
        .ok_or_else(|| ctx.error("overflows 64 bits"))
}

fn compare(ctx: &Ctx<'_>, lower: &str, args: &[Val]) -> Result<Val, Fail> {
    let (a, b) = ctx.two(args)?;
    let ordering =
        match (&a.value, &b.value) {
            (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => return Err(ctx.unsure(
                    "of numbers with a fraction or beyond 64 bits: ARM's answer is not confirmed",
                )),
            },
            (Value::String(x), Value::String(y)) => compare_strings(x, y).ok_or_else(|| {
                ctx.unsure(
                    "of texts other than ASCII letters and digits, or that differ only in case: \
                 ARM's culture-aware order is not confirmed",
                )
            })?,
            (Value::Null, _) | (_, Value::Null) => return Err(ctx.null()),
            (x, y) => {
                return Err(ctx.error(format!(
                    "compares two integers or two strings, got {} and {}",
                    describe(x),
                    describe(y)
                )))
            }
        };
    let result = match lower {
        "less" => ordering.is_lt(),
        "lessorequals" => ordering.is_le(),
        "greater" => ordering.is_gt(),
        _ => ordering.is_ge(),
    };
    Ok(ctx.val(Value::Bool(result)))
}
