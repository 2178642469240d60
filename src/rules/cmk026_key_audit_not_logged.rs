use super::split_address;
use crate::azure::docs;
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::DiagnosticSetting;
use crate::state::{Declared, Resource};

pub static RULE: Rule = Rule {
    code: "CMK026",
    name: "key-audit-not-logged",
    default_level: Level::Warn,
    summary: "A diagnostic setting sends the key vault's AuditEvent logs to a workspace, storage account or event hub",
    doc: include_str!("../../rules/CMK026.md"),
    url: docs::KEY_VAULT_LOGGING,
    reads: &[
        Property(Subject::Vault, "/id"),
        Property(Subject::VaultDiagnostics, ""),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

/// Near misses named at most.
const NAMED: usize = 5;

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "that the key vault's audit events are logged";
    let vault = cx.vault(requirement)?;
    let settings = cx.vault_diagnostics(requirement)?;
    if settings.iter().any(|s| why_not(&s.body).is_none()) {
        return Ok(Vec::new());
    }
    let name = &vault.name;
    let vault_id = &vault.id;
    let fix = match &vault.declared {
        None => Fix::InPlace(vec![format!(
            "az monitor diagnostic-settings create --name cmk-key-audit --resource {vault_id} --logs '[{{\"category\":\"AuditEvent\",\"enabled\":true}}]' --workspace <log-analytics-workspace-id>"
        )]),
        Some(Declared::Template) => Fix::Edit(
            "resource keyAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = { name: 'cmk-key-audit', scope: vault, properties: { workspaceId: workspace.id, logs: [ { category: 'AuditEvent', enabled: true } ] } }".to_string()
        ),
        Some(Declared::Terraform { address, .. }) => {
            let (module, local) = split_address(address);
            let place = if module.is_empty() {
                "in the root module".to_string()
            } else {
                format!("in `{module}`")
            };
            Fix::Edit(format!(
                "{place}, add `resource \"azurerm_monitor_diagnostic_setting\" \"key_audit\" {{ name = \"cmk-key-audit\"; target_resource_id = {local}.id; log_analytics_workspace_id = <workspace>.id; enabled_log {{ category = \"AuditEvent\" }} }}` (one argument a line)"
            ))
        }
    };
    Ok(vec![Violation::at(vault.at(""))
        .message(format!(
            "no diagnostic setting of Key Vault `{name}` sends its `AuditEvent` logs anywhere ({})",
            near_misses(settings)
        ))
        .label("key operations on this vault are not logged")
        .help(match &vault.declared {
            Some(Declared::Template) => {
                "declare a diagnostic setting on the vault (Bicep, `vault` and `workspace` being its and a Log Analytics workspace's symbolic names):"
            }
            Some(Declared::Terraform { .. }) => "declare a diagnostic setting on the vault:",
            None => "",
        })
        .fix(fix)])
}

/// `None` when the setting logs the vault's audit events; otherwise why not.
fn why_not(setting: &DiagnosticSetting) -> Option<&'static str> {
    if !setting.sends_audit_events() {
        return Some(
            "enables neither the `AuditEvent` category nor the `audit` or `allLogs` group",
        );
    }
    if !setting.has_destination() {
        return Some("names no Log Analytics workspace, storage account or event hub");
    }
    None
}

fn near_misses(settings: &[Resource<DiagnosticSetting>]) -> String {
    if settings.is_empty() {
        return "it has no diagnostic setting".to_string();
    }
    let misses: Vec<String> = settings
        .iter()
        .filter_map(|s| why_not(&s.body).map(|why| format!("setting `{}` {why}", s.name)))
        .collect();
    let mut said: Vec<String> = misses.iter().take(NAMED).cloned().collect();
    if misses.len() > NAMED {
        said.push(format!("{} more fall short", misses.len() - NAMED));
    }
    said.join("; ")
}
