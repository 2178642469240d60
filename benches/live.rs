//! Live reads against the fake ARM of the tests, with 100 ms added to every answer: the time is
//! then the number of round trips on the critical path (issue target: at most 2.5 round trips
//! plus 50 ms, i.e. 300 ms, without `--vault`; one round trip with it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark stops on a broken setup"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use cmk_check::azure::keyuri::KeyUri;
use cmk_check::engine::{self, Options};
use cmk_check::source::live;
use cmk_check::source::live::target::{ResourceId, Target};
use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const ROUND_TRIP: Duration = Duration::from_millis(100);

async fn slow_fake() -> (MockServer, serde_json::Value) {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    for (at, body) in planned_bodies(&snapshot) {
        get(&server, &at, ok(&body).set_delay(ROUND_TRIP)).await;
    }
    Mock::given(method("POST"))
        .and(path("/providers/Microsoft.ResourceGraph/resources"))
        .respond_with(ok(&json!({"data": [{"id": id(&snapshot["vault"])}]})).set_delay(ROUND_TRIP))
        .mount(&server)
        .await;
    (server, snapshot)
}

fn planned(snapshot: &serde_json::Value, with_vault: bool) -> Target {
    let raw = snapshot["keyUri"].as_str().unwrap().to_string();
    Target {
        location: Some("westeurope".to_string()),
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
        cluster: None,
        subscription: None,
        alerts_subscription: None,
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (server, snapshot) = runtime.block_on(slow_fake());
    let azure = azure(&server, Duration::from_secs(10));
    let options = Options::new(NOW.parse().unwrap());
    let mut group = c.benchmark_group("live check, 100 ms per answer");
    group.sample_size(20);
    for (name, with_vault) in [("with --vault", true), ("vault by Resource Graph", false)] {
        let target = planned(&snapshot, with_vault);
        group.bench_function(name, |b| {
            b.iter(|| {
                let live = runtime.block_on(live::read(&target, &azure));
                let report = engine::run(&live.state, &options);
                assert!(report.findings.is_empty());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
