use super::key_vault_name;
use crate::azure::docs;
use crate::lint::{
    Check, Context, Fix, Input, KeyFileContext, Level, Outcome, Property, Rule, Subject, Violation,
};
use crate::model::key::{KTY, SIZE};
use crate::model::key_file::KeyKind;

pub static RULE: Rule = Rule {
    code: "CMK011",
    name: "key-size-unsupported",
    default_level: Level::Deny,
    summary: "The RSA key size is 2048, 3072 or 4096 bits",
    doc: include_str!("../../rules/CMK011.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, KTY), Property(Subject::Key, SIZE)],
    breakable_in: &[
        Input::Snapshot,
        Input::Template,
        Input::Terraform,
        Input::KeyFile,
    ],
    check: Check::State(check),
};

/// Microsoft's page also says 3071 in one place: a typo; RSA keys of 3071 bits do not exist.
const SUPPORTED: [u32; 3] = [2048, 3072, 4096];

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("the key size")?;
    // Not an RSA key: CMK010 says so; a size would mean nothing.
    if !key.body.is_rsa() {
        return Ok(Vec::new());
    }
    let at = key.at(SIZE);
    match key.body.size() {
        Some(bits) if SUPPORTED.contains(&bits) => Ok(Vec::new()),
        Some(bits) => {
            let fix = match key.declared {
                Some(_) => super::set_property(key, SIZE, serde_json::json!(3072), Vec::new()),
                None => Fix::Replace(vec![format!(
                    "az keyvault key create --vault-name {} --name {} --kty RSA --size 3072 --ops wrapKey unwrapKey",
                    key_vault_name(cx),
                    key.name
                )]),
            };
            Ok(vec![Violation::at(at)
                .message(format!("key `{}` is {bits} bits", key.name))
                .label("must be 2048, 3072 or 4096 bits")
                .help(if key.declared.is_some() { "" } else { "a key version's size cannot change: add a version of a supported size (to the cluster, a new version of its key is a rotation)" })
                .fix(fix)])
        }
        None => Err(Violation::at(at)
            .unverified()
            .message(format!("could not verify the size of key `{}`: its body gives no size", key.name))
            .label("must be 2048, 3072 or 4096 bits")
            .help("record the whole key body: `az keyvault key show --vault-name <vault> --name <key>`")),
    }
}

/// Each RSA private key of a key file.
pub(super) fn key_file(cx: &KeyFileContext<'_>) -> Outcome {
    let Some(store) = super::key_file::key_store(cx, "the key size")? else {
        return Ok(Vec::new());
    };
    Ok(store
        .keys
        .iter()
        .enumerate()
        .filter_map(|(index, key)| match key.kind {
            KeyKind::Rsa { bits } if !SUPPORTED.contains(&bits) => Some((index, key, bits)),
            _ => None,
        })
        .map(|(index, key, bits)| {
            Violation::at(cx.at(&format!("{}/size", key.pointer)))
                .message(format!(
                    "{} in `{}` is an RSA key of {bits} bits",
                    super::key_file::which_key(store, index),
                    cx.file.path
                ))
                .label("must be 2048, 3072 or 4096 bits")
                .help("a key's size is fixed when it is generated: generate a key of a supported size")
                .fix(Fix::Replace(vec![
                    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out key.pem".to_string(),
                ]))
        })
        .collect())
}
