use super::set_property;
use crate::azure::docs;
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::key::KTY;

pub static RULE: Rule = Rule {
    code: "CMK023",
    name: "hsm-key-needs-premium-vault",
    default_level: Level::Deny,
    summary: "An HSM-protected key (RSA-HSM) is in a vault of the Premium tier",
    doc: include_str!("../../rules/CMK023.md"),
    url: docs::KEY_TYPES,
    reads: &[
        Property(Subject::Key, KTY),
        Property(Subject::Vault, "/properties/sku"),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let requirement = "that the vault's tier can hold the key";
    let key = cx.key(requirement)?;
    if !key.body.is_hsm() {
        return Ok(Vec::new());
    }
    let (vault, props) = cx.vault_properties(requirement)?;
    let at = vault.at("/properties/sku/name");
    let kty = key.body.kty().unwrap_or_default();
    match props.sku.as_ref().and_then(|s| s.name.as_deref()) {
        Some(tier) if tier.eq_ignore_ascii_case("premium") => Ok(Vec::new()),
        Some(tier) => Ok(vec![Violation::at(at)
            .message(format!(
                "key `{}` is an `{kty}` key, but Key Vault `{}` is on the `{tier}` tier, which holds no HSM keys",
                key.name, vault.name
            ))
            .label("must be `premium`")
            .help("move the vault to the Premium tier (its keys stay), or use an `RSA` key")
            .fix(match vault.declared {
                Some(_) => set_property(vault, "/properties/sku/name", serde_json::json!("premium"), Vec::new()),
                None => Fix::InPlace(vec![format!(
                    "az keyvault update {} --set properties.sku.name=premium",
                    super::vault_args(vault)
                )]),
            })]),
        None => Err(Violation::at(at)
            .unverified()
            .message(format!(
                "could not verify {requirement}: key `{}` is an `{kty}` key and the body of Key Vault `{}` has no `sku`",
                key.name, vault.name
            ))
            .label("must be `premium`")
            .help("record the whole body ARM returns: `az keyvault show --name <vault>`")),
    }
}
