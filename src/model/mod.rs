//! Serde types for the ARM bodies: only the fields the rules read, `Option` for everything Azure
//! may omit, so that "absent" stays distinguishable from "false".
//!
//! Every body is read in ARM's own shape. Bodies in another shape (what the Azure CLI prints,
//! what the Key Vault data plane returns) are first rewritten into it by [`Body::arm_shape`],
//! which also says where each part is written, so labels still point at the user's text.

pub mod alert;
pub mod availability;
pub mod cluster;
pub mod diagnostics;
pub mod identity;
pub mod key;
pub mod key_file;
pub mod time;
pub mod vault;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use alert::ActivityLogAlert;
pub use availability::AvailabilityStatus;
pub use cluster::Cluster;
pub use diagnostics::DiagnosticSetting;
pub use identity::Identity;
pub use key::{Key, KeyVersion};
pub use vault::Vault;

/// Where a part of a body rewritten into ARM's shape is written in the given body:
/// (pointer in ARM's shape, pointer in the given body).
pub type Moves = Vec<(String, String)>;

/// A resource body as ARM returns it.
pub trait Body: DeserializeOwned + Default {
    /// The body in ARM's shape, when it came in another; `None` when it is ARM's already.
    fn arm_shape(_body: &Value) -> Option<(Value, Moves)> {
        None
    }
    fn id(&self) -> Option<&str>;
    fn name(&self) -> Option<&str>;
}

/// Moves the members `names` of the top level of `body` into `properties`, for the bodies the
/// Azure CLI prints with their properties flattened (`az identity show`).
fn unflatten(body: &Value, names: &[&str]) -> Option<(Value, Moves)> {
    use crate::document::json::{key_of, Members};
    let map = body.as_object()?;
    if body.member("properties").is_some() {
        return None;
    }
    let mut shaped = map.clone();
    let mut properties = serde_json::Map::new();
    let mut moves = Vec::new();
    for name in names {
        if let Some(key) = key_of(map, name).cloned() {
            if let Some(value) = shaped.remove(&key) {
                moves.push((
                    format!("/properties/{name}"),
                    format!("/{}", crate::document::escape(&key)),
                ));
                properties.insert((*name).to_string(), value);
            }
        }
    }
    if moves.is_empty() {
        return None;
    }
    shaped.insert("properties".to_string(), Value::Object(properties));
    Some((Value::Object(shaped), moves))
}
