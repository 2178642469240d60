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

criterion_group!(benches, bench);
criterion_main!(benches);
