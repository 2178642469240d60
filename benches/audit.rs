//! The fleet audit at Azure scale: the fake tenant of the tests on loopback, 50 ms per answer,
//! with Azure's throttling (Resource Graph: 15 queries per 5 s per user; ARM: a bucket of 250
//! reads per subscription refilled at 25 a second; 429 with `Retry-After` when empty). Each
//! scale runs the release binary (`cmk-check audit --format json`) once, from a process of its
//! own so that the peak RSS measured is the binary's alone, and prints wall time, peak RSS,
//! requests against the budget (Resource Graph pages + one read per distinct key + the versions
//! of keys rotated within the day + alert listings) and the share of 429 answers. The budget
//! has no term for the vaults' diagnostic settings: they are not in Resource Graph, and the
//! audit does not read them (CMK026 is left to `check`, and the report says so once).
//!
//! ```text
//! cargo bench --bench audit                          # 1, 100, 1,000 and 10,000 clusters
//! CMK_AUDIT_SCALES=1,100 cargo bench --bench audit   # some of them
//! CMK_AUDIT_BENCH_RECORD=/tmp/fleet.json ...          # also keep the fleet snapshot
//! ```
//!
//! The fleets have 100 clusters a subscription, one vault per five clusters and one key per
//! cluster (the issue's 10,000 clusters, 100 subscriptions, 2,000 vaults, 10,000 keys). It exits
//! non-zero when a run fails, when the report lacks a cluster, or when a target is missed: at
//! 10,000 clusters ≤ 20 s and ≤ 300 MB; at every scale requests within budget and 429s ≤ 1 %;
//! one cluster in ≤ 3 round trips.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark stops on a broken setup"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::tenant::{Spec, Tenant};
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::time::TimeValLike;
use serde_json::{json, Value};

const LATENCY: Duration = Duration::from_millis(50);
const ONE: &str = "CMK_AUDIT_BENCH_ONE";
/// The launcher of the binary: a process started while small, because a child's peak RSS
/// counts the pages of the parent it was forked from, and the fake tenant's are many.
const LAUNCHER: &str = "CMK_AUDIT_BENCH_LAUNCHER";
/// Where to keep the fleet snapshot of each run, for profiling with `audit --snapshot`.
const RECORD: &str = "CMK_AUDIT_BENCH_RECORD";

fn main() -> ExitCode {
    if std::env::var_os(LAUNCHER).is_some() {
        launch();
        return ExitCode::SUCCESS;
    }
    if let Ok(clusters) = std::env::var(ONE) {
        println!("{}", run(clusters.parse().unwrap()));
        return ExitCode::SUCCESS;
    }
    let scales: Vec<usize> = std::env::var("CMK_AUDIT_SCALES")
        .unwrap_or_else(|_| "1,100,1000,10000".to_string())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("CMK_AUDIT_SCALES: numbers separated by commas")
        })
        .collect();
    println!(
        "{:>8} {:>9} {:>8} {:>9} {:>9} {:>8} {:>7} {:>6} {:>6} {:>6} {:>11}",
        "clusters",
        "wall",
        "cpu",
        "peak RSS",
        "requests",
        "budget",
        "graph",
        "keys",
        "lists",
        "429s",
        "round trips"
    );
    let mut missed = Vec::new();
    for clusters in scales {
        // A process per scale: getrusage's children are then only this scale's binary.
        let output = Command::new(std::env::current_exe().unwrap())
            .env(ONE, clusters.to_string())
            .output()
            .expect("the benchmark could not run itself");
        if !output.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            panic!("the run of {clusters} clusters failed");
        }
        let m: Value =
            serde_json::from_slice(&output.stdout).expect("a run prints its figures as JSON");
        let wall = m["wallSeconds"].as_f64().unwrap();
        let rss = m["peakRssMb"].as_f64().unwrap();
        let requests = m["requests"].as_u64().unwrap();
        let budget = m["budget"].as_u64().unwrap();
        let throttled = m["throttled"].as_u64().unwrap();
        let round_trips = wall / LATENCY.as_secs_f64();
        println!(
            "{clusters:>8} {:>8.2}s {:>7.2}s {:>7.1}MB {requests:>9} {budget:>8} {:>7} {:>6} {:>6} {throttled:>6} {round_trips:>11.1}",
            wall, m["cpuSeconds"].as_f64().unwrap(), rss, m["graph"].to_string(), m["keyReads"].to_string(), m["versionLists"].to_string()
        );
        let share = throttled as f64 / (requests + throttled) as f64;
        if requests > budget {
            missed.push(format!(
                "{clusters}: {requests} requests over a budget of {budget}"
            ));
        }
        if share > 0.01 {
            missed.push(format!(
                "{clusters}: {:.2} % of answers were 429",
                share * 100.0
            ));
        }
        if clusters == 1 && round_trips >= 4.0 {
            missed.push(format!("one cluster took {round_trips:.1} round trips"));
        }
        if clusters >= 10_000 && (wall > 20.0 || rss > 300.0) {
            missed.push(format!("{clusters}: {wall:.1} s, {rss:.0} MB"));
        }
    }
    if missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("targets missed:\n  {}", missed.join("\n  "));
        ExitCode::FAILURE
    }
}

/// Reads the ARM endpoint and the report's path from stdin, runs the audit against them, and
/// prints its exit code, wall time, peak RSS and CPU time as JSON.
fn launch() {
    let mut input = String::new();
    std::io::stdin().read_line(&mut input).unwrap();
    let (uri, report) = input.trim().split_once(' ').unwrap();
    let mut audit = Command::new(env!("CARGO_BIN_EXE_cmk-check"));
    audit
        .env("CMK_CHECK_ACCESS_TOKEN", common::TOKEN)
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["audit", "--auth", "access-token", "--arm-endpoint", uri])
        .args(["--now", common::NOW, "--format", "json", "--output", report]);
    if let Some(fleet) = std::env::var_os(RECORD) {
        audit.arg("--record").arg(fleet);
    }
    let started = Instant::now();
    let status = audit
        .status()
        .expect("cmk-check did not start: build it with `cargo bench`, which does");
    let wall = started.elapsed();
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap();
    let cpu = usage.user_time().num_microseconds() + usage.system_time().num_microseconds();
    println!(
        "{}",
        json!({
            "code": status.code(),
            "wallSeconds": wall.as_secs_f64(),
            "peakRssMb": usage.max_rss() as f64 / 1024.0,
            "cpuSeconds": cpu as f64 / 1e6,
        })
    );
}

/// One audit of a fleet of `clusters`, as JSON figures.
fn run(clusters: usize) -> Value {
    let mut launcher = Command::new(std::env::current_exe().unwrap())
        .env(LAUNCHER, "1")
        .env_remove(ONE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The fake server shuts down inside the runtime when the tenant is dropped.
    let _inside = runtime.enter();
    let spec = Spec {
        subscriptions: (clusters / 100).max(1),
        vaults: (clusters / 5).max(1),
        keys: clusters,
        latency: LATENCY,
        throttle: true,
        ..Spec::small(clusters)
    };
    let tenant = runtime.block_on(Tenant::start(spec));
    let report =
        std::env::temp_dir().join(format!("cmk-check-audit-bench-{}.json", std::process::id()));
    let mut stdin = launcher.stdin.take().unwrap();
    writeln!(stdin, "{} {}", tenant.server.uri(), report.display()).unwrap();
    drop(stdin);
    // The fake answers on the runtime's workers while this thread waits for the launcher.
    let output = launcher.wait_with_output().unwrap();
    let measured: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        matches!(measured["code"].as_i64(), Some(0 | 1)),
        "cmk-check audit failed: {measured}"
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    std::fs::remove_file(&report).unwrap();
    let audited = written["clusters"].as_array().map_or(0, Vec::len);
    assert_eq!(audited, clusters, "the report lacks clusters");

    let count = |c: &std::sync::atomic::AtomicUsize| c.load(Ordering::Relaxed) as u64;
    let c = &tenant.counts;
    let now = common::NOW
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap()
        .timestamp();
    let rotated = tenant
        .keys_in_use
        .values()
        .filter(|k| {
            k["properties"]["attributes"]["created"]
                .as_i64()
                .is_none_or(|created| now - created < 24 * 3600)
        })
        .count() as u64;
    let budget =
        count(&c.graph) + tenant.keys_in_use.len() as u64 + rotated + count(&c.alert_lists);
    json!({
        "wallSeconds": measured["wallSeconds"],
        "peakRssMb": measured["peakRssMb"],
        "cpuSeconds": measured["cpuSeconds"],
        "requests": count(&c.graph) + count(&c.key_reads) + count(&c.version_lists) + count(&c.alert_lists) + count(&c.other_reads),
        "budget": budget,
        "graph": count(&c.graph),
        "keyReads": count(&c.key_reads),
        "versionLists": count(&c.version_lists),
        "throttled": count(&c.throttled),
    })
}
