use super::{flatten, key, key_vault_name, Check, Read, Rule, Subject, CONCEPTS_URL};
use crate::engine::{Context, Level, Violation};
use crate::model::key::{KeyField, KeySize};

pub static RULE: Rule = Rule {
    code: "CMK011",
    name: "key-size-unsupported",
    default_level: Level::Deny,
    summary: "The RSA key size is 2048, 3072 or 4096 bits",
    doc: include_str!("../../rules/CMK011.md"),
    url: CONCEPTS_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(Subject::Key, "/properties/kty"),
        Read(Subject::Key, "/properties/keySize"),
    ],
    check: Check::State(check),
};

/// Microsoft's page also says 3071 in one place: a typo; RSA keys of 3071 bits do not exist.
const SUPPORTED: [u32; 3] = [2048, 3072, 4096];

fn check(cx: &Context<'_>) -> Vec<Violation> {
    flatten(key(cx, "the key size").map(|key| {
        // Not an RSA key: CMK010 says so; a size would mean nothing.
        if !key.body.is_rsa() {
            return None;
        }
        let at = key.at(key.body.pointer(KeyField::Size));
        match key.body.size {
            KeySize::Bits(bits) if SUPPORTED.contains(&bits) => None,
            KeySize::Bits(bits) => Some(Violation::new(
                at,
                format!("key `{}` is {bits} bits", key.name),
                "must be 2048, 3072 or 4096 bits",
                format!(
                    "a key's size cannot change: create a new key, `az keyvault key create --vault-name {} --name <key> --kty RSA --size 3072`",
                    key_vault_name(cx)
                ),
            )),
            KeySize::Absent => Some(Violation::unverified(
                at,
                format!("could not verify the size of key `{}`: its body gives no size", key.name),
                "must be 2048, 3072 or 4096 bits",
                "record the whole key body: `az keyvault key show --vault-name <vault> --name <key>`",
            )),
            KeySize::Undecodable => Some(Violation::unverified(
                at,
                format!("could not verify the size of key `{}`: its modulus `n` is not base64url", key.name),
                "must be the base64url-encoded RSA modulus",
                "record the key body exactly as Key Vault returns it",
            )),
        }
    }))
}
