//! The template source: an ARM deployment template (or what `bicep build` makes of a Bicep
//! file), its parameters, and one check target per cluster it declares.

mod build;
mod deployment;
pub mod expr;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use miette::{Diagnostic, SourceSpan};
use serde_json::{Map, Value};
use thiserror::Error;

pub use self::deployment::Placement;
use crate::document::read::{parse_json, read_text, ReadError};
use crate::document::SourceDoc;
use crate::source::complete::Planned;

#[derive(Debug, Error, Diagnostic)]
pub enum TemplateError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] ReadError),
    #[error("`{name}` is not an ARM deployment template: {reason}")]
    #[diagnostic(
        code(cmk_check::not_a_template),
        help("a template has `\"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\"`; for Bicep, run `az bicep build --file main.bicep` or `bicep build main.bicep` first")
    )]
    NotATemplate {
        name: String,
        reason: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{reason}")]
        span: SourceSpan,
    },
    #[error("`{name}` declares no Azure Cosmos DB for PostgreSQL cluster")]
    #[diagnostic(
        code(cmk_check::no_cluster),
        help("cmk-check checks the templates that create `Microsoft.DBforPostgreSQL/serverGroupsv2` resources; to check existing resources, use `--cluster` or `--identity`/`--key`")
    )]
    NoCluster { name: String },
    #[error("{message}")]
    #[diagnostic(code(cmk_check::template_expression))]
    Expression {
        message: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{message}")]
        span: SourceSpan,
    },
    #[error("`{path}` needs the Bicep CLI, which is not on PATH")]
    #[diagnostic(
        code(cmk_check::bicep_missing),
        help("install it (`az bicep install`, then use `az bicep build --file {path} --stdout > main.json`), or give cmk-check the compiled JSON template")
    )]
    BicepMissing { path: String },
    #[error("`bicep` could not compile `{path}`:\n{stderr}")]
    #[diagnostic(code(cmk_check::bicep_failed))]
    BicepFailed { path: String, stderr: String },
    #[error("`{name}` is not a parameters file: {reason}")]
    #[diagnostic(code(cmk_check::not_parameters))]
    NotParameters {
        name: String,
        reason: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{reason}")]
        span: SourceSpan,
    },
}

/// A template read and walked: one planned target per CMK cluster.
#[derive(Debug)]
pub struct Template {
    pub doc: Arc<SourceDoc>,
    pub targets: Vec<Planned>,
    /// What was skipped, and why (clusters without CMK, loops of unknown length...).
    pub notes: Vec<String>,
}

pub fn read(
    path: &Path,
    parameters: Option<&Path>,
    placement: &Placement,
) -> Result<Template, TemplateError> {
    let name = path.display().to_string();
    let text = if has_extension(path, "bicep") {
        bicep(&["build", "--stdout"], path)?
    } else {
        read_text(path)?
    };
    let given = match parameters {
        None => Map::new(),
        Some(file) => read_parameters(file)?,
    };
    parse(&name, text, &given, placement)
}

pub fn parse(
    name: &str,
    text: String,
    given: &Map<String, Value>,
    placement: &Placement,
) -> Result<Template, TemplateError> {
    let doc = SourceDoc::file(name, text);
    let root: Value = parse_json(&doc)?;
    let schema = root
        .get("$schema")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !schema.to_ascii_lowercase().contains("deploymenttemplate") {
        let anchor = doc.anchor("/$schema");
        return Err(TemplateError::NotATemplate {
            name: name.to_string(),
            reason: if root.get("$schema").is_some() {
                format!("`$schema` is `{schema}`")
            } else {
                "it has no `$schema`".to_string()
            },
            src: Arc::clone(&doc),
            span: (anchor.offset, anchor.len).into(),
        });
    }
    let deployment = deployment::Deployment::root(&root, given, placement);
    let world = deployment::walk(&root, deployment).map_err(|e| {
        let anchor = doc.anchor(&e.pointer);
        // Inside the string value: skip its opening quote.
        let (offset, len) = match e.span {
            Some(span) if anchor.exact && span.end < anchor.len => {
                (anchor.offset + 1 + span.start, span.len())
            }
            _ => (anchor.offset, anchor.len),
        };
        TemplateError::Expression {
            message: e.message,
            src: Arc::clone(&doc),
            span: (offset, len).into(),
        }
    })?;
    let mut notes = world.notes;
    let any_cluster = world
        .declared
        .iter()
        .any(|d| d.is(crate::azure::CLUSTER_TYPE));
    if !any_cluster {
        return Err(TemplateError::NoCluster {
            name: name.to_string(),
        });
    }
    let targets = build::clusters(&doc, &world.declared, &mut notes);
    Ok(Template {
        doc,
        targets,
        notes,
    })
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(extension))
}

/// A deploymentParameters file (or a `.bicepparam`, compiled by Bicep): name → `{"value": ...}`.
fn read_parameters(path: &Path) -> Result<Map<String, Value>, TemplateError> {
    let name = path.display().to_string();
    let text = if has_extension(path, "bicepparam") {
        let compiled = bicep(&["build-params", "--stdout"], path)?;
        // `build-params` wraps the parameters file as a string in `parametersJson`.
        serde_json::from_str::<Value>(&compiled)
            .ok()
            .and_then(|v| {
                v.get("parametersJson")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or(compiled)
    } else {
        read_text(path)?
    };
    let doc = SourceDoc::file(&name, text);
    let root = parse_json(&doc)?;
    match root.get("parameters").and_then(Value::as_object) {
        Some(parameters) => Ok(parameters.clone()),
        None => {
            let anchor = doc.anchor("");
            Err(TemplateError::NotParameters {
                name,
                reason: "it has no `parameters` object".to_string(),
                src: Arc::clone(&doc),
                span: (anchor.offset, anchor.len).into(),
            })
        }
    }
}

/// Runs the Bicep CLI (standalone `bicep`, else `az bicep`).
fn bicep(arguments: &[&str], path: &Path) -> Result<String, TemplateError> {
    let shown = path.display().to_string();
    let run = |program: &str, prefix: &[&str]| {
        Command::new(program)
            .args(prefix)
            .args(arguments)
            .arg(path)
            .output()
    };
    let output = match run("bicep", &[]) {
        Ok(output) => output,
        Err(_) => return Err(TemplateError::BicepMissing { path: shown }),
    };
    if !output.status.success() {
        return Err(TemplateError::BicepFailed {
            path: shown,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).to_string())
}
