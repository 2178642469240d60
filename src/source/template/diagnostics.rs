//! The diagnostic settings a template declares on the key vault, in any of the three ways ARM
//! takes them: a `Microsoft.Insights/diagnosticSettings` extension resource whose `scope` is the
//! vault, a `providers/diagnosticSettings` child nested in the vault, or the older name form
//! `Microsoft.KeyVault/vaults/providers/diagnosticSettings` named `<vault>/Microsoft.Insights/<name>`.

use super::build::Builder;
use super::walk::Declaration;
use crate::azure::{DIAGNOSTIC_SETTINGS_TYPE, VAULT_TYPE};
use crate::document::json::Members as _;
use crate::model::{DiagnosticSetting, Vault};
use crate::source::complete::Referenced;
use crate::state::{Resource, Section};

impl Builder<'_> {
    /// The settings declared on the vault. A vault the template only references has its
    /// settings read from Azure with it, unless the template declares some.
    pub(super) fn vault_diagnostics(
        &self,
        vault: &Section<Resource<Vault>>,
        referenced: &mut Referenced,
    ) -> Section<Vec<Resource<DiagnosticSetting>>> {
        let (name, vault_id) = match (vault, &referenced.key) {
            (Ok(vault), _) => (vault.name.clone(), vault.id.clone()),
            (Err(_), Some((_, key, _))) if referenced.vault_missing => {
                (key.vault.clone(), String::new())
            }
            (Err(gap), _) => return Err(gap.clone()),
        };
        let parent = self
            .world
            .iter()
            .find(|d| d.is(VAULT_TYPE) && d.short_name().eq_ignore_ascii_case(&name));
        let name_form = format!("{VAULT_TYPE}/providers/diagnosticSettings");
        let mut found = Vec::new();
        for declared in self.world.iter() {
            let extension = declared.is(DIAGNOSTIC_SETTINGS_TYPE);
            let on_vault = if declared.is(&name_form) {
                declared
                    .name
                    .split('/')
                    .next()
                    .is_some_and(|v| v.eq_ignore_ascii_case(&name))
            } else {
                declared.is("providers/diagnosticSettings")
                    && parent.is_some_and(|p| nested_in(declared, p))
            };
            if !extension && !on_vault {
                continue;
            }
            let evaluation = self.body(declared, &["scope", "properties"]);
            let scoped = extension
                && evaluation
                    .body
                    .text("scope")
                    .is_some_and(|scope| scopes_vault(scope, &name));
            if !scoped && !on_vault {
                continue;
            }
            let mut setting: Resource<DiagnosticSetting> = self.resource(declared, evaluation)?;
            if !vault_id.is_empty() {
                setting.id = format!(
                    "{vault_id}/providers/{DIAGNOSTIC_SETTINGS_TYPE}/{}",
                    declared.short_name()
                );
            }
            found.push(setting);
        }
        if let Err(gap) = vault {
            if found.is_empty() {
                referenced.diagnostics_missing = true;
                return Err(gap.clone());
            }
        }
        Ok(found)
    }
}

/// Whether a `scope` names the vault: its resource ID, or the relative
/// `Microsoft.KeyVault/vaults/<name>` that compiled Bicep writes for `scope: vault`.
fn scopes_vault(scope: &str, vault: &str) -> bool {
    let segments: Vec<&str> = scope.trim().trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        [.., namespace, vaults, name] => {
            namespace.eq_ignore_ascii_case("Microsoft.KeyVault")
                && vaults.eq_ignore_ascii_case("vaults")
                && name.eq_ignore_ascii_case(vault)
        }
        _ => false,
    }
}

/// A child declared inside the vault's own `resources`.
fn nested_in(child: &Declaration, vault: &Declaration) -> bool {
    child
        .pointer
        .strip_prefix(vault.pointer.as_str())
        .is_some_and(|rest| rest.starts_with("/resources/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_name_the_vault_by_id_or_relative_form() {
        assert!(scopes_vault("Microsoft.KeyVault/vaults/kv-prod", "kv-prod"));
        assert!(scopes_vault(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/KV-PROD/",
            "kv-prod"
        ));
        assert!(!scopes_vault(
            "Microsoft.Storage/storageAccounts/kv-prod",
            "kv-prod"
        ));
        assert!(!scopes_vault("kv-prod", "kv-prod"));
    }
}
