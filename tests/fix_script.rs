#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! `--fix-script`: for every failing fixture the script parses (`sh -n`, `bash -n`), passes
//! `shellcheck`, and, run against a stand-in `az` first on PATH, makes exactly the in-place
//! fixes of the report, each once, in an order that works; nothing else runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use common::tenant::{Spec, Tenant};
use common::tools::shellcheck;
use serde_json::Value;

const NOW: &str = "2026-11-27T12:00:00Z";

/// A directory of its own for one run.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cmk-check-fix-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An `az` that records its words, one invocation a line, and does nothing else.
const STAND_IN_AZ: &str = "#!/bin/sh\n{ printf 'az'; for word in \"$@\"; do printf ' [%s]' \"$word\"; done; printf '\\n'; } >> \"$AZ_LOG\"\n";

/// Runs the script with the stand-in `az` first on PATH; the invocations it recorded.
fn dry_run(script: &Path, dir: &Path) -> Vec<String> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(&az, STAND_IN_AZ).unwrap();
    Process::new("chmod").arg("+x").arg(&az).status().unwrap();
    let log = dir.join("az.log");
    std::fs::write(&log, "").unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let status = Process::new("bash")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("AZ_LOG", &log)
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A fix line as the stand-in records it: words split as the shell splits them.
fn invocation(line: &str) -> String {
    let mut words = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => words.push(String::new()),
            c => words.last_mut().unwrap().push(c),
        }
    }
    let words: Vec<String> = words.into_iter().filter(|w| !w.is_empty()).collect();
    let mut out = words[0].clone();
    for word in &words[1..] {
        out.push_str(&format!(" [{word}]"));
    }
    out
}

/// The in-place fixes of a JSON report the script must run: of findings that count and were
/// verified, without a value to fill in, each once, sorted.
/// `az keyvault key show ...`: a command that changes nothing is no fix to run.
fn reads_only(line: &str) -> bool {
    let verb = line
        .split_whitespace()
        .take_while(|w| !w.starts_with('-'))
        .last();
    matches!(verb, Some("show" | "list"))
}

fn expected(report: &Value) -> Vec<String> {
    let mut lines: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["exemption"].is_null() && f["unverified"] != true)
        .filter(|f| f["fix"]["kind"] == "inPlace")
        .filter(|f| {
            f["fix"]["lines"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| !l.as_str().unwrap().contains('<') && !reads_only(l.as_str().unwrap()))
        })
        .flat_map(|f| f["fix"]["lines"].as_array().unwrap().clone())
        .map(|l| invocation(l.as_str().unwrap()))
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

/// `check` on one input, writing the JSON report and the script; both read back.
fn check(input: &[&str], dir: &Path, extra: &[&str]) -> (Value, String, PathBuf) {
    let report = dir.join("report.json");
    let script = dir.join("fix.sh");
    Command::cargo_bin("cmk-check")
        .unwrap()
        .current_dir(dir)
        .arg("check")
        .args(input)
        .args(["--now", NOW, "--format", "json", "--output"])
        .arg(&report)
        .arg("--fix-script")
        .arg(&script)
        .args(extra)
        .assert()
        .code(predicates::ord::lt(2));
    let json = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    (json, std::fs::read_to_string(&script).unwrap(), script)
}

/// Each failing fixture of each input kind, with the flags that check it offline.
fn failing_fixtures() -> Vec<(PathBuf, &'static str)> {
    let mut found = Vec::new();
    for (dir, flag) in [
        ("fixtures/fail", "--snapshot"),
        ("fixtures/templates/fail", "--template"),
        ("fixtures/terraform/fail", "--terraform-plan"),
    ] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(common::root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        found.extend(paths.into_iter().map(|p| (p, flag)));
    }
    found
}

#[test]
fn every_failing_fixture_gives_a_script_that_lints_and_runs_exactly_its_fixes() {
    let fixtures = failing_fixtures();
    assert!(fixtures.len() > 80, "{} fixtures", fixtures.len());
    let mut scripts = Vec::new();
    let mut ran = 0;
    for (index, (path, flag)) in fixtures.iter().enumerate() {
        let dir = scratch(&format!("all-{index}"));
        let path = path.to_str().unwrap();
        let input: Vec<&str> = match *flag {
            "--snapshot" => vec![flag, path],
            _ => vec![flag, path, "--offline"],
        };
        let (report, text, script) = check(&input, &dir, &[]);
        assert!(text.starts_with("#!/usr/bin/env bash\n"), "{path}:\n{text}");
        assert!(text.contains("\nset -euo pipefail\n"), "{path}:\n{text}");
        for shell in ["sh", "bash"] {
            let parsed = Process::new(shell).arg("-n").arg(&script).status().unwrap();
            assert!(
                parsed.success(),
                "{shell} -n rejects the script of {path}:\n{text}"
            );
        }
        let mut recorded = dry_run(&script, &dir);
        let count = recorded.len();
        recorded.sort();
        recorded.dedup();
        assert_eq!(
            count,
            recorded.len(),
            "{path}: a command ran twice:\n{text}"
        );
        assert_eq!(recorded, expected(&report), "{path}:\n{text}");
        ran += count;
        scripts.push(script);
    }
    // The fixtures fix something: the comparison above is not of two empty lists.
    assert!(ran >= 20, "{ran} commands ran");
    let linted = Process::new(shellcheck())
        .arg("--shell=bash")
        .args(&scripts)
        .output()
        .unwrap();
    assert!(
        linted.status.success(),
        "{}",
        String::from_utf8_lossy(&linted.stdout)
    );
}

fn fixture(relative: &str) -> String {
    common::root().join(relative).to_str().unwrap().to_string()
}

#[test]
fn the_script_says_the_expected_commands_and_comments_out_the_rest() {
    let cases: &[(&str, &[&str])] = &[
        (
            "fixtures/fail/CMK003-soft-delete-disabled.json",
            &["az keyvault update --name kv-cmk-prod --resource-group rg-citus-prod --set properties.enableSoftDelete=true"],
        ),
        (
            "fixtures/fail/CMK008-no-policy.json",
            &["az keyvault set-policy --name kv-cmk-prod --resource-group rg-citus-prod --object-id 25cc773c-7f05-40fc-a104-32d2300754ad --key-permissions get wrapKey unwrapKey"],
        ),
        (
            "fixtures/fail/CMK020-previous-version-disabled.json",
            &["az keyvault key set-attributes --vault-name kv-cmk-prod --name cmk-citus --version 7f3c2a9be4d14c1f9a0b6d5e8c7f1a2b --enabled true"],
        ),
        (
            // A new vault is a decision: its command is there, commented out.
            "fixtures/fail/CMK005-retention-7-days.json",
            &[
                "# CMK005 (error): ",
                "#   it cannot be fixed where it is; create the replacement:",
                "#     az keyvault create --name <new-vault> --resource-group rg-citus-prod --location westeurope --retention-days 90",
            ],
        ),
        (
            "fixtures/fail/CMK010-ec-key.json",
            &["#     az keyvault key create --vault-name kv-cmk-prod --name <new-key> --kty RSA --size 3072"],
        ),
        (
            // The action group is the reader's to name.
            "fixtures/fail/CMK021-alert-disabled.json",
            &["#   fill in <action-group-id>, then run:", "#     az monitor activity-log alert create --name cmk-key-access-kv-cmk-prod"],
        ),
        (
            "fixtures/fail/CMK025-service-managed-cluster.json",
            &["# CMK025 (error): "],
        ),
    ];
    for (index, (relative, wanted)) in cases.iter().enumerate() {
        let dir = scratch(&format!("says-{index}"));
        let extra: &[&str] = if relative.contains("CMK025") {
            &["--require-cmk"]
        } else {
            &[]
        };
        let (_, text, _) = check(&["--snapshot", &fixture(relative)], &dir, extra);
        for line in *wanted {
            assert!(text.contains(line), "{relative} lacks `{line}`:\n{text}");
        }
        for line in text.lines() {
            let runs = !line.starts_with('#') && !line.is_empty();
            assert!(
                !runs || line.starts_with("az ") || line == "set -euo pipefail",
                "{relative}: `{line}` runs"
            );
            assert!(
                !(runs && line.contains(" create ")),
                "{relative}: `{line}` runs"
            );
        }
    }
}

/// A snapshot of `fixtures/clean.json` with its vault and key changed by `edit`.
fn edited(dir: &Path, edit: impl FnOnce(&mut Value)) -> String {
    let mut snapshot = common::load("fixtures/clean.json");
    edit(&mut snapshot);
    let path = dir.join("state.json");
    std::fs::write(&path, serde_json::to_string_pretty(&snapshot).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn the_permission_model_comes_before_the_access_policy_and_the_key() {
    let dir = scratch("order");
    let state = edited(&dir, |s| {
        let vault = &mut s["vault"]["properties"];
        vault["enableRbacAuthorization"] = true.into();
        vault["accessPolicies"] = serde_json::json!([]);
        vault["publicNetworkAccess"] = "Disabled".into();
        s["key"]["properties"]["attributes"]["enabled"] = false.into();
    });
    let (report, text, script) = check(&["--snapshot", &state], &dir, &[]);
    let recorded = dry_run(&script, &dir);
    let position = |prefix: &str| {
        recorded
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in {recorded:#?}\n{text}"))
    };
    let rbac = position("az [keyvault] [update] [--name] [kv-cmk-prod] [--resource-group] [rg-citus-prod] [--enable-rbac-authorization]");
    let network = position("az [keyvault] [update] [--name] [kv-cmk-prod] [--resource-group] [rg-citus-prod] [--public-network-access]");
    let policy = position("az [keyvault] [set-policy]");
    let key = position("az [keyvault] [key] [set-attributes]");
    assert!(
        rbac < policy && network < policy && policy < key,
        "{recorded:#?}"
    );
    // Whoever managed the key through an RBAC role is told, before the key command, to give
    // themselves an access policy: the switch ended their role's data-plane access.
    let switch = text.find("--enable-rbac-authorization").unwrap();
    let note = text
        .find("# Vault `kv-cmk-prod` now authorizes by access policy only")
        .unwrap();
    let set_attributes = text.find("\naz keyvault key set-attributes").unwrap();
    assert!(switch < note && note < set_attributes, "{text}");
    let mut sorted = recorded.clone();
    sorted.sort();
    assert_eq!(sorted, expected(&report));
    // Running it twice runs the same commands again: each sets a value, none creates.
    assert_eq!(dry_run(&script, &dir), recorded);
}

#[test]
fn a_name_from_the_input_stays_one_word() {
    let dir = scratch("hostile");
    let state = edited(&dir, |s| {
        s["vault"]["name"] = "kv$(touch${IFS}pwned);touch${IFS}pwned`touch${IFS}pwned`'x".into();
        s["vault"]["properties"]["enableSoftDelete"] = false.into();
    });
    let (_, text, script) = check(&["--snapshot", &state], &dir, &[]);
    let recorded = dry_run(&script, &dir);
    assert!(!dir.join("pwned").exists(), "{text}");
    assert!(
        recorded
            .iter()
            .any(|l| l.contains(" [kv$(touch${IFS}pwned);touch${IFS}pwned`touch${IFS}pwned`'x] ")),
        "{recorded:#?}\n{text}"
    );
}

#[test]
fn exempted_and_unverified_findings_run_nothing() {
    let dir = scratch("exempt");
    std::fs::write(
        dir.join("cmk-check.toml"),
        "[[exempt]]\nrule = \"CMK003\"\nresource = \"/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/resourceGroups/rg-citus-prod/providers/Microsoft.KeyVault/vaults/kv-cmk-prod\"\nreason = \"ticket OPS-1\"\n",
    )
    .unwrap();
    let (report, text, script) = check(
        &[
            "--snapshot",
            &fixture("fixtures/fail/CMK003-soft-delete-disabled.json"),
        ],
        &dir,
        &[],
    );
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| !f["exemption"].is_null()));
    assert!(!text.contains("CMK003"), "{text}");
    assert_eq!(dry_run(&script, &dir), Vec::<String>::new());

    let dir = scratch("unverified");
    let (_, text, script) = check(
        &[
            "--snapshot",
            &fixture("fixtures/unverified-missing-sections.json"),
        ],
        &dir,
        &[],
    );
    assert!(
        text.contains("# Could not verify: check these by hand"),
        "{text}"
    );
    assert_eq!(dry_run(&script, &dir), Vec::<String>::new());
}

#[test]
fn the_bicep_format_gives_the_template_edits() {
    let dir = scratch("bicep");
    let template = fixture("fixtures/templates/fail/CMK004-purge-protection-absent.json");
    let (_, text, _) = check(
        &["--template", &template, "--offline"],
        &dir,
        &["--fix-format", "bicep"],
    );
    assert!(
        text.starts_with("// Written by `cmk-check --fix-script --fix-format bicep`"),
        "{text}"
    );
    assert!(text.contains("\n// Resource: /subscriptions/"), "{text}");
    assert!(text.contains("\n// CMK004 (error): "), "{text}");
    assert!(
        text.contains("\n\"properties\": {\"enablePurgeProtection\": true}\n"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fleet_script_fixes_a_shared_vault_once() {
    let tenant = Tenant::start(Spec::small(20)).await;
    let dir = scratch("fleet");
    let script = dir.join("fix.sh");
    let report = dir.join("report.json");
    Command::cargo_bin("cmk-check")
        .unwrap()
        .current_dir(&dir)
        .env("CMK_CHECK_ACCESS_TOKEN", common::TOKEN)
        .args([
            "audit",
            "--auth",
            "access-token",
            "--arm-endpoint",
            &tenant.server.uri(),
        ])
        .args(["--now", NOW, "--format", "json", "--output"])
        .arg(&report)
        .arg("--fix-script")
        .arg(&script)
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&script).unwrap();
    let recorded = dry_run(&script, &dir);
    let mut unique = recorded.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), recorded.len(), "{text}");
    // The fleet report's in-place fixes, each once, however many clusters share the resource.
    let fleet: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let findings: Vec<Value> = fleet["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().clone())
        .collect();
    let wanted = expected(&serde_json::json!({ "findings": findings }));
    assert!(!wanted.is_empty());
    // Clusters share vaults and keys: the report repeats their fixes, cluster by cluster.
    let repeated = findings
        .iter()
        .filter(|f| !expected(&serde_json::json!({ "findings": [f] })).is_empty())
        .count();
    assert!(repeated > wanted.len(), "no fix is shared: {repeated}");
    assert_eq!(unique, wanted, "{text}");
    let linted = Process::new(shellcheck()).arg(&script).output().unwrap();
    assert!(
        linted.status.success(),
        "{}",
        String::from_utf8_lossy(&linted.stdout)
    );
}
