use super::cmk014_key_expired::EXTENSION_SECONDS;
use super::{key_vault_name, set_property};
use crate::azure::docs;
use crate::lint::{
    Check, Context, Input, KeyFileContext, Level, Outcome, Property, Rule, Subject, Violation,
};
use crate::model::key::EXPIRES;
use crate::model::key_file::CERTIFICATE;
use crate::model::time::{format_unix, unix};

pub static RULE: Rule = Rule {
    code: "CMK015",
    name: "key-expires-soon",
    default_level: Level::Warn,
    summary: "The key does not expire within the warning window",
    doc: include_str!("../../rules/CMK015.md"),
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

const SECONDS_PER_DAY: i64 = 86_400;

fn check(cx: &Context<'_>) -> Outcome {
    let key = cx.key("the key's expiration date")?;
    let now = unix(cx.now);
    let window_end = now.saturating_add(cx.expiry_warning_days.saturating_mul(SECONDS_PER_DAY));
    // Already expired is CMK014's finding.
    let Some(exp) = key
        .body
        .expires()
        .filter(|exp| *exp > now && *exp <= window_end)
    else {
        return Ok(Vec::new());
    };
    let days = exp.saturating_sub(now) / SECONDS_PER_DAY;
    let until = now.saturating_add(EXTENSION_SECONDS);
    Ok(vec![Violation::at(key.at(EXPIRES))
        .message(format!(
            "key `{}` expires on {} (in {days} day{}); the cluster becomes inaccessible then",
            key.name,
            format_unix(exp),
            if days == 1 { "" } else { "s" }
        ))
        .label(format!("must be more than {} days away", cx.expiry_warning_days))
        .help("extend it (here by a year), or rotate now and keep the old version enabled for 24 hours")
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

/// A key file's certificate that expires within the warning window.
pub(super) fn key_file(cx: &KeyFileContext<'_>) -> Outcome {
    let Some(cert) = super::key_file::certificate(cx) else {
        return Ok(Vec::new());
    };
    let now = unix(cx.now);
    let window_end = now.saturating_add(cx.expiry_warning_days.saturating_mul(SECONDS_PER_DAY));
    if cert.not_after <= now || cert.not_after > window_end {
        return Ok(Vec::new());
    }
    Ok(vec![Violation::at(cx.at(&format!("{CERTIFICATE}/notAfter")))
        .message(format!(
            "the certificate in `{}` expires on {}, within {} days",
            cx.file.path,
            format_unix(cert.not_after),
            cx.expiry_warning_days
        ))
        .label(format!("expires before {}", format_unix(window_end)))
        .help("imported with `az keyvault certificate import`, the key expires with the certificate: renew it first, or import the key alone with `az keyvault key import --pem-file`, which sets no dates")])
}
