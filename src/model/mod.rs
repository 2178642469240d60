//! Serde types for the ARM (and Key Vault data-plane) bodies: only the fields the rules read,
//! `Option` for everything Azure may omit, so that "absent" stays distinguishable from "false".

pub mod alert;
pub mod cluster;
pub mod identity;
pub mod key;
pub mod vault;

pub use alert::ActivityLogAlert;
pub use cluster::Cluster;
pub use identity::Identity;
pub use key::{Key, KeyVersion};
pub use vault::Vault;
