//! The template source: an ARM deployment template (or what `bicep build` makes of a Bicep
//! file), its parameters, and one check target per cluster it declares.

mod build;
mod deployment;
mod diagnostics;
pub mod expr;
mod parameters;
mod resources;
mod runtime;
mod walk;

use std::path::Path;
use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;

use miette::{Diagnostic, SourceSpan};
use serde_json::Value;
use thiserror::Error;

pub use self::deployment::{Placement, MAX_REFERENCE_DEPTH};
pub use self::parameters::Parameters;
/// The stand-ins for what exists only once a deployment runs, shared by every declaring source:
/// a plan's new identity compares to its references as a template's does.
pub(crate) use self::runtime::{
    client_of, key_uri, principal_of, vault_uri, DEPLOYMENT_TENANT, UNKNOWN_RESOURCE_GROUP,
    UNKNOWN_SUBSCRIPTION,
};
pub use self::walk::{MAX_COPY_COUNT, MAX_NESTING};
use crate::document::json::Members as _;
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
    #[error("`{name}` gives parameter `{parameter}`, which `{template}` does not declare")]
    #[diagnostic(code(cmk_check::undeclared_parameter))]
    UndeclaredParameter {
        name: String,
        parameter: String,
        template: String,
        /// A near declared name, or what to do.
        #[help]
        help: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("ARM rejects a deployment with a parameter its template does not declare")]
        span: SourceSpan,
    },
}

/// A template read and walked: one planned target per CMK cluster.
#[derive(Debug)]
pub struct Template {
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
    let given = parameters.map(Parameters::read).transpose()?;
    parse(&name, text, given.as_ref(), placement)
}

pub fn parse(
    name: &str,
    text: String,
    parameters: Option<&Parameters>,
    placement: &Placement,
) -> Result<Template, TemplateError> {
    let doc = SourceDoc::file(name, text);
    let root: Value = parse_json(&doc)?;
    let schema = root.member("$schema");
    let named = schema
        .and_then(Value::as_str)
        .is_some_and(|s| s.to_ascii_lowercase().contains("deploymenttemplate"));
    if !named {
        let anchor = doc.anchor("/$schema");
        return Err(TemplateError::NotATemplate {
            name: name.to_string(),
            reason: match schema {
                Some(Value::String(schema)) => format!("`$schema` is `{schema}`"),
                Some(other) => format!("`$schema` is {other}"),
                None => "it has no `$schema`".to_string(),
            },
            src: Arc::clone(&doc),
            span: (anchor.offset, anchor.len).into(),
        });
    }
    if let Some(parameters) = parameters {
        parameters.check(&root, name)?;
    }
    let given = parameters.map(Parameters::given).unwrap_or_default();
    let deployment = deployment::Deployment::root(&root, given, placement);
    let located = |e: walk::WalkError| {
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
    };
    let world = walk::walk(&root, Rc::clone(&deployment)).map_err(located)?;
    if let Some(fault) = deployment.fault() {
        return Err(located(fault));
    }
    let mut notes = world.notes.clone();
    let any_cluster = !world.hidden.is_empty()
        || world
            .declared
            .iter()
            .any(|d| d.is(crate::azure::CLUSTER_TYPE));
    if !any_cluster {
        return Err(TemplateError::NoCluster {
            name: name.to_string(),
        });
    }
    let targets = build::clusters(&doc, &world, placement.cloud, &mut notes);
    // Building evaluates the clusters' properties, which may reach further than the walk did.
    if let Some(fault) = deployment.fault() {
        return Err(located(fault));
    }
    Ok(Template { targets, notes })
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(extension))
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
