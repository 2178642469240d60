use crate::azure::{docs, id};
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK009",
    name: "tenant-mismatch",
    default_level: Level::Deny,
    summary: "The identity and the key vault are in the same Microsoft Entra tenant",
    doc: include_str!("../../rules/CMK009.md"),
    url: docs::HOW_TO,
    reads: &[
        Property(Subject::Vault, "/properties/tenantId"),
        Property(Subject::Identity, "/properties/tenantId"),
    ],
    breakable_in: &[Input::Snapshot],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "that the identity and the vault share a tenant";
    let (vault, props) = cx.vault_properties(requirement)?;
    let identity = cx.identity(requirement)?;
    let Some(identity_tenant) = identity.body.tenant_id() else {
        return Err(Violation::at(identity.at("/properties/tenantId"))
            .unverified()
            .message(format!(
                "could not verify {requirement}: identity `{}` has no tenantId",
                identity.name
            ))
            .label("the identity's tenant")
            .help("record the whole body ARM returns: `az identity show --ids <identity-id>`"));
    };
    match props.tenant_id.as_deref() {
        None => Err(Violation::at(vault.at("/properties/tenantId"))
            .unverified()
            .message(format!("could not verify {requirement}: Key Vault `{}` has no tenantId", vault.name))
            .label(format!("must be `{identity_tenant}`"))
            .help("record the whole body ARM returns: `az keyvault show --name <vault>`")),
        Some(vault_tenant) if !id::same_guid(vault_tenant, identity_tenant) => Ok(vec![
            Violation::at(vault.at("/properties/tenantId"))
                .message(format!(
                    "Key Vault `{}` is in tenant `{vault_tenant}`, but identity `{}` is in tenant `{identity_tenant}`",
                    vault.name, identity.name
                ))
                .label(format!("must be `{identity_tenant}` (the identity's tenant)"))
                .help("use an identity and a vault of the same tenant: create the identity in the vault's tenant (`az identity create`), or the vault in the identity's"),
        ]),
        Some(_) => Ok(Vec::new()),
    }
}
