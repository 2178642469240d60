//! The fleet audit: every Azure Cosmos DB for PostgreSQL cluster a credential can see, read
//! in bulk through Azure Resource Graph (and one ARM read per distinct key), each made the same
//! [`State`] `check --cluster` makes of it.

mod read;
pub mod store;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use self::store::{Recorded, Store, FLEET_FORMAT};
use crate::document::read::{read_text, ReadError};
use crate::source::live::arm::ArmError;
use crate::source::live::Azure;
use crate::state::State;

/// What to audit.
#[derive(Debug, Clone)]
pub struct Request {
    pub scope: Scope,
    pub shard: Option<Shard>,
    /// Read vaults and identities through ARM rather than Resource Graph, which may lag.
    pub fresh: bool,
    /// The most ARM reads in flight at once.
    pub concurrency: usize,
    pub now: DateTime<Utc>,
}

/// Where the clusters are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every subscription the credential can see.
    Tenant,
    Subscriptions(Vec<String>),
    ManagementGroups(Vec<String>),
}

/// `K/N`: the K-th of N deterministic parts of the subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{text}` is not K/N"))
        };
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("`{text}`: K must be 1 to N"));
        }
        Ok(Self { index, count })
    }

    /// Whether this shard audits `subscription`: by a hash of its ID that never changes
    /// between runs or machines (FNV-1a), so N jobs split a tenant without overlap.
    pub fn holds(&self, subscription: &str) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in subscription.trim().to_ascii_lowercase().bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// What the fleet report says of a cluster besides its findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    pub id: String,
    pub name: String,
    pub subscription: String,
    pub resource_group: String,
    pub location: String,
    pub customer_managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
}

/// What Resource Health says of a cluster now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// `Available`, `Unavailable`, `Degraded` or `Unknown`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_type: Option<String>,
}

impl Availability {
    pub fn available(&self) -> bool {
        self.state.eq_ignore_ascii_case("Available")
    }
}

/// Something about the audit as a whole: a subscription that could not be read, answers that
/// were cut short. Never silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    /// What it is about: a subscription, or `Resource Graph`.
    pub scope: String,
    pub message: String,
    pub remedy: String,
}

/// What a progress bar shows.
#[derive(Debug, Default)]
pub struct Progress {
    pub discovered: AtomicUsize,
    pub checked: AtomicUsize,
    pub in_flight: AtomicUsize,
}

impl Progress {
    fn add(counter: &AtomicUsize, n: usize) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The audited clusters.
#[derive(Debug)]
pub struct Fleet {
    pub problems: Vec<Problem>,
    pub store: Store,
}

impl Fleet {
    /// Each cluster's state, in order of resource ID, assembled when asked for: a fleet's
    /// states together would hold every body once per cluster that names it.
    pub fn clusters(&self) -> impl Iterator<Item = (State, ClusterInfo)> + '_ {
        self.store.clusters()
    }
}

#[derive(Debug, Error, Diagnostic)]
pub enum FleetError {
    #[error("could not list the clusters in Azure Resource Graph: {0}")]
    #[diagnostic(
        code(cmk_check::fleet),
        help("Reader on the subscriptions is what the audit needs; check `--subscription`, `--management-group` and the sign-in")
    )]
    Discovery(ArmError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Read(#[from] ReadError),
    #[error("`{name}` is not a cmk-check fleet snapshot: {reason}")]
    #[diagnostic(
        code(cmk_check::not_a_fleet_snapshot),
        help("`cmk-check audit --record FILE` writes one")
    )]
    NotAFleetSnapshot { name: String, reason: String },
}

/// Audits the clusters `request` names.
pub async fn audit(
    request: &Request,
    azure: &Azure,
    progress: &Progress,
) -> Result<Fleet, FleetError> {
    let store = read::store(request, azure, progress).await?;
    Ok(assemble(store))
}

/// The same audit from a fleet snapshot, offline.
pub fn replay(path: &Path) -> Result<Fleet, FleetError> {
    let name = path.display().to_string();
    let recorded: Recorded =
        serde_json::from_str(&read_text(path)?).map_err(|e| FleetError::NotAFleetSnapshot {
            name: name.clone(),
            reason: e.to_string(),
        })?;
    if recorded.cmk_check_fleet != FLEET_FORMAT {
        return Err(FleetError::NotAFleetSnapshot {
            name,
            reason: format!("this cmk-check reads fleet format {FLEET_FORMAT} only"),
        });
    }
    Ok(assemble(Store::replay(recorded)))
}

/// The rules an audit does not check, and why: what they read is not in Azure Resource Graph,
/// and one ARM read per resource would break the audit's request budget (Resource Graph pages,
/// one read per distinct key, versions, alert listings). The audit turns them off and says so
/// once, as a problem, instead of once per cluster.
pub const NOT_AUDITED: [(&str, &str); 1] = [(
    "CMK026",
    "Key Vault diagnostic settings are not in Azure Resource Graph",
)];

fn assemble(store: Store) -> Fleet {
    let mut problems = store.problems.clone();
    problems.extend(NOT_AUDITED.iter().map(|(code, why)| Problem {
        scope: "Resource Graph".to_string(),
        message: format!("{code} was not checked: {why}, and one read per vault would exceed the audit's request budget"),
        remedy: "check it one cluster at a time: `cmk-check check --cluster <cluster-id>`".to_string(),
    }));
    problems.sort();
    problems.dedup();
    Fleet { problems, store }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_without_overlap() {
        let shards: Vec<Shard> = (1..=4).map(|k| Shard { index: k, count: 4 }).collect();
        for i in 0..200 {
            let subscription = format!("6a1f4c2e-8b3d-4e5f-9a7b-{i:012}");
            let holders = shards.iter().filter(|s| s.holds(&subscription)).count();
            assert_eq!(holders, 1, "{subscription}");
            assert_eq!(
                shards[0].holds(&subscription),
                shards[0].holds(&subscription.to_uppercase())
            );
        }
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert!(
            Shard::parse("0/3").is_err()
                && Shard::parse("4/3").is_err()
                && Shard::parse("x").is_err()
        );
    }
}
