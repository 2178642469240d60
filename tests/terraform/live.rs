//! Data sources of a plan read live, through the same live source as `--cluster`: the fake ARM
//! serves the bodies of `fixtures/clean.json`.

use cmk_check::source::complete;
use predicates::prelude::*;
use wiremock::MockServer;

use super::*;

async fn fake_arm() -> (MockServer, Value) {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    // Resource Graph finds the vault of the key URI.
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ok(
            &serde_json::json!({"data": [{"id": id(&snapshot["vault"])}]}),
        ))
        .mount(&server)
        .await;
    (server, snapshot)
}

#[tokio::test(flavor = "multi_thread")]
async fn data_sources_are_read_from_azure() {
    let (server, _) = fake_arm().await;
    let args = [
        "check",
        "--terraform-plan",
        "fixtures/terraform/data-sources.json",
        "--auth",
        "access-token",
        "--now",
        NOW,
    ];
    cmk()
        .env("CMK_CHECK_ACCESS_TOKEN", TOKEN)
        .env("CMK_CHECK_ARM_ENDPOINT", server.uri())
        .args(args)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules(),
        )));
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    for wanted in [
        "/userAssignedIdentities/id-citus-cmk",
        "/vaults/kv-cmk-prod",
        "/keys/cmk-citus/versions/7f3c2a9be4d14c1f9a0b6d5e8c7f1a2b",
        "/providers/Microsoft.Insights/activityLogAlerts",
    ] {
        assert!(
            paths.iter().any(|p| p.ends_with(wanted)),
            "{wanted}: {paths:?}"
        );
    }

    // Offline, what the plan only references cannot be verified, and the gaps point into it.
    let output = cmk()
        .args(args)
        .arg("--offline")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(
        text.contains("is not declared in the plan and was not read from Azure"),
        "{text}"
    );
    assert!(text.contains("data-sources.json:"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_read_from_azure_is_not_declared() {
    let (server, _) = fake_arm().await;
    let mut plan = read("data-sources.json");
    assert!(plan.targets[0].referenced.any());
    complete::complete(
        &mut plan.targets,
        &azure(&server, std::time::Duration::from_secs(5)),
    )
    .await;
    let state = &plan.targets[0].state;
    assert!(state.identity.as_ref().unwrap().declared.is_none());
    assert!(state.vault.as_ref().unwrap().declared.is_none());
    assert!(state.key.as_ref().unwrap().declared.is_none());
    let cluster = state.cluster.as_ref().unwrap().as_ref().unwrap();
    assert!(matches!(cluster.declared, Some(Declared::Terraform { .. })));
    assert!(outcome(&reports(&plan)).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_read_fails_closed() {
    let server = MockServer::start().await;
    // Every read is refused: nothing can be verified, and nothing passes.
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(forbidden())
        .mount(&server)
        .await;
    let mut plan = read("data-sources.json");
    complete::complete(
        &mut plan.targets,
        &azure(&server, std::time::Duration::from_secs(5)),
    )
    .await;
    let found = outcome(&reports(&plan));
    assert!(!found.is_empty());
    assert!(found.iter().all(|(_, unverified)| *unverified), "{found:?}");
}
