#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! Inputs that once crashed, hung or exhausted cmk-check: each class has its test here.

use std::io::Read;
use std::process::{Command as Process, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

const NOW: &str = "2026-11-27T12:00:00Z";

fn cmk() -> Command {
    let mut cmd = Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_GRAPHICS")
        .env_remove("NO_COLOR")
        .env_remove("CMK_CHECK_ARM_ENDPOINT");
    cmd
}

fn fixture(relative: &str) -> String {
    std::fs::read_to_string(format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn write(name: &str, content: impl AsRef<[u8]>) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cmk-check-robustness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// The clean fixture on one line, its first member a string of `pad` characters: every label
/// sits past column `pad`.
fn minified(pad: usize) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&fixture(
        "fixtures/fail/CMK004-purge-protection-absent.json",
    ))
    .unwrap();
    let mut padded = serde_json::Map::new();
    padded.insert("pad".to_string(), "x".repeat(pad).into());
    padded.extend(value.as_object_mut().unwrap().clone());
    serde_json::to_string(&padded).unwrap()
}

#[test]
fn a_finding_past_column_65535_of_a_line_renders_a_window() {
    let path = write("minified.json", minified(70_000));
    let output = cmk()
        .args(["check", "--snapshot", path.to_str().unwrap(), "--now", NOW])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "CMK004(purge-protection-disabled)",
        ))
        .get_output()
        .clone();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let longest = stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest < 400, "a line of {longest} characters was drawn");
    // The location is still the real one.
    assert!(stdout.contains("minified.json:1:"), "{stdout}");
}

#[test]
fn a_syntax_error_far_into_a_long_line_renders_a_window() {
    let mut text = minified(80_000);
    text.truncate(text.len() - 40);
    let path = write("truncated.json", text);
    cmk()
        .args(["check", "--snapshot", path.to_str().unwrap(), "--now", NOW])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not valid JSON"))
        .stderr(predicate::str::contains("truncated.json:1:"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn a_toml_error_on_a_long_line_is_located_without_a_crash() {
    let path = write(
        "long.toml",
        format!(
            "expiry-warning-days = \"{}\" nonsense\n",
            "9".repeat(70_000)
        ),
    );
    cmk()
        .args(["check", "--snapshot", "fixtures/clean.json", "--now", NOW])
        .args(["--config", path.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("long.toml"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn a_label_over_a_value_of_many_lines_is_drawn_on_its_first_line() {
    let mut value: serde_json::Value =
        serde_json::from_str(&fixture("fixtures/clean.json")).unwrap();
    value["vault"]["properties"]["publicNetworkAccess"] = "\n".repeat(100_000).into();
    let path = write(
        "newlines.json",
        serde_json::to_string_pretty(&value).unwrap(),
    );
    let output = cmk()
        .args(["check", "--snapshot", path.to_str().unwrap(), "--now", NOW])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        output.stdout.len() < 20_000,
        "{} bytes of output",
        output.stdout.len()
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let mut text = vec![0xEF, 0xBB, 0xBF];
    text.extend(fixture("fixtures/clean.json").into_bytes());
    let path = write("bom.json", text);
    cmk()
        .args(["check", "--snapshot", path.to_str().unwrap(), "--now", NOW])
        .assert()
        .code(0);
}

#[test]
fn input_that_is_not_utf8_is_refused_with_its_place() {
    let mut text = fixture("fixtures/clean.json").into_bytes();
    text[40] = 0xFF;
    let path = write("latin1.json", text);
    cmk()
        .args(["check", "--snapshot", path.to_str().unwrap(), "--now", NOW])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not UTF-8"))
        .stderr(predicate::str::contains("latin1.json:"));
    let path = write("utf16.json", [0xFF, 0xFE, b'{', 0, b'}', 0]);
    cmk()
        .args(["check", "--snapshot", path.to_str().unwrap(), "--now", NOW])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("UTF-16"));
}

#[test]
fn endless_inputs_are_refused_at_the_size_bound() {
    if !std::path::Path::new("/dev/zero").exists() {
        return;
    }
    cmk()
        .args(["check", "--snapshot", "/dev/zero", "--now", NOW])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than"));
    cmk()
        .args(["check", "--snapshot", "fixtures/clean.json", "--now", NOW])
        .args(["--config", "/dev/zero"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than"));
}

#[test]
fn terminal_escapes_in_values_are_shown_not_obeyed() {
    let mut value: serde_json::Value =
        serde_json::from_str(&fixture("fixtures/clean.json")).unwrap();
    value["vault"]["name"] = "kv\u{1b}]8;;https://evil\u{7}\u{1b}[2Khidden\u{202e}".into();
    value["vault"]["properties"]["enableSoftDelete"] = false.into();
    let path = write(
        "escapes.json",
        serde_json::to_string_pretty(&value).unwrap(),
    );
    for format in ["human", "github", "junit"] {
        let output = cmk()
            .args(["check", "--snapshot", path.to_str().unwrap(), "--now", NOW])
            .args(["--format", format])
            .assert()
            .code(1)
            .get_output()
            .clone();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            !stdout.contains('\u{1b}') && !stdout.contains('\u{7}') && !stdout.contains('\u{202e}'),
            "{format}: raw control characters in {stdout:?}"
        );
        assert!(stdout.contains("\\u{1b}"), "{format}: {stdout}");
    }
}

/// `cmk-check ... | head` or `2>&1 | head`: the reader goes away; cmk-check must not crash
/// (exit 101).
#[test]
fn a_closed_stdout_or_stderr_is_not_a_crash() {
    let binary = assert_cmd::cargo::cargo_bin("cmk-check");
    // The report goes to stdout; with --output, the summary goes to stderr.
    for (close_stdout, close_stderr, output) in [
        (true, false, None),
        (false, true, Some("/dev/null")),
        (true, true, None),
        (true, true, Some("/dev/null")),
    ] {
        let mut command = Process::new(&binary);
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "check",
                "--snapshot",
                "fixtures/unverified-missing-sections.json",
            ])
            .args(["--now", NOW])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(file) = output {
            command.args(["--output", file]);
        }
        let mut child = command.spawn().unwrap();
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let mut kept = String::new();
        match (close_stdout, close_stderr) {
            (true, false) => {
                drop(stdout);
                stderr.unwrap().read_to_string(&mut kept).unwrap();
            }
            (false, true) => {
                drop(stderr);
                stdout.unwrap().read_to_string(&mut kept).unwrap();
            }
            _ => {
                drop(stdout);
                drop(stderr);
            }
        }
        let status = child.wait().unwrap();
        let case = (close_stdout, close_stderr, output);
        assert!(!kept.contains("panicked"), "{case:?}: {kept}");
        assert_eq!(status.code(), Some(1), "{case:?}: {status:?}");
    }
}
