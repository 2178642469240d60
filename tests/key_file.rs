#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! `cmk-check key-file`: every fixture of `fixtures/key-files/` read and checked, the CLI's exit
//! codes and formats, and no password or key material in any output.

mod common;

use std::collections::BTreeSet;

use assert_cmd::Command;
use cmk_check::engine::{self, Options};
use cmk_check::lint::Input;
use cmk_check::render::human::{self, Style};
use cmk_check::source::key_file::{self, KeyFileError, Password};
use predicates::prelude::*;

const PASSWORD: &str = "cmk-fixture-Pa55word";
const NOW: &str = "2026-11-27T12:00:00Z";
const DIR: &str = "fixtures/key-files";

struct Given(Option<&'static str>);

impl Password for Given {
    fn get(&mut self) -> Result<Option<String>, KeyFileError> {
        Ok(self.0.map(str::to_string))
    }
}

fn options() -> Options {
    Options::new(NOW.parse().unwrap())
}

fn read(
    name: &str,
    vault: Option<&str>,
) -> Result<cmk_check::model::key_file::KeyFile, KeyFileError> {
    let path = format!("{DIR}/{name}");
    let bytes = std::fs::read(common::root().join(&path)).unwrap();
    key_file::read(&path, &bytes, &mut Given(Some(PASSWORD)), vault)
}

fn codes(name: &str, vault: Option<&str>) -> BTreeSet<&'static str> {
    let file = read(name, vault).unwrap_or_else(|e| panic!("{name}: {e}"));
    engine::run_key_file(&file, &options())
        .findings
        .iter()
        .map(|f| f.code())
        .collect()
}

/// Each readable fixture and the codes it breaks; `[]` is a clean file.
const EXPECTED: &[(&str, &[&str])] = &[
    ("rsa-1024.pfx", &["CMK011"]),
    ("rsa-1024-password.pfx", &["CMK011"]),
    ("rsa-1024.pem", &["CMK011"]),
    ("rsa-2048.pfx", &[]),
    ("rsa-2048-password.pfx", &[]),
    ("rsa-2048.pem", &[]),
    ("rsa-2048-pkcs1.pem", &[]),
    ("rsa-2048-encrypted.pem", &[]),
    ("rsa-2048-with-certificate.pem", &[]),
    ("rsa-2048-legacy-password.pfx", &[]),
    ("rsa-3072.pfx", &[]),
    ("rsa-3072-password.pfx", &[]),
    ("rsa-3072.pem", &[]),
    ("rsa-4096.pfx", &[]),
    ("rsa-4096-password.pfx", &[]),
    ("rsa-4096.pem", &[]),
    ("ec-p256.pfx", &["CMK010"]),
    ("ec-p256-password.pfx", &["CMK010"]),
    ("ec-p256.pem", &["CMK010"]),
    ("ec-p256-sec1.pem", &["CMK010"]),
    ("rsa-2048-expired.pfx", &["CMK014"]),
    ("rsa-2048-expired.pem", &["CMK014"]),
    ("rsa-2048-not-yet-active.pfx", &["CMK013"]),
    ("two-keys.pem", &["CMK011", "CMK030"]),
    ("two-keys-password.pfx", &["CMK011", "CMK030"]),
    ("certificate-only.pfx", &["CMK030"]),
    ("certificate-only.pem", &["CMK030"]),
    ("public-key-only.pem", &["CMK030"]),
    ("key.byok", &["CMK010", "CMK011"]),
    ("malformed.byok", &["CMK010", "CMK011", "CMK031"]),
    ("kek-in-managed-hsm.byok", &["CMK010", "CMK011", "CMK032"]),
    ("key.backup", &["CMK010", "CMK011", "CMK034"]),
    ("secret.backup", &["CMK033"]),
];

#[test]
fn every_fixture_breaks_what_it_should() {
    for (name, expected) in EXPECTED {
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(codes(name, None), expected, "{name}");
    }
}

#[test]
fn every_fixture_is_listed() {
    let listed: BTreeSet<&str> = EXPECTED.iter().map(|(n, _)| *n).collect();
    let unreadable = [
        "garbage.bin",
        "not-a-key.pem",
        "not-json.byok",
        "rsa-2048-legacy-encrypted.pem",
    ];
    for entry in std::fs::read_dir(common::root().join(DIR)).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".sh") || name.ends_with(".md") || unreadable.contains(&name.as_str()) {
            continue;
        }
        assert!(listed.contains(name.as_str()), "{name} has no expectation");
    }
}

#[test]
fn a_fixture_breaks_every_rule_a_key_file_can_break() {
    let broken: BTreeSet<&str> = EXPECTED
        .iter()
        .flat_map(|(_, c)| c.iter().copied())
        .collect();
    for rule in cmk_check::rules::ALL
        .iter()
        .filter(|r| r.breakable_in.contains(&Input::KeyFile))
    {
        let vault_dependent = rule.code == "CMK015";
        assert!(
            broken.contains(rule.code) || vault_dependent,
            "no key file breaks {}",
            rule.code
        );
    }
    // CMK015 needs the clock close to the end of a certificate.
    let file = read("rsa-2048.pfx", None).unwrap();
    let mut late = options();
    late.now = "2044-12-20T00:00:00Z".parse().unwrap();
    let report = engine::run_key_file(&file, &late);
    assert_eq!(
        report.findings.iter().map(|f| f.code()).collect::<Vec<_>>(),
        ["CMK015"]
    );
}

#[test]
fn the_vault_decides_where_a_byok_file_goes() {
    let vault = |v| codes("key.byok", Some(v));
    assert!(!vault("https://kv-cmk-prod.vault.azure.net/").contains("CMK032"));
    assert!(!vault(
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv-cmk-prod"
    )
    .contains("CMK032"));
    assert!(vault("https://kv-other.vault.azure.net/").contains("CMK032"));
    assert!(vault("https://kv-cmk-prod.vault.azure.cn/").contains("CMK032"));
    assert!(vault("https://hsm.managedhsm.azure.net/").contains("CMK032"));
}

#[test]
fn only_key_file_rules_are_checked() {
    let report = engine::run_key_file(&read("rsa-2048.pfx", None).unwrap(), &options());
    let checked: Vec<&str> = report.checked.iter().map(|r| r.code).collect();
    assert_eq!(
        checked,
        [
            "CMK010", "CMK011", "CMK013", "CMK014", "CMK015", "CMK030", "CMK031", "CMK032",
            "CMK033", "CMK034"
        ]
    );
    assert_eq!(report.rules_passed, checked.len());
}

#[test]
fn passwords_are_asked_only_when_needed_and_must_be_right() {
    let bytes = |name: &str| std::fs::read(common::root().join(DIR).join(name)).unwrap();
    for name in ["rsa-2048.pfx", "rsa-2048.pem"] {
        assert!(
            key_file::read(name, &bytes(name), &mut Given(None), None).is_ok(),
            "{name}"
        );
    }
    for name in ["rsa-2048-password.pfx", "rsa-2048-encrypted.pem"] {
        let none = key_file::read(name, &bytes(name), &mut Given(None), None);
        assert!(
            matches!(none, Err(KeyFileError::NeedsPassword { .. })),
            "{name}"
        );
        let wrong = key_file::read(name, &bytes(name), &mut Given(Some("wrong")), None);
        assert!(
            matches!(wrong, Err(KeyFileError::WrongPassword { .. })),
            "{name}"
        );
    }
}

#[test]
fn human_reports() {
    common::catalog_neutral().bind(|| {
        for name in [
            "rsa-1024.pfx",
            "ec-p256.pem",
            "two-keys-password.pfx",
            "rsa-2048-expired.pfx",
            "malformed.byok",
            "kek-in-managed-hsm.byok",
            "key.backup",
            "secret.backup",
        ] {
            let report = engine::run_key_file(&read(name, None).unwrap(), &options());
            insta::assert_snapshot!(
                format!("human-{name}"),
                human::render(&report, Style::PLAIN)
            );
        }
    });
}

fn cmk() -> Command {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_GRAPHICS")
        .env_remove("NO_COLOR")
        .env("COLUMNS", "100");
    cmd
}

fn key_file(name: &str) -> Command {
    let mut cmd = cmk();
    cmd.args(["key-file", &format!("{DIR}/{name}"), "--now", NOW])
        .env("FIXTURE_PASSWORD", PASSWORD);
    cmd
}

#[test]
fn exit_codes() {
    key_file("rsa-3072.pfx")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 errors, 0 warnings"));
    key_file("rsa-1024.pfx")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("CMK011(key-size-unsupported)"));
    key_file("rsa-2048-password.pfx")
        .args(["--password-env", "FIXTURE_PASSWORD"])
        .assert()
        .code(0);
    key_file("rsa-1024.pfx")
        .args(["--fail-on", "never"])
        .assert()
        .code(0);
    key_file("rsa-1024.pfx")
        .args(["--allow", "CMK011"])
        .assert()
        .code(0);
    key_file("key.backup")
        .args(["--deny", "CMK034", "--allow", "CMK010", "--allow", "CMK011"])
        .assert()
        .code(1);
}

#[test]
fn what_cannot_be_read_is_exit_2() {
    for name in ["garbage.bin", "not-a-key.pem"] {
        key_file(name)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "is not a key file cmk-check reads",
            ))
            .stderr(predicate::str::contains("PKCS#12"))
            .stderr(predicate::str::contains(".byok"));
    }
    key_file("rsa-2048-legacy-encrypted.pem")
        .args(["--password-env", "FIXTURE_PASSWORD"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("legacy PEM encryption"))
        .stderr(predicate::str::contains("openssl pkcs8 -topk8"));
    key_file("not-json.byok")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not JSON"));
    key_file("rsa-2048-password.pfx")
        .args(["--password-env", "NOT_THE_PASSWORD"])
        .env("NOT_THE_PASSWORD", "wrong")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "wrong password for `fixtures/key-files/rsa-2048-password.pfx`",
        ));
    // No terminal to ask on, and no variable: say how to give it.
    key_file("rsa-2048-encrypted.pem")
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--password-env VAR"));
    key_file("rsa-2048-password.pfx")
        .args(["--password-env", "CMK_CHECK_UNSET_VARIABLE"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`CMK_CHECK_UNSET_VARIABLE`"));
    key_file("key.byok")
        .args(["--vault", "kv-cmk-prod"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a Key Vault"));
    key_file("missing.pfx")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("could not read"));
}

#[test]
fn every_format_renders_a_key_file_report() {
    for format in ["json", "sarif", "github", "junit"] {
        let output = key_file("kek-in-managed-hsm.byok")
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{format}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("CMK032"), "{format}: {text}");
    }
    let out = std::env::temp_dir().join(format!("cmk-key-file-{}.sarif", std::process::id()));
    key_file("malformed.byok")
        .args(["--format", "sarif", "--output", out.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("rules passed"));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).unwrap();
    let region = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        region["artifactLocation"]["uri"],
        "fixtures/key-files/malformed.byok"
    );
}

/// The base64 lines of a PEM file's key blocks.
fn key_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(common::root().join(DIR).join(name))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect()
}

#[test]
fn no_output_holds_the_password_or_key_material() {
    let mut secrets: Vec<String> = vec![PASSWORD.to_string()];
    secrets.extend(key_lines("rsa-2048.pem"));
    secrets.extend(key_lines("rsa-1024.pem"));
    secrets.extend(key_lines("ec-p256.pem"));
    secrets.extend(key_lines("rsa-2048-encrypted.pem"));
    let byok: serde_json::Value = common::load(&format!("{DIR}/malformed.byok"));
    let ciphertext = byok["ciphertext"].as_str().unwrap();
    secrets.push(ciphertext["not base64url: ".len()..][..40].to_string());
    assert!(secrets.len() > 40);
    let files = [
        "rsa-2048-password.pfx",
        "rsa-2048-encrypted.pem",
        "rsa-2048-with-certificate.pem",
        "rsa-2048-expired.pem",
        "rsa-1024-password.pfx",
        "two-keys.pem",
        "ec-p256-password.pfx",
        "malformed.byok",
        "key.backup",
    ];
    for name in files {
        for format in ["human", "json", "sarif", "github", "junit"] {
            for narrated in [false, true] {
                let mut cmd = key_file(name);
                cmd.args(["--password-env", "FIXTURE_PASSWORD", "--format", format]);
                if narrated {
                    cmd.arg("--narrated");
                }
                let output = cmd.output().unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                assert!(!text.is_empty());
                for secret in &secrets {
                    assert!(
                        !text.contains(secret.as_str()),
                        "{name} as {format} shows `{secret}`"
                    );
                }
            }
        }
    }
    // The wrong-password message does not echo what was given either.
    let output = key_file("rsa-2048-password.pfx")
        .args(["--password-env", "GIVEN"])
        .env("GIVEN", "hunter2-given-password")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hunter2-given-password"));
}

#[test]
fn explain_knows_the_key_file_rules() {
    for code in ["CMK030", "CMK031", "CMK032", "CMK033", "CMK034"] {
        cmk()
            .args(["explain", code])
            .assert()
            .code(0)
            .stdout(predicate::str::contains(format!("# {code}: ")))
            .stdout(predicate::str::contains("## How to fix"));
    }
}

fn validator(schema: &str, draft4: bool) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::root().join(schema)).unwrap())
            .unwrap();
    let mut options = jsonschema::options();
    if draft4 {
        options = options.with_draft(jsonschema::Draft::Draft4);
    }
    options.build(&schema).unwrap()
}

#[test]
fn json_and_sarif_reports_of_every_fixture_match_their_schemas() {
    let report_schema = validator("tests/schemas/cmk-check-report-v1.schema.json", false);
    let sarif_schema = validator("tests/schemas/sarif-schema-2.1.0.json", true);
    for (name, _) in EXPECTED {
        let report = engine::run_key_file(&read(name, None).unwrap(), &options());
        let json: serde_json::Value =
            serde_json::from_str(&cmk_check::render::json::render(&report).unwrap()).unwrap();
        let sarif: serde_json::Value =
            serde_json::from_str(&cmk_check::render::sarif::render(&report).unwrap()).unwrap();
        for (format, validator, instance) in [
            ("json", &report_schema, &json),
            ("sarif", &sarif_schema, &sarif),
        ] {
            let errors: Vec<String> = validator
                .iter_errors(instance)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name} as {format}: {errors:#?}");
        }
    }
}

#[test]
fn the_command_prints_the_human_report() {
    common::catalog_neutral().bind(|| {
        for name in ["rsa-2048-not-yet-active.pfx", "key.byok"] {
            let output = key_file(name)
                .args(["--vault", "https://kv-cmk-prod.vault.azure.net/"])
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(1), "{name}");
            assert!(output.stderr.is_empty(), "{name}");
            insta::assert_snapshot!(
                format!("cli-{name}"),
                String::from_utf8(output.stdout).unwrap()
            );
        }
    });
}

#[test]
fn check_does_not_run_the_key_file_rules() {
    let output = cmk()
        .args([
            "check",
            "--snapshot",
            "fixtures/clean.json",
            "--now",
            NOW,
            "--format",
            "junit",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let junit = String::from_utf8(output.stdout).unwrap();
    assert!(junit.contains("CMK010"), "{junit}");
    for code in ["CMK030", "CMK031", "CMK032", "CMK033", "CMK034"] {
        assert!(!junit.contains(code), "check ran {code}");
    }
}

#[test]
fn the_fix_script_of_a_key_file_replaces_the_key_and_runs_nothing() {
    let script = std::env::temp_dir().join(format!("cmk-key-file-fix-{}.sh", std::process::id()));
    key_file("rsa-1024.pfx")
        .arg("--fix-script")
        .arg(&script)
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::remove_file(&script).unwrap();
    assert!(text.contains("# Nothing to fix in place."), "{text}");
    assert!(text.contains("# CMK011 (error): "), "{text}");
    // The replacement key is created by hand: every line after the header is a comment.
    let body = text.split("set -euo pipefail\n").nth(1).unwrap();
    assert!(
        body.lines().all(|l| l.is_empty() || l.starts_with('#')),
        "{text}"
    );
    assert!(text.contains("openssl genpkey -algorithm RSA"), "{text}");
}
