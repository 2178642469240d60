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
    let stderr = unwrapped(&check_clean(&file).code(2));
    for expected in [
        "gives parameter",
        "`clusterNmae`, which",
        "did you mean `clusterName`?",
        "misspelt.parameters.json:11:5",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
}

/// Stderr as one line: miette wraps a message that names a long checkout path anywhere.
fn unwrapped(assert: &assert_cmd::assert::Assert) -> String {
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    stderr
        .lines()
        .map(|line| line.trim_start_matches(|c: char| c.is_whitespace() || "│├╰×".contains(c)))
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_file_that_is_not_a_parameters_file_is_refused() {
    let refused = check_clean(&templates().join("clean.json")).code(2);
    let stderr = unwrapped(&refused);
    assert!(stderr.contains("is not a parameters file"), "{stderr}");
    assert!(
        stderr.contains("not a deploymentParameters schema"),
        "{stderr}"
    );
    let file = scratch(
        "bare.parameters.json",
        br#"{"parameters": {"location": "westeurope"}}"#,
    );
    let stderr = unwrapped(&check_clean(&file).code(2));
    assert!(
        stderr.contains("parameter `location` has neither a `value` nor a Key Vault `reference`"),
        "{stderr}"
    );
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
    .stderr(predicate::str::contains("could not sign in to Azure"))
    .stderr(predicate::str::contains(
        "a template needs no sign-in with `--offline`",
    ));
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

#[test]
fn a_template_may_start_with_a_byte_order_mark() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(templates().join("clean.json")).unwrap());
    let template = scratch("bom.json", &bytes);
    cmk()
        .arg("check")
        .arg("--template")
        .arg(&template)
        .args(["--parameters", "fixtures/templates/clean.parameters.json"])
        .args(["--offline", "--now", NOW])
        .assert()
        .code(0);
}

/// A syntax error after a byte-order mark is located by line and column of the text the user
/// sees, the mark not counted as a character.
#[test]
fn a_syntax_error_after_a_byte_order_mark_is_located() {
    let template = scratch(
        "bom-broken.json",
        b"\xEF\xBB\xBF{\n  \"$schema\": \"x\",\n  \"resources\": [,]\n}\n",
    );
    let refused = cmk()
        .arg("check")
        .arg("--template")
        .arg(&template)
        .args(["--offline", "--now", NOW])
        .assert()
        .code(2);
    let stderr = unwrapped(&refused);
    assert!(stderr.contains("bom-broken.json:3:17"), "{stderr}");
}

/// A key URI expression that yields a number or an object is a wrong value at the key URI, never
/// a crash: the run ends with findings, labelled at `primaryKeyUri`.
#[test]
fn a_key_uri_that_is_not_a_string_is_a_finding_at_the_key_uri() {
    let clean = std::fs::read_to_string(templates().join("clean.json")).unwrap();
    let original = "[reference(resourceId('Microsoft.KeyVault/vaults/keys', variables('vaultName'), variables('keyName')), '2023-07-01').keyUriWithVersion]";
    assert!(clean.contains(original));
    for (name, expression) in [
        ("number-key.json", "[add(1, 2)]"),
        ("object-key.json", "[createObject('uri', 'x')]"),
        ("array-key.json", "[createArray('x')]"),
    ] {
        let template = scratch(name, clean.replace(original, expression).as_bytes());
        let output = cmk()
            .arg("check")
            .arg("--template")
            .arg(&template)
            .args(["--parameters", "fixtures/templates/clean.parameters.json"])
            .args(["--offline", "--now", NOW, "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{name}: {output:?}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let at_key = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["pointer"].as_str().unwrap().ends_with("/primaryKeyUri"));
        assert!(at_key, "{name}: {report:#}");
    }
}
