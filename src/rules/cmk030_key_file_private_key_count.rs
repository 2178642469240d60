use crate::azure::docs;
use crate::lint::{Check, Fix, Input, KeyFileContext, Level, Outcome, Rule, Violation};
use crate::model::key_file::{Contents, KEYS};

pub static RULE: Rule = Rule {
    code: "CMK030",
    name: "key-file-private-key-count",
    default_level: Level::Deny,
    summary: "A PKCS#12 or PEM key file holds exactly one private key",
    doc: include_str!("../../rules/CMK030.md"),
    url: docs::IMPORT,
    reads: &[],
    breakable_in: &[Input::KeyFile],
    check: Check::KeyFile(check),
};

fn check(cx: &KeyFileContext<'_>) -> Outcome {
    let Contents::Keys(store) = &cx.file.contents else {
        return Ok(Vec::new());
    };
    let path = &cx.file.path;
    let (message, help) = match store.keys.len() {
        1 => return Ok(Vec::new()),
        0 => (
            format!("`{path}` holds no private key"),
            "a certificate or a public key alone cannot become a key: export the private key with its certificate",
        ),
        n => (
            format!("`{path}` holds {n} private keys"),
            "an import makes one key of one file: export the key the cluster will use to a file of its own, with its certificate",
        ),
    };
    Ok(vec![Violation::at(cx.at(KEYS))
        .message(message)
        .label("must hold exactly one private key")
        .help(help)
        .fix(Fix::Replace(vec![
            "openssl pkcs12 -export -inkey key.pem -in certificate.pem -out key.pfx".to_string(),
        ]))])
}
