use serde_json::Value;

use crate::azure::docs;
use crate::lint::{Check, Input, KeyFileContext, Level, Outcome, Rule, Violation};
use crate::model::key_file::{byok, Byok, Ciphertext, Contents, Kek};

pub static RULE: Rule = Rule {
    code: "CMK031",
    name: "byok-file-invalid",
    default_level: Level::Deny,
    summary: "A BYOK file has the fields Key Vault's BYOK import reads",
    doc: include_str!("../../rules/CMK031.md"),
    url: docs::BYOK,
    reads: &[],
    breakable_in: &[Input::KeyFile],
    check: Check::KeyFile(check),
};

const SCHEMA_VERSION: &str = "1.0.0";
const ALG: &str = "dir";
const ENC: &str = "CKM_RSA_AES_KEY_WRAP";

/// Why a file cannot be imported, and the generator that can write a good one.
const REGENERATE: &str = "write the file again with your HSM vendor's BYOK tool, from the key-exchange key downloaded with `az keyvault key download`";

fn check(cx: &KeyFileContext<'_>) -> Outcome {
    let Contents::Byok(file) = &cx.file.contents else {
        return Ok(Vec::new());
    };
    let found = |pointer: &str, problem: String, label: &str| {
        Violation::at(cx.at(pointer))
            .message(format!("the BYOK file `{}` {problem}", cx.file.path))
            .label(label)
            .help(REGENERATE)
    };
    let mut violations = Vec::new();
    if let Some(problem) = exact(
        file.schema_version.as_ref(),
        "schema_version",
        SCHEMA_VERSION,
    ) {
        violations.push(found(byok::SCHEMA_VERSION, problem, "must be \"1.0.0\""));
    }
    if !file.header.as_ref().is_some_and(Value::is_object) {
        violations.push(found(
            byok::HEADER,
            "has no `header` object".to_string(),
            "must be an object with `kid`, `alg` and `enc`",
        ));
    } else {
        violations.extend(kid(file).map(|problem| {
            found(
                byok::KID,
                problem,
                "must be the key URI of the key-exchange key",
            )
        }));
        if let Some(problem) = exact(file.alg.as_ref(), "header.alg", ALG) {
            violations.push(found(byok::ALG, problem, "must be \"dir\""));
        }
        if let Some(problem) = exact(file.enc.as_ref(), "header.enc", ENC) {
            violations.push(found(
                byok::ENC,
                problem,
                "must be \"CKM_RSA_AES_KEY_WRAP\"",
            ));
        }
    }
    let ciphertext = match file.ciphertext {
        Ciphertext::Valid => None,
        Ciphertext::Missing => Some("has no `ciphertext`".to_string()),
        Ciphertext::NotAString => Some("has a `ciphertext` that is not a string".to_string()),
        Ciphertext::Empty => Some("has an empty `ciphertext`".to_string()),
        Ciphertext::NotBase64Url { at, found } => Some(format!(
            "has a `ciphertext` that is not base64url: `{}` at character {}",
            found.escape_default(),
            at + 1
        )),
    };
    if let Some(problem) = ciphertext {
        violations.push(found(
            byok::CIPHERTEXT,
            problem,
            "must be the wrapped key in base64url",
        ));
    }
    if file
        .generator
        .as_ref()
        .and_then(Value::as_str)
        .is_none_or(|g| g.trim().is_empty())
    {
        violations.push(found(
            byok::GENERATOR,
            "does not name its `generator`".to_string(),
            "must name the tool that wrote the file",
        ));
    }
    Ok(violations)
}

/// What is wrong with a field that must be `expected`.
fn exact(value: Option<&Value>, field: &str, expected: &str) -> Option<String> {
    match value {
        None => Some(format!("has no `{field}`")),
        Some(Value::String(s)) if s == expected => None,
        Some(Value::String(s)) => Some(format!(
            "has `{field}` \"{}\", not \"{expected}\"",
            s.escape_default()
        )),
        Some(_) => Some(format!("has a `{field}` that is not a string")),
    }
}

/// What is wrong with `header.kid`; a Managed HSM key is a key URI (CMK032 says where it is).
fn kid(file: &Byok) -> Option<String> {
    match (&file.kid, &file.kek) {
        (None, _) => Some("has no `header.kid`".to_string()),
        (Some(_), None) => Some("has a `header.kid` that is not a string".to_string()),
        (Some(_), Some(Kek::Invalid(error))) => Some(format!(
            "has a `header.kid` that is no Key Vault key URI: {}",
            error.reason
        )),
        (Some(_), Some(_)) => None,
    }
}
