#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The fleet audit against a fake tenant made of the shipped fixtures: each cluster's verdicts
//! are those of `check --cluster` on it, shared resources are one diagnostic, a denied
//! subscription or a throttled one does not stop the others, and record + replay and
//! shard + merge give what one run gives.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use assert_cmd::Command;
use cmk_check::engine::{self, Options, Report};
use cmk_check::lint::Level;
use cmk_check::render::fleet::FleetReport;
use cmk_check::source::fleet::{self, Progress, Request, Scope, Shard};
use cmk_check::source::live::target::{ResourceId, Target};
use cmk_check::source::live::{self, Azure};
use common::tenant::{Spec, Tenant};
use predicates::prelude::*;

const NOW: &str = "2026-11-27T12:00:00Z";

fn request(scope: Scope) -> Request {
    Request {
        scope,
        shard: None,
        fresh: false,
        concurrency: 8,
        now: NOW.parse().unwrap(),
    }
}

/// The audit's options: the rules it cannot check are off, as `cmk-check audit` turns them off.
fn options() -> Options {
    let mut options = Options::new(NOW.parse().unwrap());
    for (code, _) in fleet::NOT_AUDITED {
        options
            .levels
            .insert(cmk_check::rules::find(code).unwrap().code, Level::Allow);
    }
    options
}

/// A verdict: which rule, on what, where, and whether it was verified; for a violation also
/// what it says (a could-not-verify quotes the server, which words a missing resource
/// differently in Resource Graph and in ARM).
type Outcome = BTreeSet<(String, String, String, bool, String)>;

fn outcome(report: &Report) -> Outcome {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.code().to_string(),
                f.resource().to_ascii_lowercase(),
                f.pointer().to_string(),
                f.violation.unverified,
                if f.violation.unverified {
                    String::new()
                } else {
                    f.violation.message.clone()
                },
            )
        })
        .collect()
}

async fn audit(tenant: &Tenant, request: &Request) -> (fleet::Fleet, Azure) {
    let azure = common::azure(&tenant.server, Duration::from_secs(10));
    let fleet = fleet::audit(request, &azure, &Progress::default())
        .await
        .unwrap();
    (fleet, azure)
}

fn report(fleet: &fleet::Fleet) -> FleetReport {
    let clusters = fleet
        .clusters()
        .map(|(state, info)| (info, engine::run(&state, &options())));
    FleetReport::new(clusters, fleet.problems.clone())
}

#[tokio::test]
async fn every_cluster_gets_the_verdicts_of_check_cluster_on_it() {
    let tenant = Tenant::start(Spec::small(40)).await;
    let (fleet, azure) = audit(&tenant, &request(Scope::Tenant)).await;
    assert_eq!(fleet.clusters().count(), 40);
    let mut with_findings = 0;
    for (state, info) in fleet.clusters() {
        let audited = outcome(&engine::run(&state, &options()));
        let target = Target {
            cluster: Some(
                ResourceId::parse("--cluster", &info.id, cmk_check::azure::CLUSTER_TYPE).unwrap(),
            ),
            ..Target::default()
        };
        let checked = outcome(&engine::run(
            &live::read(&target, &azure).await.state,
            &options(),
        ));
        assert_eq!(audited, checked, "{}", info.id);
        with_findings += usize::from(!audited.is_empty());
    }
    // The fleet is varied: failing and passing clusters, customer- and service-managed ones.
    assert!(with_findings > 10, "{with_findings}");
    assert!(fleet.clusters().any(|(_, i)| !i.customer_managed));
    assert!(fleet
        .clusters()
        .any(|(_, i)| i.availability.as_ref().is_some_and(|a| !a.available())));
}

#[tokio::test]
async fn a_fault_shared_by_many_clusters_is_one_diagnostic_listing_them() {
    // Twenty vaults of the first fixtures, the vault-level failures among them, five
    // clusters each.
    let tenant = Tenant::start(Spec {
        vaults: 20,
        keys: 20,
        ..Spec::small(100)
    })
    .await;
    let (fleet, _) = audit(&tenant, &request(Scope::Tenant)).await;
    let report = report(&fleet);
    let widest = report
        .causes()
        .into_iter()
        .map(|c| c.clusters.len())
        .max()
        .unwrap();
    assert!(widest > 3, "no cause is shared: {widest}");
    let text = cmk_check::render::fleet::human(&report, 100);
    assert!(text.contains("clusters ("), "{text}");
    // Worst first: a cluster that is not available heads the table.
    let first_row = text
        .lines()
        .skip_while(|l| !l.starts_with("cluster "))
        .nth(1)
        .unwrap();
    assert!(first_row.contains("Unavailable"), "{first_row}");
}

#[tokio::test]
async fn a_denied_subscription_does_not_stop_the_others() {
    let tenant = Tenant::start(Spec {
        denied: Some(1),
        ..Spec::small(30)
    })
    .await;
    let (fleet, _) = audit(&tenant, &request(Scope::Tenant)).await;
    assert_eq!(fleet.clusters().count(), 30);
    let denied = &tenant.subscriptions[1];
    let problem = fleet
        .problems
        .iter()
        .find(|p| p.scope.contains(denied.as_str()))
        .unwrap();
    assert!(problem.remedy.contains("--role Reader"), "{problem:?}");
    // Clusters whose keys live in the denied subscription could not be verified, the others were.
    let report = report(&fleet);
    let unverified = report
        .clusters
        .iter()
        .filter(|c| {
            c.findings
                .iter()
                .any(|f| f.unverified && f.message.contains("403"))
        })
        .count();
    assert!(unverified > 0 && unverified < 30, "{unverified}");
}

#[tokio::test]
async fn throttled_answers_are_waited_for_and_change_nothing() {
    let calm = Tenant::start(Spec::small(30)).await;
    let bursty = Tenant::start(Spec {
        bursty: Some(0),
        throttle: true,
        ..Spec::small(30)
    })
    .await;
    let whole = |fleet: &fleet::Fleet| -> Vec<Outcome> {
        fleet
            .clusters()
            .map(|(state, _)| outcome(&engine::run(&state, &options())))
            .collect()
    };
    let (a, _) = audit(&calm, &request(Scope::Tenant)).await;
    let (b, _) = audit(&bursty, &request(Scope::Tenant)).await;
    assert_eq!(whole(&a), whole(&b));
    assert!(
        bursty
            .counts
            .throttled
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
}

#[tokio::test]
async fn each_distinct_key_is_read_once_and_its_versions_only_after_a_rotation() {
    // Every fixture's vault once, two clusters on each key.
    let tenant = Tenant::start(Spec {
        keys: 80,
        vaults: 80,
        ..Spec::small(160)
    })
    .await;
    audit(&tenant, &request(Scope::Tenant)).await;
    let now = NOW
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap()
        .timestamp();
    let rotated = tenant
        .keys_in_use
        .values()
        // A key whose creation time is unknown may have been rotated: its versions are read.
        .filter(|k| {
            k["properties"]["attributes"]["created"]
                .as_i64()
                .is_none_or(|created| now - created < 24 * 3600)
        })
        .count();
    let count = |c: &std::sync::atomic::AtomicUsize| c.load(std::sync::atomic::Ordering::Relaxed);
    assert!(tenant.keys_in_use.len() < 160 && rotated > 0, "{rotated}");
    assert_eq!(count(&tenant.counts.key_reads), tenant.keys_in_use.len());
    assert_eq!(count(&tenant.counts.version_lists), rotated);
}

#[tokio::test]
async fn a_resource_graph_answer_over_many_pages_is_read_whole() {
    let tenant = Tenant::start(Spec {
        page_rows: 7,
        ..Spec::small(45)
    })
    .await;
    let (fleet, _) = audit(&tenant, &request(Scope::Tenant)).await;
    assert_eq!(fleet.clusters().count(), 45);
    assert!(
        tenant
            .counts
            .graph
            .load(std::sync::atomic::Ordering::Relaxed)
            > 10
    );
}

#[tokio::test]
async fn a_recorded_fleet_replays_with_the_same_verdicts() {
    let tenant = Tenant::start(Spec {
        denied: Some(2),
        ..Spec::small(25)
    })
    .await;
    let (fleet, _) = audit(&tenant, &request(Scope::Tenant)).await;
    let path = std::env::temp_dir().join(format!("cmk-check-fleet-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string(&fleet.store.record()).unwrap()).unwrap();
    let replayed = fleet::replay(&path).unwrap();
    assert_eq!(report(&fleet), report(&replayed));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(common::TOKEN),
        "the recording holds the token"
    );
}

#[tokio::test]
async fn shards_merged_are_the_whole() {
    let tenant = Tenant::start(Spec {
        subscriptions: 7,
        ..Spec::small(35)
    })
    .await;
    let (whole, _) = audit(&tenant, &request(Scope::Tenant)).await;
    let mut parts = Vec::new();
    let mut seen = 0;
    for index in 1..=3 {
        let request = Request {
            shard: Some(Shard { index, count: 3 }),
            ..request(Scope::Tenant)
        };
        let (part, _) = audit(&tenant, &request).await;
        seen += part.clusters().count();
        // Through JSON, as `merge` reads them.
        let mut json = Vec::new();
        cmk_check::render::fleet::write_json(&report(&part), &mut json).unwrap();
        parts.push(serde_json::from_slice::<FleetReport>(&json).unwrap());
    }
    assert_eq!(seen, 35, "the shards overlap or miss clusters");
    assert_eq!(FleetReport::merge(parts), report(&whole));
}

#[tokio::test]
async fn subscriptions_given_bound_the_audit() {
    let tenant = Tenant::start(Spec::small(30)).await;
    let one = vec![tenant.subscriptions[0].to_uppercase()];
    let (fleet, _) = audit(&tenant, &request(Scope::Subscriptions(one))).await;
    assert_eq!(fleet.clusters().count(), 10);
    assert!(fleet.clusters().all(|(_, i)| i
        .subscription
        .eq_ignore_ascii_case(&tenant.subscriptions[0])));
}

/// How many clusters have a finding of `code`.
fn with(report: &FleetReport, code: &str) -> usize {
    report
        .clusters
        .iter()
        .filter(|c| c.findings.iter().any(|f| f.code == code))
        .count()
}

#[tokio::test]
async fn fresh_reads_what_resource_graph_lags_on_through_arm() {
    let spec = Spec {
        stale_vaults: true,
        ..Spec::small(30)
    };
    let lagging = Tenant::start(spec.clone()).await;
    let (stale, _) = audit(&lagging, &request(Scope::Tenant)).await;
    let current = Tenant::start(spec).await;
    let (fresh, _) = audit(
        &current,
        &Request {
            fresh: true,
            ..request(Scope::Tenant)
        },
    )
    .await;
    // Resource Graph's rows say purge protection is off everywhere; ARM says otherwise
    // for the vaults of every fixture but the one about purge protection.
    let (stale, fresh) = (report(&stale), report(&fresh));
    assert_eq!(
        with(&stale, "CMK004"),
        stale
            .clusters
            .iter()
            .filter(|c| c.info.customer_managed)
            .count()
    );
    assert!(
        with(&fresh, "CMK004") < with(&stale, "CMK004") / 2,
        "{}",
        with(&fresh, "CMK004")
    );
    // The vaults and identities were each read once more, through ARM.
    let reads = |t: &Tenant| {
        t.counts
            .other_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert!(
        reads(&current) > reads(&lagging) + 15,
        "{} vs {}",
        reads(&current),
        reads(&lagging)
    );
}

#[tokio::test]
async fn what_resource_graph_leaves_out_is_reported() {
    let tenant = Tenant::start(Spec {
        truncated: true,
        ..Spec::small(10)
    })
    .await;
    let (fleet, _) = audit(&tenant, &request(Scope::Tenant)).await;
    let said: Vec<&str> = fleet.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        said.iter().any(|m| m.contains("resultTruncated")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|m| m.contains("x-ms-tenant-subscription-limit-hit")),
        "{said:?}"
    );
    let text = cmk_check::render::fleet::human(&report(&fleet), 100);
    assert!(text.contains("resultTruncated"), "{text}");
}

fn cli(tenant: &Tenant) -> Command {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(std::env::temp_dir())
        .env("CMK_CHECK_ACCESS_TOKEN", common::TOKEN)
        .env_remove("GITHUB_STEP_SUMMARY")
        .args([
            "audit",
            "--auth",
            "access-token",
            "--arm-endpoint",
            &tenant.server.uri(),
            "--now",
            NOW,
        ]);
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_audits_reports_and_merges() {
    let tenant = Tenant::start(Spec::small(20)).await;
    let output = cli(&tenant)
        .args(["--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            common::root().join("tests/schemas/cmk-check-fleet-v1.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json["kind"], "fleet");
    assert_eq!(json["summary"]["clusters"], 20);
    // CMK026 is not read in bulk: it did not run, and the report says so once.
    assert!(json["rulesChecked"]
        .as_array()
        .unwrap()
        .iter()
        .all(|code| code != "CMK026"));
    let left_out = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["message"]
                .as_str()
                .unwrap()
                .starts_with("CMK026 was not checked")
        })
        .count();
    assert_eq!(left_out, 1);
    // Service-managed clusters are a note, until CMK is required.
    let service_managed = |json: &serde_json::Value| {
        json["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["customerManaged"] == false)
            .map(|c| c["findings"].as_array().unwrap().len())
            .collect::<Vec<_>>()
    };
    assert!(service_managed(&json).iter().all(|n| *n == 0));
    let required = cli(&tenant)
        .args(["--format", "json", "--require-cmk"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let required: serde_json::Value = serde_json::from_slice(&required.stdout).unwrap();
    assert!(service_managed(&required).iter().all(|n| *n == 1));

    // Shards through the command line, merged.
    let dir = std::env::temp_dir().join(format!("cmk-check-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut parts = Vec::new();
    for k in 1..=2 {
        let part = dir.join(format!("part-{k}.json"));
        cli(&tenant)
            .args(["--format", "json", "--shard", &format!("{k}/2"), "--output"])
            .arg(&part)
            .assert()
            .code(predicate::in_iter([0, 1]));
        parts.push(part);
    }
    let merged = Command::cargo_bin("cmk-check")
        .unwrap()
        .arg("merge")
        .args(&parts)
        .args(["--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(merged, json);
    for format in ["human", "sarif", "github", "junit"] {
        cli(&tenant)
            .args(["--format", format])
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty().not());
    }
    // A file that is not a fleet report.
    Command::cargo_bin("cmk-check")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["merge", "fixtures/clean.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a JSON fleet report"));
}

/// The fleet the README audits offline: recorded from the fake tenant of `benches/audit.rs`
/// (`CMK_AUDIT_SCALES=20 CMK_AUDIT_BENCH_RECORD=fixtures/fleet/tenant.json`), so that a change of
/// the recorded format that breaks replaying users' files breaks this test.
#[test]
fn the_shipped_fleet_replays_offline() {
    let output = Command::cargo_bin("cmk-check")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["audit", "--snapshot", "fixtures/fleet/tenant.json"])
        .args(["--now", common::NOW, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report: FleetReport = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report.clusters.len(), 20);
    let customer_managed = report
        .clusters
        .iter()
        .filter(|c| c.info.customer_managed)
        .count();
    assert_eq!(customer_managed, 18);
    let codes: BTreeSet<&str> = report
        .clusters
        .iter()
        .flat_map(|c| c.findings.iter().map(|f| f.code.as_str()))
        .collect();
    for code in ["CMK001", "CMK002", "CMK008", "CMK009", "CMK022"] {
        assert!(codes.contains(code), "{code} missing from {codes:?}");
    }
}
