use super::{flatten, key, key_vault_name, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};
use crate::model::key::KeyField;

pub static RULE: Rule = Rule {
    code: "CMK010",
    name: "key-type-not-rsa",
    default_level: Level::Deny,
    summary: "The key type is RSA or RSA-HSM",
    doc: include_str!("../../rules/CMK010.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[Read(Subject::Key, "/properties/kty")],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(key(cx, "the key type").map(|key| {
        let at = key.at(key.body.pointer(KeyField::Kty));
        let fix = format!(
            "create an RSA key: `az keyvault key create --vault-name {} --name <key> --kty RSA --size 3072`",
            key_vault_name(cx)
        );
        match key.body.kty.as_deref() {
            None => Some(Violation::unverified(
                at,
                format!("could not verify the type of key `{}`: its body has no `kty`", key.name),
                "must be `RSA` or `RSA-HSM`",
                "record the whole key body: `az keyvault key show --vault-name <vault> --name <key>`",
            )),
            Some(_) if key.body.is_rsa() => None,
            Some(kty) => Some(Violation::new(
                at,
                format!("key `{}` is a `{kty}` key, not RSA", key.name),
                "must be `RSA` or `RSA-HSM`",
                fix,
            )),
        }
    }))
}
