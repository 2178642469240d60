#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! Templates as the pull request carries them: every fixture checked offline, the CLI's
//! contract for template input, and referenced resources read from the fake ARM.

mod common;
#[path = "templates/limits.rs"]
mod limits;
#[path = "templates/parameters.rs"]
mod parameters;
#[path = "templates/reading.rs"]
mod reading;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use cmk_check::engine::{self, Options, Report};
use cmk_check::lint::Input;
use cmk_check::render::human::{self, Style};
use cmk_check::render::{self, Format};
use cmk_check::rules::ALL;
use cmk_check::source::template::{self, Parameters, Placement, Template, TemplateError};
use common::*;
use predicates::prelude::*;
use serde_json::Value;
use wiremock::MockServer;

fn templates() -> PathBuf {
    root().join("fixtures/templates")
}

fn read(relative: &str, parameters: Option<&str>) -> Template {
    let text = std::fs::read_to_string(templates().join(relative)).unwrap();
    let given = parameters.map(|file| {
        let text = std::fs::read_to_string(templates().join(file)).unwrap();
        Parameters::parse(&format!("fixtures/templates/{file}"), text).unwrap()
    });
    template::parse(
        &format!("fixtures/templates/{relative}"),
        text,
        given.as_ref(),
        &placement(),
    )
    .unwrap()
}

/// Deployed at the tests' clock: `utcNow()` is the deployment instant.
fn placement() -> Placement {
    Placement {
        now: NOW.parse().unwrap(),
        ..Placement::default()
    }
}

fn reports(template: &Template) -> Vec<Report> {
    let options = Options::new(NOW.parse().unwrap());
    template
        .targets
        .iter()
        .map(|t| engine::run(&t.state, &options))
        .collect()
}

fn outcome(reports: &[Report]) -> Vec<(String, bool)> {
    engine::merge(reports)
        .findings
        .iter()
        .map(|f| (f.code().to_string(), f.violation.unverified))
        .collect()
}

fn cmk() -> Command {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_GRAPHICS")
        .env_remove("CMK_CHECK_ARM_ENDPOINT");
    cmd
}

#[test]
fn every_template_renders_as_before() {
    let _neutral = common::catalog_neutral().bind_to_scope();
    insta::glob!("../fixtures/templates", "{*.json,fail/*.json}", |path| {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".parameters.json") || name == "no-cluster.json" {
            return;
        }
        let relative = path
            .strip_prefix(templates())
            .unwrap()
            .display()
            .to_string();
        let parameters = relative.replace(".json", ".parameters.json");
        let parameters = templates().join(&parameters).exists().then_some(parameters);
        let template = read(&relative, parameters.as_deref());
        let mut text = human::render(&engine::merge(&reports(&template)), Style::PLAIN);
        for note in &template.notes {
            text.push_str(&format!("note: {note}\n"));
        }
        insta::assert_snapshot!(text);
    });
}

#[test]
fn the_clean_templates_pass_every_rule_offline() {
    let cases = [
        ("clean.json", Some("clean.parameters.json"), 1),
        ("bicep-symbolic.json", None, 1),
        ("copy-two-clusters.json", None, 2),
        ("nested-deployment.json", None, 1),
        ("no-cmk-cluster.json", None, 1),
        ("lowercase-properties.json", None, 1),
    ];
    for (file, parameters, clusters) in cases {
        let template = read(file, parameters);
        assert_eq!(template.targets.len(), clusters, "{file}");
        let found = outcome(&reports(&template));
        assert!(found.is_empty(), "{file}: {found:?}");
    }
}

#[test]
fn each_failing_template_fails_the_rule_it_is_named_after() {
    let mut covered = BTreeSet::new();
    for entry in std::fs::read_dir(templates().join("fail")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        let code = file[..6].to_string();
        let found = outcome(&reports(&read(&format!("fail/{file}"), None)));
        assert!(found.contains(&(code.clone(), false)), "{file}: {found:?}");
        covered.insert(code);
    }
    // Each rule says whether a template can break it (CMK018 and CMK020 need an existing cluster
    // or key versions).
    let template_rules: BTreeSet<String> = ALL
        .iter()
        .filter(|r| r.breakable_in.contains(&Input::Template))
        .map(|r| r.code.to_string())
        .collect();
    let missing: Vec<_> = template_rules.difference(&covered).collect();
    assert!(missing.is_empty(), "no failing template for {missing:?}");
}

#[test]
fn what_only_deployment_knows_is_unverified_with_a_label_on_the_expression() {
    let template = read("unsupported-expression.json", None);
    let report = engine::merge(&reports(&template));
    let codes: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.code(), f.violation.unverified))
        .collect();
    assert_eq!(codes, [("CMK014", true), ("CMK015", true)]);
    let finding = &report.findings[0];
    assert!(
        finding
            .violation
            .message
            .contains("`contoso.keyExpiry` is not supported"),
        "{}",
        finding.violation.message
    );
    let text = human::render(&report, Style::PLAIN);
    assert!(text.contains("unsupported-expression.json:"), "{text}");

    let tenant = engine::merge(&reports(&read("tenant-literal.json", None)));
    let codes: Vec<_> = tenant
        .findings
        .iter()
        .map(|f| (f.code(), f.violation.unverified))
        .collect();
    assert_eq!(codes, [("CMK008", true), ("CMK009", true)]);
}

/// The standard Bicep pattern for a key's expiry is known before deployment: a year after it,
/// whenever it is.
#[test]
fn a_key_expiry_relative_to_the_deployment_is_known() {
    let text =
        std::fs::read_to_string(templates().join("expiry-from-deployment-time.json")).unwrap();
    for now in [
        "2026-11-27T12:00:00Z",
        "2040-02-29T00:00:00Z",
        "2090-06-30T23:59:59Z",
    ] {
        let placement = Placement {
            now: now.parse().unwrap(),
            ..Placement::default()
        };
        let template = template::parse("expiry.json", text.clone(), None, &placement).unwrap();
        let options = Options::new(now.parse().unwrap());
        let findings: Vec<_> = template
            .targets
            .iter()
            .flat_map(|t| engine::run(&t.state, &options).findings)
            .map(|f| (f.code(), f.violation.unverified))
            .collect();
        assert!(findings.is_empty(), "{now}: {findings:?}");
    }
}

#[test]
fn a_copy_loop_gives_a_target_per_cluster_and_junit_a_suite_each() {
    let template = read("copy-two-clusters.json", None);
    let names: Vec<&str> = template
        .targets
        .iter()
        .map(|t| t.cluster.as_str())
        .collect();
    assert_eq!(names, ["citus-0", "citus-1"]);
    let xml = {
        let reports = reports(&template);
        render::render(
            &reports,
            &engine::merge(&reports),
            Format::Junit,
            Style::PLAIN,
            cmk_check::engine::FailOn::Error,
        )
    }
    .unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
}

#[test]
fn sarif_points_into_the_template() {
    let template = read("fail/CMK004-purge-protection-absent.json", None);
    let sarif: Value = serde_json::from_str(
        &{
            let reports = reports(&template);
            render::render(
                &reports,
                &engine::merge(&reports),
                Format::Sarif,
                Style::PLAIN,
                cmk_check::engine::FailOn::Error,
            )
        }
        .unwrap(),
    )
    .unwrap();
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "fixtures/templates/fail/CMK004-purge-protection-absent.json"
    );
    assert!(location["region"]["startLine"].as_i64().unwrap() > 1);
}

#[test]
fn cli_contract_for_templates() {
    cmk()
        .args([
            "check",
            "--template",
            "fixtures/templates/clean.json",
            "--parameters",
            "fixtures/templates/clean.parameters.json",
        ])
        .args(["--offline", "--now", NOW])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules(),
        )));
    cmk()
        .args([
            "check",
            "--template",
            "fixtures/templates/fail/CMK007-rbac-enabled.json",
            "--offline",
            "--now",
            NOW,
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("CMK007(rbac-permission-model)"));
    cmk()
        .args([
            "check",
            "--template",
            "fixtures/templates/no-cmk-cluster.json",
            "--offline",
            "--now",
            NOW,
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "note: cluster `citus-analytics` does not use a customer-managed key: skipped",
        ));
    cmk()
        .args([
            "check",
            "--template",
            "fixtures/templates/no-cluster.json",
            "--offline",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("declares no Azure Cosmos DB for"));
    cmk()
        .args([
            "check",
            "--template",
            "tests/inputs/malformed-template.json",
            "--offline",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not valid JSON"))
        .stderr(predicate::str::contains("malformed-template.json:8:7"));
    cmk()
        .args(["check", "--template", "fixtures/clean.json", "--offline"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is not an ARM deployment template",
        ));
    cmk()
        .args([
            "check",
            "--template",
            "fixtures/templates/clean.json",
            "--snapshot",
            "fixtures/clean.json",
        ])
        .assert()
        .code(2);
}

#[test]
fn a_bicep_file_needs_the_bicep_cli() {
    let dir = std::env::temp_dir().join(format!("cmk-check-bicep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("main.bicep");
    std::fs::write(&file, "param location string = resourceGroup().location\n").unwrap();
    cmk()
        .env("PATH", &dir)
        .args([
            "check",
            "--template",
            &file.display().to_string(),
            "--offline",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs the Bicep CLI"))
        .stderr(predicate::str::contains("az bicep build"));
}

#[tokio::test(flavor = "multi_thread")]
async fn referenced_resources_are_read_from_azure() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    serve(&server, &snapshot).await;
    let args = [
        "check",
        "--template",
        "fixtures/templates/existing-resources.json",
        "--parameters",
        "fixtures/templates/existing-resources.parameters.json",
        "--subscription",
        "6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b",
        "--resource-group",
        "rg-citus-prod",
        "--auth",
        "access-token",
        "--now",
        NOW,
    ];
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ok(
            &serde_json::json!({"data": [{"id": id(&snapshot["vault"])}]}),
        ))
        .mount(&server)
        .await;
    cmk()
        .env("CMK_CHECK_ACCESS_TOKEN", TOKEN)
        .env("CMK_CHECK_ARM_ENDPOINT", server.uri())
        .args(args)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules(),
        )));
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("/userAssignedIdentities/id-citus-cmk")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.ends_with("/vaults/kv-cmk-prod")),
        "{paths:?}"
    );

    // Offline, what the template only references cannot be verified.
    let output = cmk()
        .args(args)
        .arg("--offline")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(
        text.contains("is not declared in the template and was not read from Azure"),
        "{text}"
    );
    assert!(
        text.contains("existing-resources.json:"),
        "the gap points into the template: {text}"
    );
}

#[test]
fn fixture_readme_lists_every_template() {
    let readme = std::fs::read_to_string(templates().join("README.md")).unwrap();
    for entry in std::fs::read_dir(templates().join("fail")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(readme.contains(&format!("`fail/{file}`")), "{file}");
    }
    for entry in std::fs::read_dir(templates()).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        if file.ends_with(".json") {
            assert!(readme.contains(&format!("`{file}`")), "{file}");
        }
    }
    assert!(Path::new(&templates().join("clean.parameters.json")).exists());
}

/// A stand-in `bicep` on PATH that records its arguments and answers as the real CLI does.
#[test]
fn bicep_files_are_compiled_with_the_bicep_cli() {
    let dir = std::env::temp_dir().join(format!("cmk-check-fake-bicep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let compiled = templates().join("bicep-symbolic.json");
    let parameters = serde_json::json!({
        "parametersJson": serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"clusterName": {"value": "citus-from-bicepparam"}}
        }).to_string()
    });
    std::fs::write(dir.join("params.json"), parameters.to_string()).unwrap();
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{log}'\ncase \"$1\" in\n  build) cat '{compiled}' ;;\n  build-params) cat '{params}' ;;\n  *) echo 'unknown command' >&2; exit 1 ;;\nesac\n",
        log = dir.join("calls.log").display(),
        compiled = compiled.display(),
        params = dir.join("params.json").display(),
    );
    let bicep = dir.join("bicep");
    std::fs::write(&bicep, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bicep, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let main = dir.join("main.bicep");
    let params = dir.join("main.bicepparam");
    std::fs::write(&main, "// compiled by the stand-in\n").unwrap();
    std::fs::write(&params, "using 'main.bicep'\n").unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The compiled parameters name the cluster, and JUnit names its suite after the cluster.
    cmk()
        .env("PATH", &path)
        .args([
            "check",
            "--template",
            &main.display().to_string(),
            "--parameters",
            &params.display().to_string(),
        ])
        .args(["--offline", "--now", NOW, "--format", "junit"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "serverGroupsv2/citus-from-bicepparam",
        ));
    let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert!(
        calls.contains(&format!("build --stdout {}", main.display())),
        "{calls}"
    );
    assert!(
        calls.contains(&format!("build-params --stdout {}", params.display())),
        "{calls}"
    );
}

/// The clean template with the `location` default, changed by `change`.
fn changed(change: impl FnOnce(&mut Value)) -> Value {
    let mut template: Value =
        serde_json::from_str(&std::fs::read_to_string(templates().join("clean.json")).unwrap())
            .unwrap();
    template["parameters"]["location"]["defaultValue"] = serde_json::json!("westeurope");
    change(&mut template);
    template
}

/// A template checked in memory, as ARM would be given it.
fn check(template: &Value, placement: &Placement) -> Result<Template, TemplateError> {
    template::parse("changed.json", template.to_string(), None, placement)
}

/// The clean template, changed by `change`, checked offline.
fn clean_with(change: impl FnOnce(&mut Value)) -> Vec<(String, bool)> {
    let parsed = check(&changed(change), &Placement::default()).unwrap();
    outcome(&reports(&parsed))
}

fn resource<'a>(template: &'a mut Value, kind: &str) -> &'a mut Value {
    template["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["type"].as_str().unwrap().eq_ignore_ascii_case(kind))
        .unwrap()
}

#[test]
fn a_new_key_gets_key_vaults_defaults() {
    let found = clean_with(|t| {
        let key = resource(t, "Microsoft.KeyVault/vaults/keys");
        let properties = key["properties"].as_object_mut().unwrap();
        properties.remove("keySize");
        properties.remove("keyOps");
        properties.remove("attributes");
    });
    assert!(
        found.is_empty(),
        "2048 bits, every operation, enabled: {found:?}"
    );
}

#[test]
fn vaults_of_recent_api_versions_default_to_rbac() {
    let found = clean_with(|t| {
        let vault = resource(t, "Microsoft.KeyVault/vaults");
        vault["apiVersion"] = serde_json::json!("2026-02-01");
        vault["properties"]
            .as_object_mut()
            .unwrap()
            .remove("enableRbacAuthorization");
    });
    assert_eq!(found, [("CMK007".to_string(), false)]);
    let found = clean_with(|t| {
        resource(t, "Microsoft.KeyVault/vaults")["properties"]
            .as_object_mut()
            .unwrap()
            .remove("enableRbacAuthorization");
    });
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_parameter_without_value_is_unverified_not_defaulted() {
    let found = clean_with(|t| {
        t["parameters"]["purge"] = serde_json::json!({"type": "bool"});
        resource(t, "Microsoft.KeyVault/vaults")["properties"]["enablePurgeProtection"] =
            serde_json::json!("[parameters('purge')]");
    });
    assert_eq!(found, [("CMK004".to_string(), true)]);
}

#[test]
fn a_condition_known_false_removes_the_resource() {
    let found = clean_with(|t| {
        let alert = t["resources"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["name"] == "cmk-key-access")
            .unwrap();
        alert["condition"] = serde_json::json!("[equals(parameters('location'), 'mars')]");
    });
    assert_eq!(found, [("CMK021".to_string(), false)]);
}

#[test]
fn an_outer_scope_nested_deployment_sees_the_parents_parameters() {
    let found = clean_with(|t| {
        let resources = t["resources"].as_array_mut().unwrap();
        let at = resources
            .iter()
            .position(|r| {
                r["type"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case("Microsoft.DBforPostgreSQL/serverGroupsv2")
            })
            .unwrap();
        let cluster = resources.remove(at);
        resources.push(serde_json::json!({
            "type": "Microsoft.Resources/deployments",
            "apiVersion": "2022-09-01",
            "name": "cluster",
            "properties": {
                "mode": "Incremental",
                "template": {
                    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                    "contentVersion": "1.0.0.0",
                    "resources": [cluster]
                }
            }
        }));
    });
    assert!(found.is_empty(), "{found:?}");
}
