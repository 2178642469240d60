//! Unit tests of the expression evaluator.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{
    evaluate_string, evaluate_value, hash, is_expression, Evaluated, ExprError, Scope, Value,
};

const SUB: &str = "00000000-0000-0000-0000-000000000001";
const RG: &str = "rg-citus-prod";
const KNOWN_IDENTITY: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/\
                              rg-citus-prod/providers/Microsoft.ManagedIdentity/\
                              userAssignedIdentities/id-known";

fn unknown_from_scope(reason: &str) -> Evaluated {
    Evaluated::Unknown {
        reason: reason.to_owned(),
        // Scopes may report any span: the evaluator replaces it.
        span: 1000..1001,
    }
}

struct TestScope {
    parameters: HashMap<String, Evaluated>,
    variables: HashMap<String, Evaluated>,
    /// Innermost loop first: (name, index).
    loops: Vec<(&'static str, i64)>,
    deployment_known: bool,
    /// What `utcNow()` gives; `None` outside the default value of a parameter.
    now: Option<DateTime<Utc>>,
}

impl TestScope {
    fn new() -> Self {
        let known = |value: Value| Evaluated::Known(value);
        let parameters = HashMap::from([
            ("location".to_owned(), known(json!("westeurope"))),
            ("vaultname".to_owned(), known(json!("kv-cmk-prod"))),
            (
                "obj".to_owned(),
                known(json!({"inner": {"list": ["x", "y"]}, "Name": "n"})),
            ),
            ("count".to_owned(), known(json!(3))),
            ("nothing".to_owned(), known(Value::Null)),
            (
                "pending".to_owned(),
                unknown_from_scope("the parameter `pending` has no value"),
            ),
        ]);
        let variables = HashMap::from([
            ("keyname".to_owned(), known(json!("cmk"))),
            (
                "later".to_owned(),
                unknown_from_scope("the variable `later` uses reference()"),
            ),
        ]);
        TestScope {
            parameters,
            variables,
            loops: vec![("keys", 2), ("vaults", 5)],
            deployment_known: true,
            now: None,
        }
    }

    /// As in the default value of a parameter, deployed at `now`.
    fn in_default_value(now: &str) -> Self {
        TestScope {
            now: Some(instant(now)),
            ..TestScope::new()
        }
    }

    fn outside_loops() -> Self {
        TestScope {
            loops: Vec::new(),
            ..TestScope::new()
        }
    }

    fn unknown_deployment() -> Self {
        TestScope {
            deployment_known: false,
            ..TestScope::new()
        }
    }
}

impl Scope for TestScope {
    fn parameter(&self, name: &str) -> Option<Evaluated> {
        self.parameters.get(&name.to_lowercase()).cloned()
    }

    fn variable(&self, name: &str) -> Option<Evaluated> {
        self.variables.get(&name.to_lowercase()).cloned()
    }

    fn resource_group(&self) -> Evaluated {
        Evaluated::Known(json!({
            "id": format!("/subscriptions/{SUB}/resourceGroups/{RG}"),
            "name": RG,
            "location": "westeurope",
        }))
    }

    fn subscription(&self) -> Evaluated {
        Evaluated::Known(json!({
            "id": format!("/subscriptions/{SUB}"),
            "subscriptionId": SUB,
            "tenantId": "b6c948ef-f6b5-4384-8354-da3a15eca969",
            "displayName": "Production",
        }))
    }

    fn copy_index(&self, loop_name: Option<&str>) -> Option<i64> {
        match loop_name {
            None => self.loops.first().map(|&(_, index)| index),
            Some(name) => self
                .loops
                .iter()
                .find(|(loop_name, _)| loop_name.eq_ignore_ascii_case(name))
                .map(|&(_, index)| index),
        }
    }

    fn reference(&self, target: &str, full: bool) -> Evaluated {
        if target.eq_ignore_ascii_case(KNOWN_IDENTITY) {
            let properties = json!({"principalId": "p-known", "clientId": "c-known"});
            return Evaluated::Known(if full {
                json!({"properties": properties, "location": "westeurope"})
            } else {
                properties
            });
        }
        unknown_from_scope(&format!("`{target}` is created by this deployment"))
    }

    fn subscription_id(&self) -> Evaluated {
        if self.deployment_known {
            Evaluated::Known(json!(SUB))
        } else {
            unknown_from_scope("the target subscription is not known yet")
        }
    }

    fn resource_group_name(&self) -> Evaluated {
        if self.deployment_known {
            Evaluated::Known(json!(RG))
        } else {
            unknown_from_scope("the target resource group is not known yet")
        }
    }

    fn deployment_time(&self) -> Option<DateTime<Utc>> {
        self.now
    }
}

#[track_caller]
fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

fn eval_in(raw: &str, scope: &TestScope) -> Result<Evaluated, ExprError> {
    evaluate_string(raw, scope)
}

#[track_caller]
fn known(raw: &str) -> Value {
    match eval_in(raw, &TestScope::new()) {
        Ok(Evaluated::Known(value)) => value,
        other => panic!("{raw}: expected a known value, got {other:?}"),
    }
}

/// The reason and the spanned text of an Unknown.
#[track_caller]
fn unknown_in(raw: &str, scope: &TestScope) -> (String, String) {
    match eval_in(raw, scope) {
        Ok(Evaluated::Unknown { reason, span }) => {
            let spanned = raw
                .get(span.clone())
                .unwrap_or_else(|| panic!("{raw}: span {span:?} is not in the string"));
            (reason, spanned.to_owned())
        }
        other => panic!("{raw}: expected an Unknown, got {other:?}"),
    }
}

#[track_caller]
fn unknown(raw: &str) -> (String, String) {
    unknown_in(raw, &TestScope::new())
}

/// The message and the spanned text of an error.
#[track_caller]
fn error_in(raw: &str, scope: &TestScope) -> (String, String) {
    match eval_in(raw, scope) {
        Err(ExprError { message, span }) => {
            let spanned = raw
                .get(span.clone())
                .unwrap_or_else(|| panic!("{raw}: span {span:?} is not in the string"));
            (message, spanned.to_owned())
        }
        other => panic!("{raw}: expected an error, got {other:?}"),
    }
}

#[track_caller]
fn error(raw: &str) -> (String, String) {
    error_in(raw, &TestScope::new())
}

/// The whole expression between the brackets.
fn inner(raw: &str) -> String {
    raw.get(1..raw.len() - 1).unwrap_or_default().to_owned()
}

// --- a template's scope -------------------------------------------------------------------------

/// Parameter defaults and variables evaluated lazily, as the deployment does, with `utcNow()`
/// allowed only while a default is evaluated.
struct TemplateScope {
    defaults: serde_json::Map<String, Value>,
    variables: serde_json::Map<String, Value>,
    now: DateTime<Utc>,
    in_default: Cell<bool>,
    cache: RefCell<HashMap<String, Evaluated>>,
}

impl TemplateScope {
    fn new(defaults: Value, variables: Value, now: &str) -> Self {
        let map = |value: Value| match value {
            Value::Object(members) => members,
            _ => serde_json::Map::new(),
        };
        TemplateScope {
            defaults: map(defaults),
            variables: map(variables),
            now: instant(now),
            in_default: Cell::new(false),
            cache: RefCell::new(HashMap::new()),
        }
    }

    fn lazily(&self, key: String, raw: &Value, in_default: bool) -> Evaluated {
        if let Some(done) = self.cache.borrow().get(&key) {
            return done.clone();
        }
        let outer = self.in_default.replace(in_default);
        let value = match evaluate_value(raw, self) {
            Ok((value, _)) => value,
            Err((error, _)) => unknown_from_scope(&format!("{key} does not evaluate: {error}")),
        };
        self.in_default.set(outer);
        self.cache.borrow_mut().insert(key, value.clone());
        value
    }
}

impl Scope for TemplateScope {
    fn parameter(&self, name: &str) -> Option<Evaluated> {
        let raw = self.defaults.get(name)?;
        Some(self.lazily(format!("parameter {name}"), raw, true))
    }

    fn variable(&self, name: &str) -> Option<Evaluated> {
        let raw = self.variables.get(name)?;
        Some(self.lazily(format!("variable {name}"), raw, false))
    }

    fn resource_group(&self) -> Evaluated {
        Evaluated::Known(json!({"id": format!("/subscriptions/{SUB}/resourceGroups/{RG}")}))
    }

    fn subscription(&self) -> Evaluated {
        Evaluated::Known(json!({"subscriptionId": SUB}))
    }

    fn copy_index(&self, _: Option<&str>) -> Option<i64> {
        None
    }

    fn reference(&self, target: &str, _: bool) -> Evaluated {
        unknown_from_scope(&format!("`{target}` is created by this deployment"))
    }

    fn subscription_id(&self) -> Evaluated {
        Evaluated::Known(json!(SUB))
    }

    fn resource_group_name(&self) -> Evaluated {
        Evaluated::Known(json!(RG))
    }

    fn deployment_time(&self) -> Option<DateTime<Utc>> {
        self.in_default.get().then_some(self.now)
    }
}

mod basics;
mod bounds;
mod collections;
mod dates;
mod functions;
mod lambdas;
mod robustness;
mod values;
