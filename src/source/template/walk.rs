//! Walking a deployment template: its resources (top level, nested `resources`, symbolic names,
//! `copy` loops, nested deployments), each declared with the frame its expressions are
//! evaluated in.

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use super::deployment::{fold, given_value, Deployment, Env, Frame, Nested};
use super::expr::{self, Evaluated, ExprError};
use crate::azure::CLUSTER_TYPE;
use crate::document::escape;
use crate::document::json::{boolean, integer, Members as _};

/// ARM's limit on the iterations of one copy loop.
pub const MAX_COPY_COUNT: i64 = 800;

/// How deep nested `resources` and nested deployments may go in one another. ARM's own limits
/// (a child type has a few segments, a deployment nests a few times) are lower in practice; the
/// bound keeps the walk's recursion finite whatever the input.
pub const MAX_NESTING: usize = 32;

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

/// A cluster inside a copy loop whose count is known only at deployment: how many there are,
/// and so what they are, cannot be known.
#[derive(Debug, Clone)]
pub struct Hidden {
    /// The cluster's `name` as written.
    pub name: String,
    pub loop_name: String,
    /// JSON pointer of the loop's `count`.
    pub count_at: String,
    /// Why the count is not known.
    pub reason: String,
}

/// Everything the template declares, and what the walk had to say about it.
#[derive(Debug, Default)]
pub struct World {
    pub declared: Vec<Declaration>,
    pub hidden: Vec<Hidden>,
    pub notes: Vec<String>,
}

/// A template the walk cannot use.
#[derive(Debug, Clone)]
pub struct WalkError {
    pub message: String,
    /// JSON pointer of the value with the problem, and the span inside it when it is a string.
    pub pointer: String,
    pub span: Option<std::ops::Range<usize>>,
}

impl WalkError {
    fn at(pointer: &str, message: String) -> Self {
        Self {
            message,
            pointer: pointer.to_string(),
            span: None,
        }
    }
}

/// Walks every resource of the root template and of its nested deployments.
pub fn walk(template: &Value, root: Rc<Deployment>) -> Result<World, WalkError> {
    let mut world = World::default();
    walk_template(template, "", &Frame::new(root), None, &mut world, 0)?;
    Ok(world)
}

fn walk_template(
    template: &Value,
    pointer: &str,
    frame: &Frame,
    parent: Option<(&str, &str)>,
    world: &mut World,
    depth: usize,
) -> Result<(), WalkError> {
    let Some(resources) = template.member("resources") else {
        return Ok(());
    };
    if depth > MAX_NESTING {
        return Err(WalkError::at(
            &format!("{pointer}/resources"),
            format!("resources nest more than {MAX_NESTING} levels deep (nested `resources` and nested deployments), more than cmk-check follows"),
        ));
    }
    match resources {
        Value::Array(items) => {
            for (i, resource) in items.iter().enumerate() {
                let at = format!("{pointer}/resources/{i}");
                walk_resource(resource, &at, None, frame, parent, world, depth)?;
            }
        }
        // languageVersion 2.0: resources keyed by symbolic name.
        Value::Object(items) => {
            for (symbol, resource) in items {
                let at = format!("{pointer}/resources/{}", escape(symbol));
                walk_resource(resource, &at, Some(symbol), frame, parent, world, depth)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// What a copy loop's count is before deployment.
enum Count {
    Known(i64),
    Unknown(String),
}

fn walk_resource(
    resource: &Value,
    pointer: &str,
    symbol: Option<&str>,
    frame: &Frame,
    parent: Option<(&str, &str)>,
    world: &mut World,
    depth: usize,
) -> Result<(), WalkError> {
    // An `existing` resource (languageVersion 2.0) is only a reference, not a declaration.
    if resource.member("existing").and_then(boolean) == Some(true) {
        return Ok(());
    }
    let Some(copy) = resource.member("copy") else {
        return declare(
            resource,
            pointer,
            symbol,
            frame.clone(),
            parent,
            world,
            depth,
        );
    };
    let name = copy.text("name").unwrap_or("copy").to_string();
    let count_at = format!("{pointer}/copy/count");
    let count = match copy.member("count") {
        Some(count) => count_of(count, &name, &count_at, frame, world)?,
        None => {
            return Err(WalkError::at(
                &format!("{pointer}/copy"),
                format!("copy loop `{name}` has no `count`"),
            ))
        }
    };
    let count = match count {
        Count::Known(count) => count,
        Count::Unknown(reason) => {
            let before = world.hidden.len();
            hidden_clusters(resource, parent.map(|p| p.0), depth, &mut |cluster| {
                world.hidden.push(Hidden {
                    name: cluster.text("name").unwrap_or("(unnamed)").to_string(),
                    loop_name: name.clone(),
                    count_at: count_at.clone(),
                    reason: reason.clone(),
                });
            });
            if world.hidden.len() == before {
                world.notes.push(format!(
                    "the copy loop `{name}` at {pointer} has a count known only at deployment: its resources are not checked"
                ));
            }
            return Ok(());
        }
    };
    for index in 0..count {
        let mut inner = frame.clone();
        inner.copy.push((name.clone(), index));
        declare(resource, pointer, symbol, inner, parent, world, depth)?;
    }
    Ok(())
}

/// A copy loop's count: an integer from 0 to 800, as ARM requires, or known only at deployment.
fn count_of(
    count: &Value,
    name: &str,
    at: &str,
    frame: &Frame,
    world: &World,
) -> Result<Count, WalkError> {
    let value = match count {
        Value::String(raw) => match env(frame, world).eval(raw) {
            Ok(Evaluated::Known(value)) => value,
            Ok(Evaluated::Unknown { reason, .. }) => return Ok(Count::Unknown(reason)),
            Err(e) => return Err(expression_error(e, at)),
        },
        other => other.clone(),
    };
    let Some(count) = integer(&value) else {
        return Err(WalkError::at(
            at,
            format!("the count of copy loop `{name}` must be an integer, and is {value}"),
        ));
    };
    if !(0..=MAX_COPY_COUNT).contains(&count) {
        return Err(WalkError::at(
            at,
            format!("the count of copy loop `{name}` is {count}: ARM allows 0 to {MAX_COPY_COUNT}"),
        ));
    }
    Ok(Count::Known(count))
}

/// The clusters written inside `resource` (itself, its nested `resources`, an inline nested
/// template) that may use a customer-managed key: only those known to use service-managed
/// encryption are left out.
fn hidden_clusters(
    resource: &Value,
    parent_kind: Option<&str>,
    depth: usize,
    found: &mut dyn FnMut(&Value),
) {
    if depth > MAX_NESTING {
        return;
    }
    let own = resource.text("type").unwrap_or_default();
    let kind = match parent_kind {
        Some(parent) if !own.contains('/') => format!("{parent}/{own}"),
        _ => own.to_string(),
    };
    if kind.eq_ignore_ascii_case(CLUSTER_TYPE) && !service_managed(resource) {
        found(resource);
    }
    let mut children = |template: &Value, parent: Option<&str>| match template.member("resources") {
        Some(Value::Array(items)) => items
            .iter()
            .for_each(|r| hidden_clusters(r, parent, depth + 1, found)),
        Some(Value::Object(items)) => items
            .values()
            .for_each(|r| hidden_clusters(r, parent, depth + 1, found)),
        _ => {}
    };
    children(resource, Some(&kind));
    if let Some(template) = resource.at("/properties/template") {
        children(template, None);
    }
}

/// Whether a cluster as written is known not to use a customer-managed key: no
/// `dataEncryption`, or a literal `type` other than `AzureKeyVault`.
fn service_managed(cluster: &Value) -> bool {
    let Some(properties) = cluster.member("properties") else {
        return true;
    };
    let Some(properties) = properties.as_object() else {
        return false;
    };
    if properties.keys().any(|k| expr::is_expression(k)) {
        return false;
    }
    match cluster.at("/properties/dataEncryption") {
        None => true,
        Some(encryption) => encryption
            .text("type")
            .is_some_and(|t| !expr::is_expression(t) && !t.eq_ignore_ascii_case("AzureKeyVault")),
    }
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
    let Some(raw) = resource.text(field) else {
        return Ok(None);
    };
    match env(frame, world).eval(raw) {
        Ok(Evaluated::Known(Value::String(s))) => Ok(Some(s)),
        Ok(Evaluated::Known(other)) => Ok(Some(other.to_string())),
        Ok(Evaluated::Unknown { .. }) => Ok(Some(raw.to_string())),
        Err(e) => Err(expression_error(e, &format!("{pointer}/{field}"))),
    }
}

/// Whether a resource is deployed: its `condition`, when it is known.
fn deployed(
    resource: &Value,
    pointer: &str,
    frame: &Frame,
    world: &World,
) -> Result<bool, WalkError> {
    let Some(condition) = resource.member("condition") else {
        return Ok(true);
    };
    let at = format!("{pointer}/condition");
    let value = match condition {
        Value::String(raw) if expr::is_expression(raw) => match env(frame, world).eval(raw) {
            Ok(Evaluated::Known(value)) => value,
            Ok(Evaluated::Unknown { .. }) => return Ok(true),
            Err(e) => return Err(expression_error(e, &at)),
        },
        other => other.clone(),
    };
    match boolean(&value) {
        Some(deployed) => Ok(deployed),
        None => Err(WalkError::at(
            &at,
            format!("a resource's `condition` must be a boolean, and is {value}"),
        )),
    }
}

fn declare(
    resource: &Value,
    pointer: &str,
    symbol: Option<&str>,
    frame: Frame,
    parent: Option<(&str, &str)>,
    world: &mut World,
    depth: usize,
) -> Result<(), WalkError> {
    if !deployed(resource, pointer, &frame, world)? {
        return Ok(());
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
    let api_version = resource.text("apiVersion").unwrap_or_default().to_string();
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
    if declared.is(crate::azure::DEPLOYMENT_TYPE) {
        declared.inner = nested(resource, pointer, &frame, world, depth)?;
    }
    world.declared.push(declared);
    walk_template(
        resource,
        pointer,
        &frame,
        Some((&kind, &name)),
        world,
        depth + 1,
    )?;
    Ok(())
}

/// A nested deployment: inner scope gets a deployment of its own; outer scope (the default)
/// evaluates the nested template's expressions in the parent's.
fn nested(
    resource: &Value,
    pointer: &str,
    frame: &Frame,
    world: &mut World,
    depth: usize,
) -> Result<Option<Rc<Deployment>>, WalkError> {
    let properties = resource
        .member("properties")
        .cloned()
        .unwrap_or(Value::Null);
    let Some(template) = properties.member("template") else {
        if properties.member("templateLink").is_some() {
            world.notes.push(format!(
                "the nested deployment at {pointer} links to a template by URI: cmk-check does not fetch it"
            ));
        }
        return Ok(None);
    };
    let at = format!("{pointer}/properties/template");
    let inner_scope = properties
        .at("/expressionEvaluationOptions/scope")
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
    if !inner_scope {
        walk_template(template, &at, frame, None, world, depth + 1)?;
        return Ok(None);
    }
    let outer = env(frame, world);
    let mut given = HashMap::new();
    for (name, entry) in properties
        .member("parameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let value = match entry.member("value") {
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
            None => given_value(name, entry),
        };
        given.insert(fold(name), value);
    }
    let placement_text = |field: &str| {
        resource
            .text(field)
            .and_then(|raw| outer.eval(raw).ok()?.known()?.as_str().map(str::to_string))
    };
    let parent = &frame.deployment;
    let subscription =
        placement_text("subscriptionId").unwrap_or_else(|| parent.subscription.clone());
    let resource_group =
        placement_text("resourceGroup").unwrap_or_else(|| parent.resource_group.clone());
    let same_group = resource_group.eq_ignore_ascii_case(&parent.resource_group);
    let location = if same_group {
        parent.location.clone()
    } else {
        None
    };
    let deployment = parent.nested(
        template,
        Nested {
            pointer: at.clone(),
            given,
            subscription,
            resource_group,
            location,
        },
    );
    walk_template(
        template,
        &at,
        &Frame::new(Rc::clone(&deployment)),
        None,
        world,
        depth + 1,
    )?;
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
