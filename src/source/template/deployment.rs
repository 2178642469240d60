//! Walking a deployment template: its parameters and variables, its resources (top level,
//! nested `resources`, symbolic names, `copy` loops, nested deployments) and the scope in which
//! each resource's expressions are evaluated.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::{json, Map, Value};

use super::expr::{self, Evaluated, ExprError, Scope};
use crate::azure::id as arm;
use crate::document::escape;

/// Stand-ins for values that exist only once the deployment runs. They compare equal to
/// themselves, so that `reference(identity).principalId` in an access policy matches the identity
/// it names, and never to a literal GUID.
pub const DEPLOYMENT_TENANT: &str = "<tenant of the deployment>";
pub const UNKNOWN_SUBSCRIPTION: &str = "<subscription>";
pub const UNKNOWN_RESOURCE_GROUP: &str = "<resource-group>";

pub fn principal_of(identity: &str) -> String {
    format!("<principal ID of identity {identity}>")
}

pub fn client_of(identity: &str) -> String {
    format!("<client ID of identity {identity}>")
}

/// What the command line says about where and when the deployment goes.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    pub location: Option<String>,
    /// The cloud deployed to: its vault DNS suffix names the vaults the template declares.
    pub cloud: crate::azure::cloud::CloudName,
    /// The deployment's instant (`--now`): what `utcNow()` gives.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// A parameter's value: given (parameters file, or a nested deployment's `parameters`), the
/// template's default, or none.
#[derive(Debug, Clone)]
enum Parameter {
    Given(Evaluated),
    Default(Value),
    Missing,
}

/// One template being deployed: the root, or a nested deployment with inner scope.
#[derive(Debug)]
pub struct Deployment {
    parameters: HashMap<String, Parameter>,
    variables: HashMap<String, Value>,
    outputs: Map<String, Value>,
    cache: RefCell<HashMap<String, Evaluated>>,
    resolving: RefCell<HashSet<String>>,
    subscription: String,
    resource_group: String,
    location: Option<String>,
}

/// Where an expression is evaluated: a deployment, inside zero or more copy loops.
#[derive(Debug, Clone)]
pub struct Frame {
    pub deployment: Rc<Deployment>,
    pub copy: Vec<(String, i64)>,
}

/// A resource the template declares (one per copy-loop iteration).
#[derive(Debug, Clone)]
pub struct Declaration {
    /// Full type: `Microsoft.KeyVault/vaults/keys`.
    pub kind: String,
    /// Full name: `kv-prod/cmk`.
    pub name: String,
    pub id: String,
    pub symbol: Option<String>,
    /// JSON pointer of the resource object in the file.
    pub pointer: String,
    pub api_version: String,
    pub raw: Value,
    pub frame: Frame,
    /// A nested deployment's own template, for `reference(deployment).outputs`.
    pub inner: Option<Rc<Deployment>>,
}

impl Declaration {
    pub fn is(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }

    /// The last segment of the name: `cmk` of `kv-prod/cmk`.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

/// Everything the template declares, and what the walk had to say about it.
#[derive(Debug, Default)]
pub struct World {
    pub declared: Vec<Declaration>,
    pub notes: Vec<String>,
}

/// A template the walk cannot use.
#[derive(Debug)]
pub struct WalkError {
    pub message: String,
    /// JSON pointer of the string with the problem, and the span inside it.
    pub pointer: String,
    pub span: Option<std::ops::Range<usize>>,
}

impl Deployment {
    pub fn root(template: &Value, given: &Map<String, Value>, placement: &Placement) -> Rc<Self> {
        let given = given
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), given_value(value)))
            .collect();
        Self::new(
            template,
            given,
            placement
                .subscription
                .clone()
                .unwrap_or_else(|| UNKNOWN_SUBSCRIPTION.to_string()),
            placement
                .resource_group
                .clone()
                .unwrap_or_else(|| UNKNOWN_RESOURCE_GROUP.to_string()),
            placement.location.clone(),
        )
    }

    fn new(
        template: &Value,
        mut given: HashMap<String, Evaluated>,
        subscription: String,
        resource_group: String,
        location: Option<String>,
    ) -> Rc<Self> {
        let mut parameters = HashMap::new();
        for (name, declaration) in template
            .get("parameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let key = name.to_ascii_lowercase();
            let value = match (given.remove(&key), declaration.get("defaultValue")) {
                (Some(value), _) => Parameter::Given(value),
                (None, Some(default)) => Parameter::Default(default.clone()),
                (None, None) => Parameter::Missing,
            };
            parameters.insert(key, value);
        }
        let variables = template
            .get("variables")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect();
        Rc::new(Self {
            parameters,
            variables,
            outputs: template
                .get("outputs")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            cache: RefCell::new(HashMap::new()),
            resolving: RefCell::new(HashSet::new()),
            subscription,
            resource_group,
            location,
        })
    }
}

/// A parameters-file entry: `{"value": ...}`, or a Key Vault reference (a secret: unknown here).
fn given_value(entry: &Value) -> Evaluated {
    match entry.get("value") {
        Some(value) => Evaluated::Known(value.clone()),
        None => Evaluated::Unknown {
            reason: "the parameter's value is a Key Vault reference, read only at deployment"
                .to_string(),
            span: 0..0,
        },
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

    fn lazily(&self, key: &str, raw: &Value) -> Evaluated {
        let deployment = &self.frame.deployment;
        if let Some(done) = deployment.cache.borrow().get(key) {
            return done.clone();
        }
        if !deployment.resolving.borrow_mut().insert(key.to_string()) {
            return Evaluated::Unknown {
                reason: format!("`{key}` refers to itself"),
                span: 0..0,
            };
        }
        let value = match expr::evaluate_value(raw, self) {
            Ok((value, _)) => value,
            Err((e, _)) => Evaluated::Unknown {
                reason: format!("`{key}` does not evaluate: {e}"),
                span: 0..0,
            },
        };
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
                || (d.is("Microsoft.Resources/deployments") && d.name.eq_ignore_ascii_case(target))
        })
    }

    /// A declared resource's `properties`, evaluated as far as they can be.
    fn properties_of(&self, declared: &Declaration) -> Value {
        let env = Env {
            frame: &declared.frame,
            world: self.world,
        };
        let raw = declared
            .raw
            .get("properties")
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
        let key = name.to_ascii_lowercase();
        match self.frame.deployment.parameters.get(&key)? {
            Parameter::Given(value) => Some(value.clone()),
            Parameter::Default(raw) => Some(self.lazily(&format!("parameter {name}"), raw)),
            Parameter::Missing => Some(Evaluated::Unknown {
                reason: format!("parameter `{name}` has no value: give it with `--parameters`"),
                span: 0..0,
            }),
        }
    }

    fn variable(&self, name: &str) -> Option<Evaluated> {
        let key = name.to_ascii_lowercase();
        let raw = self.frame.deployment.variables.get(&key)?;
        Some(self.lazily(&format!("variable {name}"), raw))
    }

    fn resource_group(&self) -> Evaluated {
        let deployment = &self.frame.deployment;
        let mut group = json!({
            "id": format!("/subscriptions/{}/resourceGroups/{}", deployment.subscription, deployment.resource_group),
            "name": deployment.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
        });
        if let Some(location) = &deployment.location {
            group["location"] = json!(location);
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
        let properties = runtime_properties(self, declared);
        Evaluated::Known(if full {
            json!({
                "id": declared.id,
                "name": declared.name,
                "type": declared.kind,
                "apiVersion": declared.api_version,
                "location": declared.raw.get("location").and_then(Value::as_str).and_then(|l| self.eval(l).ok()?.known().cloned()),
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
}

/// What `reference()` gives for a resource the template declares: its properties, plus what
/// Azure adds at creation, as stand-ins when the value is assigned then.
fn runtime_properties(env: &Env<'_>, declared: &Declaration) -> Value {
    let kind = declared.kind.to_ascii_lowercase();
    match kind.as_str() {
        "microsoft.managedidentity/userassignedidentities" => json!({
            "principalId": principal_of(declared.short_name()),
            "clientId": client_of(declared.short_name()),
            "tenantId": DEPLOYMENT_TENANT,
        }),
        "microsoft.keyvault/vaults/keys" => {
            let mut properties = env.properties_of(declared);
            let vault = declared.name.split('/').next().unwrap_or_default();
            // The version is assigned at creation; the versionless URI names the same key.
            let uri = format!(
                "https://{vault}.vault.azure.net/keys/{}",
                declared.short_name()
            );
            properties["keyUri"] = json!(uri);
            properties["keyUriWithVersion"] = json!(uri);
            properties
        }
        "microsoft.keyvault/vaults" => {
            let mut properties = env.properties_of(declared);
            properties["vaultUri"] = json!(format!(
                "https://{}.vault.azure.net/",
                declared.short_name()
            ));
            properties
        }
        "microsoft.resources/deployments" => {
            let Some(inner) = &declared.inner else {
                return Value::Null;
            };
            let frame = Frame {
                deployment: Rc::clone(inner),
                copy: Vec::new(),
            };
            let inner_env = Env {
                frame: &frame,
                world: env.world,
            };
            let outputs: Map<String, Value> = inner
                .outputs
                .iter()
                .filter_map(|(name, output)| {
                    let raw = output.get("value")?;
                    let value = match expr::evaluate_value(raw, &inner_env) {
                        Ok((Evaluated::Known(value), _)) => value,
                        _ => return None,
                    };
                    Some((
                        name.clone(),
                        json!({ "type": output.get("type"), "value": value }),
                    ))
                })
                .collect();
            json!({ "outputs": outputs })
        }
        _ => env.properties_of(declared),
    }
}

/// Walks every resource of the root template and of its nested deployments.
pub fn walk(template: &Value, root: Rc<Deployment>) -> Result<World, WalkError> {
    let mut world = World::default();
    let frame = Frame {
        deployment: root,
        copy: Vec::new(),
    };
    walk_template(template, "", &frame, None, &mut world)?;
    Ok(world)
}

fn walk_template(
    template: &Value,
    pointer: &str,
    frame: &Frame,
    parent: Option<(&str, &str)>,
    world: &mut World,
) -> Result<(), WalkError> {
    match template.get("resources") {
        Some(Value::Array(items)) => {
            for (i, resource) in items.iter().enumerate() {
                walk_resource(
                    resource,
                    &format!("{pointer}/resources/{i}"),
                    None,
                    frame,
                    parent,
                    world,
                )?;
            }
        }
        // languageVersion 2.0: resources keyed by symbolic name.
        Some(Value::Object(items)) => {
            for (symbol, resource) in items {
                let at = format!("{pointer}/resources/{}", escape(symbol));
                walk_resource(resource, &at, Some(symbol), frame, parent, world)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn walk_resource(
    resource: &Value,
    pointer: &str,
    symbol: Option<&str>,
    frame: &Frame,
    parent: Option<(&str, &str)>,
    world: &mut World,
) -> Result<(), WalkError> {
    // An `existing` resource (languageVersion 2.0) is only a reference, not a declaration.
    if resource.get("existing").and_then(Value::as_bool) == Some(true) {
        return Ok(());
    }
    let Some(copy) = resource.get("copy") else {
        return declare(resource, pointer, symbol, frame.clone(), parent, world);
    };
    let name = copy
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("copy")
        .to_string();
    let count = match copy.get("count") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(raw)) => match env(frame, world).eval(raw) {
            Ok(Evaluated::Known(Value::Number(n))) => n.as_i64(),
            Ok(_) => None,
            Err(e) => return Err(expression_error(e, &format!("{pointer}/copy/count"))),
        },
        _ => None,
    };
    let Some(count) = count.filter(|c| (0..=800).contains(c)) else {
        world.notes.push(format!(
            "the copy loop `{name}` at {pointer} has a count known only at deployment: its resources are not checked"
        ));
        return Ok(());
    };
    for index in 0..count {
        let mut inner = frame.clone();
        inner.copy.push((name.clone(), index));
        declare(resource, pointer, symbol, inner, parent, world)?;
    }
    Ok(())
}

fn env<'a>(frame: &'a Frame, world: &'a World) -> Env<'a> {
    Env {
        frame,
        world: &world.declared,
    }
}

fn expression_error(e: ExprError, pointer: &str) -> WalkError {
    WalkError {
        message: e.message,
        pointer: pointer.to_string(),
        span: Some(e.span),
    }
}

/// A string property of a resource, evaluated; its raw text when it cannot be known.
fn text(
    resource: &Value,
    field: &str,
    pointer: &str,
    frame: &Frame,
    world: &World,
) -> Result<Option<String>, WalkError> {
    let Some(raw) = resource.get(field).and_then(Value::as_str) else {
        return Ok(None);
    };
    match env(frame, world).eval(raw) {
        Ok(Evaluated::Known(Value::String(s))) => Ok(Some(s)),
        Ok(Evaluated::Known(other)) => Ok(Some(other.to_string())),
        Ok(Evaluated::Unknown { .. }) => Ok(Some(raw.to_string())),
        Err(e) => Err(expression_error(e, &format!("{pointer}/{field}"))),
    }
}

fn declare(
    resource: &Value,
    pointer: &str,
    symbol: Option<&str>,
    frame: Frame,
    parent: Option<(&str, &str)>,
    world: &mut World,
) -> Result<(), WalkError> {
    if let Some(condition) = resource.get("condition") {
        let known = match condition {
            Value::Bool(b) => Some(*b),
            Value::String(raw) => match env(&frame, world).eval(raw) {
                Ok(Evaluated::Known(Value::Bool(b))) => Some(b),
                Ok(_) => None,
                Err(e) => return Err(expression_error(e, &format!("{pointer}/condition"))),
            },
            _ => None,
        };
        if known == Some(false) {
            return Ok(());
        }
    }
    let own_kind = text(resource, "type", pointer, &frame, world)?.unwrap_or_default();
    let own_name = text(resource, "name", pointer, &frame, world)?.unwrap_or_default();
    // A child inside its parent's `resources` names itself relative to the parent.
    let (kind, name) = match parent {
        Some((parent_kind, parent_name)) if !own_kind.contains('/') => (
            format!("{parent_kind}/{own_kind}"),
            format!("{parent_name}/{own_name}"),
        ),
        _ => (own_kind, own_name),
    };
    let api_version = resource
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let id = resource_id(&frame, &kind, &name);
    let mut declared = Declaration {
        kind: kind.clone(),
        name: name.clone(),
        id,
        symbol: symbol.map(str::to_string),
        pointer: pointer.to_string(),
        api_version,
        raw: resource.clone(),
        frame: frame.clone(),
        inner: None,
    };
    if declared.is("Microsoft.Resources/deployments") {
        declared.inner = nested(resource, pointer, &frame, world)?;
    }
    world.declared.push(declared);
    walk_template(resource, pointer, &frame, Some((&kind, &name)), world)?;
    Ok(())
}

/// A nested deployment: inner scope gets a deployment of its own; outer scope (the default)
/// evaluates the nested template's expressions in the parent's.
fn nested(
    resource: &Value,
    pointer: &str,
    frame: &Frame,
    world: &mut World,
) -> Result<Option<Rc<Deployment>>, WalkError> {
    let properties = resource.get("properties").cloned().unwrap_or(Value::Null);
    let Some(template) = properties.get("template") else {
        if properties.get("templateLink").is_some() {
            world.notes.push(format!(
                "the nested deployment at {pointer} links to a template by URI: cmk-check does not fetch it"
            ));
        }
        return Ok(None);
    };
    let at = format!("{pointer}/properties/template");
    let inner_scope = properties
        .pointer("/expressionEvaluationOptions/scope")
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
    if !inner_scope {
        walk_template(template, &at, frame, None, world)?;
        return Ok(None);
    }
    let outer = env(frame, world);
    let mut given = HashMap::new();
    for (name, entry) in properties
        .get("parameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let value = match entry.get("value") {
            Some(raw) => match expr::evaluate_value(raw, &outer) {
                Ok((value, _)) => value,
                Err((e, inner)) => {
                    return Err(expression_error(
                        e,
                        &format!(
                            "{pointer}/properties/parameters/{}/value{inner}",
                            escape(name)
                        ),
                    ))
                }
            },
            None => given_value(entry),
        };
        given.insert(name.to_ascii_lowercase(), value);
    }
    let placement_text = |field: &str| {
        resource
            .get(field)
            .and_then(Value::as_str)
            .and_then(|raw| outer.eval(raw).ok()?.known()?.as_str().map(str::to_string))
    };
    let subscription =
        placement_text("subscriptionId").unwrap_or_else(|| frame.deployment.subscription.clone());
    let resource_group =
        placement_text("resourceGroup").unwrap_or_else(|| frame.deployment.resource_group.clone());
    let same_group = resource_group.eq_ignore_ascii_case(&frame.deployment.resource_group);
    let location = if same_group {
        frame.deployment.location.clone()
    } else {
        None
    };
    let deployment = Deployment::new(template, given, subscription, resource_group, location);
    let inner_frame = Frame {
        deployment: Rc::clone(&deployment),
        copy: Vec::new(),
    };
    walk_template(template, &at, &inner_frame, None, world)?;
    Ok(Some(deployment))
}

/// `/subscriptions/{s}/resourceGroups/{g}/providers/{namespace}/{type}/{name}[/{type}/{name}]...`
pub fn resource_id(frame: &Frame, kind: &str, name: &str) -> String {
    let mut types = kind.split('/');
    let namespace = types.next().unwrap_or_default();
    let mut path = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/{namespace}",
        frame.deployment.subscription, frame.deployment.resource_group
    );
    for (kind, name) in types.zip(name.split('/')) {
        path.push_str(&format!("/{kind}/{name}"));
    }
    path
}
