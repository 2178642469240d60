#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! Where else cmk-check runs: the Azure Pipelines step template (parsed, its scripts linted and
//! run against a stand-in release), the pre-commit hook (its entry run on fixtures), and the
//! container (its Dockerfile linted with hadolint).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::tools::{hadolint, shellcheck, stand_in_release};
use serde_norway::Value;

fn yaml(relative: &str) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(common::root().join(relative)).unwrap())
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cmk-check-int-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const TEMPLATE: &str = "ci/azure-pipelines/cmk-check.yml";

/// The template's steps.
fn pipeline_steps() -> Vec<Value> {
    yaml(TEMPLATE)["steps"].as_sequence().unwrap().clone()
}

fn script_of(step: &Value) -> &str {
    step["bash"].as_str().unwrap()
}

#[test]
fn the_pipeline_template_takes_its_parameters_and_publishes_junit() {
    let template = yaml(TEMPLATE);
    let names: Vec<&str> = template["parameters"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["version", "args", "fail-on"]);
    let steps = pipeline_steps();
    let run = steps
        .iter()
        .find(|s| s["displayName"] == "Run cmk-check")
        .unwrap();
    assert!(
        script_of(run).contains("--format junit --output \"$RESULTS\""),
        "{}",
        script_of(run)
    );
    let publish = steps
        .iter()
        .find(|s| s["task"] == "PublishTestResults@2")
        .unwrap();
    assert_eq!(publish["inputs"]["testResultsFormat"], "JUnit");
    // The file the run step writes is the one published, and it is published after findings.
    assert_eq!(publish["inputs"]["testResultsFiles"], run["env"]["RESULTS"]);
    assert_eq!(publish["condition"], "succeededOrFailed()");
    for step in steps.iter().filter(|s| s.get("bash").is_some()) {
        // Template values reach the scripts through `env` only: the scripts are plain bash.
        assert!(!script_of(step).contains("${{"), "{}", script_of(step));
        for macro_ in ["$(Agent.", "$(Build.", "$(System."] {
            assert!(!script_of(step).contains(macro_), "{}", script_of(step));
        }
        for (name, value) in step["env"].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            assert!(script_of(step).contains(&format!("${name}")), "{name}");
            if name.starts_with("CMK_CHECK_") && name != "CMK_CHECK_DOWNLOAD_BASE" {
                assert!(value.as_str().unwrap().contains("parameters"), "{name}");
            }
        }
    }
}

/// Runs one of the template's bash steps as the agent would, with `env` as its variables.
fn agent_step(step: &Value, env: &[(&str, String)], path: &str) -> Output {
    let mut command = Command::new("bash");
    command
        .args(["-c", script_of(step)])
        .current_dir(common::root())
        .env("PATH", path);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn the_pipeline_scripts_lint_install_the_release_and_write_junit() {
    let dir = scratch("pipeline");
    let steps = pipeline_steps();
    let scripts: Vec<&Value> = steps.iter().filter(|s| s.get("bash").is_some()).collect();
    for (index, step) in scripts.iter().enumerate() {
        let file = dir.join(format!("step-{index}.sh"));
        std::fs::write(&file, format!("#!/usr/bin/env bash\n{}", script_of(step))).unwrap();
        let linted = Command::new(shellcheck()).arg(&file).output().unwrap();
        assert!(
            linted.status.success(),
            "{}",
            String::from_utf8_lossy(&linted.stdout)
        );
    }
    let base = stand_in_release(&dir, None);
    std::fs::create_dir_all(dir.join("agent")).unwrap();
    let system_path = std::env::var("PATH").unwrap();
    let install = agent_step(
        scripts[0],
        &[
            ("AGENT_OS", "Linux".into()),
            ("AGENT_ARCH", "X64".into()),
            ("TEMP_DIR", dir.join("agent").display().to_string()),
            ("CMK_CHECK_VERSION", "0.1.0".into()),
            ("CMK_CHECK_DOWNLOAD_BASE", base),
        ],
        &system_path,
    );
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let stdout = String::from_utf8(install.stdout).unwrap();
    let bin = stdout
        .lines()
        .find_map(|l| l.strip_prefix("##vso[task.prependpath]"))
        .unwrap();
    assert!(Path::new(bin).join("cmk-check").exists());

    let results = dir.join("junit.xml");
    let run = agent_step(
        scripts[1],
        &[
            (
                "CMK_CHECK_ARGS",
                "check --template fixtures/templates/fail/CMK004-purge-protection-absent.json --offline".into(),
            ),
            ("CMK_CHECK_FAIL_ON", "error".into()),
            ("RESULTS", results.display().to_string()),
        ],
        &format!("{bin}:{system_path}"),
    );
    // Findings fail the step; the results are written all the same, for the publish step.
    assert_eq!(run.status.code(), Some(1));
    let xml = std::fs::read_to_string(&results).unwrap();
    assert!(xml.contains("<testsuites"), "{xml}");
    assert!(xml.contains("CMK004"), "{xml}");
}

/// The hook's entry, with the binary under test for `cmk-check`.
fn hook(files: &[&str]) -> Output {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hook = &hooks[0];
    assert_eq!(hook["id"], "cmk-check");
    assert_eq!(hook["language"], "rust");
    assert_eq!(hook["files"], "\\.json$");
    let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
    assert_eq!(entry[0], "cmk-check");
    Command::new(assert_cmd::cargo::cargo_bin("cmk-check"))
        .args(&entry[1..])
        .args(files)
        .current_dir(common::root())
        .output()
        .unwrap()
}

#[test]
fn the_pre_commit_hook_checks_templates_and_plans_and_passes_over_other_json() {
    // A template with its parameters beside it, a plan, a parameters file, a snapshot, a schema.
    let clean = hook(&[
        "fixtures/templates/clean.json",
        "fixtures/templates/clean.parameters.json",
        "fixtures/terraform/clean.json",
        "fixtures/clean.json",
        "tests/schemas/cmk-check-fleet-v1.schema.json",
    ]);
    let said = String::from_utf8_lossy(&clean.stderr);
    assert_eq!(clean.status.code(), Some(0), "{said}");
    // One report for the template and one for the plan: the other files are passed over.
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert_eq!(stdout.matches("rules passed").count(), 2, "{stdout}");

    for failing in [
        "fixtures/templates/fail/CMK004-purge-protection-absent.json",
        "fixtures/terraform/fail/CMK004-purge-protection-absent.json",
    ] {
        let failed = hook(&["fixtures/templates/clean.json", failing]);
        let stdout = String::from_utf8_lossy(&failed.stdout);
        assert_eq!(failed.status.code(), Some(1), "{failing}: {stdout}");
        assert!(stdout.contains("CMK004"), "{failing}: {stdout}");
    }
}

#[test]
fn the_pre_commit_hook_checks_templates_of_every_scope() {
    let failing = std::fs::read_to_string(
        common::root().join("fixtures/templates/fail/CMK004-purge-protection-absent.json"),
    )
    .unwrap();
    let dir = scratch("scopes");
    for schema in [
        "subscriptionDeploymentTemplate",
        "managementGroupDeploymentTemplate",
        "tenantDeploymentTemplate",
    ] {
        let text = failing.replace("/deploymentTemplate.json#", &format!("/{schema}.json#"));
        assert_ne!(text, failing, "the fixture names its schema");
        let file = dir.join(format!("{schema}.json"));
        std::fs::write(&file, text).unwrap();
        let failed = hook(&[file.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&failed.stdout);
        assert_eq!(failed.status.code(), Some(1), "{schema}: {stdout}");
        assert!(stdout.contains("CMK004"), "{schema}: {stdout}");
    }
}

#[test]
fn the_dockerfile_is_minimal_non_root_and_hadolint_clean() {
    let path = common::root().join("Dockerfile");
    let text = std::fs::read_to_string(&path).unwrap();
    let last_from = text.lines().rfind(|l| l.starts_with("FROM ")).unwrap();
    assert!(
        last_from.contains("distroless/static") || last_from.contains("scratch"),
        "{last_from}"
    );
    let user = text.lines().rfind(|l| l.starts_with("USER ")).unwrap();
    assert!(!user.contains(" 0") && !user.contains("root:"), "{user}");
    assert_eq!(
        text.lines().rfind(|l| l.starts_with("ENTRYPOINT ")),
        Some("ENTRYPOINT [\"cmk-check\"]")
    );
    let linted = Command::new(hadolint()).arg(&path).output().unwrap();
    assert!(
        linted.status.success(),
        "{}",
        String::from_utf8_lossy(&linted.stdout)
    );
}
