use super::{key_vault_name, set_property};
use crate::azure::docs;
use crate::lint::{
    Check, Context, Input, KeyFileContext, Level, Outcome, Property, Rule, Subject, Violation,
};
use crate::model::key::EXPIRES;
use crate::model::key_file::CERTIFICATE;
use crate::model::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK014",
    name: "key-expired",
    default_level: Level::Deny,
    summary: "The key's expiration date, if set, is in the future",
    doc: include_str!("../../rules/CMK014.md"),
    url: docs::CONCEPTS,
    reads: &[Property(Subject::Key, EXPIRES)],
    breakable_in: &[
        Input::Snapshot,
        Input::Template,
        Input::Terraform,
        Input::KeyFile,
    ],
    check: Check::State(check),
};

/// A new expiry a year from now.
pub(super) const EXTENSION_SECONDS: i64 = 365 * 86_400;

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("the key's expiration date")?;
    let now = unix(cx.now);
    let Some(exp) = key.body.expires().filter(|exp| *exp <= now) else {
        return Ok(Vec::new());
    };
    let until = now.saturating_add(EXTENSION_SECONDS);
    Ok(vec![Violation::at(key.at(EXPIRES))
        .message(format!(
            "key `{}` expired on {}",
            key.name,
            format_unix(exp)
        ))
        .label(format!("must be after now ({})", format_unix(now)))
        .help("extend it (here by a year), or rotate to a new version and point the cluster at it")
        .fix(set_property(
            key,
            EXPIRES,
            serde_json::json!(until),
            vec![format!(
                "az keyvault key set-attributes --vault-name {} --name {} --expires {}",
                key_vault_name(cx),
                key.name,
                format_unix(until)
            )],
        ))])
}

/// A key file's certificate: imported as a certificate, its `notAfter` becomes the key's `exp`.
pub(super) fn key_file(cx: &KeyFileContext<'_>) -> Outcome {
    let Some(cert) = super::key_file::certificate(cx) else {
        return Ok(Vec::new());
    };
    let now = unix(cx.now);
    if cert.not_after > now {
        return Ok(Vec::new());
    }
    Ok(vec![Violation::at(cx.at(&format!("{CERTIFICATE}/notAfter")))
        .message(format!(
            "the certificate in `{}` expired on {}",
            cx.file.path,
            format_unix(cert.not_after)
        ))
        .label(format!("must be after now ({})", format_unix(now)))
        .help("imported with `az keyvault certificate import`, the certificate's dates become the key's, and an expired key cannot wrap: renew the certificate, or import the key alone with `az keyvault key import --pem-file`, which sets no dates")])
}
