//! `--parameters` as ARM takes it, and a template that declares everything checked without
//! signing in to Azure.

use super::*;

/// A file in a directory of this test run.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cmk-check-parameters-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    file
}

fn check_clean(parameters: &Path) -> assert_cmd::assert::Assert {
    cmk()
        .args(["check", "--template", "fixtures/templates/clean.json"])
        .arg("--parameters")
        .arg(parameters)
        .args(["--offline", "--now", NOW])
        .assert()
}

#[test]
fn a_parameter_the_template_does_not_declare_is_refused_in_the_parameters_file() {
    let text = std::fs::read_to_string(templates().join("clean.parameters.json"))
        .unwrap()
        .replace("\"clusterName\"", "\"clusterNmae\"");
    let file = scratch("misspelt.parameters.json", text.as_bytes());
    check_clean(&file)
        .code(2)
        .stderr(predicate::str::contains("gives parameter"))
        .stderr(predicate::str::contains("`clusterNmae`, which"))
        .stderr(predicate::str::contains("did you mean `clusterName`?"))
        .stderr(predicate::str::contains("misspelt.parameters.json:11:5"));
}

#[test]
fn a_file_that_is_not_a_parameters_file_is_refused() {
    // Relative, so that the message's wrapping does not depend on where the checkout is.
    check_clean(Path::new("fixtures/templates/clean.json"))
        .code(2)
        .stderr(predicate::str::contains("is not a parameters file"))
        .stderr(predicate::str::contains(
            "not a deploymentParameters schema",
        ));
    let file = scratch(
        "bare.parameters.json",
        br#"{"parameters": {"location": "westeurope"}}"#,
    );
    check_clean(&file).code(2).stderr(predicate::str::contains(
        "parameter `location` has neither a `value` nor a Key Vault `reference`",
    ));
}

#[test]
fn a_parameters_file_may_start_with_a_byte_order_mark() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(templates().join("clean.parameters.json")).unwrap());
    let file = scratch("bom.parameters.json", &bytes);
    check_clean(&file)
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules(),
        )));
}

#[test]
fn a_template_that_declares_everything_needs_no_sign_in() {
    let run = |template: &str, parameters: &str| {
        cmk()
            .env_remove("CMK_CHECK_ACCESS_TOKEN")
            // Nothing listens there: a read would fail, not reach Azure.
            .env("CMK_CHECK_ARM_ENDPOINT", "http://127.0.0.1:9")
            .args(["check", "--template", template, "--parameters", parameters])
            .args(["--subscription", "6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"])
            .args(["--resource-group", "rg-citus-prod"])
            .args(["--auth", "access-token", "--now", NOW])
            .assert()
    };
    run(
        "fixtures/templates/clean.json",
        "fixtures/templates/clean.parameters.json",
    )
    .code(0)
    .stdout(predicate::str::contains(common::summary(
        0,
        0,
        0,
        common::state_rules(),
    )));
    // What it only references is read, and so needs the token.
    run(
        "fixtures/templates/existing-resources.json",
        "fixtures/templates/existing-resources.parameters.json",
    )
    .code(2)
    .stderr(predicate::str::contains("could not sign in to Azure"));
}

#[test]
fn a_template_refused_for_its_limits_exits_2() {
    let mut template: Value =
        serde_json::from_str(&std::fs::read_to_string(templates().join("clean.json")).unwrap())
            .unwrap();
    template["parameters"]["location"]["defaultValue"] = serde_json::json!("westeurope");
    resource(&mut template, "Microsoft.DBforPostgreSQL/serverGroupsv2")["copy"] =
        serde_json::json!({"name": "clusters", "count": 1000});
    let file = scratch("copy-1000.json", template.to_string().as_bytes());
    cmk()
        .args(["check", "--template"])
        .arg(&file)
        .args(["--offline", "--now", NOW])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the count of copy loop `clusters` is 1000: ARM allows 0 to 800",
        ));
}
