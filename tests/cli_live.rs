#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! `cmk-check check` and `cmk-check snapshot` against the fake ARM, as a pipeline runs them:
//! `--auth access-token` with the token in the environment.

mod common;

use assert_cmd::Command;
use common::*;
use predicates::prelude::*;
use serde_json::Value;
use wiremock::{MockServer, ResponseTemplate};

fn cmk(server: Option<&MockServer>) -> Command {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CMK_CHECK_ACCESS_TOKEN", TOKEN)
        .env_remove("CMK_CHECK_ARM_ENDPOINT")
        .env_remove("NO_GRAPHICS");
    if let Some(server) = server {
        cmd.env("CMK_CHECK_ARM_ENDPOINT", server.uri());
    }
    cmd
}

/// `check` (or `snapshot`) with the planned-cluster inputs of a fixture.
fn live_args(command: &str, snapshot: &Value) -> Vec<String> {
    let args = vec![
        command.to_string(),
        "--auth".into(),
        "access-token".into(),
        "--location".into(),
        snapshot["location"].as_str().unwrap().into(),
        "--identity".into(),
        id(&snapshot["identity"]),
        "--key".into(),
        snapshot["keyUri"].as_str().unwrap().into(),
        "--vault".into(),
        id(&snapshot["vault"]),
    ];
    args
}

fn check_args(snapshot: &Value) -> Vec<String> {
    let mut args = live_args("check", snapshot);
    args.extend(["--now".to_string(), NOW.to_string()]);
    args
}

fn run(server: &MockServer, args: &[String]) -> assert_cmd::assert::Assert {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CMK_CHECK_ACCESS_TOKEN", TOKEN)
        .env("CMK_CHECK_ARM_ENDPOINT", server.uri())
        .env_remove("NO_GRAPHICS")
        .args(args)
        .assert()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_planned_cluster_passes() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    run(&server, &check_args(&snapshot))
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules(),
        )));
    let requests = server.received_requests().await.unwrap();
    assert!(!requests.is_empty());
    for request in requests {
        let authorization = request
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(authorization, format!("Bearer {TOKEN}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_point_into_the_fetched_body() {
    let snapshot = load("fixtures/fail/CMK004-purge-protection-absent.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    run(&server, &check_args(&snapshot))
        .code(1)
        .stdout(predicate::str::contains(
            "Key Vault `kv-cmk-prod` has purge protection disabled",
        ))
        .stdout(predicate::str::contains("[vault kv-cmk-prod (ARM):"))
        .stdout(predicate::str::contains(
            "`enablePurgeProtection` is missing; must be `true`",
        ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_snapshot_gives_the_same_findings_offline() {
    let snapshot = load("fixtures/fail/CMK008-policy-uses-client-id.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    let dir = std::env::temp_dir().join(format!("cmk-check-cli-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("recorded.json");
    let mut args = live_args("snapshot", &snapshot);
    args.extend(["-o".to_string(), file.display().to_string()]);
    run(&server, &args).code(0).stdout("");

    let mut live = check_args(&snapshot);
    live.extend(["--format".to_string(), "json".to_string()]);
    let live_report: Value =
        serde_json::from_slice(&run(&server, &live).code(1).get_output().stdout).unwrap();
    let offline = Command::cargo_bin("cmk-check")
        .unwrap()
        .args([
            "check",
            "--snapshot",
            &file.display().to_string(),
            "--now",
            NOW,
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let offline_report: Value = serde_json::from_slice(&offline).unwrap();
    let codes = |r: &Value| -> Vec<(String, String)> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(codes(&live_report), codes(&offline_report));
    assert_eq!(codes(&live_report).len(), 1);
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(recorded.starts_with("{\n  \"cmkCheckSnapshot\": 1,"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_never_appears_in_any_output() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    // A rejected token is the likeliest moment to leak it into an error message.
    get(
        &server,
        &id(&snapshot["identity"]),
        ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}
        })),
    )
    .await;
    serve(&server, &snapshot).await;
    let mut runs = vec![check_args(&snapshot), live_args("snapshot", &snapshot)];
    let mut json = check_args(&snapshot);
    json.extend(["--format".to_string(), "json".to_string()]);
    runs.push(json);
    for args in runs {
        let output = run(&server, &args).get_output().clone();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!all.contains(TOKEN), "the token leaked in `{}`", args[0]);
        assert!(all.contains("did not accept the token"), "{all}");
    }
}

#[test]
fn arguments_that_do_not_parse_exit_2_pointing_at_the_bad_part() {
    let identity = "/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi";
    let key = "https://kv-cmk-prod.vault.azure.net/keys/cmk/fffffffffffffffffffffffffffffff";
    cmk(None)
        .args([
            "check",
            "--location",
            "westeurope",
            "--identity",
            identity,
            "--key",
            key,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--key is not a Key Vault key URI"))
        .stderr(predicate::str::contains(
            "a key version is 32 hexadecimal characters; this one has 31",
        ));
    cmk(None)
        .args([
            "check",
            "--location",
            "westeurope",
            "--identity",
            "subscriptions/x",
            "--key",
            key,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--identity is not a resource ID"));
    let vault = identity.replace(
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.KeyVault/managedHSMs",
    );
    cmk(None)
        .args(["check", "--location", "westeurope", "--identity", identity])
        .args([
            "--key",
            "https://kv-cmk-prod.vault.azure.net/keys/cmk",
            "--vault",
            &vault,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "expected `vaults` here, found `managedHSMs`",
        ));
}

#[test]
fn unusable_setups_exit_2_before_any_request() {
    let identity = "/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi";
    let planned = [
        "check",
        "--location",
        "westeurope",
        "--identity",
        identity,
        "--key",
        "https://kv1.vault.azure.net/keys/k",
    ];
    cmk(None)
        .args(["check", "--location", "westeurope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to check"));
    cmk(None)
        .args(planned)
        .args([
            "--auth",
            "access-token",
            "--arm-endpoint",
            "http://10.1.2.3:8080",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("uses plain http"));
    cmk(None)
        .env_remove("CMK_CHECK_ACCESS_TOKEN")
        .args(planned)
        .args(["--auth", "access-token"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CMK_CHECK_ACCESS_TOKEN"));
    cmk(None)
        .args(planned)
        .args(["--cloud", "china"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "vaults of the `china` cloud end in `vault.azure.cn`",
        ));
    cmk(None)
        .args([
            "check",
            "--snapshot",
            "fixtures/clean.json",
            "--identity",
            identity,
        ])
        .assert()
        .code(2);
}
