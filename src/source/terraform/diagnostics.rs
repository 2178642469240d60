//! `azurerm_monitor_diagnostic_setting` (or an azapi `Microsoft.Insights/diagnosticSettings`)
//! on the key vault, as the ARM diagnostic setting CMK026 reads.

use serde_json::{json, Value};

use super::plan::Instance;
use super::resources::{azapi_type, same};
use super::shaped::Shaped;
use super::values::{Builder, Expect, Leaf};
use crate::azure::id as arm;
use crate::azure::{DIAGNOSTIC_SETTINGS_TYPE, VAULT_TYPE};
use crate::model::{DiagnosticSetting, Vault};
use crate::source::complete::Referenced;
use crate::state::{Resource, Section};

/// The provider's destination attributes and the ARM properties they set.
const DESTINATIONS: [(&str, &str); 3] = [
    ("log_analytics_workspace_id", "workspaceId"),
    ("storage_account_id", "storageAccountId"),
    (
        "eventhub_authorization_rule_id",
        "eventHubAuthorizationRuleId",
    ),
];

impl<'p> Builder<'p> {
    /// The settings the plan declares on the vault. A vault the plan only references has its
    /// settings read from Azure with it, unless the plan declares some.
    pub(super) fn vault_diagnostics(
        &self,
        vault: &Section<Resource<Vault>>,
        referenced: &mut Referenced,
    ) -> Section<Vec<Resource<DiagnosticSetting>>> {
        let name = match (vault, &referenced.key) {
            (Ok(vault), _) => vault.name.clone(),
            (Err(_), Some((_, key, _))) if referenced.vault_missing => key.vault.clone(),
            (Err(gap), _) => return Err(gap.clone()),
        };
        let mut found = Vec::new();
        for instance in &self.index.instances {
            if instance.data || instance.deleted() {
                continue;
            }
            let target = match (instance.kind.as_str(), azapi_type(instance)) {
                ("azurerm_monitor_diagnostic_setting", _) => {
                    self.leaf(instance, &["target_resource_id"], Expect::Id)
                }
                (_, Some(kind)) if kind.eq_ignore_ascii_case(DIAGNOSTIC_SETTINGS_TYPE) => {
                    self.leaf(instance, &["parent_id"], Expect::Id)
                }
                _ => continue,
            };
            let Leaf::Known(Value::String(target)) = target else {
                continue;
            };
            let on_vault = arm::type_from_id(&target)
                .is_some_and(|t| t.eq_ignore_ascii_case(VAULT_TYPE))
                && arm::name_from_id(&target).eq_ignore_ascii_case(&name);
            if on_vault {
                found.push(self.diagnostic_setting(instance)?);
            }
        }
        if let Err(gap) = vault {
            if found.is_empty() {
                referenced.diagnostics_missing = true;
                return Err(gap.clone());
            }
        }
        Ok(found)
    }

    fn diagnostic_setting(&self, instance: &Instance<'p>) -> Section<Resource<DiagnosticSetting>> {
        let mut shaped = Shaped::new(self, instance, DIAGNOSTIC_SETTINGS_TYPE);
        if instance.kind == "azapi_resource" {
            self.azapi_body(&mut shaped);
            return shaped.finish();
        }
        for (attribute, property) in DESTINATIONS {
            let pointer = format!("/properties/{property}");
            // A destination made by the same apply is known only then, but it is set.
            if let Leaf::Unknown = self.leaf(instance, &[attribute], Expect::Id) {
                shaped.written_at(&pointer, &[attribute]);
                shaped.set(&pointer, json!("(known after apply)"));
                continue;
            }
            shaped.map(&pointer, &[attribute], Expect::Id, same, None);
        }
        let mut logs = Vec::new();
        // `enabled_log` blocks, and the `log` blocks of provider 3.x, which say `enabled`.
        for (block, has_enabled) in [("enabled_log", false), ("log", true)] {
            let count = instance
                .values
                .get(block)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..count {
                let index = i.to_string();
                let at = format!("/properties/logs/{}", logs.len());
                let mut entry = json!({ "enabled": true });
                for (attribute, field) in [
                    ("category", "category"),
                    ("category_group", "categoryGroup"),
                ] {
                    if let Some(value) = shaped.map(
                        &format!("{at}/{field}"),
                        &[block, &index, attribute],
                        Expect::Any,
                        same,
                        None,
                    ) {
                        entry[field] = value;
                    }
                }
                if has_enabled {
                    if let Some(enabled) = shaped.map(
                        &format!("{at}/enabled"),
                        &[block, &index, "enabled"],
                        Expect::Any,
                        same,
                        Some(json!(true)),
                    ) {
                        entry["enabled"] = enabled;
                    }
                }
                logs.push(entry);
            }
        }
        shaped.set("/properties/logs", Value::Array(logs));
        shaped.finish()
    }
}
