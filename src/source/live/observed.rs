//! The two reads about what can be seen of a setup, rather than the setup itself: the vault's
//! diagnostic settings and the cluster's availability, as sections of the state.

use std::sync::Arc;

use serde_json::Value;

use super::arm::ArmError;
use super::assemble::{gap_at, read_gap, resource, Kind};
use crate::azure::actions;
use crate::document::json::Members;
use crate::document::SourceDoc;
use crate::model::{AvailabilityStatus, Cluster, DiagnosticSetting};
use crate::state::{Gap, Resource, Section};

const DIAGNOSTICS: Kind = Kind {
    noun: "diagnostic settings of vault",
    action: actions::READ_DIAGNOSTIC_SETTINGS,
    argument: "/key",
};
const AVAILABILITY: Kind = Kind {
    noun: "availability of cluster",
    action: actions::READ_AVAILABILITY,
    argument: "/cluster",
};

/// The vault's diagnostic settings, and their bodies for a snapshot.
pub(super) fn diagnostics(
    read: Option<Result<Vec<Value>, ArmError>>,
    vault_id: &str,
    args: &Arc<SourceDoc>,
) -> (
    Section<Vec<Resource<DiagnosticSetting>>>,
    Option<Vec<Value>>,
) {
    let items = match read {
        None => {
            // Only the fleet audit reads a vault without its settings.
            let gap = gap_at(
                args,
                "/key",
                "the vault's diagnostic settings",
                "diagnostic settings are not in Azure Resource Graph, and the audit does not read them",
                "check the cluster with `cmk-check check --cluster <cluster-id>`",
            );
            return (Err(gap), None);
        }
        Some(Err(e)) => {
            let mut gap = read_gap(&DIAGNOSTICS, vault_id, &e, args);
            if e.status() == Some(403) {
                gap.remedy = format!("grant Monitoring Reader (or Reader) on the vault: `az role assignment create --assignee <your-principal-id> --role \"Monitoring Reader\" --scope {vault_id}`");
            }
            return (Err(gap), None);
        }
        Some(Ok(items)) => items,
    };
    let typed: Result<Vec<_>, Gap> = items
        .iter()
        .map(|item| {
            let id = item.text("id").unwrap_or(vault_id).to_string();
            resource::<DiagnosticSetting>(&DIAGNOSTICS, &id, item, args, "ARM")
        })
        .collect();
    let recorded = typed.is_ok().then_some(items);
    (typed, recorded)
}

/// The cluster's availability, `Ok(None)` when no deployed cluster was read, and its body for
/// a snapshot.
pub(super) fn availability(
    read: Option<Result<Value, ArmError>>,
    cluster: &Section<Option<Resource<Cluster>>>,
    cluster_id: &str,
    args: &Arc<SourceDoc>,
) -> (Section<Option<Resource<AvailabilityStatus>>>, Option<Value>) {
    // Only a deployed cluster has a health; a planned one is read without asking.
    let deployed = matches!(cluster, Ok(Some(c)) if c.body.exists());
    match read.filter(|_| deployed) {
        None => (Ok(None), None),
        Some(Err(e)) => (Err(read_gap(&AVAILABILITY, cluster_id, &e, args)), None),
        Some(Ok(body)) => {
            let id = body.text("id").map_or_else(
                || super::fetch::availability_path(cluster_id),
                str::to_string,
            );
            let typed =
                resource::<AvailabilityStatus>(&AVAILABILITY, &id, &body, args, "Resource Health");
            let recorded = typed.is_ok().then_some(body);
            (typed.map(Some), recorded)
        }
    }
}
