use super::key_vault_name;
use crate::azure::docs;
use crate::lint::{Check, Context, Fix, Input, Level, Outcome, Property, Rule, Subject, Violation};
use crate::model::key::{KTY, SIZE};

pub static RULE: Rule = Rule {
    code: "CMK011",
    name: "key-size-unsupported",
    default_level: Level::Deny,
    summary: "The RSA key size is 2048, 3072 or 4096 bits",
    doc: include_str!("../../rules/CMK011.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, KTY), Property(Subject::Key, SIZE)],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
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
