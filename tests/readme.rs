#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The README is part of the interface: its examples must work.

use std::collections::BTreeSet;

use assert_cmd::Command;
use cmk_check::rules::ALL;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The fenced code blocks of one language.
fn blocks(language: &str) -> Vec<String> {
    let text = readme();
    let fence = format!("```{language}\n");
    text.split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default().to_string())
        .collect()
}

fn help(command: &str) -> String {
    let output = Command::cargo_bin("cmk-check")
        .unwrap()
        .args([command, "--help"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_config_example_is_a_valid_config() {
    let examples = blocks("toml");
    assert!(!examples.is_empty());
    for example in examples {
        let config = cmk_check::config::parse("README.md", example.clone())
            .unwrap_or_else(|e| panic!("{e}: {example}"));
        assert!(!config.exemptions.is_empty() || !config.levels.is_empty());
    }
}

#[test]
fn every_flag_in_the_examples_exists() {
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for block in blocks("sh")
        .into_iter()
        .chain(blocks("yaml"))
        .chain(blocks("text"))
    {
        // A command's flags run on over continuation lines and folded YAML, up to the next command.
        let mut command: Option<String> = None;
        for line in block.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let Some(at) = words.iter().position(|w| *w == "cmk-check") {
                command = words.get(at + 1).map(|s| s.to_string());
            }
            let Some(sub) = &command else { continue };
            for word in &words {
                if let Some(flag) = word
                    .strip_prefix("--")
                    .filter(|f| f.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                {
                    let flag = flag.split('=').next().unwrap_or(flag);
                    used.insert((sub.clone(), format!("--{flag}")));
                }
            }
        }
    }
    // The option table of `check` names flags too.
    for line in readme().lines().filter(|l| l.starts_with("| `--")) {
        for word in line.split('`').filter(|w| w.starts_with("--")) {
            let flag = word.split_whitespace().next().unwrap_or(word);
            used.insert(("check".to_string(), flag.to_string()));
        }
    }
    assert!(used.len() > 12, "{used:?}");
    for (sub, flag) in used {
        if !["check", "snapshot", "rules", "explain", "audit", "merge"].contains(&sub.as_str()) {
            continue;
        }
        assert!(
            help(&sub).contains(&flag),
            "README uses `cmk-check {sub} {flag}`, which does not exist"
        );
    }
}

/// Every row of the README's rule table says what the catalog says. The catalog
/// (`cmk-check rules`) is the complete list; the table may lag it, but never contradict it.
#[test]
fn the_rule_table_agrees_with_the_catalog() {
    let text = readme();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| CMK")).collect();
    assert!(
        rows.len() > 20,
        "the README's rule table has {} rows",
        rows.len()
    );
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let rule = cmk_check::rules::find(cells[0])
            .unwrap_or_else(|| panic!("README lists `{}`, which is no rule", cells[0]));
        assert_eq!(cells[1], format!("`{}`", rule.name), "{row}");
        assert_eq!(cells[2], rule.default_level.as_str(), "{row}");
        assert_eq!(cells[3], rule.summary, "{row}");
    }
    assert!(ALL.iter().any(|r| text.contains(r.code)));
}

#[test]
fn the_quick_start_command_runs() {
    let text = readme();
    let line = text
        .lines()
        .find(|l| l.starts_with("cargo run --release -- check --snapshot "))
        .unwrap();
    let fixture = line.rsplit(' ').next().unwrap();
    Command::cargo_bin("cmk-check")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "--snapshot",
            fixture,
            "--now",
            "2026-11-27T12:00:00Z",
        ])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("CMK008(key-permissions-missing)"));
}
