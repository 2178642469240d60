use super::{identity_properties, vault_properties, Check, Read, Rule, Subject, HOW_TO_URL};
use crate::arm;
use crate::engine::{Context, Level, Violation};

pub static RULE: Rule = Rule {
    code: "CMK009",
    name: "tenant-mismatch",
    default_level: Level::Deny,
    summary: "The identity and the key vault are in the same Microsoft Entra tenant",
    doc: include_str!("../../rules/CMK009.md"),
    url: HOW_TO_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(Subject::Vault, "/properties/tenantId"),
        Read(Subject::Identity, "/properties/tenantId"),
    ],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let requirement = "that the identity and the vault share a tenant";
    let (vault, props) = match vault_properties(cx, requirement) {
        Ok(found) => found,
        Err(unverified) => return vec![unverified],
    };
    let (identity, identity_props) = match identity_properties(cx, requirement) {
        Ok(found) => found,
        Err(unverified) => return vec![unverified],
    };
    let Some(identity_tenant) = identity_props.tenant_id.as_deref() else {
        return vec![Violation::unverified(
            identity.at("/properties/tenantId"),
            format!(
                "could not verify {requirement}: identity `{}` has no tenantId",
                identity.name
            ),
            "the identity's tenant",
            "record the whole body ARM returns: `az identity show --ids <identity-id>`",
        )];
    };
    match props.tenant_id.as_deref() {
        None => vec![Violation::unverified(
            vault.at("/properties/tenantId"),
            format!("could not verify {requirement}: Key Vault `{}` has no tenantId", vault.name),
            format!("must be `{identity_tenant}`"),
            "record the whole body ARM returns: `az keyvault show --name <vault>`",
        )],
        Some(vault_tenant) if !arm::same_guid(vault_tenant, identity_tenant) => vec![Violation::new(
            vault.at("/properties/tenantId"),
            format!(
                "Key Vault `{}` is in tenant `{vault_tenant}`, but identity `{}` is in tenant `{identity_tenant}`",
                vault.name, identity.name
            ),
            format!("must be `{identity_tenant}` (the identity's tenant)"),
            "use an identity and a vault of the same tenant: create the identity in the vault's tenant \
             (`az identity create`), or the vault in the identity's",
        )],
        Some(_) => Vec::new(),
    }
}
