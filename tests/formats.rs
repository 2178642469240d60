#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The CI formats: SARIF (valid against the OASIS schema), GitHub workflow commands and job
//! summary, and JUnit XML.

mod common;

use std::path::{Path, PathBuf};

use cmk_check::document::SourceDoc;
use cmk_check::engine::{self, Exemption, FailOn, Options, Report};
use cmk_check::render::{github, junit, sarif};
use cmk_check::source::snapshot;
use serde_json::Value;

/// The clock of every fixture run.
const NOW: &str = "2026-11-27T12:00:00Z";

const SNAPSHOTTED: &[&str] = &[
    "fixtures/clean.json",
    "fixtures/fail/CMK006-public-access-disabled-and-deny.json",
    "fixtures/unverified-missing-sections.json",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `relative` is the path from the crate root, as a user in the repository would pass it.
fn run(relative: &str) -> Report {
    let text = std::fs::read_to_string(root().join(relative)).unwrap();
    let state = snapshot::parse(relative, text).unwrap_or_else(|e| panic!("{relative}: {e}"));
    engine::run(&state, &Options::new(NOW.parse().unwrap()))
}

fn sarif_json(report: &Report) -> Value {
    serde_json::from_str(&sarif::render(report).unwrap()).unwrap()
}

fn all_fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // Templates, plans and fleets have tests of their own (tests/templates.rs,
        // tests/terraform.rs, tests/audit.rs).
        let own_tests = ["templates", "terraform", "fleet"];
        if path.is_dir() && !own_tests.iter().any(|dir| path.ends_with(dir)) {
            all_fixtures(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// The CMK006 fixture, with its first finding exempted.
fn with_exemption() -> Report {
    let mut report = run(SNAPSHOTTED[1]);
    assert_eq!(report.findings.len(), 2);
    report.findings[0].exemption = Some(exempting(
        &report.findings[0],
        "network team ticket NET-42: firewall opens on Monday",
    ));
    report
}

/// An exemption covering `finding`, as `cmk-check.toml` would give it.
fn exempting(finding: &cmk_check::engine::Finding, reason: &str) -> Exemption {
    Exemption {
        rule: finding.rule,
        resource: finding.resource().to_string(),
        reason: reason.to_string(),
        expires: None,
        place: finding.violation.place.clone(),
    }
}

/// The CMK006 fixture as if its bodies had been fetched from Azure rather than read from a file.
fn fetched() -> Report {
    let mut report = run(SNAPSHOTTED[1]);
    for finding in &mut report.findings {
        let place = &mut finding.violation.place;
        place.doc = SourceDoc::fetched("vault kv-cmk-prod (ARM)", place.doc.text().to_string());
    }
    report
}

#[test]
fn formats_render_as_before() {
    for relative in SNAPSHOTTED {
        let report = run(relative);
        let stem = Path::new(relative).file_stem().unwrap().to_string_lossy();
        let mut settings = common::catalog_neutral();
        settings.set_input_file(root().join(relative));
        settings.set_omit_expression(true);
        settings.bind(|| {
            let sarif = common::sarif_without_catalog(&sarif::render(&report).unwrap());
            insta::assert_snapshot!(format!("{stem}.sarif"), sarif);
            insta::assert_snapshot!(format!("{stem}.github"), github::render(&report));
            insta::assert_snapshot!(
                format!("{stem}.step_summary"),
                github::step_summary(&report)
            );
            let cases = common::only_rules_with_findings(&report);
            let junit = junit::render(std::slice::from_ref(&cases), FailOn::Error).unwrap();
            insta::assert_snapshot!(format!("{stem}.junit"), junit);
        });
    }
}

#[test]
fn exempted_and_fetched_findings_render_as_before() {
    let report = with_exemption();
    common::catalog_neutral().bind(|| {
        insta::assert_snapshot!("exempted.step_summary", github::step_summary(&report));
        let cases = common::only_rules_with_findings(&report);
        insta::assert_snapshot!(
            "exempted.junit",
            junit::render(std::slice::from_ref(&cases), FailOn::Error).unwrap()
        );
        insta::assert_snapshot!("fetched.github", github::render(&fetched()));
    });
}

/// The rule catalog as SARIF declares it, once for all fixtures.
#[test]
fn the_sarif_rule_catalog_renders_as_before() {
    let log = sarif_json(&run(SNAPSHOTTED[0]));
    let driver = &log["runs"][0]["tool"]["driver"];
    insta::assert_json_snapshot!("sarif_rule_catalog", driver["rules"]);
}

#[test]
fn sarif_of_every_fixture_matches_the_oasis_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    // The validator must be able to fail: a level the schema does not know, and a URI that is
    // not one (draft-04 knows the `uri` format, not the `uri-reference` of artifact locations).
    let mut broken = sarif_json(&run(SNAPSHOTTED[1]));
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    broken["runs"][0]["tool"]["driver"]["informationUri"] = "not a uri".into();
    assert_eq!(validator.iter_errors(&broken).count(), 2);

    let mut paths = Vec::new();
    all_fixtures(&root().join("fixtures"), &mut paths);
    assert!(paths.len() > 30, "found only {} fixtures", paths.len());
    let mut reports: Vec<(String, Report)> = paths
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(root()).unwrap().to_string_lossy();
            let relative = relative.replace('\\', "/");
            let report = run(&relative);
            (relative, report)
        })
        .collect();
    reports.push(("(exempted)".to_string(), with_exemption()));
    reports.push(("(fetched)".to_string(), fetched()));
    for (name, report) in &reports {
        let instance = sarif_json(report);
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        // One result per finding, exempted ones included, each naming its rule consistently.
        let run = &instance["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), report.findings.len(), "{name}");
        for result in results {
            let index = usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap();
            assert_eq!(
                run["tool"]["driver"]["rules"][index]["id"],
                result["ruleId"]
            );
        }
    }
}

#[test]
fn sarif_declares_the_whole_catalog() {
    let log = sarif_json(&run(SNAPSHOTTED[0]));
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "cmk-check");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), cmk_check::rules::ALL.len());
    for (descriptor, rule) in rules.iter().zip(cmk_check::rules::ALL) {
        assert_eq!(descriptor["id"], rule.code);
        assert_eq!(descriptor["name"], rule.name);
        assert_eq!(descriptor["helpUri"], rule.url);
        assert_eq!(descriptor["help"]["markdown"], rule.doc);
        let what = descriptor["fullDescription"]["text"].as_str().unwrap();
        assert!(rule.doc.contains(what) && !what.contains("## "), "{what}");
    }
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn sarif_places_findings_in_the_file_or_at_the_resource() {
    let file = sarif_json(&run(SNAPSHOTTED[1]));
    let location = &file["runs"][0]["results"][0]["locations"][0];
    assert_eq!(
        location["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/fail/CMK006-public-access-disabled-and-deny.json"
    );
    // The human report shows this finding at 57:26 (`"Deny"`, six characters).
    let region = &location["physicalLocation"]["region"];
    assert_eq!(
        (
            &region["startLine"],
            &region["startColumn"],
            &region["endLine"],
            &region["endColumn"]
        ),
        (&57.into(), &26.into(), &57.into(), &32.into())
    );

    let fetched = sarif_json(&fetched());
    let location = &fetched["runs"][0]["results"][0]["locations"][0];
    // No file to open, but an artifact location GitHub code scanning insists on: the resource.
    let uri = location["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        uri.starts_with("azure/subscriptions/") && uri.ends_with("/vaults/kv-cmk-prod"),
        "{uri}"
    );
    assert!(
        location["physicalLocation"].get("region").is_none(),
        "{location}"
    );
    let logical = &location["logicalLocations"][0];
    assert_eq!(logical["kind"], "resource");
    let name = logical["fullyQualifiedName"].as_str().unwrap();
    assert!(
        name.starts_with("/subscriptions/")
            && name.ends_with("#/properties/networkAcls/defaultAction"),
        "{name}"
    );
}

#[test]
fn sarif_fingerprints_are_stable_and_distinct() {
    let fingerprints = |report: &Report| -> Vec<Value> {
        sarif_json(report)["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"][sarif::FINGERPRINT_KEY].clone())
            .collect()
    };
    let unverified = run(SNAPSHOTTED[2]);
    let first = fingerprints(&unverified);
    assert_eq!(first, fingerprints(&run(SNAPSHOTTED[2])));
    let mut distinct = first.clone();
    distinct.sort_by_key(ToString::to_string);
    distinct.dedup();
    assert_eq!(distinct.len(), first.len());
    // The location in the file is not part of the identity; the resource and pointer are.
    assert_eq!(fingerprints(&fetched()), fingerprints(&run(SNAPSHOTTED[1])));
}

#[test]
fn an_unverified_finding_carries_the_property() {
    let log = sarif_json(&run(SNAPSHOTTED[2]));
    for result in log["runs"][0]["results"].as_array().unwrap() {
        assert_eq!(result["properties"]["unverified"], true, "{result}");
    }
    let log = sarif_json(&run(SNAPSHOTTED[1]));
    assert!(log["runs"][0]["results"][0].get("properties").is_none());
}

#[test]
fn an_exempted_finding_is_a_sarif_suppression_and_no_annotation() {
    let report = with_exemption();
    let exempted_message = report.findings[0].violation.message.clone();
    let active_message = report.findings[1].violation.message.clone();

    let log = sarif_json(&report);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results[0]["suppressions"],
        serde_json::json!([{
            "kind": "external",
            "justification": "network team ticket NET-42: firewall opens on Monday"
        }])
    );
    assert_eq!(results[1]["suppressions"], serde_json::json!([]));

    let commands = github::render(&report);
    let annotations: Vec<&str> = commands.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), 1, "{commands}");
    assert!(annotations[0].contains(&github::escape_data(&active_message)));
    assert!(!commands.contains(&github::escape_data(&exempted_message)));
    let checked = common::state_rules();
    assert!(commands.ends_with(&format!(
        "1 error, 0 warnings, 1 exempted; {} of {checked} rules passed\n",
        checked - 1
    )));

    let summary = github::step_summary(&report);
    let (table, exempted) = summary.split_once("### Exempted").unwrap();
    assert!(!table.contains(&exempted_message) && table.contains(&active_message));
    assert!(exempted.contains("network team ticket NET-42: firewall opens on Monday"));
}

#[test]
fn github_commands_escape_like_the_toolkit() {
    let mut report = run(SNAPSHOTTED[1]);
    report.findings.truncate(1);
    let finding = &mut report.findings[0];
    finding.violation.message = "100% sure: a, b\nsecond line\r\nthird".to_string();
    finding.violation.help = "run: x, y".to_string();
    finding.violation.fix = None;
    let place = &mut finding.violation.place;
    place.doc = SourceDoc::file("snap,shots/odd:name.json", place.doc.text().to_string());
    let out = github::render(&report);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "::error file=snap%2Cshots/odd%3Aname.json,line=57,col=26,endLine=57,endColumn=32,\
         title=CMK006 public-network-access-restricted::\
         100%25 sure: a, b%0Asecond line%0D%0Athird%0Arun: x, y"
    );
    // One command is one line: no raw newline survived.
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(
        github::escape_property("a:b,c%d\re\nf"),
        "a%3Ab%2Cc%25d%0De%0Af"
    );
    assert_eq!(github::escape_data("a:b,c%d\re\nf"), "a:b,c%25d%0De%0Af");
}

#[test]
fn github_commands_without_a_file_name_the_resource() {
    let out = github::render(&fetched());
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with("::error title=CMK006 public-network-access-restricted::"),
        "{first}"
    );
    assert!(!first.contains("file="), "{first}");
    assert!(first.contains("%0Aat /subscriptions/"), "{first}");
}

#[test]
fn the_step_summary_escapes_pipes_in_cells() {
    let mut report = run(SNAPSHOTTED[1]);
    report.findings[0].violation.message = "a | b\nc".to_string();
    let summary = github::step_summary(&report);
    assert!(summary.contains("| a \\| b<br>c |"), "{summary}");
}

#[test]
fn the_step_summary_of_a_clean_run_says_passed() {
    let summary = github::step_summary(&run(SNAPSHOTTED[0]));
    assert!(summary.contains("**Passed**"), "{summary}");
    assert!(!summary.contains("| severity |"), "{summary}");
}

/// The `name="value"` attribute of the first `tag` element.
fn attribute(xml: &str, tag: &str, name: &str) -> usize {
    let start = xml.find(&format!("<{tag} ")).unwrap();
    let element = &xml[start..start + xml[start..].find('>').unwrap()];
    let key = format!(" {name}=\"");
    let value = &element[element.find(&key).unwrap() + key.len()..];
    value[..value.find('"').unwrap()].parse().unwrap()
}

#[test]
fn junit_has_one_test_case_per_rule_with_the_right_counts() {
    let mut reports: Vec<Report> = SNAPSHOTTED.iter().map(|r| run(r)).collect();
    reports.push(with_exemption());
    for report in &reports {
        let xml = junit::render(std::slice::from_ref(report), FailOn::Error).unwrap();
        let rules_with = |unverified: bool| {
            report
                .checked
                .iter()
                .filter(|rule| {
                    // Only what fails the gate fails a case.
                    let active: Vec<_> = report
                        .active()
                        .filter(|f| f.rule.code == rule.code && FailOn::Error.counts(f.severity))
                        .collect();
                    !active.is_empty()
                        && active.iter().any(|f| f.violation.unverified) == unverified
                })
                .count()
        };
        let (failures, errors) = (rules_with(false), rules_with(true));

        for tag in ["testsuites", "testsuite"] {
            assert_eq!(attribute(&xml, tag, "tests"), report.checked.len(), "{xml}");
            assert_eq!(attribute(&xml, tag, "failures"), failures, "{xml}");
            assert_eq!(attribute(&xml, tag, "errors"), errors, "{xml}");
        }

        let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(parsed.test_suites.len(), 1);
        let suite = &parsed.test_suites[0];
        assert_eq!(suite.name.as_str(), report.target);
        assert_eq!(suite.test_cases.len(), report.checked.len());
        assert_eq!((suite.failures, suite.errors), (failures, errors));
        for (case, rule) in suite.test_cases.iter().zip(&report.checked) {
            assert_eq!(case.name.as_str(), format!("{} {}", rule.code, rule.name));
            assert_eq!(case.classname.as_deref(), Some(report.target.as_str()));
        }
    }
}

#[test]
fn junit_passes_an_exempted_rule_and_says_why() {
    let mut report = with_exemption();
    report.findings[1].exemption = Some(exempting(
        &report.findings[1],
        "accepted until the private endpoint lands",
    ));
    let xml = junit::render(std::slice::from_ref(&report), FailOn::Error).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let suite = &parsed.test_suites[0];
    assert_eq!((suite.failures, suite.errors), (0, 0));
    let case = suite
        .test_cases
        .iter()
        .find(|c| c.name.as_str().starts_with("CMK006 "))
        .unwrap();
    assert!(matches!(
        case.status,
        quick_junit::TestCaseStatus::Success { .. }
    ));
    let out = case.system_out.as_ref().unwrap().as_str();
    assert!(out.contains("network team ticket NET-42"), "{out}");
    assert!(
        out.contains("accepted until the private endpoint lands"),
        "{out}"
    );
}

#[test]
fn junit_fails_a_case_only_at_or_above_fail_on() {
    let report = run("fixtures/fail/CMK015-expires-in-10-days.json");
    let case = |fail_on: FailOn| {
        let xml = junit::render(std::slice::from_ref(&report), fail_on).unwrap();
        let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        parsed.test_suites[0]
            .test_cases
            .iter()
            .find(|c| c.name.as_str().starts_with("CMK015"))
            .cloned()
            .unwrap()
    };
    // A warning does not fail the default gate: the case passes and carries the finding.
    let passing = case(FailOn::Error);
    assert!(matches!(
        passing.status,
        quick_junit::TestCaseStatus::Success { .. }
    ));
    assert!(passing
        .properties
        .iter()
        .any(|p| p.name.as_str() == "cmk-check.warning"));
    let failing = case(FailOn::Warning);
    assert!(matches!(
        failing.status,
        quick_junit::TestCaseStatus::NonSuccess { .. }
    ));
}
