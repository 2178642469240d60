//! The `.tf` files of a plan's configuration, when they are at hand: each resource block and its
//! attributes indexed by the values path of the plan, so that a label can go on the attribute the
//! user edits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Body};
use hcl_edit::Span;

use super::plan::{config_path, Index, Instance};
use crate::document::read::read_text;
use crate::document::{escape, Node, SourceDoc};

/// How many `.tf` files of one directory are read: a configuration has a few dozen.
const MAX_FILES: usize = 1_000;

/// How deep nested blocks and object values are indexed.
const MAX_DEPTH: usize = 32;

/// The resource blocks of the configuration, by module path and address in the module.
#[derive(Debug, Default)]
pub(super) struct Hcl {
    blocks: HashMap<String, Arc<SourceDoc>>,
}

fn key(module: &str, local: &str) -> String {
    format!("{}|{local}", config_path(module))
}

impl Hcl {
    /// Reads the `.tf` files of `root` and of the module directories its calls name. Files that
    /// cannot be read or parsed are left out: labels stay in the plan.
    pub fn load(root: &Path, index: &Index<'_>) -> Self {
        let mut hcl = Hcl::default();
        let manifest = modules_manifest(root);
        let mut done: HashMap<String, bool> = HashMap::new();
        for instance in &index.instances {
            let module = config_path(&instance.module);
            if done.insert(module.clone(), true).is_some() {
                continue;
            }
            let Some(dir) = module_dir(root, &module, &index.sources(&instance.module), &manifest)
            else {
                continue;
            };
            for (local, doc) in read_dir(&dir) {
                hcl.blocks.insert(format!("{module}|{local}"), doc);
            }
        }
        hcl
    }

    /// The document and pointer of the value at `path` of an instance's resource block.
    pub fn locate(
        &self,
        instance: &Instance<'_>,
        path: &[&str],
    ) -> Option<(Arc<SourceDoc>, String)> {
        let local = instance.local();
        let doc = self.blocks.get(&key(&instance.module, local))?;
        let pointer: String = std::iter::once(format!("/{}", escape(local)))
            .chain(path.iter().map(|s| format!("/{}", escape(s))))
            .collect();
        Some((Arc::clone(doc), pointer))
    }
}

/// `.terraform/modules/modules.json`: where `terraform init` put each module, by its key
/// (`db`, `db.inner`).
fn modules_manifest(root: &Path) -> HashMap<String, String> {
    let path = root.join(".terraform/modules/modules.json");
    let Ok(text) = read_text(&path) else {
        return HashMap::new();
    };
    let Ok(manifest) = serde_json::from_str::<serde_json::Value>(&text) else {
        return HashMap::new();
    };
    manifest
        .get("Modules")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some((
                m.get("Key")?.as_str()?.to_string(),
                m.get("Dir")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// The directory of a module: from `terraform init`'s manifest, else its local `source` paths
/// joined from the root.
fn module_dir(
    root: &Path,
    module: &str,
    sources: &[String],
    manifest: &HashMap<String, String>,
) -> Option<PathBuf> {
    if module.is_empty() {
        return Some(root.to_path_buf());
    }
    let manifest_key = module
        .split('.')
        .filter(|s| *s != "module")
        .collect::<Vec<_>>()
        .join(".");
    if let Some(dir) = manifest.get(&manifest_key) {
        return Some(root.join(dir));
    }
    let mut dir = root.to_path_buf();
    for source in sources {
        if !(source.starts_with("./") || source.starts_with("../")) {
            return None;
        }
        // Lexically, as Terraform joins them: labels name `modules/db/main.tf`, not `./modules/..`.
        for part in Path::new(source).components() {
            match part {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir if dir.file_name().is_some() => {
                    dir.pop();
                }
                other => dir.push(other),
            }
        }
    }
    Some(dir)
}

/// The resource and data blocks of the `.tf` files of `dir`, each with its file's document.
fn read_dir(dir: &Path) -> Vec<(String, Arc<SourceDoc>)> {
    // The working directory is listed as `.`, and its files named without `./`.
    let listed = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(listed) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| dir.join(e.file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
        .take(MAX_FILES)
        .collect();
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let Ok(text) = read_text(&file) else { continue };
        let Ok(body) = hcl_edit::parser::parse_body(&text) else {
            continue;
        };
        let mut nodes = HashMap::new();
        let mut locals = Vec::new();
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            let local = match (block.ident.as_str(), labels.as_slice()) {
                ("resource", [kind, name]) => format!("{kind}.{name}"),
                ("data", [kind, name]) => format!("data.{kind}.{name}"),
                _ => continue,
            };
            let pointer = format!("/{}", escape(&local));
            index_block(block, &pointer, &mut nodes, 0);
            locals.push(local);
        }
        let doc = SourceDoc::indexed(&file.display().to_string(), text, "hcl", nodes);
        found.extend(locals.into_iter().map(|l| (l, Arc::clone(&doc))));
    }
    found
}

fn range(span: Option<std::ops::Range<usize>>) -> Option<(usize, usize)> {
    span.map(|r| (r.start, r.end))
}

/// A block: its header (`resource "azurerm_key_vault" "cmk"`) takes the labels of what it lacks.
fn index_block(block: &Block, pointer: &str, nodes: &mut HashMap<String, Node>, depth: usize) {
    let start = block.ident.span().map(|s| s.start);
    let end = block
        .labels
        .last()
        .and_then(Span::span)
        .or_else(|| block.ident.span())
        .map(|s| s.end);
    if let (Some(start), Some(end), Some(value)) = (start, end, range(block.span())) {
        nodes.insert(
            pointer.to_string(),
            Node {
                key: Some((start, end)),
                value,
                compound: true,
            },
        );
    }
    index_body(&block.body, pointer, nodes, depth + 1);
}

fn index_body(body: &Body, pointer: &str, nodes: &mut HashMap<String, Node>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for attribute in body.attributes() {
        let at = format!("{pointer}/{}", escape(attribute.key.as_str()));
        index_expression(
            &attribute.value,
            &at,
            range(attribute.key.span()),
            nodes,
            depth,
        );
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for block in body.blocks() {
        let name = block.ident.as_str().to_string();
        let count = counts.entry(name.clone()).or_insert(0);
        let at = format!("{pointer}/{}/{count}", escape(&name));
        *count += 1;
        index_block(block, &at, nodes, depth);
    }
}

fn index_expression(
    expression: &Expression,
    pointer: &str,
    key: Option<(usize, usize)>,
    nodes: &mut HashMap<String, Node>,
    depth: usize,
) {
    let Some(value) = range(expression.span()) else {
        return;
    };
    let compound = matches!(expression, Expression::Object(_) | Expression::Array(_));
    nodes.insert(
        pointer.to_string(),
        Node {
            key,
            value,
            compound,
        },
    );
    if depth > MAX_DEPTH {
        return;
    }
    match expression {
        Expression::Object(object) => {
            for (name, member) in object.iter() {
                let text = match name {
                    ObjectKey::Ident(ident) => ident.as_str().to_string(),
                    ObjectKey::Expression(e) => match e.as_str() {
                        Some(text) => text.to_string(),
                        None => continue,
                    },
                };
                let at = format!("{pointer}/{}", escape(&text));
                index_expression(member.expr(), &at, range(name.span()), nodes, depth + 1);
            }
        }
        Expression::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                index_expression(item, &format!("{pointer}/{i}"), None, nodes, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests stop at the first failure")]

    use super::*;

    #[test]
    fn attributes_nested_blocks_and_object_members_are_indexed() {
        let text = r#"
resource "azurerm_key_vault" "cmk" {
  name                     = "kv"
  purge_protection_enabled = false
  access_policy {
    object_id = azurerm_user_assigned_identity.cmk.principal_id
  }
}

resource "azapi_resource" "cluster" {
  body = {
    properties = {
      dataEncryption = { primaryKeyUri = azurerm_key_vault_key.cmk.versionless_id }
    }
  }
}
"#;
        let body = hcl_edit::parser::parse_body(text).unwrap();
        let mut nodes = HashMap::new();
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            index_block(
                block,
                &format!("/{}.{}", labels[0], labels[1]),
                &mut nodes,
                0,
            );
        }
        let doc = SourceDoc::indexed("main.tf", text.to_string(), "hcl", nodes);
        let at = |pointer: &str| {
            let a = doc.anchor(pointer);
            (&text[a.offset..a.offset + a.len], a.exact)
        };
        assert_eq!(
            at("/azurerm_key_vault.cmk/purge_protection_enabled"),
            ("false", true)
        );
        assert_eq!(
            at("/azurerm_key_vault.cmk/access_policy/0/object_id"),
            ("azurerm_user_assigned_identity.cmk.principal_id", true)
        );
        assert_eq!(
            at("/azurerm_key_vault.cmk/soft_delete_retention_days"),
            ("resource \"azurerm_key_vault\" \"cmk\"", false)
        );
        assert_eq!(
            at("/azapi_resource.cluster/body/properties/dataEncryption/primaryKeyUri"),
            ("azurerm_key_vault_key.cmk.versionless_id", true)
        );
    }
}
