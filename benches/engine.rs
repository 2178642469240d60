#![allow(
    clippy::panic,
    reason = "a benchmark without its fixture has nothing to measure"
)]

//! The engine's cost: reading a snapshot (parse, type, index spans), running every rule, and
//! rendering. Whole-process time and memory are measured by `benches/process.sh`.

use std::hint::black_box;
use std::path::Path;

use chrono::{DateTime, Utc};
use cmk_check::engine::{self, Options};
use cmk_check::render::human::{self, Style};
use cmk_check::render::json;
use cmk_check::source::snapshot;
use criterion::{criterion_group, criterion_main, Criterion};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bench(c: &mut Criterion) {
    let now: DateTime<Utc> = "2026-11-27T12:00:00Z".parse().unwrap_or_default();
    let options = Options::new(now);
    for name in ["clean.json", "fail/CMK008-policy-uses-client-id.json"] {
        let text = fixture(name);
        c.bench_function(&format!("read {name}"), |b| {
            b.iter(|| snapshot::parse(name, black_box(text.clone())))
        });
        let Ok(state) = snapshot::parse(name, text.clone()) else {
            panic!("{name} does not parse");
        };
        c.bench_function(&format!("rules {name}"), |b| {
            b.iter(|| engine::run(black_box(&state), &options))
        });
        let report = engine::run(&state, &options);
        c.bench_function(&format!("render human {name}"), |b| {
            b.iter(|| human::render(black_box(&report), Style::PLAIN))
        });
        c.bench_function(&format!("render json {name}"), |b| {
            b.iter(|| json::render(black_box(&report)))
        });
    }
}

/// Human output is linear in the number of findings and the size of the input: `n` copies of a
/// finding at the end of a minified 4 MiB snapshot (each once cost a scan of the whole text).
fn render_scales(c: &mut Criterion) {
    let now: DateTime<Utc> = "2026-11-27T12:00:00Z".parse().unwrap_or_default();
    let options = Options::new(now);
    let mut value: serde_json::Value =
        serde_json::from_str(&fixture("fail/CMK006-public-access-disabled-and-deny.json"))
            .unwrap_or_else(|e| panic!("the CMK006 fixture: {e}"));
    let mut padded = serde_json::Map::new();
    padded.insert("pad".to_string(), "x".repeat(4 << 20).into());
    if let Some(members) = value.as_object_mut() {
        padded.append(members);
    }
    let text = serde_json::Value::Object(padded).to_string();
    let Ok(state) = snapshot::parse("minified.json", text) else {
        panic!("the padded fixture does not parse");
    };
    let one = engine::run(&state, &options);
    let mut group = c.benchmark_group("render human, 4 MiB one-line input");
    group.sample_size(10);
    for n in [100, 1_000, 5_000] {
        let mut report = one.clone();
        report.findings = (0..n)
            .map(|i| {
                let mut finding = one.findings[i % one.findings.len()].clone();
                finding.violation.message.push_str(&format!(" ({i})"));
                finding
            })
            .collect();
        group.bench_function(format!("{n} findings"), |b| {
            b.iter(|| human::render(black_box(&report), Style::PLAIN))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, render_scales);
criterion_main!(benches);
