//! The rule catalog. One file per rule, one permanent code per rule: codes are never reused or
//! renamed. Each file declares its [`Rule`] first, then the check.

// The helpers below return a finding as their error: it is the rule's output, built at most once
// per rule run, so boxing it would buy nothing.
#![allow(
    clippy::result_large_err,
    reason = "a Violation error is the rule's own output, built once"
)]

use crate::arm;
use crate::engine::{Context, Level, Violation};
use crate::model::identity::IdentityProperties;
use crate::model::vault::VaultProperties;
use crate::model::{Identity, Key, Vault};
use crate::state::Resource;

mod cmk001_identity_not_user_assigned;
mod cmk002_region_mismatch;
mod cmk003_soft_delete_disabled;
mod cmk004_purge_protection_disabled;
mod cmk005_retention_not_90_days;
mod cmk006_public_network_access_restricted;
mod cmk007_rbac_permission_model;
mod cmk008_key_permissions_missing;
mod cmk009_tenant_mismatch;
mod cmk010_key_type_not_rsa;
mod cmk011_key_size_unsupported;
mod cmk012_key_disabled;
mod cmk013_key_not_yet_active;
mod cmk014_key_expired;
mod cmk015_key_expires_soon;
mod cmk016_key_operations_restricted;
mod cmk017_key_uri_invalid;
mod cmk018_cluster_encryption_immutable;
mod cmk019_cluster_identity_not_assigned;
mod cmk020_key_version_retired_early;
mod cmk021_key_access_not_monitored;
mod cmk022_cluster_health_not_monitored;
mod cmk900_exemption_unmatched;
mod cmk901_exemption_expired;
mod monitoring;

/// A rule's declaration: its permanent code, its name, and the check.
#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub default_level: Level,
    /// One line for the catalog and SARIF's shortDescription.
    pub summary: &'static str,
    /// `rules/CMKNNN.md`, printed by `cmk-check explain`.
    pub doc: &'static str,
    /// Microsoft's documentation of the requirement.
    pub url: &'static str,
    /// Most rules fail closed at error level when they cannot verify; monitoring rules that are
    /// warnings by nature keep their own level.
    pub unverified_at_own_level: bool,
    /// The properties the check reads. When a template leaves one of them to be known only at
    /// deployment, the engine reports "could not verify" instead of running the check on a guess.
    pub reads: &'static [Read],
    pub check: Check,
}

/// A property a rule reads: which resource, and the JSON pointer in its (management-plane) body.
#[derive(Debug, Clone, Copy)]
pub struct Read(pub Subject, pub &'static str);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Identity,
    Vault,
    Key,
    Cluster,
}

/// How a rule is checked.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// A pure function of the state and the clock.
    State(fn(&Context<'_>) -> Vec<Violation>),
    /// About the configured exemptions themselves; the engine checks these when it applies them.
    Exemptions(ExemptionCheck),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExemptionCheck {
    Unmatched,
    Expired,
}

pub static ALL: &[&Rule] = &[
    &cmk001_identity_not_user_assigned::RULE,
    &cmk002_region_mismatch::RULE,
    &cmk003_soft_delete_disabled::RULE,
    &cmk004_purge_protection_disabled::RULE,
    &cmk005_retention_not_90_days::RULE,
    &cmk006_public_network_access_restricted::RULE,
    &cmk007_rbac_permission_model::RULE,
    &cmk008_key_permissions_missing::RULE,
    &cmk009_tenant_mismatch::RULE,
    &cmk010_key_type_not_rsa::RULE,
    &cmk011_key_size_unsupported::RULE,
    &cmk012_key_disabled::RULE,
    &cmk013_key_not_yet_active::RULE,
    &cmk014_key_expired::RULE,
    &cmk015_key_expires_soon::RULE,
    &cmk016_key_operations_restricted::RULE,
    &cmk017_key_uri_invalid::RULE,
    &cmk018_cluster_encryption_immutable::RULE,
    &cmk019_cluster_identity_not_assigned::RULE,
    &cmk020_key_version_retired_early::RULE,
    &cmk021_key_access_not_monitored::RULE,
    &cmk022_cluster_health_not_monitored::RULE,
    &cmk900_exemption_unmatched::RULE,
    &cmk901_exemption_expired::RULE,
];

/// Finds a rule by code (any case) or by name.
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

const CONCEPTS_URL: &str =
    "https://learn.microsoft.com/azure/cosmos-db/postgresql/concepts-customer-managed-keys";
const HOW_TO_URL: &str =
    "https://learn.microsoft.com/azure/cosmos-db/postgresql/how-to-customer-managed-keys";

/// The vault and its `properties`, or the finding that says why they could not be read.
fn vault_properties<'a>(
    cx: &'a Context<'_>,
    requirement: &str,
) -> Result<(&'a Resource<Vault>, &'a VaultProperties), Violation> {
    let vault = cx
        .state
        .vault
        .as_ref()
        .map_err(|gap| gap.unverified(requirement))?;
    match vault.body.props() {
        Some(props) => Ok((vault, props)),
        None => Err(Violation::unverified(
            vault.at("/properties"),
            format!(
                "could not verify {requirement}: the body of Key Vault `{}` has no `properties`",
                vault.name
            ),
            "the vault's `properties` object",
            "record the whole body ARM returns: `az keyvault show --name <vault>`",
        )),
    }
}

fn identity_properties<'a>(
    cx: &'a Context<'_>,
    requirement: &str,
) -> Result<(&'a Resource<Identity>, &'a IdentityProperties), Violation> {
    let identity = cx
        .state
        .identity
        .as_ref()
        .map_err(|gap| gap.unverified(requirement))?;
    match identity.body.properties.as_ref() {
        Some(props) => Ok((identity, props)),
        None => Err(Violation::unverified(
            identity.at("/properties"),
            format!(
                "could not verify {requirement}: the body of identity `{}` has no `properties`",
                identity.name
            ),
            "the identity's `properties` object",
            "record the whole body ARM returns: `az identity show --ids <identity-id>`",
        )),
    }
}

fn key<'a>(cx: &'a Context<'_>, requirement: &str) -> Result<&'a Resource<Key>, Violation> {
    cx.state
        .key
        .as_ref()
        .map_err(|gap| gap.unverified(requirement))
}

/// `--name <vault> --resource-group <rg>` for az commands.
fn vault_args(vault: &Resource<Vault>) -> String {
    let group = arm::resource_group_from_id(&vault.id).unwrap_or("<resource-group>");
    format!("--name {} --resource-group {group}", vault.name)
}

/// The vault name a key lives in, for `az keyvault key` commands.
fn key_vault_name(cx: &Context<'_>) -> String {
    match &cx.state.vault {
        Ok(vault) => vault.name.clone(),
        Err(_) => cx
            .state
            .key_uri
            .as_ref()
            .ok()
            .and_then(|k| crate::keyuri::KeyUri::parse(&k.value).ok())
            .map_or_else(|| "<vault>".to_string(), |k| k.vault),
    }
}

/// One finding, or none: the shape most rules return.
fn one(violation: Option<Violation>) -> Vec<Violation> {
    violation.into_iter().collect()
}

fn flatten(result: Result<Option<Violation>, Violation>) -> Vec<Violation> {
    match result {
        Ok(v) => one(v),
        Err(v) => vec![v],
    }
}
