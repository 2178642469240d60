#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The CI gate: `--fail-on`, rule levels from flags and from `cmk-check.toml`, and governed
//! exemptions.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const NOW: &str = "2026-11-27T12:00:00Z";
const VAULT: &str = "/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/resourceGroups/rg-citus-prod/providers/Microsoft.KeyVault/vaults/kv-cmk-prod";

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A scratch directory holding `cmk-check.toml` with `config`.
fn workdir(test: &str, config: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cmk-check-config-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cmk-check.toml"), config).unwrap();
    dir
}

fn check(dir: &Path, snapshot: &str) -> Command {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(dir)
        .env_remove("NO_GRAPHICS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["check", "--snapshot", &fixture(snapshot), "--now", NOW]);
    cmd
}

fn plain(test: &str) -> PathBuf {
    workdir(test, "")
}

fn json(assert: assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&assert.get_output().stdout).unwrap()
}

#[test]
fn fail_on_sets_the_threshold() {
    let dir = plain("fail-on");
    let warning_only = "fail/CMK015-expires-in-10-days.json";
    check(&dir, warning_only).assert().code(0);
    check(&dir, warning_only)
        .args(["--fail-on", "warning"])
        .assert()
        .code(1);
    check(&dir, warning_only)
        .args(["--fail-on", "note"])
        .assert()
        .code(1);
    check(&dir, "fail/CMK004-purge-protection-absent.json")
        .args(["--fail-on", "never"])
        .assert()
        .code(0);
    check(&dir, "clean.json")
        .args(["--fail-on", "note"])
        .assert()
        .code(0);
}

#[test]
fn level_flags_take_codes_and_names() {
    let dir = plain("levels");
    check(&dir, "fail/CMK015-expires-in-10-days.json")
        .args(["--deny", "CMK015"])
        .assert()
        .code(1);
    check(&dir, "fail/CMK004-purge-protection-absent.json")
        .args(["--warn", "purge-protection-disabled"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 errors, 1 warning"));
    check(&dir, "fail/CMK004-purge-protection-absent.json")
        .args(["--allow", "cmk004"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules() - 1,
        )));
    check(&dir, "clean.json")
        .args(["--deny", "CMK999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule `CMK999`"));
}

#[test]
fn the_config_file_is_found_in_the_working_directory_or_above() {
    let dir = workdir("discover", "[rules]\nkey-expires-soon = \"deny\"\n");
    let below = dir.join("nested/deeper");
    std::fs::create_dir_all(&below).unwrap();
    check(&below, "fail/CMK015-expires-in-10-days.json")
        .assert()
        .code(1);
    // The command line outranks the file.
    check(&below, "fail/CMK015-expires-in-10-days.json")
        .args(["--allow", "CMK015"])
        .assert()
        .code(0);
    let elsewhere = plain("discover-explicit");
    check(&elsewhere, "fail/CMK015-expires-in-10-days.json")
        .args([
            "--config",
            &dir.join("cmk-check.toml").display().to_string(),
        ])
        .assert()
        .code(1);
}

#[test]
fn expiry_warning_days_comes_from_the_config() {
    // The clean key expires 2099-01-01: 400 days before is outside 30 but inside 500.
    let dir = workdir("expiry", "expiry-warning-days = 500\n");
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(&dir)
        .args([
            "check",
            "--snapshot",
            &fixture("clean.json"),
            "--now",
            "2097-11-27T00:00:00Z",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("CMK015"));
}

#[test]
fn an_exemption_hides_its_finding_from_people_but_not_from_machines() {
    let config = format!(
        "[[exempt]]\nrule = \"purge-protection-disabled\"\nresource = \"{}\"\nreason = \"vault retired next sprint, OPS-7\"\nexpires = \"2026-12-31\"\n",
        VAULT.to_uppercase()
    );
    let dir = workdir("exempt", &config);
    let snapshot = "fail/CMK004-purge-protection-absent.json";
    check(&dir, snapshot)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("purge protection").not())
        .stdout(predicate::str::contains("0 errors, 0 warnings, 1 exempted"));
    let report = json(
        check(&dir, snapshot)
            .args(["--format", "json"])
            .assert()
            .code(0),
    );
    assert_eq!(report["findings"][0]["code"], "CMK004");
    assert_eq!(
        report["findings"][0]["exemption"]["reason"],
        "vault retired next sprint, OPS-7"
    );
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["summary"]["exempted"], 1);
    let sarif = json(
        check(&dir, snapshot)
            .args(["--format", "sarif"])
            .assert()
            .code(0),
    );
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "CMK004");
    assert_eq!(result["suppressions"][0]["kind"], "external");
    assert_eq!(
        result["suppressions"][0]["justification"],
        "vault retired next sprint, OPS-7"
    );
}

#[test]
fn an_expired_exemption_stops_applying_and_is_an_error_in_the_config() {
    let config = format!(
        "# accepted risks\n[[exempt]]\nrule = \"CMK004\"\nresource = \"{VAULT}\"\nreason = \"was due in October\"\nexpires = 2026-10-31\n"
    );
    let dir = workdir("expired", &config);
    let output = check(&dir, "fail/CMK004-purge-protection-absent.json")
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    assert!(
        stdout.contains("CMK004(purge-protection-disabled)"),
        "{stdout}"
    );
    assert!(stdout.contains("CMK901(exemption-expired)"), "{stdout}");
    assert!(
        stdout.contains("cmk-check.toml:2:"),
        "the label points into the config: {stdout}"
    );
    assert!(stdout.contains("expired on"), "{stdout}");
    assert!(stdout.contains("2026-10-31"), "{stdout}");
}

#[test]
fn an_exemption_that_matches_nothing_is_a_warning() {
    let config = "[[exempt]]\nrule = \"CMK006\"\nresource = \"/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-legacy\"\nreason = \"migration OPS-1234\"\n";
    let dir = workdir("unmatched", config);
    check(&dir, "clean.json")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("CMK900(exemption-unmatched)"))
        .stdout(predicate::str::contains("matched no finding"))
        .stdout(predicate::str::contains(common::summary(
            0,
            1,
            1,
            common::state_rules() + 2,
        )));
    check(&dir, "clean.json")
        .args(["--fail-on", "warning"])
        .assert()
        .code(1);
}

#[test]
fn mistakes_in_the_config_exit_2_pointing_into_it() {
    let cases = [
        ("unknown-key", "expiry-warning-dayz = 3\n", "unknown field"),
        ("unknown-rule", "[rules]\nCMK999 = \"deny\"\n", "there is no rule `CMK999`"),
        ("bad-level", "[rules]\nCMK004 = \"forbid\"\n", "`forbid` is not a level"),
        ("no-reason", "[[exempt]]\nrule = \"CMK004\"\nresource = \"x\"\n", "an exemption needs a reason"),
        ("empty-reason", "[[exempt]]\nrule = \"CMK004\"\nresource = \"x\"\nreason = \" \"\n", "reason is empty"),
        ("bad-date", "[[exempt]]\nrule = \"CMK004\"\nresource = \"x\"\nreason = \"r\"\nexpires = \"next year\"\n", "`expires` is not a date"),
        ("exempt-unknown-rule", "[[exempt]]\nrule = \"nope\"\nresource = \"x\"\nreason = \"r\"\n", "there is no rule `nope`"),
        ("not-toml", "[rules\n", "cmk-check.toml"),
    ];
    for (name, config, expected) in cases {
        let dir = workdir(name, config);
        check(&dir, "clean.json")
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected))
            .stderr(predicate::str::contains("cmk-check.toml:"));
    }
}

#[test]
fn output_goes_to_a_file_and_the_summary_to_stderr() {
    let dir = plain("output");
    let file = dir.join("cmk.sarif");
    check(&dir, "fail/CMK004-purge-protection-absent.json")
        .args(["--format", "sarif", "--output", &file.display().to_string()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "{}\n",
            common::summary(1, 0, 1, common::state_rules())
        ));
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn github_format_writes_the_job_summary() {
    let dir = plain("github");
    let summary = dir.join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    check(&dir, "fail/CMK004-purge-protection-absent.json")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--format", "github"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("::error file="))
        .stdout(predicate::str::contains("title=CMK004"));
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(
        markdown.starts_with("earlier step\n"),
        "the summary is appended to"
    );
    assert!(markdown.contains("CMK004"));
}

#[test]
fn the_json_report_validates_against_its_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/schemas/cmk-check-report-v1.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let exempting = format!("[[exempt]]\nrule = \"CMK004\"\nresource = \"{VAULT}\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n");
    let dir = workdir("schema", &exempting);
    let mut fixtures = vec![
        "clean.json".to_string(),
        "unverified-missing-sections.json".to_string(),
    ];
    for entry in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fail")).unwrap()
    {
        fixtures.push(format!(
            "fail/{}",
            entry.unwrap().file_name().to_string_lossy()
        ));
    }
    for name in fixtures {
        let report = json(check(&dir, &name).args(["--format", "json"]).assert());
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    // The schema is not vacuous.
    let broken = serde_json::json!({"version": 2, "findings": [{"code": "X"}], "summary": {}});
    assert!(!validator.is_valid(&broken));
}

#[test]
fn misspelt_rules_and_levels_get_a_suggestion() {
    check(&workdir("flag", ""), "clean.json")
        .args(["--deny", "purge-protection-disable"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean `purge-protection-disabled`?",
        ));
    check(
        &workdir("level", "[rules]\nCMK015 = \"error\"\n"),
        "clean.json",
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains("`error` is not a level"))
    .stderr(predicate::str::contains("did you mean `deny`?"));
}
