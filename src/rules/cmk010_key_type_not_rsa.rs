use super::key_vault_name;
use crate::azure::docs;
use crate::lint::{
    Check, Context, Fix, Input, KeyFileContext, Level, Outcome, Property, Rule, Subject, Violation,
};
use crate::model::key::KTY;
use crate::model::key_file::KeyKind;

pub static RULE: Rule = Rule {
    code: "CMK010",
    name: "key-type-not-rsa",
    default_level: Level::Deny,
    summary: "The key type is RSA or RSA-HSM",
    doc: include_str!("../../rules/CMK010.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, KTY)],
    breakable_in: &[
        Input::Snapshot,
        Input::Template,
        Input::Terraform,
        Input::KeyFile,
    ],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("the key type")?;
    let at = key.at(KTY);
    match key.body.kty() {
        None => Err(Violation::at(at)
            .unverified()
            .message(format!("could not verify the type of key `{}`: its body has no `kty`", key.name))
            .label("must be `RSA` or `RSA-HSM`")
            .help("record the whole key body: `az keyvault key show --vault-name <vault> --name <key>`")),
        Some(_) if key.body.is_rsa() => Ok(Vec::new()),
        Some(kty) => {
            let fix = match key.declared {
                Some(_) => super::set_property(key, KTY, serde_json::json!("RSA"), Vec::new()),
                None => Fix::Replace(vec![format!(
                    "az keyvault key create --vault-name {} --name <new-key> --kty RSA --size 3072 --ops wrapKey unwrapKey",
                    key_vault_name(cx)
                )]),
            };
            Ok(vec![Violation::at(at)
                .message(format!("key `{}` is a `{kty}` key, not RSA", key.name))
                .label("must be `RSA` or `RSA-HSM`")
                .help(if key.declared.is_some() { "" } else { "a key's type cannot change: create an RSA key" })
                .fix(fix)])
        }
    }
}

/// Each private key of a key file: Key Vault would import an EC key, which the cluster cannot use.
pub(super) fn key_file(cx: &KeyFileContext<'_>) -> Outcome {
    let Some(store) = super::key_file::key_store(cx, "the key type")? else {
        return Ok(Vec::new());
    };
    Ok(store
        .keys
        .iter()
        .enumerate()
        .filter(|(_, key)| !matches!(key.kind, KeyKind::Rsa { .. }))
        .map(|(index, key)| {
            Violation::at(cx.at(&format!("{}/type", key.pointer)))
                .message(format!(
                    "{} in `{}` is of type `{}`, not RSA",
                    super::key_file::which_key(store, index),
                    cx.file.path,
                    key.kind.kty()
                ))
                .label("must be `RSA`")
                .help("the cluster wraps its data key with RSA only: generate an RSA key and export it with its certificate")
                .fix(Fix::Replace(vec![
                    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out key.pem".to_string(),
                ]))
        })
        .collect())
}
