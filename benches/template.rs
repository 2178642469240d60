//! A large template checked offline (issue target: a 2,000-line template with 20 clusters in
//! under 50 ms): the clean template's cluster repeated 20 times, each with its own identity, key
//! and Resource Health alert.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark stops on a broken setup"
)]

use std::hint::black_box;
use std::path::Path;

use cmk_check::engine::{self, Options};
use cmk_check::source::template::{self, Placement};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

/// The clean template with `clusters` clusters and identities instead of one.
fn large_template(clusters: usize) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/templates/clean.json");
    let mut template: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    template["parameters"]["location"]["defaultValue"] = json!("westeurope");
    let resources = template["resources"].as_array().unwrap().clone();
    let is = |r: &Value, kind: &str| r["type"].as_str().unwrap().eq_ignore_ascii_case(kind);
    let cluster = resources
        .iter()
        .find(|r| is(r, "Microsoft.DBforPostgreSQL/serverGroupsv2"))
        .unwrap()
        .clone();
    let identity = resources
        .iter()
        .find(|r| is(r, "Microsoft.ManagedIdentity/userAssignedIdentities"))
        .unwrap()
        .clone();
    let policies = resources
        .iter()
        .find(|r| is(r, "Microsoft.KeyVault/vaults/accessPolicies"))
        .unwrap()
        .clone();
    let key = resources
        .iter()
        .find(|r| is(r, "Microsoft.KeyVault/vaults/keys"))
        .unwrap()
        .clone();
    let health = resources
        .iter()
        .find(|r| r["name"] == "citus-resource-health")
        .unwrap()
        .clone();
    let mut out: Vec<Value> = resources
        .into_iter()
        .filter(|r| {
            !is(r, "Microsoft.DBforPostgreSQL/serverGroupsv2")
                && !is(r, "Microsoft.KeyVault/vaults/accessPolicies")
        })
        .collect();
    let mut granted = Vec::new();
    for i in 0..clusters {
        let text = |v: &Value| {
            v.to_string()
                .replace("parameters('identityName')", &format!("'id-citus-{i}'"))
                .replace("variables('keyName')", &format!("'cmk-citus-{i}'"))
        };
        let mut id: Value = serde_json::from_str(&text(&identity)).unwrap();
        id["name"] = json!(format!("id-citus-{i}"));
        let mut c: Value = serde_json::from_str(&text(&cluster)).unwrap();
        c["name"] = json!(format!("citus-{i}"));
        let policy: Value = serde_json::from_str(&text(&policies)).unwrap();
        granted.extend(
            policy["properties"]["accessPolicies"]
                .as_array()
                .unwrap()
                .clone(),
        );
        out.push(id);
        out.push(serde_json::from_str(&text(&key)).unwrap());
        let mut alert = health.clone();
        alert["name"] = json!(format!("citus-{i}-resource-health"));
        out.push(alert);
        out.push(c);
    }
    let mut policy = policies.clone();
    policy["properties"]["accessPolicies"] = Value::Array(granted);
    out.push(policy);
    template["resources"] = Value::Array(out);
    serde_json::to_string_pretty(&template).unwrap()
}

fn bench(c: &mut Criterion) {
    let text = large_template(20);
    let lines = text.lines().count();
    assert!(lines >= 2000, "the template has only {lines} lines");
    let options = Options::new("2026-11-27T12:00:00Z".parse().unwrap());
    let check = |text: String| {
        let template = template::parse("large.json", text, None, &Placement::default()).unwrap();
        let reports: Vec<_> = template
            .targets
            .iter()
            .map(|t| engine::run(&t.state, &options))
            .collect();
        assert_eq!(reports.len(), 20);
        assert!(engine::merge(&reports).findings.is_empty());
        reports
    };
    check(text.clone());
    c.bench_function(
        &format!("template offline, 20 clusters, {lines} lines"),
        |b| b.iter(|| check(black_box(text.clone()))),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
