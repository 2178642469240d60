#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! Terraform plans as a pipeline makes them: every fixture checked offline, each failing
//! template's twin with the same verdicts, the CLI's contract for plans, labels in the `.tf`
//! files, and data sources read from the fake ARM.

#[path = "terraform/cli.rs"]
mod cli;
mod common;
#[path = "terraform/live.rs"]
mod live;
#[path = "terraform/variants.rs"]
mod variants;

use std::collections::BTreeSet;
use std::path::PathBuf;

use assert_cmd::Command;
use cmk_check::engine::{self, Options, Report};
use cmk_check::lint::{Fix, Input};
use cmk_check::render::human::{self, Style};
use cmk_check::render::{self, Format};
use cmk_check::rules::ALL;
use cmk_check::source::template::{self, Placement as TemplatePlacement};
use cmk_check::source::terraform::{self, Placement, Plan};
use cmk_check::state::Declared;
use common::*;
use serde_json::Value;

fn plans() -> PathBuf {
    root().join("fixtures/terraform")
}

/// A plan fixture read as `--terraform-plan` reads it: with the `.tf` files beside it.
fn read(relative: &str) -> Plan {
    let text = std::fs::read_to_string(plans().join(relative)).unwrap();
    // Relative to the working directory, as a pipeline names it.
    let name = format!("fixtures/terraform/{relative}");
    terraform::parse(
        &name,
        text,
        std::path::Path::new(&name).parent(),
        &Placement::default(),
    )
    .unwrap()
}

fn reports(plan: &Plan) -> Vec<Report> {
    let options = Options::new(NOW.parse().unwrap());
    plan.targets
        .iter()
        .map(|t| engine::run(&t.state, &options))
        .collect()
}

fn outcome(reports: &[Report]) -> Vec<(String, bool)> {
    let mut found: Vec<(String, bool)> = engine::merge(reports)
        .findings
        .iter()
        .map(|f| (f.code().to_string(), f.violation.unverified))
        .collect();
    found.sort();
    found
}

fn cmk() -> Command {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_GRAPHICS")
        .env_remove("CMK_CHECK_ARM_ENDPOINT");
    cmd
}

/// The fixtures that are plans with clusters to check (the others are refused).
const REFUSED: [&str; 4] = [
    "no-cluster.json",
    "format-version-2.json",
    "malformed.json",
    "pulumi-preview.json",
];

#[test]
fn every_plan_renders_as_before() {
    let _neutral = common::catalog_neutral().bind_to_scope();
    insta::glob!(
        "../fixtures/terraform",
        "{*.json,fail/*.json,hcl/*.json}",
        |path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if REFUSED.contains(&name.as_str()) {
                return;
            }
            let relative = path.strip_prefix(plans()).unwrap().display().to_string();
            let plan = read(&relative);
            let mut text = human::render(&engine::merge(&reports(&plan)), Style::PLAIN);
            for note in &plan.notes {
                text.push_str(&format!("note: {note}\n"));
            }
            insta::assert_snapshot!(text);
        }
    );
}

#[test]
fn the_clean_plans_pass_every_rule_offline() {
    let cases = [
        ("clean.json", 1),
        ("azapi-v1-string-body.json", 1),
        ("replace.json", 1),
        ("delete-only.json", 1),
        ("no-cmk-cluster.json", 1),
    ];
    for (file, clusters) in cases {
        let plan = read(file);
        assert_eq!(plan.targets.len(), clusters, "{file}: {:?}", plan.notes);
        let found = outcome(&reports(&plan));
        assert!(found.is_empty(), "{file}: {found:?}");
    }
    assert_eq!(
        read("clean.json").targets[0].cluster,
        "module.db.azapi_resource.cluster"
    );
}

/// Each failing template has a plan of the same name that breaks the same rules, with the same
/// findings unverified.
#[test]
fn each_failing_template_has_a_terraform_twin_with_the_same_verdicts() {
    let placement = TemplatePlacement {
        now: NOW.parse().unwrap(),
        ..TemplatePlacement::default()
    };
    let options = Options::new(NOW.parse().unwrap());
    for entry in std::fs::read_dir(root().join("fixtures/templates/fail")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        let text =
            std::fs::read_to_string(root().join("fixtures/templates/fail").join(&file)).unwrap();
        let parsed = template::parse(&file, text, None, &placement).unwrap();
        let expected = outcome(
            &parsed
                .targets
                .iter()
                .map(|t| engine::run(&t.state, &options))
                .collect::<Vec<_>>(),
        );
        assert!(
            plans().join("fail").join(&file).exists(),
            "no Terraform twin of fixtures/templates/fail/{file}"
        );
        let found = outcome(&reports(&read(&format!("fail/{file}"))));
        assert_eq!(found, expected, "{file}");
    }
}

#[test]
fn each_failing_plan_fails_the_rule_it_is_named_after() {
    let mut covered = BTreeSet::new();
    for entry in std::fs::read_dir(plans().join("fail")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        let code = file[..6].to_string();
        let found = outcome(&reports(&read(&format!("fail/{file}"))));
        assert!(found.contains(&(code.clone(), false)), "{file}: {found:?}");
        covered.insert(code);
    }
    // Each rule says whether a plan can break it.
    let breakable: BTreeSet<String> = ALL
        .iter()
        .filter(|r| r.breakable_in.contains(&Input::Terraform))
        .map(|r| r.code.to_string())
        .collect();
    let missing: Vec<_> = breakable.difference(&covered).collect();
    assert!(missing.is_empty(), "no failing plan for {missing:?}");
}

#[test]
fn what_only_apply_knows_is_unverified_with_a_label_on_after_unknown() {
    let plan = read("unknown-values.json");
    let report = engine::merge(&reports(&plan));
    let codes: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.code(), f.violation.unverified))
        .collect();
    assert_eq!(codes, [("CMK014", true), ("CMK015", true)]);
    let finding = &report.findings[0];
    assert!(
        finding.violation.message.contains(
            "`expiration_date` of `module.cmk.azurerm_key_vault_key.cmk` is known only after apply"
        ),
        "{}",
        finding.violation.message
    );
    let at = finding.violation.place.absolute();
    assert!(
        at.starts_with("/resource_changes/")
            && at.ends_with("/change/after_unknown/expiration_date"),
        "{at}"
    );
}

#[test]
fn every_resource_the_plan_declares_is_fixed_by_an_hcl_edit() {
    let plan = read("clean.json");
    let state = &plan.targets[0].state;
    let address = |declared: &Option<Declared>| match declared {
        Some(Declared::Terraform { address, .. }) => address.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        address(&state.identity.as_ref().unwrap().declared),
        "module.cmk.azurerm_user_assigned_identity.cmk"
    );
    assert_eq!(
        address(&state.vault.as_ref().unwrap().declared),
        "module.cmk.azurerm_key_vault.cmk"
    );
    assert_eq!(
        address(&state.key.as_ref().unwrap().declared),
        "module.cmk.azurerm_key_vault_key.cmk"
    );
    let cluster = state.cluster.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(
        address(&cluster.declared),
        "module.db.azapi_resource.cluster"
    );
    // Names are the resources' own; the key URI is the one Key Vault will give.
    assert_eq!(state.vault.as_ref().unwrap().name, "kv-cmk-prod");
    assert_eq!(
        state.key_uri.as_ref().unwrap().value,
        "https://kv-cmk-prod.vault.azure.net/keys/cmk-citus"
    );
    let fix = |file: &str, code: &str| {
        let plan = read(file);
        let report = engine::merge(&reports(&plan));
        let finding = report.findings.iter().find(|f| f.code() == code).unwrap();
        match &finding.violation.fix {
            Some(Fix::Edit(edit)) => edit.clone(),
            other => panic!("{file}: {other:?}"),
        }
    };
    assert_eq!(
        fix("fail/CMK004-purge-protection-absent.json", "CMK004"),
        "in `module.cmk.azurerm_key_vault.cmk`, set `purge_protection_enabled = true`"
    );
    assert_eq!(
        fix("fail/CMK006-public-access-disabled.json", "CMK006"),
        "in `module.cmk.azurerm_key_vault.cmk`, set `public_network_access_enabled = true`"
    );
    assert_eq!(
        fix("fail/CMK003-soft-delete-disabled.json", "CMK003"),
        "in `module.cmk.azapi_resource.vault`, set `body = { properties = { enableSoftDelete = true } }`"
    );
    assert!(fix("fail/CMK008-missing-unwrap.json", "CMK008")
        .starts_with("in `module.cmk`, add `resource \"azurerm_key_vault_access_policy\""),);
}

/// With the `.tf` files beside the plan, the value is labelled in the plan and the attribute the
/// user edits in the `.tf` file, and SARIF and GitHub point at the `.tf` file; without them,
/// into the plan. Every format names the Terraform address.
#[test]
fn labels_go_on_the_plan_and_on_the_attribute_in_the_tf_file_when_it_is_there() {
    let render = |plan: &Plan, format: Format| {
        let reports = reports(plan);
        render::render(
            &reports,
            &engine::merge(&reports),
            format,
            Style::PLAIN,
            engine::FailOn::Error,
        )
        .unwrap()
    };
    let plan = read("hcl/plan.json");
    let text = render(&plan, Format::Human);
    assert!(
        text.contains("fixtures/terraform/hcl/modules/cmk/main.tf:19:35"),
        "{text}"
    );
    assert!(
        text.contains("purge_protection_enabled      = false"),
        "{text}"
    );
    assert!(
        text.contains("fixtures/terraform/hcl/plan.json:50:45"),
        "{text}"
    );
    let address = "`module.cmk.azurerm_key_vault.cmk`";
    assert!(
        text.contains(&format!("has purge protection disabled ({address})")),
        "{text}"
    );
    let sarif: Value = serde_json::from_str(&render(&plan, Format::Sarif)).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "fixtures/terraform/hcl/modules/cmk/main.tf"
    );
    assert_eq!(location["region"]["startLine"], 19);
    let related = &result["relatedLocations"][0]["physicalLocation"];
    assert_eq!(
        related["artifactLocation"]["uri"],
        "fixtures/terraform/hcl/plan.json"
    );
    assert_eq!(related["region"]["startLine"], 50);
    assert!(result["message"]["text"]
        .as_str()
        .unwrap()
        .contains(address));
    let json: Value = serde_json::from_str(&render(&plan, Format::Json)).unwrap();
    assert_eq!(
        json["findings"][0]["address"],
        "module.cmk.azurerm_key_vault.cmk"
    );
    let github = render(&plan, Format::Github);
    assert!(
        github.starts_with("::error file=fixtures/terraform/hcl/modules/cmk/main.tf,line=19,"),
        "{github}"
    );
    assert!(github.contains(address), "{github}");
    let plan = read("fail/CMK004-purge-protection-absent.json");
    let sarif: Value = serde_json::from_str(&render(&plan, Format::Sarif)).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/terraform/fail/CMK004-purge-protection-absent.json"
    );
    assert!(result.get("relatedLocations").is_none(), "{result}");
    let text = render(&plan, Format::Human);
    assert!(
        text.contains("\"purge_protection_enabled\": null"),
        "{text}"
    );
}

#[test]
fn fixture_readme_lists_every_plan() {
    let readme = std::fs::read_to_string(plans().join("README.md")).unwrap();
    for dir in ["", "fail", "hcl"] {
        for entry in std::fs::read_dir(plans().join(dir)).unwrap() {
            let entry = entry.unwrap();
            let file = entry.file_name().to_string_lossy().to_string();
            if !file.ends_with(".json") {
                continue;
            }
            let named = if dir.is_empty() {
                format!("`{file}`")
            } else {
                format!("`{dir}/{file}`")
            };
            assert!(readme.contains(&named), "{named}");
        }
    }
}
