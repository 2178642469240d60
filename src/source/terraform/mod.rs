//! The Terraform source: a plan as `terraform show -json` writes it, one check target per
//! planned CMK cluster (`azapi_resource` of `Microsoft.DBforPostgreSQL/serverGroupsv2`). What the
//! plan declares is read from its values with the providers' defaults; what it only references
//! (data sources, literal IDs) is completed from Azure like a template's.

mod alerts;
mod azapi;
mod build;
mod diagnostics;
mod hcl;
mod plan;
mod resources;
mod shaped;
mod values;

use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, SourceSpan};
use serde_json::Value;
use thiserror::Error;

use self::hcl::Hcl;
use self::plan::Index;
use self::values::{Builder, Expect, Leaf};
use crate::azure::cloud::CloudName;
use crate::azure::id as arm;
use crate::document::read::{parse_json, read_text, ReadError};
use crate::document::SourceDoc;
use crate::source::complete::Planned;
use crate::source::template::{DEPLOYMENT_TENANT, UNKNOWN_SUBSCRIPTION};

/// The major version of the plan format cmk-check reads (`format_version` 1.x).
pub const FORMAT_MAJOR: u64 = 1;

#[derive(Debug, Error, Diagnostic)]
pub enum TerraformError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] ReadError),
    #[error("`{name}` is not a Terraform plan: {reason}")]
    #[diagnostic(
        code(cmk_check::not_a_plan),
        help("give the JSON of a saved plan: `terraform plan -out tfplan && terraform show -json tfplan > plan.json`")
    )]
    NotAPlan {
        name: String,
        reason: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{reason}")]
        span: SourceSpan,
    },
    #[error("`{name}` is a plan of format version `{version}`, which cmk-check does not read")]
    #[diagnostic(
        code(cmk_check::plan_version),
        help("cmk-check reads the plan format 1.x of Terraform 1.0 and later; a new major version may change what the fields mean")
    )]
    Version {
        name: String,
        version: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("format version {FORMAT_MAJOR}.x is read")]
        span: SourceSpan,
    },
    #[error("`{name}` plans no Azure Cosmos DB for PostgreSQL cluster with `azapi_resource`")]
    #[diagnostic(
        code(cmk_check::no_cluster),
        help("cmk-check checks the `azapi_resource` of type `Microsoft.DBforPostgreSQL/serverGroupsv2@<api-version>` a plan creates (`azurerm_cosmosdb_postgresql_cluster` has no customer-managed-key arguments); to check existing resources, use `--cluster` or `--identity`/`--key`")
    )]
    NoCluster { name: String },
}

/// Where the plan is applied, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub subscription: Option<String>,
    /// The cloud of the provider: the DNS suffix of the vaults the plan creates.
    pub cloud: CloudName,
}

/// A plan read: one planned target per CMK cluster.
#[derive(Debug)]
pub struct Plan {
    pub targets: Vec<Planned>,
    /// What was skipped, and why.
    pub notes: Vec<String>,
}

/// Reads the plan at `path`, with the `.tf` files of `dir` (default: the plan's directory).
pub fn read(
    path: &Path,
    dir: Option<&Path>,
    placement: &Placement,
) -> Result<Plan, TerraformError> {
    let text = read_text(path)?;
    let root = match dir {
        Some(dir) => dir.to_path_buf(),
        None => path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    parse(&path.display().to_string(), text, Some(&root), placement)
}

/// What a JSON document that is not a plan is instead, by its marks.
fn what_it_is(root: &Value) -> String {
    let has = |name: &str| root.get(name).is_some();
    let schema = root
        .get("$schema")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !root.is_object() {
        "it is not a JSON object".to_string()
    } else if has("cmkCheckSnapshot") {
        "it is a cmk-check snapshot (check it with `--snapshot`)".to_string()
    } else if schema.contains("deploymenttemplate") {
        "it is an ARM deployment template (check it with `--template`)".to_string()
    } else if has("values") && has("terraform_version") {
        "it is the JSON of a Terraform state, not of a plan".to_string()
    } else if has("runs") && has("version") {
        "it is a SARIF log".to_string()
    } else if has("resources") && has("serial") && has("lineage") {
        "it is a raw Terraform state file, not a plan".to_string()
    } else if has("check_type") && has("results") {
        "it is a Checkov report".to_string()
    } else if has("steps") && has("changeSummary") {
        "it is a Pulumi preview (`pulumi preview --json`)".to_string()
    } else if has("changes") && has("status") {
        "it is the result of an ARM what-if".to_string()
    } else if has("SchemaVersion") && has("Results") {
        "it is a Trivy report".to_string()
    } else if has("format_version") {
        "it has `format_version` but no `planned_values`".to_string()
    } else {
        "it has no `format_version`".to_string()
    }
}

pub fn parse(
    name: &str,
    text: String,
    dir: Option<&Path>,
    placement: &Placement,
) -> Result<Plan, TerraformError> {
    let doc = SourceDoc::file(name, text);
    let root: Value = parse_json(&doc)?;
    let span = |pointer: &str| {
        let anchor = doc.anchor(pointer);
        SourceSpan::from((anchor.offset, anchor.len))
    };
    let version = root.get("format_version").and_then(Value::as_str);
    if let Some(version) = version {
        let major = version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u64>().ok());
        if major != Some(FORMAT_MAJOR) {
            return Err(TerraformError::Version {
                name: name.to_string(),
                version: version.to_string(),
                src: Arc::clone(&doc),
                span: span("/format_version"),
            });
        }
    }
    if version.is_none() || root.get("planned_values").is_none() {
        return Err(TerraformError::NotAPlan {
            name: name.to_string(),
            reason: what_it_is(&root),
            src: Arc::clone(&doc),
            span: span(if version.is_some() {
                "/format_version"
            } else {
                ""
            }),
        });
    }
    let index = Index::new(&root);
    let hcl = dir.map(|d| Hcl::load(d, &index)).unwrap_or_default();
    let mut builder = Builder {
        index,
        doc: Arc::clone(&doc),
        hcl,
        cloud: placement.cloud,
        subscription: UNKNOWN_SUBSCRIPTION.to_string(),
        tenant: DEPLOYMENT_TENANT.to_string(),
        alerts: std::cell::OnceCell::new(),
        policies: std::cell::OnceCell::new(),
    };
    builder.subscription = placement
        .subscription
        .clone()
        .or_else(|| {
            known(
                &builder,
                &["azurerm_client_config", "azurerm_subscription"],
                "subscription_id",
            )
        })
        .or_else(|| {
            builder
                .index
                .instances
                .iter()
                .filter(|i| build::is_cluster(i))
                .find_map(|i| {
                    let parent = builder.text(i, &["parent_id"], Expect::Id)?;
                    arm::subscription_from_id(&parent).map(str::to_string)
                })
        })
        .unwrap_or_else(|| UNKNOWN_SUBSCRIPTION.to_string());
    // A new identity gets the tenant of the provider, which `azurerm_client_config` tells.
    if let Some(tenant) = known(&builder, &["azurerm_client_config"], "tenant_id") {
        builder.tenant = tenant;
    }
    let mut notes = Vec::new();
    if root.get("errored").and_then(Value::as_bool) == Some(true) {
        notes.push(
            "the plan is marked `errored`: Terraform stopped before planning everything"
                .to_string(),
        );
    }
    for instance in &builder.index.instances {
        if instance.kind == "azurerm_cosmosdb_postgresql_cluster" && !instance.deleted() {
            notes.push(format!(
                "`{}` has no customer-managed-key arguments in the azurerm provider: not checked (declare the cluster with `azapi_resource` to use a customer-managed key)",
                instance.address
            ));
        }
    }
    if !builder.index.instances.iter().any(|i| build::is_cluster(i)) {
        return Err(TerraformError::NoCluster {
            name: name.to_string(),
        });
    }
    let targets = builder.targets(&mut notes);
    Ok(Plan { targets, notes })
}

/// The one value of `attribute` that the data sources of `kinds` agree on.
fn known(builder: &Builder<'_>, kinds: &[&str], attribute: &str) -> Option<String> {
    let mut values: Vec<String> = builder
        .index
        .instances
        .iter()
        .filter(|i| i.data && kinds.contains(&i.kind.as_str()))
        .filter_map(|i| match builder.leaf(i, &[attribute], Expect::Any) {
            Leaf::Known(Value::String(v)) => Some(v),
            _ => None,
        })
        .collect();
    values.dedup();
    match values.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}
