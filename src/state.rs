//! What the rules see: typed resources, each tied to the text it came from.

use std::sync::Arc;

use serde_json::Value;

use crate::azure::id;
use crate::document::lenient::{self, Flaw};
use crate::document::SourceDoc;
use crate::model::{
    ActivityLogAlert, AvailabilityStatus, Body, Cluster, DiagnosticSetting, Identity, Key,
    KeyVersion, Vault,
};

/// A position in some source text: which resource, and the JSON pointer inside its body.
#[derive(Debug, Clone)]
pub struct Place {
    pub doc: Arc<SourceDoc>,
    /// Pointer of the resource body inside `doc` (`/vault` in a snapshot, empty for a body of its own).
    pub base: String,
    /// ARM ID or key URI of the resource, for reports.
    pub resource: String,
    /// Pointer relative to the resource body.
    pub pointer: String,
    /// Where in the document the label goes when that is not `base` + `pointer`: a template
    /// resource assembled from several declarations (a vault and its `accessPolicies` children),
    /// or a body given in another shape than ARM's.
    pub label_at: Option<String>,
    /// The Terraform address of the resource a plan declares (`module.db.azurerm_key_vault.cmk`):
    /// messages name it, since that is what the user edits.
    pub address: Option<String>,
    /// The same value in the file the user writes it in, when that is not `doc`: the `.tf`
    /// attribute of a value of a Terraform plan.
    pub written_in: Option<WrittenIn>,
}

/// A pointer into a second document that holds the same value.
#[derive(Debug, Clone)]
pub struct WrittenIn {
    pub doc: Arc<SourceDoc>,
    pub pointer: String,
}

/// The same place of the same document.
impl PartialEq for WrittenIn {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.doc, &other.doc) && self.pointer == other.pointer
    }
}

impl Eq for WrittenIn {}

impl Place {
    /// A place in `doc` outside any resource body (a snapshot's `location`, an argument).
    pub fn root(doc: &Arc<SourceDoc>, pointer: &str, resource: &str) -> Self {
        Self {
            doc: Arc::clone(doc),
            base: String::new(),
            resource: resource.to_string(),
            pointer: pointer.to_string(),
            label_at: None,
            address: None,
            written_in: None,
        }
    }

    /// `message`, naming the Terraform address of the resource when a plan declares it: rules
    /// name resources as ARM does, but the address is what the user edits.
    pub fn addressed(&self, message: &str) -> String {
        match &self.address {
            Some(address) if !message.contains(&format!("`{address}`")) => {
                format!("{message} (`{address}`)")
            }
            _ => message.to_string(),
        }
    }

    /// `message` without what [`Place::addressed`] added.
    pub fn unaddressed<'m>(&self, message: &'m str) -> &'m str {
        self.address
            .as_ref()
            .and_then(|address| message.strip_suffix(&format!(" (`{address}`)")))
            .unwrap_or(message)
    }

    /// Pointer inside the whole document, where the label goes.
    pub fn absolute(&self) -> String {
        self.label_at
            .clone()
            .unwrap_or_else(|| format!("{}{}", self.base, self.pointer))
    }
}

/// A property whose value cannot be known or read: the rules that read it report "could not
/// verify" instead of judging a guess.
#[derive(Debug, Clone)]
pub struct Unknown {
    /// Pointer relative to the resource body, in ARM's shape: what the rules' reads match.
    pub pointer: String,
    pub reason: String,
    /// The expression or the value, for the label.
    pub at: Place,
    /// The part of the expression responsible, as a byte range inside the string.
    pub within: Option<std::ops::Range<usize>>,
    /// Said at the place, and the way out.
    pub label: String,
    pub help: String,
}

/// One resource body and where it came from.
#[derive(Debug, Clone)]
pub struct Resource<T> {
    pub body: T,
    /// Short name for messages (`kv-prod`).
    pub name: String,
    /// ARM ID or key URI.
    pub id: String,
    pub doc: Arc<SourceDoc>,
    pub base: String,
    /// Properties known only at deployment (templates), or of a shape ARM would not read.
    pub unknown: Vec<Unknown>,
    /// Parts of the body written elsewhere in the document: (pointer prefix in the body, where
    /// that part is written in the document), most specific first.
    pub remap: Vec<(String, String)>,
    /// Set when the resource does not exist yet: a template or a plan declares it, and its fix
    /// is an edit of that code, not a command.
    pub declared: Option<Declared>,
}

/// Code that will create a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// An ARM template (or compiled Bicep).
    Template,
    /// A resource of a Terraform plan. Messages name the resource by its ARM name; the fix names
    /// the address, which is what the user edits.
    Terraform {
        /// `module.db.azurerm_key_vault.cmk`.
        address: String,
        /// Where each property of the ARM body is written in the resource's HCL: (pointer in
        /// the ARM body, HCL path with `.` between names, a block's name ending in `{}`), most
        /// specific first. `/properties/enablePurgeProtection` is `purge_protection_enabled`.
        attributes: Vec<(String, String)>,
        /// The resource's block in the `.tf` files, when they are at hand.
        block: Option<Block>,
    },
}

/// A resource block of a `.tf` file, and where in it each part of the ARM body is written.
#[derive(Debug, Clone)]
pub struct Block {
    pub doc: Arc<SourceDoc>,
    /// The block's pointer: the labels of values it does not write go on it.
    pub pointer: String,
    /// (pointer prefix in the ARM body, where it is written), most specific first: a vault's
    /// access policies may be written in blocks of their own.
    pub remap: Vec<(String, WrittenIn)>,
}

/// The same block of the same document.
impl PartialEq for Block {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.doc, &other.doc)
            && self.pointer == other.pointer
            && self.remap == other.remap
    }
}

impl Eq for Block {}

impl Block {
    fn at(&self, pointer: &str) -> WrittenIn {
        self.remap
            .iter()
            .find_map(|(prefix, written)| {
                let rest = pointer.strip_prefix(prefix.as_str())?;
                (rest.is_empty() || rest.starts_with('/')).then(|| WrittenIn {
                    doc: Arc::clone(&written.doc),
                    pointer: format!("{}{rest}", written.pointer),
                })
            })
            .unwrap_or_else(|| WrittenIn {
                doc: Arc::clone(&self.doc),
                pointer: self.pointer.clone(),
            })
    }
}

/// `pointer` where `remap` says its part of the body is written.
fn remapped(remap: &[(String, String)], pointer: &str) -> Option<String> {
    remap.iter().find_map(|(prefix, written)| {
        let rest = pointer.strip_prefix(prefix.as_str())?;
        (rest.is_empty() || rest.starts_with('/')).then(|| format!("{written}{rest}"))
    })
}

impl<T> Resource<T> {
    pub fn new(body: T, name: String, id: String, doc: Arc<SourceDoc>, base: String) -> Self {
        Self {
            body,
            name,
            id,
            doc,
            base,
            unknown: Vec::new(),
            remap: Vec::new(),
            declared: None,
        }
    }

    pub fn at(&self, pointer: impl Into<String>) -> Place {
        let pointer = pointer.into();
        let (address, written_in) = match &self.declared {
            Some(Declared::Terraform { address, block, .. }) => (
                Some(address.clone()),
                block.as_ref().map(|block| block.at(&pointer)),
            ),
            _ => (None, None),
        };
        Place {
            doc: Arc::clone(&self.doc),
            base: self.base.clone(),
            resource: self.id.clone(),
            label_at: remapped(&self.remap, &pointer),
            pointer,
            address,
            written_in,
        }
    }

    /// Records that the value at `pointer` could not be read.
    pub fn flawed(&mut self, flaw: &Flaw) {
        let property = flaw.pointer.rsplit('/').next().unwrap_or_default();
        let at = self.at(flaw.pointer.clone());
        self.unknown.push(Unknown {
            pointer: flaw.pointer.clone(),
            reason: format!("`{property}` cannot be read: {}", flaw.message),
            at,
            within: None,
            label: flaw.message.clone(),
            help: "give it the type ARM reads for this property (as `az resource show` prints it)"
                .to_string(),
        });
    }
}

impl<T: Body> Resource<T> {
    /// Reads a body written at `base` in `doc`, as ARM reads it: a body in another shape is read
    /// in ARM's, and a value of the wrong type spoils only the rules that read it. `Err` when the
    /// body as a whole is unusable. `fallback_id` names a body that has no `id`.
    pub fn read(
        body: &Value,
        doc: &Arc<SourceDoc>,
        base: &str,
        fallback_id: &str,
    ) -> Result<Self, Flaw> {
        let (shaped, moves) = match T::arm_shape(body) {
            Some((shaped, moves)) => (Some(shaped), moves),
            None => (None, Vec::new()),
        };
        let read = lenient::read::<T>(shaped.as_ref().unwrap_or(body))?;
        let id = read
            .value
            .id()
            .filter(|i| !i.trim().is_empty())
            .unwrap_or(fallback_id)
            .to_string();
        let name = read
            .value
            .name()
            .map(str::to_string)
            .or_else(|| (!id.is_empty()).then(|| id::name_from_id(&id).to_string()))
            .unwrap_or_else(|| "(unnamed)".to_string());
        let mut resource = Resource::new(read.value, name, id, Arc::clone(doc), base.to_string());
        let mut remap: Vec<(String, String)> = moves
            .into_iter()
            .map(|(shaped, written)| (shaped, format!("{base}{written}")))
            .collect();
        remap.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        resource.remap = remap;
        for flaw in &read.flaws {
            resource.flawed(flaw);
        }
        Ok(resource)
    }
}

/// Why a section is not there. "Not given" and "could not read" are different facts, and the
/// reports say which.
#[derive(Debug, Clone)]
pub struct Gap {
    /// Why it is missing (`the snapshot has no \`vault\` section`, `ARM answered 403 ...`).
    pub reason: String,
    /// Said at the place: what is absent there (`\`vault\` is missing`).
    pub label: String,
    /// What the user can do about it.
    pub remedy: String,
    pub place: Place,
}

pub type Section<T> = Result<T, Gap>;

/// A value of the target (region, key URI) with the place it was read from.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub place: Place,
}

/// Everything one check needs: the target (where the cluster goes, which key it uses) and the
/// state of each resource.
#[derive(Debug, Clone)]
pub struct State {
    pub location: Section<Located<String>>,
    pub key_uri: Section<Located<String>>,
    pub identity: Section<Resource<Identity>>,
    pub vault: Section<Resource<Vault>>,
    pub key: Section<Resource<Key>>,
    pub key_versions: Section<Vec<Resource<KeyVersion>>>,
    /// `Ok(None)`: no cluster is involved (a planned one known only by its key and identity).
    pub cluster: Section<Option<Resource<Cluster>>>,
    /// The activity-log alerts of the subscriptions that hold the vault and the cluster.
    pub alerts: Section<Vec<Resource<ActivityLogAlert>>>,
    /// The key vault's diagnostic settings.
    pub vault_diagnostics: Section<Vec<Resource<DiagnosticSetting>>>,
    /// What Resource Health says of the cluster now; `Ok(None)` where there is no deployed
    /// cluster to ask about.
    pub availability: Section<Option<Resource<AvailabilityStatus>>>,
}

impl State {
    /// An existing cluster encrypted with service-managed keys, and no planned change to a
    /// customer-managed key: none of the CMK requirements applies to it.
    pub fn is_service_managed(&self) -> bool {
        matches!(&self.cluster, Ok(Some(c)) if c.body.exists() && !c.body.uses_customer_managed_key())
            && self.key_uri.is_err()
    }

    /// How reports name what was checked: the cluster when there is one, else the key URI.
    pub fn target_name(&self) -> String {
        if let Ok(Some(cluster)) = &self.cluster {
            return cluster.id.clone();
        }
        match &self.key_uri {
            Ok(uri) => uri.value.clone(),
            Err(_) => "(unnamed target)".to_string(),
        }
    }
}
