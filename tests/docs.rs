#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! `--version`, `completions` and `man`: the completion script of every shell names every
//! subcommand and flag, and each man page renders with groff (as `man` runs it, UTF-8 input
//! through preconv) without a warning. What "every"
//! means comes from clap's own description of the command line, not from a list kept here.

mod common;

#[allow(
    dead_code,
    reason = "the command line's types, compiled here for clap's description of it; the conversions are the binary's"
)]
#[path = "../src/cli/args.rs"]
mod args;

use std::process::Command as Process;

use assert_cmd::Command;
use clap::CommandFactory;

/// Each subcommand, with the long flags it takes that a user sees.
fn surface() -> Vec<(String, Vec<String>)> {
    let top = args::Cli::command();
    let flags = |command: &clap::Command| -> Vec<String> {
        command
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long().map(str::to_string))
            .collect()
    };
    top.get_subcommands()
        .map(|sub| (sub.get_name().to_string(), flags(sub)))
        .collect()
}

fn cmk_check() -> Command {
    Command::cargo_bin("cmk-check").unwrap()
}

#[test]
fn the_surface_is_not_empty() {
    let surface = surface();
    assert!(surface.len() >= 8, "{surface:?}");
    let check = surface.iter().find(|(name, _)| name == "check").unwrap();
    assert!(check.1.iter().any(|f| f == "fix-script"), "{check:?}");
    assert!(check.1.len() > 20, "{check:?}");
}

#[test]
fn every_completion_script_names_every_subcommand_and_flag() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = cmk_check()
            .args(["completions", shell])
            .assert()
            .success()
            .get_output()
            .clone();
        let script = String::from_utf8(output.stdout).unwrap();
        for (name, flags) in surface() {
            assert!(script.contains(&name), "{shell}: no `{name}`");
            for flag in flags {
                // fish declares a long flag as `-l NAME`; the others spell it out.
                let spelled = match shell {
                    "fish" => format!("-l {flag}"),
                    _ => format!("--{flag}"),
                };
                assert!(
                    script.contains(&spelled),
                    "{shell}: no `{spelled}` ({name})"
                );
            }
        }
    }
}

/// groff's warnings about a page, with every warning turned on; the page must have none.
fn groff(page: &std::path::Path) -> String {
    let output = Process::new("groff")
        .args(["-k", "-man", "-ww", "-z", "-Tutf8"])
        .arg(page)
        .output()
        .unwrap_or_else(|e| panic!("groff (the groff-base package) is needed: {e}"));
    assert!(output.status.success(), "{}", page.display());
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn man_writes_a_page_per_subcommand_and_each_renders() {
    let dir = std::env::temp_dir().join(format!("cmk-check-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    cmk_check()
        .args(["man", "--output"])
        .arg(&dir)
        .assert()
        .success();
    let top = dir.join("cmk-check.1");
    let text = std::fs::read_to_string(&top).unwrap();
    assert!(text.contains(".TH cmk-check 1"), "{text}");
    assert_eq!(groff(&top), "");
    for (name, flags) in surface() {
        let page = dir.join(format!("cmk-check-{name}.1"));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION"] {
            assert!(text.contains(section), "{name}: no {section}");
        }
        for flag in flags {
            // roff escapes each hyphen.
            let spelled = format!("\\-\\-{}", flag.replace('-', "\\-"));
            assert!(text.contains(&spelled), "{name}: no `{spelled}`");
        }
        assert_eq!(groff(&page), "", "{name}");
    }
    // Without a directory: the top page, on stdout.
    let output = cmk_check()
        .arg("man")
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), text_of(&top));
}

fn text_of(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let output = cmk_check()
        .arg("--version")
        .assert()
        .success()
        .get_output()
        .clone();
    let shown = String::from_utf8(output.stdout).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    let head = Process::new("git")
        .current_dir(common::root())
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string());
    match head {
        Some(commit) => assert_eq!(shown, format!("cmk-check {version} ({commit})\n")),
        None => assert_eq!(shown, format!("cmk-check {version}\n")),
    }
}
