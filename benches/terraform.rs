//! A large plan checked offline (issue target: 50 clusters in modules in under 50 ms): the clean
//! plan's two modules repeated 50 times, each pair with its own identity, vault, key, alerts and
//! cluster.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark stops on a broken setup"
)]

use std::hint::black_box;
use std::path::Path;

use cmk_check::engine::{self, Options};
use cmk_check::source::terraform::{self, Placement};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{Map, Value};

/// The clean plan with `clusters` copies of `module.cmk` and `module.db`.
fn large_plan(clusters: usize) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/terraform/clean.json");
    let text = std::fs::read_to_string(path).unwrap();
    let mut plan: Value = serde_json::from_str(&text).unwrap();
    let renamed = |value: &Value, i: usize| -> Value {
        let text = value
            .to_string()
            .replace("module.cmk", &format!("module.cmk_{i}"))
            .replace("module.db", &format!("module.db_{i}"))
            .replace("kv-cmk-prod", &format!("kv-cmk-{i}"))
            .replace("id-citus-cmk", &format!("id-citus-{i}"))
            .replace("citus-prod", &format!("citus-{i}"))
            .replace("cmk-key-access", &format!("cmk-key-access-{i}"));
        serde_json::from_str(&text).unwrap()
    };
    let children = plan["planned_values"]["root_module"]["child_modules"].clone();
    let mut modules = Vec::new();
    for i in 0..clusters {
        for child in children.as_array().unwrap() {
            modules.push(renamed(child, i));
        }
    }
    plan["planned_values"]["root_module"]["child_modules"] = Value::Array(modules);
    let changes = plan["resource_changes"].as_array().unwrap().clone();
    let mut out = Vec::new();
    for change in &changes {
        if change.get("module_address").is_none() {
            out.push(change.clone());
            continue;
        }
        for i in 0..clusters {
            out.push(renamed(change, i));
        }
    }
    plan["resource_changes"] = Value::Array(out);
    let calls = plan["configuration"]["root_module"]["module_calls"].clone();
    let mut named = Map::new();
    for i in 0..clusters {
        for (name, call) in calls.as_object().unwrap() {
            named.insert(format!("{name}_{i}"), renamed(call, i));
        }
    }
    plan["configuration"]["root_module"]["module_calls"] = Value::Object(named);
    // On one line, as `terraform show -json` writes it.
    serde_json::to_string(&plan).unwrap()
}

fn bench(c: &mut Criterion) {
    let clusters = 50;
    let text = large_plan(clusters);
    let options = Options::new("2026-11-27T12:00:00Z".parse().unwrap());
    let check = |text: String| {
        let plan = terraform::parse("large.json", text, None, &Placement::default()).unwrap();
        let reports: Vec<_> = plan
            .targets
            .iter()
            .map(|t| engine::run(&t.state, &options))
            .collect();
        assert_eq!(reports.len(), clusters);
        let findings = engine::merge(&reports).findings;
        assert!(
            findings.is_empty(),
            "{:?}",
            findings.first().map(|f| &f.violation.message)
        );
        reports
    };
    check(text.clone());
    c.bench_function(
        &format!(
            "terraform plan offline, {clusters} clusters in modules, {} KiB",
            text.len() / 1024
        ),
        |b| b.iter(|| check(black_box(text.clone()))),
    );
}

/// What reading the plan's text costs before any resource is: its JSON, and the label index a
/// plan with findings builds on its first label.
fn reading(c: &mut Criterion) {
    let text = large_plan(50);
    c.bench_function("terraform plan of 50 clusters: JSON only", |b| {
        b.iter(|| {
            let doc = cmk_check::document::SourceDoc::file("large.json", black_box(text.clone()));
            cmk_check::document::read::parse_json(&doc).unwrap()
        })
    });
    c.bench_function("terraform plan of 50 clusters: label index only", |b| {
        b.iter(|| {
            let doc = cmk_check::document::SourceDoc::file("large.json", black_box(text.clone()));
            doc.anchor("/planned_values")
        })
    });
}

criterion_group!(benches, bench, reading);
criterion_main!(benches);
