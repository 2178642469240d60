//! `--fix-script`: every fix of a report as one shell script a person reads, then runs; or, for
//! templates, the edits as one snippet. Nothing here runs a command.

use std::collections::{BTreeMap, HashSet};

use crate::engine::Finding;
use crate::lint::Fix;

/// What `--fix-script` writes (`--fix-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixFormat {
    /// A shell script of the in-place `az` commands.
    Sh,
    /// The template edits, as a Bicep/ARM snippet.
    Bicep,
}

pub fn render(findings: &[Finding], format: FixFormat) -> String {
    let mut findings = dedupe(findings.iter().filter(|f| f.exemption.is_none()));
    // A fleet's findings come cluster by cluster: in the report's order, each is found by code.
    findings.sort_by_key(|f| (f.code(), f.resource(), f.pointer()));
    match format {
        FixFormat::Sh => shell(&findings),
        FixFormat::Bicep => snippet(&findings),
    }
}

/// Each finding once: a vault that several clusters share is fixed once.
fn dedupe<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<&'a Finding> {
    let mut seen = HashSet::new();
    findings
        .filter(|f| seen.insert((f.code(), f.resource(), f.pointer(), &f.violation.message)))
        .collect()
}

/// One `az` command split into its words, as the shell would (double quotes group words).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Command {
    words: Vec<String>,
}

impl Command {
    fn parse(line: &str) -> Self {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        let mut started = false;
        for c in line.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    started = true;
                }
                c if c.is_whitespace() && !quoted => {
                    if started {
                        words.push(std::mem::take(&mut word));
                        started = false;
                    }
                }
                c => {
                    word.push(c);
                    started = true;
                }
            }
        }
        if started {
            words.push(word);
        }
        Self { words }
    }

    /// A `<value>` the reader must fill in: the command cannot run as written.
    fn placeholder(&self) -> Option<&str> {
        self.words
            .iter()
            .find(|w| w.contains('<') && w.contains('>'))
            .map(String::as_str)
    }

    /// The command with every word quoted that the shell would otherwise read: a name taken
    /// from the input can never become code.
    fn shell(&self) -> String {
        self.words
            .iter()
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether it only reads (`az ... show` or `list`): it fixes nothing by running, its output is
    /// for the reader to use.
    fn reads_only(&self) -> bool {
        let verb = self.words.iter().take_while(|w| !w.starts_with('-')).last();
        matches!(verb.map(String::as_str), Some("show" | "list"))
    }

    /// The value of `flag`, when the command gives one.
    fn value_of(&self, flag: &str) -> Option<&str> {
        self.words
            .windows(2)
            .find(|pair| pair[0] == flag)
            .map(|pair| pair[1].as_str())
    }

    fn starts(&self, words: [&str; 3]) -> bool {
        self.words.len() >= 3 && self.words.iter().zip(words).all(|(w, x)| w == x)
    }

    /// The vault that `az keyvault update --enable-rbac-authorization false` hands over to access
    /// policies.
    fn leaves_rbac(&self) -> Option<&str> {
        let off = self.value_of("--enable-rbac-authorization") == Some("false");
        (self.starts(["az", "keyvault", "update"]) && off)
            .then(|| self.value_of("--name"))
            .flatten()
    }

    /// The vault whose data plane an `az keyvault key` command calls, which its permission model
    /// authorizes.
    fn key_vault(&self) -> Option<&str> {
        self.starts(["az", "keyvault", "key"])
            .then(|| self.value_of("--vault-name"))
            .flatten()
    }

    /// When it can run: a property is set before what depends on it. The vault's permission
    /// model and network rules come first, since an access policy and the key's data-plane
    /// calls need them; alerts last.
    fn phase(&self) -> u8 {
        let words: Vec<&str> = self.words.iter().take(3).map(String::as_str).collect();
        match words.as_slice() {
            ["az", "identity", ..] => 0,
            ["az", "keyvault", "update"] => 1,
            ["az", "keyvault", "set-policy"] => 2,
            ["az", "keyvault", "key"] => 3,
            ["az", "monitor", ..] => 5,
            _ => 4,
        }
    }
}

/// A word as the shell reads it back unchanged.
fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Text for a comment: one line, whatever the input held.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn heading(finding: &Finding) -> String {
    comment(&format!(
        "{} ({}): {}",
        finding.code(),
        finding.severity.as_str(),
        finding.violation.message
    ))
}

/// The commands that fix one finding, and when they can run.
struct Step<'a> {
    phase: u8,
    finding: &'a Finding,
    commands: Vec<Command>,
}

/// The commands that run, by resource, and the findings left to the reader.
#[derive(Default)]
struct Plan<'a> {
    runs: BTreeMap<&'a str, Vec<Step<'a>>>,
    by_hand: Vec<(&'a Finding, Vec<String>)>,
    unverified: Vec<&'a Finding>,
}

impl<'a> Plan<'a> {
    fn of(findings: &[&'a Finding]) -> Self {
        let mut plan = Plan::default();
        for finding in findings {
            let violation = &finding.violation;
            if violation.unverified {
                plan.unverified.push(finding);
                continue;
            }
            let commands: Vec<Command> = match &violation.fix {
                Some(Fix::InPlace(lines)) => lines.iter().map(|l| Command::parse(l)).collect(),
                _ => Vec::new(),
            };
            let runnable = !commands.is_empty()
                && commands
                    .iter()
                    .all(|c| c.placeholder().is_none() && !c.reads_only());
            if !runnable {
                plan.by_hand.push((finding, by_hand(finding, &commands)));
                continue;
            }
            let phase = commands.iter().map(Command::phase).min().unwrap_or(u8::MAX);
            plan.runs.entry(finding.resource()).or_default().push(Step {
                phase,
                finding,
                commands,
            });
        }
        plan
    }

    /// The resources in the order their commands can run, each with its steps in order.
    fn ordered(&self) -> Vec<(&'a str, Vec<&Step<'a>>)> {
        let mut groups: Vec<_> = self
            .runs
            .iter()
            .map(|(resource, steps)| {
                let mut steps: Vec<_> = steps.iter().collect();
                steps.sort_by_key(|step| step.phase);
                (*resource, steps)
            })
            .collect();
        groups.sort_by_key(|(resource, steps)| {
            (steps.first().map_or(u8::MAX, |step| step.phase), *resource)
        });
        groups
    }
}

/// What the reader does about a finding the script cannot fix: the why, then the commands,
/// commented out.
fn by_hand(finding: &Finding, commands: &[Command]) -> Vec<String> {
    let violation = &finding.violation;
    let mut lines = Vec::new();
    if !violation.help.is_empty() {
        lines.push(comment(&violation.help));
    }
    let fix_lines = violation
        .fix
        .iter()
        .flat_map(Fix::lines)
        .map(|l| comment(l));
    match &violation.fix {
        Some(Fix::InPlace(_)) => {
            let holes: Vec<&str> = commands.iter().filter_map(Command::placeholder).collect();
            lines.push(if holes.is_empty() {
                "it changes nothing by itself; run it and use what it prints:".to_string()
            } else {
                format!("fill in {}, then run:", comment(&holes.join(", ")))
            });
            lines.extend(fix_lines.map(|l| format!("  {l}")));
        }
        Some(Fix::Replace(_)) => {
            lines.push("it cannot be fixed where it is; create the replacement:".to_string());
            lines.extend(fix_lines.map(|l| format!("  {l}")));
        }
        Some(Fix::Edit(_)) => {
            lines.push("change the code that declares it:".to_string());
            lines.extend(fix_lines.map(|l| format!("  {l}")));
        }
        None => {}
    }
    lines
}

/// Said before the first key command of a vault the script moved off Azure RBAC: whoever ran
/// key commands through an RBAC role needs an access policy of their own from then on.
fn key_access_after_switch(vault: &str) -> String {
    format!(
        "# Vault `{}` now authorizes by access policy only: if you manage its keys through an\n\
         # Azure RBAC role, give yourself an access policy before the next command, e.g.\n\
         #   az keyvault set-policy --name {} --object-id <your-object-id> --key-permissions get update\n",
        comment(vault),
        comment(vault)
    )
}

const SHELL_HEADER: &str = "#!/usr/bin/env bash
# Written by `cmk-check --fix-script`: the commands that fix the findings in place, by
# resource, in an order that works. Nothing runs until you run this file: read it first, then
# `bash` it while signed in with `az login`. Each command sets a property to the value it must
# have, so running it again changes nothing. The findings it cannot fix are listed at the end.
# bash: `pipefail` is not in every POSIX sh (dash lacks it); the rest is POSIX.
set -euo pipefail
";

fn shell(findings: &[&Finding]) -> String {
    let plan = Plan::of(findings);
    let mut out = String::from(SHELL_HEADER);
    let mut done: HashSet<String> = HashSet::new();
    let groups = plan.ordered();
    if groups.is_empty() {
        out.push_str("\n# Nothing to fix in place.\n");
    }
    // Vaults moved off RBAC whose key commands have not been warned about yet.
    let mut left_rbac: HashSet<&str> = HashSet::new();
    for (resource, steps) in groups {
        out.push_str(&format!("\n# Resource: {}\n", comment(resource)));
        for step in steps {
            out.push_str(&format!("# {}\n", heading(step.finding)));
            for command in &step.commands {
                if let Some(vault) = command.key_vault().filter(|v| left_rbac.remove(v)) {
                    out.push_str(&key_access_after_switch(vault));
                }
                left_rbac.extend(command.leaves_rbac());
                let line = command.shell();
                if done.insert(line.clone()) {
                    out.push_str(&line);
                    out.push('\n');
                } else {
                    out.push_str("#   (fixed by the same command above)\n");
                }
            }
        }
    }
    if !plan.by_hand.is_empty() {
        out.push_str("\n# Not fixed by this script: each needs a new resource, a value only you know, or a\n# change to the code that declares it.\n");
        for (finding, lines) in &plan.by_hand {
            out.push_str(&format!(
                "#\n# {}\n#   on {}\n",
                heading(finding),
                comment(finding.resource())
            ));
            for line in lines {
                out.push_str(&format!("#   {line}\n"));
            }
        }
    }
    if !plan.unverified.is_empty() {
        out.push_str(
            "\n# Could not verify: check these by hand; this script changes nothing about them.\n",
        );
        for finding in &plan.unverified {
            out.push_str(&format!(
                "#\n# {}\n#   on {}\n",
                heading(finding),
                comment(finding.resource())
            ));
            if !finding.violation.help.is_empty() {
                out.push_str(&format!("#   {}\n", comment(&finding.violation.help)));
            }
        }
    }
    out
}

/// `in the template, set X`: the X to paste.
const TEMPLATE_SET: &str = "in the template, set ";

fn snippet(findings: &[&Finding]) -> String {
    let mut out = String::from(
        "// Written by `cmk-check --fix-script --fix-format bicep`: the property changes the\n\
         // findings need, under the resource that declares each. Merge each into that resource's\n\
         // declaration (ARM JSON, or Bicep where the change is a Bicep declaration).\n",
    );
    let mut by_resource: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    let mut other = Vec::new();
    for finding in findings {
        match &finding.violation.fix {
            Some(Fix::Edit(_)) if !finding.violation.unverified => {
                by_resource
                    .entry(finding.resource())
                    .or_default()
                    .push(finding);
            }
            _ => other.push(*finding),
        }
    }
    if by_resource.is_empty() {
        out.push_str("\n// No change to make in the template.\n");
    }
    for (resource, findings) in by_resource {
        out.push_str(&format!("\n// Resource: {}\n", comment(resource)));
        for finding in findings {
            let Some(Fix::Edit(edit)) = &finding.violation.fix else {
                continue;
            };
            out.push_str(&format!(
                "// {} at `{}`\n",
                heading(finding),
                comment(finding.pointer())
            ));
            match edit.strip_prefix(TEMPLATE_SET) {
                Some(change) => out.push_str(&format!("{}\n", comment(change))),
                // Prose (a Terraform address, where to add a block): said, not pasted.
                None if edit.starts_with("in ") => {
                    out.push_str(&format!("// {}\n", comment(edit)));
                }
                None => out.push_str(&format!("{}\n", comment(edit))),
            }
        }
    }
    if !other.is_empty() {
        out.push_str("\n// Not a template change (see the report for each):\n");
        for finding in other {
            out.push_str(&format!(
                "// {} on {}\n",
                heading(finding),
                comment(finding.resource())
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_quotes_group_words_and_quoting_keeps_them() {
        let command = Command::parse(r#"az x --condition "a=b and c=d" --name kv"#);
        assert_eq!(
            command.words,
            ["az", "x", "--condition", "a=b and c=d", "--name", "kv"]
        );
        assert_eq!(command.shell(), "az x --condition 'a=b and c=d' --name kv");
    }

    #[test]
    fn a_name_from_the_input_never_becomes_code() {
        assert_eq!(quote("kv$(rm -rf ~)"), "'kv$(rm -rf ~)'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(comment("a\nrm -rf ~"), "a rm -rf ~");
    }

    #[test]
    fn placeholders_and_phases() {
        let alert = Command::parse("az monitor activity-log alert create --action-group <id>");
        assert_eq!(alert.placeholder(), Some("<id>"));
        assert_eq!(alert.phase(), 5);
        let update =
            Command::parse("az keyvault update --name kv --enable-rbac-authorization false");
        let policy = Command::parse("az keyvault set-policy --name kv --object-id o");
        let key = Command::parse("az keyvault key set-attributes --vault-name kv --name k");
        assert!(update.phase() < policy.phase() && policy.phase() < key.phase());
        assert_eq!(update.placeholder(), None);
    }
}
