#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The GitHub Action: `action.yml` declares the inputs and outputs of its contract and runs
//! `ci/action/run.sh`, whose two steps run here against a stand-in release directory (no
//! network): the binary is installed only when its checksum matches, and the run writes the
//! outputs to a stand-in `$GITHUB_OUTPUT`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::tools::stand_in_release;
use serde_norway::Value;

fn yaml(relative: &str) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(common::root().join(relative)).unwrap())
        .unwrap()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_action_declares_its_inputs_and_outputs_and_runs_the_script() {
    let action = yaml("action.yml");
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        keys(&action["inputs"]),
        set(&[
            "version",
            "install",
            "args",
            "path",
            "format",
            "fail-on",
            "upload-sarif",
            "working-directory"
        ])
    );
    assert_eq!(
        keys(&action["outputs"]),
        set(&["exit-code", "sarif-file", "errors", "warnings"])
    );
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let script = std::fs::read_to_string(common::root().join("ci/action/run.sh")).unwrap();
    for step in steps {
        if let Some(run) = step["run"].as_str() {
            assert_eq!(step["shell"], "bash", "{run}");
            // Inputs reach the shell through the environment, never spliced into the script.
            assert!(!run.contains("${{"), "{run}");
        }
        for name in step["env"].as_mapping().into_iter().flat_map(|m| m.keys()) {
            let name = name.as_str().unwrap();
            assert!(
                script.contains(name) || step["run"].as_str().unwrap().contains(name),
                "{name} is read by nothing"
            );
        }
    }
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .unwrap();
    assert_eq!(upload["with"]["category"], "cmk-check");
    for output in keys(&action["outputs"]) {
        assert!(
            script.contains(&format!("echo \"{output}=")),
            "run.sh never writes {output}"
        );
    }
}

struct Runner {
    dir: PathBuf,
    base: String,
}

impl Runner {
    fn new(name: &str, checksum: Option<&str>) -> Self {
        let dir =
            std::env::temp_dir().join(format!("cmk-check-action-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("temp")).unwrap();
        let base = stand_in_release(&dir, checksum);
        Self { dir, base }
    }

    fn step(&self, which: &str, env: &[(&str, &str)], path: &str) -> Output {
        let mut command = Command::new("bash");
        command
            .arg(common::root().join("ci/action/run.sh"))
            .arg(which)
            .current_dir(common::root())
            .env("PATH", path)
            .env("CMK_CHECK_DOWNLOAD_BASE", &self.base)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", self.dir.join("temp"))
            .env("GITHUB_PATH", self.dir.join("github_path"))
            .env("GITHUB_OUTPUT", self.dir.join("github_output"))
            .env("GITHUB_STEP_SUMMARY", self.dir.join("step_summary"))
            .env("INPUT_VERSION", "0.1.0");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap()
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file)).unwrap_or_default()
    }
}

fn outputs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn the_action_installs_the_release_and_writes_its_outputs() {
    let runner = Runner::new("ok", None);
    let system_path = std::env::var("PATH").unwrap();
    let installed = runner.step("install", &[], &system_path);
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let bin = runner.read("github_path");
    let bin = bin.trim();
    assert!(Path::new(bin).join("cmk-check").exists(), "{bin}");

    // As the runner does: what install wrote to GITHUB_PATH comes first on PATH.
    let path = format!("{bin}:{system_path}");
    let template = "fixtures/templates/fail/CMK004-purge-protection-absent.json";
    let args = format!("check --template {template} --offline");
    let ran = runner.step("run", &[("INPUT_ARGS", &args)], &path);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let written = outputs(&runner.read("github_output"));
    let sarif = runner.dir.join("temp/cmk-check.sarif");
    assert_eq!(
        written,
        [
            ("exit-code".to_string(), "1".to_string()),
            ("sarif-file".to_string(), sarif.display().to_string()),
            ("errors".to_string(), "1".to_string()),
            ("warnings".to_string(), "0".to_string()),
        ]
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(report["runs"][0]["results"][0]["ruleId"], "CMK004");
    // The default format: annotations in the log, and the job summary.
    let log = String::from_utf8_lossy(&ran.stdout);
    assert!(log.contains("::error "), "{log}");
    assert!(runner.read("step_summary").contains("CMK004"));
}

#[test]
fn flags_the_action_sets_itself_are_refused_in_args() {
    let runner = Runner::new("reserved", None);
    let system_path = std::env::var("PATH").unwrap();
    assert!(runner.step("install", &[], &system_path).status.success());
    let path = format!("{}:{system_path}", runner.read("github_path").trim());
    for extra in [
        "--fail-on warning",
        "--format=json",
        "-o report.txt",
        "--output x",
    ] {
        let args = format!("check --snapshot fixtures/clean.json {extra}");
        let ran = runner.step("run", &[("INPUT_ARGS", &args)], &path);
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert!(!ran.status.success(), "{extra}: {stderr}");
        assert!(
            stderr.contains("::error title=cmk-check::args: "),
            "{extra}: {stderr}"
        );
        assert!(stderr.contains("is set by the action"), "{extra}: {stderr}");
    }
}

#[test]
fn a_clean_check_exits_0_and_a_broken_one_2() {
    let runner = Runner::new("codes", None);
    let system_path = std::env::var("PATH").unwrap();
    assert!(runner.step("install", &[], &system_path).status.success());
    let path = format!("{}:{system_path}", runner.read("github_path").trim());
    let clean = runner.step(
        "run",
        &[
            (
                "INPUT_ARGS",
                "check --snapshot fixtures/clean.json --now 2026-11-27T12:00:00Z",
            ),
            ("INPUT_FORMAT", "human"),
        ],
        &path,
    );
    assert!(clean.status.success());
    let broken = runner.step(
        "run",
        &[("INPUT_ARGS", "check --snapshot no-such-file.json")],
        &path,
    );
    assert!(broken.status.success());
    let written = outputs(&runner.read("github_output"));
    let codes: Vec<&str> = written
        .iter()
        .filter(|(k, _)| k == "exit-code")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(codes, ["0", "2"]);
    let errors: Vec<&str> = written
        .iter()
        .filter(|(k, _)| k == "errors")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(errors, ["0", ""]);
    assert!(written.contains(&("sarif-file".to_string(), String::new())));
}

#[test]
fn a_binary_whose_checksum_does_not_match_is_not_installed() {
    let runner = Runner::new("tampered", Some(&"0".repeat(64)));
    let installed = runner.step("install", &[], &std::env::var("PATH").unwrap());
    assert!(!installed.status.success());
    let said = String::from_utf8_lossy(&installed.stderr);
    assert!(said.contains("checksum"), "{said}");
    assert_eq!(runner.read("github_path"), "");
}
