//! An `azapi_resource`'s `body` (an object in azapi 2.x, a JSON string in 1.x) as the ARM body
//! it is, each leaf known only after apply given by what it references.

use serde_json::Value;

use super::resources::same;
use super::shaped::{Shaped, Spot};
use super::values::{Builder, Expect, Leaf};

/// What an unknown leaf of an ARM body stands for, by its name.
fn expect_of(name: &str) -> Expect {
    let lower = name.to_ascii_lowercase();
    if lower.contains("keyuri") {
        Expect::KeyUri
    } else if lower == "objectid" || lower == "principalid" {
        Expect::Principal
    } else if lower == "tenantid" {
        Expect::Tenant
    } else if lower.ends_with("id") || lower.ends_with("ids") || lower == "scopes" {
        Expect::Id
    } else {
        Expect::Any
    }
}

impl<'p> Builder<'p> {
    /// An azapi resource's `body` (an object in azapi 2.x, a JSON string in 1.x) merged into
    /// the ARM body; each leaf known only after apply is given by what it references, or is
    /// an unknown.
    pub(super) fn azapi_body(&self, shaped: &mut Shaped<'_, 'p>) {
        let instance = shaped.instance;
        shaped.map("/location", &["location"], Expect::Any, same, None);
        let (body, string) = match self.leaf(instance, &["body"], Expect::Any) {
            Leaf::Known(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
                Ok(parsed) => (parsed, true),
                Err(e) => {
                    let mut unknown = self.unknown(instance, &shaped.id, "/properties", &["body"]);
                    unknown.reason =
                        format!("the `body` of `{}` is not JSON: {e}", instance.address);
                    unknown.label = "not JSON".to_string();
                    unknown.help = "write the body with `jsonencode()`".to_string();
                    shaped.unknown.push(unknown);
                    return;
                }
            },
            Leaf::Known(body) => (body, false),
            Leaf::Absent => return,
            Leaf::Unknown => {
                let unknown = self.unknown(instance, &shaped.id, "/properties", &["body"]);
                shaped.unknown.push(unknown);
                return;
            }
        };
        let Value::Object(members) = body else {
            return;
        };
        for (name, value) in &members {
            let pointer = format!("/{name}");
            if string {
                // Inside a string the label can only be on the whole string.
                let spot = Spot::of(self.place(instance, &shaped.id, &pointer, &["body"]));
                if let Some(spot) = spot {
                    for leaf in leaves(value, &pointer) {
                        shaped.moved(&leaf, spot.clone());
                    }
                    shaped.moved(&pointer, spot);
                }
            } else {
                shaped.written_at(&pointer, &["body", name]);
            }
            shaped.set(&pointer, value.clone());
        }
        if string {
            return;
        }
        let unknown_leaves = instance
            .change
            .as_ref()
            .and_then(|c| c.after_unknown.get("body"))
            .map(|u| true_leaves(u, Vec::new()))
            .unwrap_or_default();
        for leaf in unknown_leaves {
            let mut path = vec!["body".to_string()];
            path.extend(leaf.iter().cloned());
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            let pointer: String = leaf.iter().map(|s| format!("/{s}")).collect();
            let expect = expect_of(
                leaf.iter()
                    .rev()
                    .find(|s| s.parse::<usize>().is_err())
                    .map_or("", String::as_str),
            );
            shaped.map(&pointer, &path, expect, same, None);
        }
    }
}

/// The pointers of every value inside `value` at `pointer`, itself included.
fn leaves(value: &Value, pointer: &str) -> Vec<String> {
    let mut out = vec![pointer.to_string()];
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.extend(leaves(
                    v,
                    &format!("{pointer}/{}", crate::document::escape(k)),
                ));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                out.extend(leaves(v, &format!("{pointer}/{i}")));
            }
        }
        _ => {}
    }
    out
}

/// The paths of the `true` leaves of an `after_unknown` value.
fn true_leaves(value: &Value, at: Vec<String>) -> Vec<Vec<String>> {
    match value {
        Value::Bool(true) => vec![at],
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let mut next = at.clone();
                next.push(k.clone());
                true_leaves(v, next)
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| {
                let mut next = at.clone();
                next.push(i.to_string());
                true_leaves(v, next)
            })
            .collect(),
        _ => Vec::new(),
    }
}
