//! A plan's JSON as an index: each resource instance of `planned_values` (and the data sources
//! of `prior_state`) with its change and its configuration, and the references between them,
//! followed through module variables and outputs.

use std::collections::HashMap;

use serde_json::Value;

use crate::document::escape;

/// How many references through module variables and outputs are followed inside one another: a
/// real configuration nests a few modules, and a cycle must end.
const MAX_HOPS: usize = 32;

/// One resource instance of the plan.
#[derive(Debug)]
pub(super) struct Instance<'p> {
    /// `module.db.azurerm_key_vault.cmk`, `azurerm_key_vault.cmk[0]`.
    pub address: String,
    /// The module instance: `module.db`, `module.db["a"]`, empty at the root.
    pub module: String,
    pub data: bool,
    pub kind: String,
    /// `[0]` or `["a"]` when the resource has `count` or `for_each`.
    pub index: Option<String>,
    pub values: &'p Value,
    /// JSON pointer of `values` in the plan.
    pub pointer: String,
    pub change: Option<Change<'p>>,
    /// `azurerm_key_vault.cmk` or `data.azurerm_key_vault.cmk`: the address inside its module.
    local: String,
    /// The module without its instance keys, as the configuration names it.
    config: String,
    /// The instance's configuration and its JSON pointer.
    configuration: Option<(&'p Value, String)>,
    /// An azapi resource's ARM type without its API version, lower-cased.
    pub azapi_type: Option<String>,
}

/// What `resource_changes` says of an instance.
#[derive(Debug)]
pub(super) struct Change<'p> {
    pub actions: Vec<String>,
    /// `true` at each leaf known only after apply.
    pub after_unknown: &'p Value,
    /// JSON pointer of `after_unknown` in the plan.
    pub pointer: String,
}

impl Instance<'_> {
    /// `azurerm_key_vault.cmk` or `data.azurerm_key_vault.cmk`: the address inside its module.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// Whether the resource is created by this plan, not read or kept.
    pub fn created(&self) -> bool {
        !self.data
            && self
                .change
                .as_ref()
                .is_some_and(|c| c.actions.iter().any(|a| a == "create"))
    }

    /// Whether the plan only deletes it.
    pub fn deleted(&self) -> bool {
        self.change.as_ref().is_some_and(|c| {
            c.actions.iter().any(|a| a == "delete") && !c.actions.iter().any(|a| a == "create")
        })
    }
}

/// A resource a reference names: in which module instance, its local address, and the
/// attribute read (`versionless_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub module: String,
    pub local: String,
    pub index: Option<String>,
    pub attribute: Option<String>,
}

#[derive(Debug)]
struct ModuleConfig<'p> {
    module: &'p Value,
    /// The `module_calls` entry that calls it, with the expressions of its variables.
    call: Option<&'p Value>,
    /// JSON pointer of `module` in the plan.
    pointer: String,
}

#[derive(Debug)]
pub(super) struct Index<'p> {
    pub instances: Vec<Instance<'p>>,
    /// By configuration path (`module.db`, empty at the root).
    modules: HashMap<String, ModuleConfig<'p>>,
    /// The instances of each configuration path and local address, for references.
    by_local: HashMap<(String, String), Vec<usize>>,
    seen: std::collections::HashSet<String>,
}

/// `module.db[0].module.x["a"]` without its instance keys: `module.db.module.x`.
pub(super) fn config_path(module: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in module.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn join(module: &str, local: &str) -> String {
    if module.is_empty() {
        local.to_string()
    } else {
        format!("{module}.{local}")
    }
}

/// The parent module instance and the name of the call, of a module instance.
fn split_module(module: &str) -> Option<(String, String)> {
    let at = module.rfind("module.")?;
    let parent = module[..at].trim_end_matches('.').to_string();
    let call = &module[at + "module.".len()..];
    let name = call.split('[').next().unwrap_or(call).to_string();
    Some((parent, name))
}

impl<'p> Index<'p> {
    pub fn new(plan: &'p Value) -> Self {
        let mut index = Index {
            instances: Vec::new(),
            modules: HashMap::new(),
            by_local: HashMap::new(),
            seen: std::collections::HashSet::new(),
        };
        if let Some(root) = plan.pointer("/planned_values/root_module") {
            index.values(root, "/planned_values/root_module".to_string(), 0);
        }
        // Data sources read while planning are kept in the prior state.
        if let Some(root) = plan.pointer("/prior_state/values/root_module") {
            index.values(root, "/prior_state/values/root_module".to_string(), 0);
        }
        let by_address: HashMap<String, usize> = index
            .instances
            .iter()
            .enumerate()
            .map(|(i, r)| (r.address.clone(), i))
            .collect();
        let changes = plan.get("resource_changes").and_then(Value::as_array);
        for (i, change) in changes.into_iter().flatten().enumerate() {
            let address = change.get("address").and_then(Value::as_str);
            let Some(instance) = address
                .and_then(|a| by_address.get(a))
                .and_then(|at| index.instances.get_mut(*at))
            else {
                continue;
            };
            let actions = change
                .pointer("/change/actions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            instance.change = change
                .pointer("/change/after_unknown")
                .map(|after_unknown| Change {
                    actions,
                    after_unknown,
                    pointer: format!("/resource_changes/{i}/change/after_unknown"),
                });
        }
        if let Some(root) = plan.pointer("/configuration/root_module") {
            index.config(
                root,
                String::new(),
                None,
                "/configuration/root_module".into(),
                0,
            );
        }
        for i in 0..index.instances.len() {
            let configuration = index.find_configuration(&index.instances[i]);
            let instance = &mut index.instances[i];
            instance.configuration = configuration;
            index
                .by_local
                .entry((instance.config.clone(), instance.local.clone()))
                .or_default()
                .push(i);
        }
        index
    }

    fn values(&mut self, module: &'p Value, pointer: String, depth: usize) {
        if depth > MAX_HOPS {
            return;
        }
        let address = module.get("address").and_then(Value::as_str).unwrap_or("");
        let resources = module.get("resources").and_then(Value::as_array);
        for (i, resource) in resources.into_iter().flatten().enumerate() {
            let text = |name: &str| resource.get(name).and_then(Value::as_str).unwrap_or("");
            let full = text("address").to_string();
            // Data sources are in both `planned_values` and `prior_state`: the first stands.
            if full.is_empty() || !self.seen.insert(full.clone()) {
                continue;
            }
            let data = text("mode") == "data";
            let local = if data {
                format!("data.{}.{}", text("type"), text("name"))
            } else {
                format!("{}.{}", text("type"), text("name"))
            };
            let index = resource.get("index").map(|i| match i {
                Value::String(s) => format!("[{}]", Value::String(s.clone())),
                other => format!("[{other}]"),
            });
            self.instances.push(Instance {
                address: full,
                module: address.to_string(),
                data,
                kind: text("type").to_string(),
                index,
                values: resource.get("values").unwrap_or(&Value::Null),
                pointer: format!("{pointer}/resources/{i}/values"),
                change: None,
                local,
                config: config_path(address),
                configuration: None,
                azapi_type: resource
                    .pointer("/values/type")
                    .and_then(Value::as_str)
                    .filter(|_| text("type").starts_with("azapi_"))
                    .map(|t| t.split('@').next().unwrap_or_default().to_ascii_lowercase()),
            });
        }
        let children = module.get("child_modules").and_then(Value::as_array);
        for (i, child) in children.into_iter().flatten().enumerate() {
            self.values(child, format!("{pointer}/child_modules/{i}"), depth + 1);
        }
    }

    fn config(
        &mut self,
        module: &'p Value,
        path: String,
        call: Option<&'p Value>,
        pointer: String,
        depth: usize,
    ) {
        if depth > MAX_HOPS {
            return;
        }
        if let Some(calls) = module.get("module_calls").and_then(Value::as_object) {
            for (name, call) in calls {
                if let Some(child) = call.get("module") {
                    self.config(
                        child,
                        join(&path, &format!("module.{name}")),
                        Some(call),
                        format!("{pointer}/module_calls/{}/module", escape(name)),
                        depth + 1,
                    );
                }
            }
        }
        self.modules.insert(
            path,
            ModuleConfig {
                module,
                call,
                pointer,
            },
        );
    }

    /// The configuration of an instance, and its JSON pointer.
    pub fn configuration(&self, instance: &Instance<'p>) -> Option<(&'p Value, String)> {
        instance.configuration.clone()
    }

    fn find_configuration(&self, instance: &Instance<'_>) -> Option<(&'p Value, String)> {
        let module = self.modules.get(&instance.config)?;
        let local = instance.local();
        let resources = module.module.get("resources")?.as_array()?;
        let (i, found) = resources
            .iter()
            .enumerate()
            .find(|(_, r)| r.get("address").and_then(Value::as_str) == Some(local))?;
        Some((found, format!("{}/resources/{i}", module.pointer)))
    }

    /// The source directory of a module instance's call, as written (`./modules/db`), from the
    /// root down.
    pub fn sources(&self, module: &str) -> Vec<String> {
        let mut sources = Vec::new();
        let mut current = module.to_string();
        while let Some((parent, _)) = split_module(&current) {
            let call = self
                .modules
                .get(&config_path(&current))
                .and_then(|m| m.call);
            let source = call
                .and_then(|c| c.get("source"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            sources.push(source.to_string());
            current = parent;
        }
        sources.reverse();
        sources
    }

    /// The references written in the expression at `path` of the instance's configuration
    /// (`["access_policy", "0", "object_id"]`), resolved to the resources they name.
    pub fn references(&self, instance: &Instance<'p>, path: &[&str]) -> Vec<Target> {
        let Some((config, _)) = self.configuration(instance) else {
            return Vec::new();
        };
        let mut expression = config.get("expressions");
        for step in path {
            let next = match expression {
                Some(Value::Array(items)) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
                Some(value) => value.get(*step),
                None => None,
            };
            // Below an attribute, its value is one expression: its references are the leaf's.
            if next.is_none() {
                break;
            }
            expression = next;
        }
        let mut found = Vec::new();
        for reference in written(expression) {
            self.resolve(&instance.module, &reference, 0, &mut found);
        }
        dedup(found)
    }

    fn resolve(&self, module: &str, reference: &str, hops: usize, found: &mut Vec<Target>) {
        if hops > MAX_HOPS {
            return;
        }
        let parts = steps(reference);
        match parts.first().map(|(name, _)| name.as_str()) {
            Some("var") => {
                let (Some((variable, _)), Some((parent, _))) = (parts.get(1), split_module(module))
                else {
                    return;
                };
                let call = self.modules.get(&config_path(module)).and_then(|m| m.call);
                let expression = call
                    .and_then(|c| c.get("expressions"))
                    .and_then(|e| e.get(variable));
                for inner in written(expression) {
                    self.resolve(&parent, &inner, hops + 1, found);
                }
            }
            Some("module") => {
                let (Some((call, key)), Some((output, _))) = (parts.get(1), parts.get(2)) else {
                    return;
                };
                let child = join(
                    module,
                    &format!("module.{call}{}", key.as_deref().unwrap_or("")),
                );
                let expression = self
                    .modules
                    .get(&config_path(&child))
                    .and_then(|m| m.module.get("outputs"))
                    .and_then(|o| o.get(output))
                    .and_then(|o| o.get("expression"));
                for inner in written(expression) {
                    self.resolve(&child, &inner, hops + 1, found);
                }
            }
            Some("data") => {
                if let (Some((kind, _)), Some((name, index))) = (parts.get(1), parts.get(2)) {
                    found.push(Target {
                        module: module.to_string(),
                        local: format!("data.{kind}.{name}"),
                        index: index.clone(),
                        attribute: parts.get(3).map(|(a, _)| a.clone()),
                    });
                }
            }
            Some("local" | "count" | "each" | "path" | "terraform" | "self") | None => {}
            Some(kind) => {
                if let Some((name, index)) = parts.get(1) {
                    found.push(Target {
                        module: module.to_string(),
                        local: format!("{kind}.{name}"),
                        index: index.clone(),
                        attribute: parts.get(2).map(|(a, _)| a.clone()),
                    });
                }
            }
        }
    }

    /// The instances a target names: the one of its index, or the only one.
    pub fn find(&self, target: &Target) -> Option<&Instance<'p>> {
        let key = (config_path(&target.module), target.local.clone());
        let all = self.by_local.get(&key).map_or(&[][..], Vec::as_slice);
        // The instance of the same module instance, or of any when its module has one.
        let same: Vec<&Instance<'p>> = all
            .iter()
            .filter_map(|i| self.instances.get(*i))
            .filter(|i| i.module == target.module)
            .collect();
        let candidates: Vec<&Instance<'p>> = if same.is_empty() {
            all.iter().filter_map(|i| self.instances.get(*i)).collect()
        } else {
            same
        };
        match &target.index {
            Some(index) => candidates
                .into_iter()
                .find(|i| i.index.as_deref() == Some(index.as_str())),
            None if candidates.len() == 1 => candidates.into_iter().next(),
            None => candidates.into_iter().find(|i| i.index.is_none()),
        }
    }
}

/// The references of an expression as Terraform writes them (`references`).
fn written(expression: Option<&Value>) -> Vec<String> {
    expression
        .and_then(|e| e.get("references"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The names of a reference and the instance key after each: `a.b[0].c` is `a`, `b[0]`, `c`.
fn steps(reference: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut rest = reference;
    while !rest.is_empty() {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = rest[..end].to_string();
        rest = &rest[end..];
        let mut key = None;
        if rest.starts_with('[') {
            let close = rest.find(']').map_or(rest.len(), |c| c + 1);
            key = Some(rest[..close].to_string());
            rest = &rest[close..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
        out.push((name, key));
    }
    out
}

/// Terraform lists `a.b.id` and `a.b` both: the bare one says nothing more.
fn dedup(found: Vec<Target>) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    for target in &found {
        let named = target.attribute.is_none()
            && found.iter().any(|t| {
                t.local == target.local && t.module == target.module && t.attribute.is_some()
            });
        if !named && !out.contains(target) {
            out.push(target.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_names_and_keys() {
        assert_eq!(
            steps("azurerm_key_vault.kv[0].id"),
            [
                ("azurerm_key_vault".to_string(), None),
                ("kv".to_string(), Some("[0]".to_string())),
                ("id".to_string(), None)
            ]
        );
        assert_eq!(
            config_path("module.a[\"x\"].module.b[1]"),
            "module.a.module.b"
        );
        assert_eq!(
            split_module("module.a.module.b[1]"),
            Some(("module.a".to_string(), "b".to_string()))
        );
        assert_eq!(split_module(""), None);
    }
}
