#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! The code, the registry and the documentation agree.

use std::collections::BTreeSet;

use cmk_check::rules::{self, ALL};

#[test]
fn codes_are_unique_sorted_and_well_formed() {
    let codes: Vec<&str> = ALL.iter().map(|r| r.code).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(codes, sorted, "ALL must list each code once, in order");
    for rule in ALL {
        assert!(
            rule.code.len() == 6 && rule.code.starts_with("CMK"),
            "{}",
            rule.code
        );
        assert!(
            rule.code[3..].chars().all(|c| c.is_ascii_digit()),
            "{}",
            rule.code
        );
        assert!(
            rule.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{} name `{}` must be kebab-case",
            rule.code,
            rule.name
        );
        assert!(
            !rule.summary.ends_with('.'),
            "{} summary is a phrase, without a period",
            rule.code
        );
    }
    let names: BTreeSet<&str> = ALL.iter().map(|r| r.name).collect();
    assert_eq!(names.len(), ALL.len(), "names are unique");
}

#[test]
fn each_rule_has_a_source_file_and_a_doc_that_match() {
    let root = env!("CARGO_MANIFEST_DIR");
    for rule in ALL {
        let file = format!(
            "{root}/src/rules/{}_{}.rs",
            rule.code.to_lowercase(),
            rule.name.replace('-', "_")
        );
        assert!(std::path::Path::new(&file).exists(), "missing {file}");
        let on_disk = std::fs::read_to_string(format!("{root}/rules/{}.md", rule.code)).unwrap();
        assert_eq!(
            on_disk, rule.doc,
            "{} embeds rules/{}.md",
            rule.code, rule.code
        );
        let first = rule.doc.lines().next().unwrap_or_default();
        assert_eq!(first, format!("# {}: {}", rule.code, rule.name));
        // One vocabulary for levels: the config's and the flags'.
        let level = rule.default_level.as_str();
        assert!(
            rule.doc.contains(&format!("Default level: {level}")),
            "{} doc states its default level `{level}`",
            rule.code
        );
        for section in [
            "## What it checks",
            "## Why it matters",
            "## How to fix",
            "## Example",
            "## Reference",
        ] {
            assert!(
                rule.doc.contains(section),
                "{} doc lacks `{section}`",
                rule.code
            );
        }
        assert!(
            rule.doc.contains("https://learn.microsoft.com/"),
            "{} cites Microsoft",
            rule.code
        );
    }
}

#[test]
fn no_orphan_docs_or_rule_files() {
    let root = env!("CARGO_MANIFEST_DIR");
    let codes: BTreeSet<String> = ALL.iter().map(|r| r.code.to_string()).collect();
    let docs: BTreeSet<String> = std::fs::read_dir(format!("{root}/rules"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".md")
                .to_string()
        })
        .collect();
    assert_eq!(
        docs, codes,
        "rules/*.md and the registry list the same codes"
    );
    let sources: BTreeSet<String> = std::fs::read_dir(format!("{root}/src/rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f.starts_with("cmk"))
        .map(|f| f[..6].to_uppercase())
        .collect();
    assert_eq!(
        sources, codes,
        "src/rules/cmkNNN_*.rs and the registry list the same codes"
    );
}

#[test]
fn find_accepts_code_in_any_case_and_name() {
    assert_eq!(rules::find("cmk004").map(|r| r.code), Some("CMK004"));
    assert_eq!(
        rules::find("purge-protection-disabled").map(|r| r.code),
        Some("CMK004")
    );
    assert!(rules::find("CMK999").is_none());
}
