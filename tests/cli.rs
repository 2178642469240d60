#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The command line as a user (or a CI pipeline) meets it: exit codes, streams, flags.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

const NOW: &str = "2026-11-27T12:00:00Z";

fn cmk() -> Command {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_GRAPHICS")
        .env_remove("NO_COLOR");
    cmd
}

fn check(snapshot: &str) -> Command {
    let mut cmd = cmk();
    cmd.args(["check", "--snapshot", snapshot, "--now", NOW]);
    cmd
}

#[test]
fn clean_snapshot_exits_0() {
    check("fixtures/clean.json")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules(),
        )))
        .stderr("");
}

#[test]
fn error_findings_exit_1() {
    check("fixtures/fail/CMK004-purge-protection-absent.json")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "Key Vault `kv-cmk-prod` has purge protection disabled",
        ))
        .stdout(predicate::str::contains(common::summary(
            1,
            0,
            1,
            common::state_rules(),
        )));
}

#[test]
fn warnings_alone_exit_0() {
    check("fixtures/fail/CMK015-expires-in-10-days.json")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("CMK015(key-expires-soon)"))
        .stdout(predicate::str::contains("0 errors, 1 warning"));
}

#[test]
fn expiry_warning_window_is_a_flag() {
    check("fixtures/fail/CMK015-expires-in-10-days.json")
        .args(["--expiry-warning-days", "5"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules(),
        )));
}

#[test]
fn missing_sections_fail_closed() {
    check("fixtures/unverified-missing-sections.json")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("could not verify"));
}

#[test]
fn the_clock_decides_date_rules() {
    // The clean key expires on 2099-01-01: a month before that it is a warning, after it an error.
    cmk()
        .args([
            "check",
            "--snapshot",
            "fixtures/clean.json",
            "--now",
            "2098-12-15T00:00:00Z",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("CMK015"));
    cmk()
        .args([
            "check",
            "--snapshot",
            "fixtures/clean.json",
            "--now",
            "2099-01-02T00:00:00+01:00",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("CMK014"));
}

#[test]
fn json_report_is_the_only_thing_on_stdout() {
    let output = check("fixtures/fail/CMK006-public-access-disabled-and-deny.json")
        .args(["--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["version"], 1);
    let findings = report["findings"].as_array().unwrap();
    let pointers: Vec<&str> = findings
        .iter()
        .map(|f| f["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/properties/networkAcls/defaultAction",
            "/properties/publicNetworkAccess"
        ]
    );
    for finding in findings {
        for field in [
            "code",
            "name",
            "severity",
            "message",
            "resource",
            "pointer",
            "help",
            "unverified",
        ] {
            assert!(finding.get(field).is_some(), "finding lacks `{field}`");
        }
        assert!(finding["resource"]
            .as_str()
            .unwrap()
            .ends_with("/vaults/kv-cmk-prod"));
    }
    assert_eq!(report["summary"]["errors"], 2);
    assert_eq!(report["summary"]["warnings"], 0);
    assert_eq!(report["summary"]["notes"], 0);
    assert_eq!(report["summary"]["rulesChecked"], common::state_rules());
}

#[test]
fn malformed_json_exits_2_pointing_at_line_and_column() {
    check("tests/inputs/malformed.json")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("is not valid JSON"))
        .stderr(predicate::str::contains("malformed.json:6:5"));
}

#[test]
fn a_value_of_the_wrong_type_is_unverified_where_it_is_written() {
    // A wrong value makes only the rules that read it unverifiable, located at the value.
    check("tests/inputs/vault-is-a-string.json")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "the `vault` section cannot be read: expected an object",
        ))
        .stdout(predicate::str::contains("vault-is-a-string.json:4:12"));
    check("tests/inputs/wrong-field-type.json")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("found the string `yes`"))
        .stdout(predicate::str::contains("wrong-field-type.json:6:32"))
        // The vault's other properties are still checked.
        .stdout(predicate::str::contains("CMK006").not())
        .stdout(predicate::str::contains("CMK007").not());
}

#[test]
fn not_a_snapshot_exits_2() {
    check("tests/inputs/not-a-snapshot.json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`cmkCheckSnapshot` is missing"));
    check("tests/inputs/future-version.json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("snapshot format 1 only"));
}

#[test]
fn unreadable_input_and_bad_flags_exit_2() {
    check("fixtures/does-not-exist.json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("could not read"));
    cmk()
        .args([
            "check",
            "--snapshot",
            "fixtures/clean.json",
            "--now",
            "yesterday",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("RFC 3339"));
    cmk()
        .args([
            "check",
            "--snapshot",
            "fixtures/clean.json",
            "--format",
            "xml",
        ])
        .assert()
        .code(2);
    cmk().args(["check"]).assert().code(2);
    cmk().args(["frobnicate"]).assert().code(2);
}

#[test]
fn rules_lists_the_catalog() {
    let output = cmk()
        .arg("rules")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert_eq!(text.lines().count(), cmk_check::rules::ALL.len());
    assert!(text
        .lines()
        .next()
        .unwrap()
        .starts_with("CMK001  identity-not-user-assigned"));
    assert!(text.contains("CMK015  key-expires-soon"));

    let output = cmk()
        .args(["rules", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let catalog: serde_json::Value = serde_json::from_slice(&output).unwrap();
    let entries = catalog.as_array().unwrap();
    assert_eq!(entries.len(), cmk_check::rules::ALL.len());
    assert_eq!(entries[14]["code"], "CMK015");
    assert_eq!(entries[14]["defaultLevel"], "warn");
    assert_eq!(entries[3]["defaultLevel"], "deny");
}

#[test]
fn explain_prints_the_rule_doc() {
    for spelling in ["CMK004", "cmk004", "purge-protection-disabled"] {
        cmk()
            .args(["explain", spelling])
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with(
                "# CMK004: purge-protection-disabled",
            ))
            .stdout(predicate::str::contains("## How to fix"));
    }
    cmk()
        .args(["explain", "CMK999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule `CMK999`"))
        .stderr(predicate::str::contains("cmk-check rules"));
}

#[test]
fn help_shows_examples() {
    for command in [
        &["check", "--help"][..],
        &["rules", "--help"],
        &["explain", "--help"],
    ] {
        cmk()
            .args(command)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Examples:"));
    }
    cmk()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Exit codes"));
}

#[test]
fn narrated_output_for_screen_readers() {
    let drawn = ['╭', '│', '─'];
    check("fixtures/fail/CMK004-purge-protection-absent.json")
        .env("NO_GRAPHICS", "1")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("purge protection disabled"))
        .stdout(predicate::function(move |s: &str| !s.contains(drawn)));
    check("fixtures/fail/CMK004-purge-protection-absent.json")
        .arg("--narrated")
        .assert()
        .stdout(predicate::function(move |s: &str| !s.contains(drawn)));
}

#[test]
fn no_colour_off_a_terminal() {
    check("fixtures/fail/CMK004-purge-protection-absent.json")
        .assert()
        .stdout(predicate::str::contains("\u{1b}[").not());
}

/// `--sarif-output` writes what `--format sarif` prints, beside the report asked for: one run
/// gives the log and the file to upload (the Action relies on it).
#[test]
fn sarif_output_is_the_sarif_report_beside_any_format() {
    let dir = std::env::temp_dir().join(format!("cmk-check-sarif-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let runs: [&[&str]; 2] = [
        &[
            "check",
            "--snapshot",
            "fixtures/fail/CMK004-purge-protection-absent.json",
        ],
        &["audit", "--snapshot", "fixtures/fleet/tenant.json"],
    ];
    for args in runs {
        let sarif = cmk()
            .args(args)
            .args(["--now", NOW, "--format", "sarif"])
            .output()
            .unwrap();
        assert_eq!(sarif.status.code(), Some(1), "{args:?}");
        let file = dir.join(format!("{}.sarif", args[0]));
        let human = cmk()
            .args(args)
            .args(["--now", NOW, "--format", "human", "--sarif-output"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(human.status.code(), Some(1), "{args:?}");
        let stdout = String::from_utf8_lossy(&human.stdout);
        // The human report on stdout, not the SARIF.
        assert!(stdout.contains("CMK00"), "{args:?}: {stdout}");
        assert!(!stdout.trim_start().starts_with('{'), "{args:?}: {stdout}");
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let printed: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
        assert_eq!(written, printed, "{args:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
