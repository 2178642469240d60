use crate::azure::docs;
use crate::lint::{Check, Fix, Input, KeyFileContext, Level, Outcome, Rule, Violation};
use crate::model::key_file::{byok, Contents, Kek};

pub static RULE: Rule = Rule {
    code: "CMK032",
    name: "byok-kek-not-on-target",
    default_level: Level::Deny,
    summary: "A BYOK file's key-exchange key is in the Key Vault the key is imported into",
    doc: include_str!("../../rules/CMK032.md"),
    url: docs::BYOK,
    reads: &[],
    breakable_in: &[Input::KeyFile],
    check: Check::KeyFile(check),
};

fn check(cx: &KeyFileContext<'_>) -> Outcome {
    let Contents::Byok(file) = &cx.file.contents else {
        return Ok(Vec::new());
    };
    let path = &cx.file.path;
    let target = cx.file.target.as_ref();
    let vault = target.map_or("<premium-vault>", |t| t.name.as_str());
    let new_kek = Fix::Replace(vec![format!(
        "az keyvault key create --vault-name {vault} --name <kek> --kty RSA-HSM --size 4096 --ops import"
    )]);
    let violation = |message: String, label: String| {
        Violation::at(cx.at(byok::KID))
            .message(message)
            .label(label)
            .help("a BYOK file imports only into the HSM that holds its key-exchange key, and the cluster can use only a key of a Premium Key Vault: create the key-exchange key there, download it, and wrap the key for it again")
            .fix(new_kek.clone())
    };
    let found = match (&file.kek, target) {
        (Some(Kek::ManagedHsm { name }), _) => Some(violation(
            format!(
                "the key-exchange key of `{path}` is in Managed HSM `{name}`, not in a Key Vault"
            ),
            "must be a key of a Premium Key Vault".to_string(),
        )),
        (Some(Kek::Vault(_)), Some(t)) if t.managed_hsm => Some(violation(
            format!(
                "`--vault` names Managed HSM `{}`: the cluster cannot use a key there",
                t.name
            ),
            format!("must be a key of a Premium Key Vault, not of `{}`", t.name),
        )),
        (Some(Kek::Vault(kek)), Some(t))
            if kek.vault != t.name || t.cloud.is_some_and(|c| kek.cloud() != Some(c)) =>
        {
            Some(violation(
                format!(
                    "the key-exchange key of `{path}` is in vault `{}`, not in `{}`",
                    kek.vault, t.name
                ),
                format!("must be a key of `{}`", t.name),
            ))
        }
        _ => None,
    };
    Ok(found.into_iter().collect())
}
