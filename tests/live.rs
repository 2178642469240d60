#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The live source against an in-process fake Azure Resource Manager on loopback, answering
//! with the bodies of the shipped fixtures (real ARM shapes).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cmk_check::azure::keyuri::KeyUri;
use cmk_check::engine::{self, Options, Report};
use cmk_check::source::live::target::{ResourceId, Target};
use cmk_check::source::live::{self, Live};
use cmk_check::source::snapshot;
use common::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn target(snapshot: &Value, with_vault: bool) -> Target {
    let raw = snapshot["keyUri"].as_str().unwrap().to_string();
    let existing = snapshot
        .get("cluster")
        .filter(|c| c.pointer("/properties/provisioningState").is_some());
    Target {
        location: snapshot["location"].as_str().map(str::to_string),
        identity: Some(ResourceId::parse_any("--identity", &id(&snapshot["identity"])).unwrap()),
        key: Some((raw.clone(), KeyUri::parse(&raw).unwrap())),
        vault: with_vault.then(|| {
            ResourceId::parse(
                "--vault",
                &id(&snapshot["vault"]),
                cmk_check::azure::VAULT_TYPE,
            )
            .unwrap()
        }),
        cluster: existing.map(|c| {
            ResourceId::parse("--cluster", &id(c), cmk_check::azure::CLUSTER_TYPE).unwrap()
        }),
        subscription: None,
        alerts_subscription: None,
    }
}

fn check(state: &cmk_check::state::State) -> Report {
    engine::run(state, &Options::new(NOW.parse().unwrap()))
}

/// (code, unverified) of each finding: what must agree between sources.
fn outcome(report: &Report) -> Vec<(String, bool)> {
    report
        .findings
        .iter()
        .map(|f| (f.code().to_string(), f.violation.unverified))
        .collect()
}

async fn read(server: &MockServer, target: &Target) -> Live {
    let azure = azure(server, Duration::from_secs(5));
    tokio::time::timeout(Duration::from_secs(60), live::read(target, &azure))
        .await
        .expect("a live read never hangs")
}

fn fixtures() -> Vec<PathBuf> {
    let mut all = vec![root().join("fixtures/clean.json")];
    let mut failing: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/fail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    failing.sort();
    all.extend(failing);
    all
}

#[tokio::test]
async fn every_fixture_read_live_gives_the_findings_of_its_snapshot() {
    let mut compared = 0;
    for file in fixtures() {
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let mut offline = load(&name);
        let Some(key_uri) = offline.get("keyUri").and_then(Value::as_str) else {
            // An existing cluster without a planned key: checked with `--cluster` (tests/audit.rs).
            continue;
        };
        if KeyUri::parse(key_uri).is_err() {
            // A malformed --key stops the command line before any request (tested in cli_live).
            continue;
        }
        if offline.get("vault").is_none() {
            // A snapshot without a vault has nothing to serve it from.
            continue;
        }
        let server = MockServer::start().await;
        serve(&server, &offline).await;
        let live = read(&server, &target(&offline, true)).await;
        // A planned cluster exists only in a template or snapshot, never in ARM.
        if offline
            .get("cluster")
            .is_some_and(|c| c.pointer("/properties/provisioningState").is_none())
        {
            offline.as_object_mut().unwrap().remove("cluster");
        }
        let not_an_identity = !offline["identity"]["type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(cmk_check::azure::IDENTITY_TYPE);
        if not_an_identity {
            // Another resource type has no identity API to read: CMK001 fails on its ID alone,
            // and what only an identity's body could tell stays unverified.
            let found = outcome(&check(&live.state));
            assert!(
                found.contains(&("CMK001".to_string(), false)),
                "{name}: {found:?}"
            );
            assert!(
                found
                    .iter()
                    .all(|(code, unverified)| code == "CMK001" || *unverified),
                "{name}: {found:?}"
            );
            compared += 1;
            continue;
        }
        let expected = outcome(&check(
            &snapshot::parse(&name, offline.to_string()).unwrap(),
        ));
        assert_eq!(
            outcome(&check(&live.state)),
            expected,
            "{name}: live and snapshot disagree"
        );
        assert!(live.unread.is_empty(), "{name}: {:?}", live.unread);

        // What `cmk-check snapshot` records gives the same findings offline.
        let recorded = snapshot::parse(
            "recorded.json",
            snapshot::write(&live.recording).to_string(),
        )
        .unwrap();
        assert_eq!(
            outcome(&check(&recorded)),
            expected,
            "{name}: the recorded snapshot disagrees"
        );
        compared += 1;
    }
    assert!(compared >= 28, "only {compared} fixtures compared");
}

#[tokio::test]
async fn the_data_plane_answers_when_arm_forbids_the_key() {
    let snapshot = load("fixtures/fail/CMK011-data-plane-1024-bit.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot, true)).await;
    let report = check(&live.state);
    assert_eq!(outcome(&report), [("CMK011".to_string(), false)]);
    assert!(report.findings[0].violation.message.contains("1024 bits"));
    // The recorded key holds its size, not its public modulus.
    let recorded = live.recording.key.clone().unwrap();
    let recorded = &recorded;
    assert_eq!(recorded["properties"]["keySize"], 1024);
    assert!(!snapshot::write(&live.recording)
        .to_string()
        .contains(snapshot["key"]["key"]["n"].as_str().unwrap()));
    // The data plane was asked with a Key Vault token, never the ARM one.
    let requests = server.received_requests().await.unwrap();
    let data_plane: Vec<&Request> = requests
        .iter()
        .filter(|r| r.url.path().starts_with("/keys/"))
        .collect();
    assert_eq!(
        data_plane.len(),
        2,
        "challenge, then the authorized request"
    );
    let authorization = data_plane[1]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        authorization,
        "Bearer token-for https://vault.azure.net/.default"
    );
}

#[tokio::test]
async fn the_vault_is_found_by_resource_graph_across_pages() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    let graph = "/providers/Microsoft.ResourceGraph/resources";
    let vault_id = id(&snapshot["vault"]);
    // ResourcesFirstPageQuery / ResourcesNextPageQuery shapes: rows in `data`, `$skipToken` on.
    Mock::given(method("POST"))
        .and(path(graph))
        .and(wiremock::matchers::body_partial_json(
            json!({"options": {"$skipToken": "page-2"}}),
        ))
        .respond_with(ok(&json!({
            "totalRecords": 2, "count": 1, "resultTruncated": "false", "facets": [],
            "data": [{"id": vault_id, "name": "kv-cmk-prod", "location": "westeurope"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(graph))
        .respond_with(ok(&json!({
            "totalRecords": 2, "count": 1, "resultTruncated": "false", "facets": [], "$skipToken": "page-2",
            "data": [{"id": vault_id.replace("kv-cmk-prod", "kv-cmk-prod-old"), "name": "kv-cmk-prod-old", "location": "westeurope"}]
        })))
        .mount(&server)
        .await;
    let mut wanted = target(&snapshot, false);
    wanted.subscription = Some("6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b".to_string());
    let live = read(&server, &wanted).await;
    assert!(check(&live.state).findings.is_empty());
    let queries: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == graph)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(queries.len(), 2);
    assert!(queries[0]["query"]
        .as_str()
        .unwrap()
        .contains("name =~ 'kv-cmk-prod'"));
    assert_eq!(
        queries[0]["subscriptions"],
        json!(["6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"])
    );
    assert_eq!(queries[1]["options"]["$skipToken"], "page-2");
}

#[tokio::test]
async fn an_unknown_vault_name_is_unverified_with_a_hint() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    Mock::given(method("POST"))
        .and(path("/providers/Microsoft.ResourceGraph/resources"))
        .respond_with(ok(&json!({"totalRecords": 0, "count": 0, "data": []})))
        .mount(&server)
        .await;
    let live = read(&server, &target(&snapshot, false)).await;
    let report = check(&live.state);
    let vault_rules: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code() == "CMK004")
        .collect();
    assert_eq!(vault_rules.len(), 1);
    assert!(vault_rules[0].violation.unverified);
    assert!(vault_rules[0]
        .violation
        .message
        .contains("shows no vault `kv-cmk-prod`"));
    assert!(vault_rules[0]
        .violation
        .help
        .contains("az keyvault list-deleted"));
}

#[tokio::test]
async fn only_get_and_the_graph_query_are_ever_sent() {
    let snapshot = load("fixtures/fail/CMK011-data-plane-1024-bit.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    Mock::given(method("POST"))
        .and(path("/providers/Microsoft.ResourceGraph/resources"))
        .respond_with(ok(&json!({"data": [{"id": id(&snapshot["vault"])}]})))
        .mount(&server)
        .await;
    read(&server, &target(&snapshot, false)).await;
    let requests = server.received_requests().await.unwrap();
    assert!(requests.len() >= 6);
    for request in requests {
        let graph = request.url.path() == "/providers/Microsoft.ResourceGraph/resources";
        assert!(
            request.method.as_str() == "GET" || (graph && request.method.as_str() == "POST"),
            "{} {} must not be sent",
            request.method,
            request.url
        );
    }
}

/// Records when each request arrived.
#[derive(Clone, Default)]
struct Arrivals(Arc<std::sync::Mutex<Vec<std::time::Instant>>>);

impl wiremock::Match for Arrivals {
    fn matches(&self, _: &Request) -> bool {
        self.0.lock().unwrap().push(std::time::Instant::now());
        true
    }
}

#[tokio::test]
async fn requests_that_do_not_depend_on_each_other_fly_together() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    let arrivals = Arrivals::default();
    let delay = Duration::from_millis(400);
    for (at, body) in planned_bodies(&snapshot) {
        Mock::given(method("GET"))
            .and(ArmPath(at))
            .and(arrivals.clone())
            .respond_with(ok(&body).set_delay(delay))
            .mount(&server)
            .await;
    }
    let live = read(&server, &target(&snapshot, true)).await;
    assert!(check(&live.state).findings.is_empty());
    // Each answer takes 400 ms: one request waiting for another would arrive 400 ms later.
    let times = arrivals.0.lock().unwrap().clone();
    // Identity, vault, key, versions, alerts and the vault's diagnostic settings.
    assert_eq!(times.len(), 6);
    let spread = times
        .iter()
        .max()
        .unwrap()
        .duration_since(*times.iter().min().unwrap());
    assert!(
        spread < delay / 2,
        "requests arrived {spread:?} apart: they waited for each other"
    );
}

#[tokio::test]
async fn a_403_names_the_action_and_the_role_and_the_other_rules_still_run() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    get(&server, &id(&snapshot["vault"]), forbidden()).await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot, true)).await;
    let report = check(&live.state);
    let vault_findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code() == "CMK006")
        .collect();
    assert_eq!(vault_findings.len(), 1);
    let finding = vault_findings[0];
    assert!(finding.violation.unverified);
    assert!(finding
        .violation
        .message
        .contains("Microsoft.KeyVault/vaults/read"));
    assert!(finding.violation.message.contains("AuthorizationFailed"));
    assert!(finding.violation.help.contains("--role Reader"));
    // Identity and key rules did not need the vault.
    for passing in ["CMK001", "CMK010", "CMK011", "CMK012", "CMK016", "CMK020"] {
        assert!(
            report.findings.iter().all(|f| f.code() != passing),
            "{passing} should pass"
        );
    }
    assert!(report.worst() == Some(cmk_check::lint::Severity::Error));
    assert!(!live.unread.is_empty());
}

#[tokio::test]
async fn a_404_vault_hints_at_soft_delete() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    get(
        &server,
        &id(&snapshot["vault"]),
        ResponseTemplate::new(404)
            .set_body_json(json!({"error": {"code": "ResourceNotFound", "message": "not found"}})),
    )
    .await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot, true)).await;
    let finding = check(&live.state)
        .findings
        .into_iter()
        .find(|f| f.code() == "CMK006")
        .unwrap();
    assert!(finding
        .violation
        .message
        .contains("ARM has no vault `kv-cmk-prod`"));
    assert!(finding.violation.help.contains("az keyvault list-deleted"));
}

#[tokio::test]
async fn throttling_is_retried_honouring_retry_after() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(id(&snapshot["vault"])))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot, true)).await;
    assert!(check(&live.state).findings.is_empty());
    let vault_requests = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == id(&snapshot["vault"]))
        .count();
    assert_eq!(vault_requests, 3, "two throttled answers, then the body");
}

#[tokio::test]
async fn server_errors_give_up_after_four_attempts() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    get(
        &server,
        &id(&snapshot["identity"]),
        ResponseTemplate::new(503),
    )
    .await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot, true)).await;
    let finding = check(&live.state)
        .findings
        .into_iter()
        .find(|f| f.code() == "CMK001")
        .unwrap();
    assert!(finding.violation.unverified);
    assert!(finding.violation.message.contains("503"));
    let attempts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == id(&snapshot["identity"]))
        .count();
    assert_eq!(attempts, 4);
}

#[tokio::test]
async fn a_slow_answer_times_out_instead_of_hanging() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    get(
        &server,
        &id(&snapshot["vault"]),
        ok(&snapshot["vault"]).set_delay(Duration::from_secs(30)),
    )
    .await;
    serve(&server, &snapshot).await;
    let azure = azure(&server, Duration::from_millis(300));
    let live = tokio::time::timeout(
        Duration::from_secs(10),
        live::read(&target(&snapshot, true), &azure),
    )
    .await
    .expect("the per-request timeout bounds the run");
    let finding = check(&live.state)
        .findings
        .into_iter()
        .find(|f| f.code() == "CMK006")
        .unwrap();
    assert!(finding.violation.unverified);
    assert!(
        finding.violation.message.contains("did not answer"),
        "{}",
        finding.violation.message
    );
}

#[tokio::test]
async fn malformed_answers_never_pass() {
    let snapshot = load("fixtures/clean.json");
    let cases = [
        (
            "an HTML page",
            ResponseTemplate::new(200).set_body_raw("<html>sign in</html>", "text/html"),
        ),
        (
            "truncated JSON",
            ResponseTemplate::new(200)
                .set_body_raw("{\"id\": \"/subscriptions/", "application/json"),
        ),
        (
            "the wrong shape",
            ok(&json!({"id": id(&snapshot["vault"]), "properties": "enabled"})),
        ),
    ];
    for (what, response) in cases {
        let server = MockServer::start().await;
        get(&server, &id(&snapshot["vault"]), response).await;
        serve(&server, &snapshot).await;
        let live = read(&server, &target(&snapshot, true)).await;
        let report = check(&live.state);
        // CMK006 needs the vault's own body: no other evidence tells its network rules.
        let finding = report.findings.iter().find(|f| f.code() == "CMK006");
        let finding = finding.unwrap_or_else(|| panic!("{what}: no CMK006 finding"));
        assert!(finding.violation.unverified, "{what}");
    }
}

#[tokio::test]
async fn key_versions_are_read_across_next_links() {
    let snapshot = load("fixtures/fail/CMK020-previous-version-disabled.json");
    let server = MockServer::start().await;
    let versions_path = format!("{}/keys/cmk-citus/versions", id(&snapshot["vault"]));
    let all = snapshot["keyVersions"].as_array().unwrap().clone();
    let next = format!(
        "{}{versions_path}?api-version=2024-11-01&$skiptoken=2",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(versions_path.clone()))
        .and(wiremock::matchers::query_param("$skiptoken", "2"))
        .respond_with(ok(&json!({"value": all[1..]})))
        .mount(&server)
        .await;
    get(
        &server,
        &versions_path,
        ok(&json!({"value": all[..1], "nextLink": next})),
    )
    .await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot, true)).await;
    assert_eq!(
        outcome(&check(&live.state)),
        [("CMK020".to_string(), false)]
    );
    assert_eq!(
        snapshot::write(&live.recording)["keyVersions"]
            .as_array()
            .unwrap()
            .len(),
        all.len()
    );
}

/// Reads `--cluster` alone from a fake ARM serving `snapshot` with `cluster` as its cluster, the
/// vault found through Resource Graph.
async fn read_through(snapshot: &Value, cluster: &Value) -> Live {
    let server = MockServer::start().await;
    let mut served = snapshot.clone();
    served["cluster"] = cluster.clone();
    serve(&server, &served).await;
    Mock::given(method("POST"))
        .and(path("/providers/Microsoft.ResourceGraph/resources"))
        .respond_with(ok(&json!({"data": [{"id": id(&snapshot["vault"])}]})))
        .mount(&server)
        .await;
    let only_cluster = Target {
        cluster: Some(
            ResourceId::parse("--cluster", &id(cluster), cmk_check::azure::CLUSTER_TYPE).unwrap(),
        ),
        ..Target::default()
    };
    read(&server, &only_cluster).await
}

#[tokio::test]
async fn an_existing_cluster_alone_gives_the_target() {
    let snapshot = load("fixtures/fail/CMK018-existing-cluster-other-key.json");
    let mut cluster = snapshot["cluster"].clone();
    // The key the cluster really uses is the clean one; the rest is read through the cluster.
    cluster["properties"]["dataEncryption"]["primaryKeyUri"] = snapshot["keyUri"].clone();
    let live = read_through(&snapshot, &cluster).await;
    assert!(
        check(&live.state).findings.is_empty(),
        "{:?}",
        outcome(&check(&live.state))
    );
    assert_eq!(
        snapshot::write(&live.recording)["location"],
        cluster["location"]
    );
    assert_eq!(
        snapshot::write(&live.recording)["keyUri"],
        snapshot["keyUri"]
    );
}

/// ARM's property names compare without case in answers too: a cluster served with
/// `dataencryption` and `primarykeyuri` is read as customer-managed, its key followed and checked.
#[tokio::test]
async fn a_cluster_answered_in_another_case_is_checked_not_skipped() {
    let snapshot = load("fixtures/fail/CMK018-existing-cluster-other-key.json");
    let mut cluster = snapshot["cluster"].clone();
    let mut encryption = cluster["properties"]
        .as_object_mut()
        .unwrap()
        .remove("dataEncryption")
        .unwrap();
    encryption.as_object_mut().unwrap().remove("primaryKeyUri");
    encryption["primarykeyuri"] = snapshot["keyUri"].clone();
    cluster["properties"]["dataencryption"] = encryption;
    let live = read_through(&snapshot, &cluster).await;
    let report = check(&live.state);
    assert!(report.findings.is_empty(), "{:?}", outcome(&report));
    // Passing because checked: the key was found through `primarykeyuri` and read.
    assert_eq!(
        snapshot::write(&live.recording)["keyUri"],
        snapshot["keyUri"]
    );
    assert!(live.state.key.is_ok());
}

#[test]
fn fixture_paths_exist() {
    assert!(Path::new(&root().join("fixtures/clean.json")).exists());
}

#[tokio::test]
async fn alerts_that_cannot_be_listed_are_unverified_warnings_naming_reader() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    get(
        &server,
        "/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/providers/Microsoft.Insights/activityLogAlerts",
        forbidden(),
    )
    .await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot, true)).await;
    let report = check(&live.state);
    let found: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.code(), f.violation.unverified, f.severity))
        .collect();
    assert_eq!(
        found,
        [("CMK021", true, cmk_check::lint::Severity::Warning)]
    );
    assert!(report.findings[0]
        .violation
        .message
        .contains("Microsoft.Insights/activityLogAlerts/read"));
    assert!(report.findings[0]
        .violation
        .help
        .contains("--role Reader --scope /subscriptions/6a1f4c2e"));
    assert!(snapshot::write(&live.recording)
        .get("activityLogAlerts")
        .is_none());
}

#[tokio::test]
async fn the_alerts_of_an_existing_clusters_subscription_are_listed_once() {
    let snapshot = load("fixtures/fail/CMK018-existing-cluster-other-key.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot, true)).await;
    let listings = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/activityLogAlerts"))
        .count();
    assert_eq!(listings, 1, "vault and cluster share a subscription");
    assert_eq!(
        snapshot::write(&live.recording)["activityLogAlerts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
