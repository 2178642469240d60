#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! CMK026 (the vault's audit logs) and CMK027 (the cluster's availability) from every source:
//! snapshots, live reads against the fake ARM, templates, plans and the fleet audit; and the
//! order of a report about a cluster that is not available.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmk_check::azure::keyuri::KeyUri;
use cmk_check::engine::{self, Options, Report};
use cmk_check::source::live::target::{ResourceId, Target};
use cmk_check::source::live::{self, Live};
use cmk_check::source::snapshot;
use cmk_check::source::template::{self, Placement};
use cmk_check::state::State;
use common::*;
use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const UNAVAILABLE: &str = "fixtures/fail/CMK027-unavailable-key-disabled.json";

fn check(state: &cmk_check::state::State) -> Report {
    engine::run(state, &Options::new(NOW.parse().unwrap()))
}

fn codes(report: &Report) -> Vec<(&str, bool)> {
    report
        .findings
        .iter()
        .map(|f| (f.code(), f.violation.unverified))
        .collect()
}

fn parse(name: &str, snapshot: &Value) -> Report {
    check(&snapshot::parse(name, snapshot.to_string()).unwrap())
}

/// Everything named, the existing cluster too: every read in one round trip.
fn target(snapshot: &Value) -> Target {
    let raw = snapshot["keyUri"].as_str().unwrap().to_string();
    Target {
        location: snapshot["location"].as_str().map(str::to_string),
        identity: Some(ResourceId::parse_any("--identity", &id(&snapshot["identity"])).unwrap()),
        key: Some((raw.clone(), KeyUri::parse(&raw).unwrap())),
        vault: Some(
            ResourceId::parse(
                "--vault",
                &id(&snapshot["vault"]),
                cmk_check::azure::VAULT_TYPE,
            )
            .unwrap(),
        ),
        cluster: snapshot
            .get("cluster")
            .filter(|c| c.pointer("/properties/provisioningState").is_some())
            .map(|c| {
                ResourceId::parse("--cluster", &id(c), cmk_check::azure::CLUSTER_TYPE).unwrap()
            }),
        ..Target::default()
    }
}

async fn read(server: &MockServer, target: &Target) -> Live {
    let azure = azure(server, Duration::from_secs(5));
    tokio::time::timeout(Duration::from_secs(60), live::read(target, &azure))
        .await
        .expect("a live read never hangs")
}

#[test]
fn a_cluster_that_is_not_available_comes_first_then_the_likely_causes() {
    let mut snapshot = load(UNAVAILABLE);
    // Two more findings: one a cause of lost key access (the access policy gone), one not.
    snapshot["vault"]["properties"]["softDeleteRetentionInDays"] = json!(7);
    snapshot["vault"]["properties"]["accessPolicies"] = json!([]);
    let report = parse("unavailable.json", &snapshot);
    assert_eq!(
        codes(&report),
        [
            ("CMK027", false),
            ("CMK012", false),
            ("CMK008", false),
            ("CMK005", false)
        ]
    );
    let first = &report.findings[0].violation.message;
    assert!(first.contains("`Unavailable` (Unplanned)"), "{first}");
    assert!(
        first.contains("customer-managed key cannot be accessed"),
        "{first}"
    );

    // The same findings about an available cluster keep the order of codes.
    snapshot["availability"]["properties"]["availabilityState"] = json!("Available");
    let report = parse("available.json", &snapshot);
    assert_eq!(
        codes(&report),
        [("CMK005", false), ("CMK008", false), ("CMK012", false)]
    );
}

#[test]
fn a_key_that_cannot_be_read_follows_the_named_causes() {
    let mut snapshot = load(UNAVAILABLE);
    snapshot.as_object_mut().unwrap().remove("key");
    snapshot["vault"]["properties"]["networkAcls"]["defaultAction"] = json!("Deny");
    let report = parse("no-key.json", &snapshot);
    let found = codes(&report);
    assert_eq!(found[..2], [("CMK027", false), ("CMK006", false)]);
    let unread_key = found
        .iter()
        .position(|(_, unverified)| *unverified)
        .unwrap();
    assert_eq!(unread_key, 2, "{found:?}");
    assert!(
        found[2..].iter().all(|(_, unverified)| *unverified),
        "{found:?}"
    );
}

#[test]
fn not_read_not_known_and_not_available_are_three_findings() {
    let unknown = parse(
        "unknown.json",
        &load("fixtures/existing-cluster-availability-unknown.json"),
    );
    assert_eq!(codes(&unknown), [("CMK027", true)]);
    assert!(unknown.findings[0]
        .violation
        .message
        .contains("Resource Health reports `Unknown`: We are currently unable"));

    let mut missing = load("fixtures/existing-cluster-available.json");
    missing.as_object_mut().unwrap().remove("availability");
    let missing = parse("missing.json", &missing);
    assert_eq!(codes(&missing), [("CMK027", true)]);
    assert!(missing.findings[0]
        .violation
        .message
        .contains("the snapshot has no `availability` section"));

    let unavailable = parse("unavailable.json", &load(UNAVAILABLE));
    assert_eq!(unavailable.findings[0].code(), "CMK027");
    assert!(!unavailable.findings[0].violation.unverified);

    // A planned cluster has no health to miss.
    let planned = parse("clean.json", &load("fixtures/clean.json"));
    assert!(planned.findings.is_empty());
}

#[test]
fn a_diagnostic_setting_passes_by_category_or_group_with_a_destination() {
    let clean = load("fixtures/clean.json");
    let with = |logs: Value, workspace: &str| {
        let mut snapshot = clean.clone();
        let setting = &mut snapshot["vaultDiagnosticSettings"][0]["properties"];
        setting["logs"] = logs;
        setting["workspaceId"] = json!(workspace);
        codes(&parse("setting.json", &snapshot))
            .into_iter()
            .map(|(code, unverified)| (code.to_string(), unverified))
            .collect::<Vec<_>>()
    };
    let workspace =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w";
    let fails = vec![("CMK026".to_string(), false)];
    for group in ["audit", "allLogs", "AllLogs"] {
        let logs = json!([{ "categoryGroup": group, "enabled": true }]);
        assert!(with(logs, workspace).is_empty(), "{group}");
    }
    assert!(with(
        json!([{ "category": "auditevent", "enabled": true }]),
        workspace
    )
    .is_empty());
    assert_eq!(
        with(
            json!([{ "category": "AuditEvent", "enabled": false }]),
            workspace
        ),
        fails
    );
    assert_eq!(
        with(json!([{ "category": "AuditEvent", "enabled": true }]), ""),
        fails
    );
    assert_eq!(
        with(
            json!([{ "category": "AzurePolicyEvaluationDetails", "enabled": true }]),
            workspace
        ),
        fails
    );
    let mut none = clean.clone();
    none["vaultDiagnosticSettings"] = json!([]);
    let report = parse("none.json", &none);
    assert_eq!(codes(&report), [("CMK026", false)]);
    assert!(report.findings[0]
        .violation
        .message
        .ends_with("(it has no diagnostic setting)"));
}

#[tokio::test]
async fn diagnostic_settings_that_cannot_be_read_name_monitoring_reader() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    get(&server, &diagnostics_path(&snapshot), forbidden()).await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot)).await;
    let report = check(&live.state);
    assert_eq!(codes(&report), [("CMK026", true)]);
    let finding = &report.findings[0].violation;
    assert!(finding
        .message
        .contains("Microsoft.Insights/diagnosticSettings/read"));
    assert!(finding.help.contains("--role \"Monitoring Reader\""));
    assert!(finding.help.contains(&id(&snapshot["vault"])));
    assert!(live.recording.vault_diagnostics.is_none());
    assert!(!live.unread.is_empty());
}

#[tokio::test]
async fn availability_that_cannot_be_read_is_not_unknown() {
    let snapshot = load(UNAVAILABLE);
    let server = MockServer::start().await;
    get(&server, &id(&snapshot["availability"]), forbidden()).await;
    serve(&server, &snapshot).await;
    let live = read(&server, &target(&snapshot)).await;
    let report = check(&live.state);
    // The key disabled is still found; the availability could not be read.
    assert_eq!(codes(&report), [("CMK012", false), ("CMK027", true)]);
    let finding = &report.findings[1].violation;
    assert!(finding
        .message
        .contains("Microsoft.ResourceHealth/availabilityStatuses/read"));
    assert!(!finding.message.contains("Unknown"));
}

/// Records which paths were asked for, and when.
#[derive(Clone, Default)]
struct Arrivals(Arc<std::sync::Mutex<Vec<(String, std::time::Instant)>>>);

impl wiremock::Match for Arrivals {
    fn matches(&self, request: &Request) -> bool {
        self.0.lock().unwrap().push((
            request.url.path().to_ascii_lowercase(),
            std::time::Instant::now(),
        ));
        true
    }
}

#[tokio::test]
async fn both_are_read_with_the_rest_and_recorded_in_a_snapshot() {
    let snapshot = load(UNAVAILABLE);
    let server = MockServer::start().await;
    let arrivals = Arrivals::default();
    let delay = Duration::from_millis(400);
    let mut bodies = planned_bodies(&snapshot);
    bodies.push((id(&snapshot["cluster"]), snapshot["cluster"].clone()));
    bodies.push((
        id(&snapshot["availability"]),
        snapshot["availability"].clone(),
    ));
    for (at, body) in bodies {
        Mock::given(wiremock::matchers::method("GET"))
            .and(ArmPath(at))
            .and(arrivals.clone())
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(&body)
                    .set_delay(delay),
            )
            .mount(&server)
            .await;
    }
    let live = read(&server, &target(&snapshot)).await;
    assert_eq!(
        codes(&check(&live.state)),
        [("CMK027", false), ("CMK012", false)]
    );
    let times = arrivals.0.lock().unwrap().clone();
    let asked = |path: &str| times.iter().any(|(p, _)| p == &path.to_ascii_lowercase());
    assert!(asked(&diagnostics_path(&snapshot)));
    assert!(asked(&id(&snapshot["availability"])));
    let first = times.iter().map(|(_, t)| *t).min().unwrap();
    let last = times.iter().map(|(_, t)| *t).max().unwrap();
    assert!(
        last.duration_since(first) < delay / 2,
        "the reads waited for each other"
    );

    // `cmk-check snapshot` records both sections, and reading them back gives the same report.
    let written = snapshot::write(&live.recording);
    assert_eq!(written["availability"], snapshot["availability"]);
    assert_eq!(
        written["vaultDiagnosticSettings"],
        snapshot["vaultDiagnosticSettings"]
    );
    assert_eq!(
        codes(&parse("recorded.json", &written)),
        codes(&check(&live.state))
    );
}

/// Each finding's code and whether it is unverified, over every target of a template or plan.
fn merged_outcome<'a>(states: impl Iterator<Item = &'a State>) -> Vec<(String, bool)> {
    let options = Options::new(NOW.parse().unwrap());
    let reports: Vec<Report> = states.map(|state| engine::run(state, &options)).collect();
    engine::merge(&reports)
        .findings
        .iter()
        .map(|f| (f.code().to_string(), f.violation.unverified))
        .collect()
}

fn template_outcome(change: impl FnOnce(&mut Value)) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(root().join("fixtures/templates/clean.json")).unwrap();
    let mut template: Value = serde_json::from_str(&text).unwrap();
    template["parameters"]["location"]["defaultValue"] = json!("westeurope");
    change(&mut template);
    let parsed = template::parse(
        "changed.json",
        template.to_string(),
        None,
        &Placement::default(),
    )
    .unwrap();
    merged_outcome(parsed.targets.iter().map(|t| &t.state))
}

/// The clean template's setting, taken out of its resources.
fn take_setting(template: &mut Value) -> Value {
    let resources = template["resources"].as_array_mut().unwrap();
    let at = resources
        .iter()
        .position(|r| r["type"] == "Microsoft.Insights/diagnosticSettings")
        .unwrap();
    resources.remove(at)
}

#[test]
fn a_template_declares_the_setting_as_a_child_of_the_vault_or_scoped_to_it() {
    let fails = vec![("CMK026".to_string(), false)];
    assert!(template_outcome(|_| {}).is_empty());
    assert_eq!(
        template_outcome(|t| {
            take_setting(t);
        }),
        fails
    );
    // Nested in the vault's own `resources`.
    assert!(template_outcome(|t| {
        let mut setting = take_setting(t);
        setting.as_object_mut().unwrap().remove("scope");
        setting["type"] = json!("providers/diagnosticSettings");
        setting["name"] = json!("Microsoft.Insights/cmk-key-audit");
        let resources = t["resources"].as_array_mut().unwrap();
        let vault = resources
            .iter_mut()
            .find(|r| r["type"] == "Microsoft.KeyVault/vaults")
            .unwrap();
        vault["resources"] = json!([setting]);
    })
    .is_empty());
    // Scoped to another vault.
    assert_eq!(
        template_outcome(|t| {
            let resources = t["resources"].as_array_mut().unwrap();
            let setting = resources
                .iter_mut()
                .find(|r| r["type"] == "Microsoft.Insights/diagnosticSettings")
                .unwrap();
            setting["scope"] = json!("Microsoft.KeyVault/vaults/kv-other");
        }),
        fails
    );
    // A destination known only at deployment cannot be judged.
    assert_eq!(
        template_outcome(|t| {
            t["parameters"]["workspaceId"] = json!({ "type": "string" });
            let resources = t["resources"].as_array_mut().unwrap();
            let setting = resources
                .iter_mut()
                .find(|r| r["type"] == "Microsoft.Insights/diagnosticSettings")
                .unwrap();
            setting["properties"]["workspaceId"] = json!("[parameters('workspaceId')]");
        }),
        vec![("CMK026".to_string(), true)]
    );
}

#[tokio::test]
async fn the_audit_reports_availability_and_says_once_that_it_left_cmk026_out() {
    use cmk_check::lint::Level;
    use cmk_check::source::fleet::{self, Progress, Request, Scope};
    use common::tenant::{Spec, Tenant};

    let tenant = Tenant::start(Spec::small(40)).await;
    let azure = azure(&tenant.server, Duration::from_secs(10));
    let request = Request {
        scope: Scope::Tenant,
        shard: None,
        fresh: false,
        concurrency: 16,
        now: NOW.parse().unwrap(),
    };
    let audited = fleet::audit(&request, &azure, &Progress::default())
        .await
        .unwrap();
    let left_out: Vec<_> = audited
        .problems
        .iter()
        .filter(|p| p.message.starts_with("CMK026 was not checked"))
        .collect();
    assert_eq!(left_out.len(), 1, "{:?}", audited.problems);
    assert!(left_out[0].remedy.contains("cmk-check check --cluster"));

    let mut options = Options::new(NOW.parse().unwrap());
    for (code, _) in fleet::NOT_AUDITED {
        options.levels.insert(code, Level::Allow);
    }
    let mut unavailable = 0;
    for (state, info) in audited.clusters() {
        let report = engine::run(&state, &options);
        assert!(report.findings.iter().all(|f| f.code() != "CMK026"));
        let down = info.availability.as_ref().is_some_and(|a| !a.available());
        if down && info.customer_managed {
            unavailable += 1;
            let first = &report.findings[0];
            assert_eq!(first.code(), "CMK027", "{}", info.id);
            assert!(first
                .violation
                .message
                .contains("The cluster cannot reach its key"));
        } else {
            assert!(
                report.findings.iter().all(|f| f.code() != "CMK027"),
                "{}",
                info.id
            );
        }
    }
    assert!(unavailable > 0);
}

/// The clean plan with its diagnostic setting's planned values changed by `change`.
fn plan_outcome(change: impl FnOnce(&mut Value)) -> Vec<(String, bool)> {
    use cmk_check::source::terraform::{self, Placement};
    let text = std::fs::read_to_string(root().join("fixtures/terraform/clean.json")).unwrap();
    let mut plan: Value = serde_json::from_str(&text).unwrap();
    let modules = plan["planned_values"]["root_module"]["child_modules"]
        .as_array_mut()
        .unwrap();
    let setting = modules
        .iter_mut()
        .flat_map(|m| m["resources"].as_array_mut().unwrap().iter_mut())
        .find(|r| r["type"] == "azurerm_monitor_diagnostic_setting")
        .unwrap();
    change(&mut setting["values"]);
    // A value written out is known: it is no longer `after_unknown`.
    let written: Vec<String> = setting["values"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    let changed = plan["resource_changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["type"] == "azurerm_monitor_diagnostic_setting")
        .unwrap();
    let unknown = changed["change"]["after_unknown"].as_object_mut().unwrap();
    for name in written {
        unknown.remove(&name);
    }
    let parsed =
        terraform::parse("plan.json", plan.to_string(), None, &Placement::default()).unwrap();
    merged_outcome(parsed.targets.iter().map(|t| &t.state))
}

#[test]
fn a_plan_declares_the_setting_with_enabled_log_or_the_older_log_blocks() {
    let fails = vec![("CMK026".to_string(), false)];
    assert!(plan_outcome(|_| {}).is_empty());
    assert!(plan_outcome(|v| {
        v["enabled_log"] = json!([{ "category": null, "category_group": "allLogs" }]);
    })
    .is_empty());
    // Provider 3.x: `log` blocks, which can be disabled.
    let log = |enabled: bool| {
        plan_outcome(move |v| {
            v["enabled_log"] = json!([]);
            v["log"] =
                json!([{ "category": "AuditEvent", "category_group": null, "enabled": enabled }]);
        })
    };
    assert!(log(true).is_empty());
    assert_eq!(log(false), fails);
    // Written to no destination.
    assert_eq!(
        plan_outcome(|v| v["log_analytics_workspace_id"] = Value::Null),
        fails
    );
    // Another vault's setting.
    assert_eq!(
        plan_outcome(|v| {
            v["target_resource_id"] = json!("/subscriptions/6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b/resourceGroups/rg-citus-prod/providers/Microsoft.KeyVault/vaults/kv-other");
        }),
        fails
    );
}
