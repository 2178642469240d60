//! What the rules see: typed resources, each tied to the text it came from.

use std::sync::Arc;

use crate::model::{ActivityLogAlert, Cluster, Identity, Key, KeyVersion, Vault};
use crate::source::document::SourceDoc;

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
    /// resource assembled from several declarations (a vault and its `accessPolicies` children).
    pub label_at: Option<String>,
}

impl Place {
    /// Pointer inside the whole document, where the label goes.
    pub fn absolute(&self) -> String {
        self.label_at
            .clone()
            .unwrap_or_else(|| format!("{}{}", self.base, self.pointer))
    }
}

/// A property whose value cannot be known before deployment: the rules that read it report
/// "could not verify" instead of judging a guess.
#[derive(Debug, Clone)]
pub struct Unknown {
    /// Pointer relative to the resource body.
    pub pointer: String,
    pub reason: String,
    /// The expression, for the label.
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
    /// Properties known only at deployment (templates).
    pub unknown: Vec<Unknown>,
    /// Parts of the body declared elsewhere in the document: (pointer prefix in the body, where
    /// that part is written in the document).
    pub remap: Vec<(String, String)>,
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
        }
    }

    pub fn at(&self, pointer: impl Into<String>) -> Place {
        let pointer = pointer.into();
        let label_at = self.remap.iter().find_map(|(prefix, written)| {
            let rest = pointer.strip_prefix(prefix.as_str())?;
            (rest.is_empty() || rest.starts_with('/')).then(|| format!("{written}{rest}"))
        });
        Place {
            doc: Arc::clone(&self.doc),
            base: self.base.clone(),
            resource: self.id.clone(),
            pointer,
            label_at,
        }
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
}

impl State {
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
