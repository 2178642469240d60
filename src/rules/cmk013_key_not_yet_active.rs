use super::{key_vault_name, set_property};
use crate::azure::docs;
use crate::lint::{
    Check, Context, Input, KeyFileContext, Level, Outcome, Property, Rule, Subject, Violation,
};
use crate::model::key::NOT_BEFORE;
use crate::model::key_file::CERTIFICATE;
use crate::model::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK013",
    name: "key-not-yet-active",
    default_level: Level::Deny,
    summary: "The key's activation date, if set, is in the past",
    doc: include_str!("../../rules/CMK013.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, NOT_BEFORE)],
    breakable_in: &[
        Input::Snapshot,
        Input::Template,
        Input::Terraform,
        Input::KeyFile,
    ],
    check: Check::State(check),
};

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("the key's activation date")?;
    let now = unix(cx.now);
    let Some(nbf) = key.body.not_before().filter(|nbf| *nbf > now) else {
        return Ok(Vec::new());
    };
    Ok(vec![Violation::at(key.at(NOT_BEFORE))
        .message(format!(
            "key `{}` is not active until {}",
            key.name,
            format_unix(nbf)
        ))
        .label(format!("must be before now ({})", format_unix(now)))
        .help("wait until it is active, or move the activation date")
        .fix(set_property(
            key,
            NOT_BEFORE,
            serde_json::json!(now),
            vec![format!(
                "az keyvault key set-attributes --vault-name {} --name {} --not-before {}",
                key_vault_name(cx),
                key.name,
                format_unix(now)
            )],
        ))])
}

/// A key file's certificate: imported as a certificate, its `notBefore` becomes the key's `nbf`.
pub(super) fn key_file(cx: &KeyFileContext<'_>) -> Outcome {
    let Some(cert) = super::key_file::certificate(cx) else {
        return Ok(Vec::new());
    };
    let now = unix(cx.now);
    if cert.not_before <= now {
        return Ok(Vec::new());
    }
    Ok(vec![Violation::at(cx.at(&format!("{CERTIFICATE}/notBefore")))
        .message(format!(
            "the certificate in `{}` is not valid until {}",
            cx.file.path,
            format_unix(cert.not_before)
        ))
        .label(format!("must be before now ({})", format_unix(now)))
        .help("imported with `az keyvault certificate import`, the certificate's dates become the key's: a key not yet active cannot wrap; issue a certificate valid from today, or import the key alone with `az keyvault key import --pem-file`, which sets no dates")])
}
