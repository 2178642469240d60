use super::{Check, Read, Rule, Subject, HOW_TO_URL};
use crate::engine::{Context, Level, Violation};
use crate::keyuri::KeyUri;

pub static RULE: Rule = Rule {
    code: "CMK017",
    name: "key-uri-invalid",
    default_level: Level::Deny,
    summary: "The key URI is a well-formed Key Vault key URI on the vault being checked",
    doc: include_str!("../../rules/CMK017.md"),
    url: HOW_TO_URL,
    unverified_at_own_level: false,
    reads: &[
        Read(Subject::Vault, "/name"),
        Read(Subject::Vault, "/properties/vaultUri"),
        Read(Subject::Key, "/name"),
    ],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Vec<Violation> {
    let key_uri = match &cx.state.key_uri {
        Ok(uri) => uri,
        Err(gap) => return vec![gap.unverified("the key URI")],
    };
    let get_kid = "get the key's URI: `az keyvault key show --vault-name <vault> --name <key> --query key.kid -o tsv`";
    let parsed = match KeyUri::parse(&key_uri.value) {
        Ok(parsed) => parsed,
        Err(e) => {
            return vec![Violation::new(
                key_uri.place.clone(),
                format!("`{}` is not a Key Vault key URI", key_uri.value),
                e.reason,
                get_kid,
            )
            .within(e.span)]
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
            found.push(
                Violation::new(
                    key_uri.place.clone(),
                    format!(
                        "the key URI points at vault `{}`, but the vault checked is `{}`",
                        parsed.vault, vault.name
                    ),
                    format!(
                        "must be on `{}`",
                        vault_host.as_deref().unwrap_or(&vault.name)
                    ),
                    get_kid,
                )
                .within(host_start..host_start + parsed.host.len()),
            );
        }
    }
    if let Ok(key) = &cx.state.key {
        if !key.name.eq_ignore_ascii_case(&parsed.name) {
            found.push(Violation::new(
                key_uri.place.clone(),
                format!(
                    "the key URI names key `{}`, but the key checked is `{}`",
                    parsed.name, key.name
                ),
                format!("must name `{}`", key.name),
                get_kid,
            ));
        }
    }
    found
}
