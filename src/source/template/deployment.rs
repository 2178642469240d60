//! One deployment of a template: its parameters, variables and outputs, where it is deployed,
//! and the scope in which its expressions are evaluated ([`Env`]).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::expr::{self, Evaluated, ExprError, Scope};
use super::runtime::{
    runtime_properties, DEPLOYMENT_TENANT, UNKNOWN_RESOURCE_GROUP, UNKNOWN_SUBSCRIPTION,
};
use super::walk::{Declaration, WalkError};
use crate::azure::cloud::CloudName;
use crate::azure::id as arm;
use crate::document::escape;
use crate::document::json::Members as _;

/// How many references to variables, parameter defaults and declared resources' properties
/// cmk-check follows inside one another. ARM has no such limit, but a real template nests a few
/// levels; each level costs stack, and a chain of thousands must stop with an error, not a crash.
pub const MAX_REFERENCE_DEPTH: usize = 64;

/// What the command line says about where and when the deployment goes.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    pub location: Option<String>,
    /// The cloud deployed to: its vault DNS suffix names the vaults the template declares.
    pub cloud: CloudName,
    /// The deployment's instant (`--now`): what `utcNow()` gives.
    pub now: DateTime<Utc>,
}

/// ARM compares parameter and variable names without case.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// A parameter's value: given (parameters file, or a nested deployment's `parameters`), the
/// template's default, or none.
#[derive(Debug, Clone)]
enum Parameter {
    Given(Evaluated),
    Default(Value),
    Missing,
}

/// What every deployment of one template file shares: where and when it runs, and the walk's
/// bounds and faults.
#[derive(Debug)]
struct Shared {
    cloud: CloudName,
    now: DateTime<Utc>,
    /// References being followed inside one another, against [`MAX_REFERENCE_DEPTH`].
    depth: Cell<usize>,
    /// Set while a parameter's default value is evaluated, the only place ARM allows `utcNow()`.
    in_default: Cell<bool>,
    /// Declared resources whose properties are being evaluated, for `reference()` cycles.
    referencing: RefCell<HashSet<String>>,
    /// The first error met inside an evaluation, where the [`Scope`] cannot return one.
    fault: RefCell<Option<WalkError>>,
}

/// One template being deployed: the root, or a nested deployment with inner scope.
#[derive(Debug)]
pub struct Deployment {
    /// JSON pointer of this template in the file: empty for the root.
    pointer: String,
    root: bool,
    /// By folded name: the name as written, and the value.
    parameters: HashMap<String, (String, Parameter)>,
    variables: HashMap<String, (String, Value)>,
    pub(super) outputs: Map<String, Value>,
    cache: RefCell<HashMap<String, Evaluated>>,
    resolving: RefCell<HashSet<String>>,
    pub subscription: String,
    pub resource_group: String,
    pub location: Option<String>,
    shared: Rc<Shared>,
}

/// Where an expression is evaluated: a deployment, inside zero or more copy loops.
#[derive(Debug, Clone)]
pub struct Frame {
    pub deployment: Rc<Deployment>,
    pub copy: Vec<(String, i64)>,
}

impl Frame {
    pub fn new(deployment: Rc<Deployment>) -> Self {
        Self {
            deployment,
            copy: Vec::new(),
        }
    }
}

/// What a nested deployment inherits from the one that deploys it.
pub struct Nested {
    pub pointer: String,
    pub given: HashMap<String, Evaluated>,
    pub subscription: String,
    pub resource_group: String,
    pub location: Option<String>,
}

impl Deployment {
    /// The template of the file, with the values of a parameters file (names folded).
    pub fn root(
        template: &Value,
        given: HashMap<String, Evaluated>,
        placement: &Placement,
    ) -> Rc<Self> {
        let shared = Rc::new(Shared {
            cloud: placement.cloud,
            now: placement.now,
            depth: Cell::new(0),
            in_default: Cell::new(false),
            referencing: RefCell::new(HashSet::new()),
            fault: RefCell::new(None),
        });
        Self::new(
            template,
            Nested {
                pointer: String::new(),
                given,
                subscription: placement
                    .subscription
                    .clone()
                    .unwrap_or_else(|| UNKNOWN_SUBSCRIPTION.to_string()),
                resource_group: placement
                    .resource_group
                    .clone()
                    .unwrap_or_else(|| UNKNOWN_RESOURCE_GROUP.to_string()),
                location: placement.location.clone(),
            },
            shared,
            true,
        )
    }

    /// A nested deployment with inner scope, deployed by `self`.
    pub fn nested(&self, template: &Value, nested: Nested) -> Rc<Self> {
        Self::new(template, nested, Rc::clone(&self.shared), false)
    }

    fn new(template: &Value, mut nested: Nested, shared: Rc<Shared>, root: bool) -> Rc<Self> {
        let mut parameters = HashMap::new();
        for (name, declaration) in template
            .member("parameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let key = fold(name);
            let value = match (
                nested.given.remove(&key),
                declaration.member("defaultValue"),
            ) {
                (Some(value), _) => Parameter::Given(value),
                (None, Some(default)) => Parameter::Default(default.clone()),
                (None, None) => Parameter::Missing,
            };
            parameters.insert(key, (name.clone(), value));
        }
        let variables = template
            .member("variables")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, value)| (fold(name), (name.clone(), value.clone())))
            .collect();
        Rc::new(Self {
            pointer: nested.pointer,
            root,
            parameters,
            variables,
            outputs: template
                .member("outputs")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            cache: RefCell::new(HashMap::new()),
            resolving: RefCell::new(HashSet::new()),
            subscription: nested.subscription,
            resource_group: nested.resource_group,
            location: nested.location,
            shared,
        })
    }

    /// The cloud deployed to.
    pub fn cloud(&self) -> CloudName {
        self.shared.cloud
    }

    /// The first error met inside an evaluation, which ARM would reject or cmk-check cannot
    /// follow: the template as a whole is refused with it.
    pub fn fault(&self) -> Option<WalkError> {
        self.shared.fault.borrow().clone()
    }

    fn record(&self, fault: WalkError) {
        let mut slot = self.shared.fault.borrow_mut();
        if slot.is_none() {
            *slot = Some(fault);
        }
    }

    /// Counts one more reference followed; `false` when that is one too many.
    fn descend(&self, pointer: &str, what: &str) -> bool {
        let depth = self.shared.depth.get();
        if depth >= MAX_REFERENCE_DEPTH {
            self.record(WalkError {
                message: format!(
                    "{what} is reached through more than {MAX_REFERENCE_DEPTH} references to variables, parameters and resources nested in one another, more than cmk-check follows"
                ),
                pointer: pointer.to_string(),
                span: None,
            });
            return false;
        }
        self.shared.depth.set(depth + 1);
        true
    }

    fn ascend(&self) {
        self.shared
            .depth
            .set(self.shared.depth.get().saturating_sub(1));
    }
}

/// A parameters-file entry: `{"value": ...}`, or a Key Vault reference (a secret: unknown here).
pub fn given_value(name: &str, entry: &Value) -> Evaluated {
    match entry.member("value") {
        Some(value) => Evaluated::Known(value.clone()),
        None => Evaluated::Unknown {
            reason: format!(
                "parameter `{name}` is a Key Vault reference, whose secret is read only at deployment"
            ),
            span: 0..0,
        },
    }
}

/// Too deep: the fault is recorded, and the value stays unknown while the evaluation unwinds.
fn too_deep() -> Evaluated {
    Evaluated::Unknown {
        reason: "references nest too deep".to_string(),
        span: 0..0,
    }
}

/// Evaluation of expressions in one frame, with the declared resources for `reference()`.
pub struct Env<'a> {
    pub frame: &'a Frame,
    pub world: &'a [Declaration],
}

impl Env<'_> {
    pub fn eval(&self, raw: &str) -> Result<Evaluated, ExprError> {
        expr::evaluate_string(raw, self)
    }

    /// A variable or a parameter's default, evaluated once. `default` says which: only a
    /// parameter's default may ask for the deployment's time.
    fn lazily(&self, key: &str, raw: &Value, what: &str, at: &str, default: bool) -> Evaluated {
        let deployment = &self.frame.deployment;
        if let Some(done) = deployment.cache.borrow().get(key) {
            return done.clone();
        }
        if !deployment.resolving.borrow_mut().insert(key.to_string()) {
            return Evaluated::Unknown {
                reason: format!("{what} refers to itself"),
                span: 0..0,
            };
        }
        if !deployment.descend(at, what) {
            deployment.resolving.borrow_mut().remove(key);
            return too_deep();
        }
        let shared = &deployment.shared;
        let outer = shared.in_default.replace(default);
        let value = match expr::evaluate_value(raw, self) {
            Ok((value, _)) => value,
            Err((e, _)) => Evaluated::Unknown {
                reason: format!("{what} does not evaluate: {e}"),
                span: 0..0,
            },
        };
        shared.in_default.set(outer);
        deployment.ascend();
        deployment.resolving.borrow_mut().remove(key);
        deployment
            .cache
            .borrow_mut()
            .insert(key.to_string(), value.clone());
        value
    }

    fn find(&self, target: &str) -> Option<&Declaration> {
        self.world.iter().find(|d| {
            arm::same_id(&d.id, target)
                || d.symbol.as_deref().is_some_and(|s| s == target)
                || (d.is(crate::azure::DEPLOYMENT_TYPE) && d.name.eq_ignore_ascii_case(target))
        })
    }

    /// What `reference()` of a declared resource gives, `None` when following it would go in
    /// a circle or too deep (the fault is recorded).
    fn follow(&self, declared: &Declaration) -> Option<Value> {
        let deployment = &self.frame.deployment;
        let shared = &deployment.shared;
        if !shared.referencing.borrow_mut().insert(declared.id.clone()) {
            deployment.record(WalkError {
                message: format!(
                    "`{}` depends on itself through `reference()`: ARM rejects the circular dependency",
                    declared.name
                ),
                pointer: declared.pointer.clone(),
                span: None,
            });
            return None;
        }
        let what = format!("`reference()` of `{}`", declared.name);
        if !deployment.descend(&declared.pointer, &what) {
            shared.referencing.borrow_mut().remove(&declared.id);
            return None;
        }
        // A resource's properties are not a parameter's default, whoever asks for them.
        let outer = shared.in_default.replace(false);
        let properties = runtime_properties(self, declared);
        shared.in_default.set(outer);
        deployment.ascend();
        shared.referencing.borrow_mut().remove(&declared.id);
        Some(properties)
    }

    /// A declared resource's `properties`, evaluated as far as they can be.
    pub(super) fn properties_of(&self, declared: &Declaration) -> Value {
        let env = Env {
            frame: &declared.frame,
            world: self.world,
        };
        let raw = declared
            .raw
            .member("properties")
            .cloned()
            .unwrap_or(Value::Null);
        match expr::evaluate_value(&raw, &env) {
            Ok((Evaluated::Known(value), _)) => value,
            // Unknown parts are left out: reading them is Unknown again.
            Ok((Evaluated::Unknown { .. }, _)) | Err(_) => strip_unknown(&raw, &env),
        }
    }
}

/// The known parts of a value, the unknown ones left out.
fn strip_unknown(raw: &Value, env: &Env<'_>) -> Value {
    match raw {
        Value::String(s) => match env.eval(s) {
            Ok(Evaluated::Known(v)) => v,
            _ => Value::Null,
        },
        Value::Array(items) => Value::Array(items.iter().map(|i| strip_unknown(i, env)).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(k, _)| !expr::is_expression(k))
                .filter_map(|(k, v)| {
                    let value = strip_unknown(v, env);
                    (!value.is_null()).then(|| (k.clone(), value))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Scope for Env<'_> {
    fn parameter(&self, name: &str) -> Option<Evaluated> {
        let deployment = &self.frame.deployment;
        let key = fold(name);
        let (written, parameter) = deployment.parameters.get(&key)?;
        Some(match parameter {
            Parameter::Given(value) => value.clone(),
            Parameter::Default(raw) => self.lazily(
                &format!("parameter {key}"),
                raw,
                &format!("parameter `{written}`"),
                &format!(
                    "{}/parameters/{}/defaultValue",
                    deployment.pointer,
                    escape(written)
                ),
                true,
            ),
            Parameter::Missing if deployment.root => Evaluated::Unknown {
                reason: format!("parameter `{written}` has no value: give it with `--parameters`"),
                span: 0..0,
            },
            Parameter::Missing => Evaluated::Unknown {
                reason: format!(
                    "parameter `{written}` of the nested template at {} has no value: give it in the deployment's `parameters`",
                    deployment.pointer
                ),
                span: 0..0,
            },
        })
    }

    fn variable(&self, name: &str) -> Option<Evaluated> {
        let deployment = &self.frame.deployment;
        let key = fold(name);
        let (written, raw) = deployment.variables.get(&key)?;
        Some(self.lazily(
            &format!("variable {key}"),
            raw,
            &format!("variable `{written}`"),
            &format!("{}/variables/{}", deployment.pointer, escape(written)),
            false,
        ))
    }

    fn resource_group(&self) -> Evaluated {
        let deployment = &self.frame.deployment;
        let mut group = json!({
            "id": format!("/subscriptions/{}/resourceGroups/{}", deployment.subscription, deployment.resource_group),
            "name": deployment.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
        });
        if let Some(location) = &deployment.location {
            group.put("location", json!(location));
        }
        Evaluated::Known(group)
    }

    fn subscription(&self) -> Evaluated {
        let subscription = &self.frame.deployment.subscription;
        Evaluated::Known(json!({
            "id": format!("/subscriptions/{subscription}"),
            "subscriptionId": subscription,
            "tenantId": DEPLOYMENT_TENANT,
        }))
    }

    fn copy_index(&self, loop_name: Option<&str>) -> Option<i64> {
        match loop_name {
            None => self.frame.copy.last().map(|(_, i)| *i),
            Some(name) => self
                .frame
                .copy
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, i)| *i),
        }
    }

    fn reference(&self, target: &str, full: bool) -> Evaluated {
        let Some(declared) = self.find(target) else {
            return Evaluated::Unknown {
                reason: format!("`{target}` is not declared in the template: its properties exist only in Azure"),
                span: 0..0,
            };
        };
        let Some(properties) = self.follow(declared) else {
            return too_deep();
        };
        Evaluated::Known(if full {
            let location = declared
                .raw
                .text("location")
                .and_then(|l| self.eval(l).ok()?.known().cloned());
            json!({
                "id": declared.id,
                "name": declared.name,
                "type": declared.kind,
                "apiVersion": declared.api_version,
                "location": location,
                "properties": properties,
            })
        } else {
            properties
        })
    }

    fn subscription_id(&self) -> Evaluated {
        Evaluated::Known(json!(self.frame.deployment.subscription))
    }

    fn resource_group_name(&self) -> Evaluated {
        Evaluated::Known(json!(self.frame.deployment.resource_group))
    }

    fn deployment_time(&self) -> Option<DateTime<Utc>> {
        let shared = &self.frame.deployment.shared;
        shared.in_default.get().then_some(shared.now)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests stop at the first failure")]

    use super::*;

    fn placement() -> Placement {
        Placement {
            now: "2026-11-27T12:00:00Z".parse().unwrap(),
            ..Placement::default()
        }
    }

    #[test]
    fn the_deployment_time_is_known_only_in_a_parameters_default() {
        let template = json!({
            "parameters": {"stamp": {"type": "string", "defaultValue": "[variables('v')]"}},
            "variables": {"v": "x"}
        });
        let deployment = Deployment::root(&template, HashMap::new(), &placement());
        let frame = Frame::new(Rc::clone(&deployment));
        let env = Env {
            frame: &frame,
            world: &[],
        };
        assert_eq!(env.deployment_time(), None);
        let shared = &deployment.shared;
        shared.in_default.set(true);
        assert_eq!(env.deployment_time(), Some(placement().now));
        shared.in_default.set(false);
        // A default is evaluated with the flag set, and the flag is put back after it.
        assert_eq!(env.parameter("STAMP"), Some(Evaluated::Known(json!("x"))));
        assert_eq!(env.deployment_time(), None);
    }

    #[test]
    fn a_chain_of_variables_deeper_than_the_limit_is_a_fault_not_a_crash() {
        let mut variables = Map::new();
        variables.insert("v0".to_string(), json!("end"));
        for i in 1..2_500 {
            variables.insert(format!("v{i}"), json!(format!("[variables('v{}')]", i - 1)));
        }
        let template = json!({ "variables": variables });
        let deployment = Deployment::root(&template, HashMap::new(), &placement());
        let frame = Frame::new(Rc::clone(&deployment));
        let env = Env {
            frame: &frame,
            world: &[],
        };
        assert!(env.variable("v2499").unwrap().known().is_none());
        let fault = deployment.fault().unwrap();
        assert_eq!(fault.pointer, "/variables/v2435");
        assert!(fault.message.contains("more than 64"), "{}", fault.message);
        // Within the limit, a chain resolves.
        let deployment = Deployment::root(&template, HashMap::new(), &placement());
        let frame = Frame::new(Rc::clone(&deployment));
        let env = Env {
            frame: &frame,
            world: &[],
        };
        assert_eq!(env.variable("v60"), Some(Evaluated::Known(json!("end"))));
        assert!(deployment.fault().is_none());
    }
}
