#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! Every shipped fixture, rendered in every format, and each failing fixture fails its rule.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use cmk_check::engine::{self, Options, Report};
use cmk_check::lint::{Check, Input, Level};
use cmk_check::render::human::{self, Style};
use cmk_check::render::json;
use cmk_check::rules::ALL;
use cmk_check::source::snapshot;

/// The clock of every fixture run.
const NOW: &str = "2026-11-27T12:00:00Z";

fn run(path: &Path) -> Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(path).unwrap();
    let state = snapshot::parse(&name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let now: DateTime<Utc> = NOW.parse().unwrap();
    engine::run(&state, &options_for(path, now))
}

/// The defaults, with the rule a failing fixture is named after turned on: a rule that is off
/// by default (`allow`) is still shown breaking.
fn options_for(path: &Path, now: DateTime<Utc>) -> Options {
    let mut options = Options::new(now);
    let file = path.file_name().unwrap_or_default().to_string_lossy();
    if let Some(rule) = cmk_check::rules::find(file.get(..6).unwrap_or_default()) {
        if rule.default_level == Level::Allow {
            options.levels.insert(rule.code, Level::Deny);
        }
    }
    options
}

#[test]
fn every_fixture_renders_as_before() {
    common::catalog_neutral().bind(|| {
        insta::glob!("../fixtures", "{*.json,fail/*.json}", |path| {
            let report = run(path);
            insta::assert_snapshot!("human", human::render(&report, Style::PLAIN));
            insta::assert_snapshot!("json", json::render(&report).unwrap());
        });
    });
}

#[test]
fn the_clean_fixture_passes_every_rule() {
    let report = run(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/clean.json"));
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    let state_rules = ALL
        .iter()
        .filter(|r| matches!(r.check, Check::State(_)))
        .count();
    assert_eq!(report.rules_checked(), state_rules);
    assert_eq!(report.rules_passed, state_rules);
}

/// `fixtures/fail/CMK004-*.json` must produce a CMK004 finding.
#[test]
fn each_failing_fixture_fails_the_rule_it_is_named_after() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fail");
    let mut covered = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let code = &file[..6];
        let report = run(&path);
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.code() == code && !f.violation.unverified),
            "{file} should fail {code}, got {:?}",
            report.findings.iter().map(|f| f.code()).collect::<Vec<_>>()
        );
        covered.insert(code.to_string());
    }
    // Each rule says which inputs can break it; the config's are exercised by tests/config.rs.
    let all: BTreeSet<String> = ALL
        .iter()
        .filter(|r| r.breakable_in.contains(&Input::Snapshot))
        .map(|r| r.code.to_string())
        .collect();
    let uncovered: Vec<_> = all.difference(&covered).collect();
    assert!(
        uncovered.is_empty(),
        "rules without a failing fixture: {uncovered:?}"
    );
}

/// A failing fixture breaks its rule whenever it is run, not only at the tests' clock: only
/// the rules that are about a window of time (CMK015, CMK020) are relative to `NOW`, which the
/// README says.
#[test]
fn failing_fixtures_do_not_depend_on_the_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fail");
    for now in [
        "2026-12-01T00:00:00Z",
        "2031-06-15T08:30:00Z",
        "2060-01-01T00:00:00Z",
        "2098-11-30T23:59:59Z",
    ] {
        let now: DateTime<Utc> = now.parse().unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            let code = &file[..6];
            if ["CMK015", "CMK020"].contains(&code) {
                continue;
            }
            let state = snapshot::parse(&file, std::fs::read_to_string(&path).unwrap()).unwrap();
            let report = engine::run(&state, &options_for(&path, now));
            assert!(
                report
                    .findings
                    .iter()
                    .any(|f| f.code() == code && !f.violation.unverified),
                "{file} at {now}: {:?}",
                report.findings.iter().map(|f| f.code()).collect::<Vec<_>>()
            );
            // And nothing date-bound creeps in beside it.
            assert!(
                report
                    .findings
                    .iter()
                    .all(|f| f.code() != "CMK015" || code == "CMK015"),
                "{file} at {now} expires soon"
            );
        }
    }
}

/// Every command or edit of every fixture's help is one whole line of the human report: an ID,
/// a URL or a quoted argument is never broken, whatever the width.
#[test]
fn fixes_are_never_wrapped() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fail");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let report = run(&entry.unwrap().path());
        for width in [60, 100] {
            let style = Style {
                width,
                ..Style::PLAIN
            };
            let text = human::render(&report, style);
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            for finding in &report.findings {
                for fix in finding.violation.fix.iter().flat_map(|f| f.lines()) {
                    assert!(
                        lines.iter().any(|l| l.ends_with(fix.as_str())),
                        "`{fix}` is not one line at width {width}:\n{text}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} fixes");
}

/// A fix produces a compliant resource: every new vault a fix creates has what the service needs
/// (90 days, purge protection, access policies, public access).
#[test]
fn fixes_create_compliant_resources() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fail");
    let (mut vaults, mut identities) = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let report = run(&path);
        for finding in &report.findings {
            for line in finding.violation.fix.iter().flat_map(|f| f.lines()) {
                if line.contains("az keyvault create") {
                    vaults += 1;
                    for flag in [
                        "--retention-days 90",
                        "--enable-purge-protection true",
                        "--enable-rbac-authorization false",
                        "--public-network-access Enabled",
                    ] {
                        assert!(
                            line.contains(flag),
                            "{}: `{line}` lacks {flag}",
                            path.display()
                        );
                    }
                }
                // An identity in the wrong region is replaced by one named for the right region.
                if finding.code() == "CMK002" && line.contains("az identity create") {
                    identities += 1;
                    assert!(
                        line.contains("--name id-citus-cmk-westeurope ")
                            && line.contains("--location westeurope"),
                        "{}: `{line}` is not a new identity in the cluster's region",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(vaults >= 2, "only {vaults} vault creations");
    assert!(identities >= 1, "no identity creation");
}
