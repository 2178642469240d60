use crate::azure::docs;
use crate::azure::keyuri::KeyUri;
use crate::lint::{Check, Context, Input, Level, Outcome, Property, Rule, Subject, Violation};

pub static RULE: Rule = Rule {
    code: "CMK017",
    name: "key-uri-invalid",
    default_level: Level::Deny,
    summary: "The key URI is a well-formed Key Vault key URI on the vault being checked",
    doc: include_str!("../../rules/CMK017.md"),
    url: docs::HOW_TO,
    reads: &[
        Property(Subject::Vault, "/name"),
        Property(Subject::Vault, "/properties/vaultUri"),
        Property(Subject::Key, "/name"),
    ],
    breakable_in: &[Input::Snapshot, Input::Template, Input::Terraform],
    check: Check::State(check),
};

const GET_KID: &str = "get the key's URI:";

fn get_kid(vault: &str, key: &str) -> Vec<String> {
    vec![format!(
        "az keyvault key show --vault-name {vault} --name {key} --query key.kid -o tsv"
    )]
}

fn check(cx: &Context<'_>) -> Outcome {
    let key_uri = cx.key_uri("the key URI")?;
    let parsed = match KeyUri::parse(&key_uri.value) {
        Ok(parsed) => parsed,
        Err(e) => {
            let (mut vault, key) = KeyUri::lenient(&key_uri.value)
                .unwrap_or_else(|| ("<vault>".to_string(), "<key>".to_string()));
            let mut help = GET_KID;
            // A Managed HSM's name is no vault's: the key has to move to a Key Vault.
            if key_uri.value.to_ascii_lowercase().contains(".managedhsm.") {
                vault = "<vault-name>".to_string();
                help = "create or import the key in a Key Vault (not a Managed HSM), then get its URI:";
            }
            return Ok(vec![Violation::at(key_uri.place.clone())
                .message(format!("`{}` is not a Key Vault key URI", key_uri.value))
                .label(e.reason)
                .help(help)
                .fix(crate::lint::Fix::InPlace(get_kid(&vault, &key)))
                .within(e.span)]);
        }
    };
    let mut found = Vec::new();
    if let Ok(vault) = &cx.state.vault {
        let vault_host = vault
            .body
            .props()
            .and_then(|p| p.vault_uri.as_deref())
            .and_then(|uri| uri.split("://").nth(1))
            .map(|rest| {
                rest.split(['/', ':'])
                    .next()
                    .unwrap_or(rest)
                    .to_ascii_lowercase()
            });
        let on_vault = match &vault_host {
            Some(host) => *host == parsed.host,
            None => vault.name.eq_ignore_ascii_case(&parsed.vault),
        };
        if !on_vault {
            let host_start = "https://".len();
            let expected = vault_host.clone().unwrap_or_else(|| vault.name.clone());
            // Same name, other DNS suffix: another cloud's vault of that name.
            let message = if vault.name.eq_ignore_ascii_case(&parsed.vault) {
                format!(
                    "the key URI is on `{}`, but vault `{}` is `{expected}`",
                    parsed.host, vault.name
                )
            } else {
                format!(
                    "the key URI points at vault `{}`, but the vault checked is `{}`",
                    parsed.vault, vault.name
                )
            };
            found.push(
                Violation::at(key_uri.place.clone())
                    .message(message)
                    .label(format!("must be on `{expected}`"))
                    .help(GET_KID)
                    .fix(crate::lint::Fix::InPlace(get_kid(
                        &vault.name,
                        &parsed.name,
                    )))
                    .within(host_start..host_start + parsed.host.len()),
            );
        }
    }
    if let Ok(key) = &cx.state.key {
        if !key.name.eq_ignore_ascii_case(&parsed.name) {
            found.push(
                Violation::at(key_uri.place.clone())
                    .message(format!(
                        "the key URI names key `{}`, but the key checked is `{}`",
                        parsed.name, key.name
                    ))
                    .label(format!("must name `{}`", key.name))
                    .help(GET_KID)
                    .fix(crate::lint::Fix::InPlace(get_kid(&parsed.vault, &key.name))),
            );
        }
    }
    Ok(found)
}
