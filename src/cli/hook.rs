//! `cmk-check hook FILE...`, the pre-commit hook: of the JSON files it is given, it checks each
//! ARM template and each Terraform plan offline, as `check` would, and passes over the rest
//! (a `package.json`, a snapshot), which a `files: \.json$` pattern also hands it. A template's
//! parameters are read from `NAME.parameters.json` beside `NAME.json`, when there is one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use miette::Report as Problem;

use super::args::{Cli, Command};
use super::{check, EXIT_FINDINGS};

pub fn hook(files: &[PathBuf]) -> Result<ExitCode, Problem> {
    let mut failed = false;
    for file in files {
        let Some(flag) = kind(file) else {
            continue;
        };
        let mut argv: Vec<OsString> = vec![
            "cmk-check".into(),
            "check".into(),
            flag.into(),
            file.into(),
            "--offline".into(),
        ];
        if let Some(parameters) = parameters_beside(file).filter(|_| flag == "--template") {
            argv.extend(["--parameters".into(), parameters.into()]);
        }
        let parsed = Cli::try_parse_from(argv).map_err(|e| miette::miette!("{e}"))?;
        if let Command::Check(args) = parsed.command {
            failed |= check(&args)? == ExitCode::from(EXIT_FINDINGS);
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--template` for an ARM template, `--terraform-plan` for a plan, `None` for any other file.
/// One that cannot be read is `check`'s to report.
fn kind(file: &Path) -> Option<&'static str> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Some("--template");
    };
    // By its `$schema`, found in the text: a template may hold comments, which JSON does not.
    // Every scope's schema ends so: `subscriptionDeploymentTemplate.json#` and the others.
    if text
        .to_ascii_lowercase()
        .contains("deploymenttemplate.json#")
    {
        return Some("--template");
    }
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let planned = value.get("planned_values").is_some() || value.get("resource_changes").is_some();
    (value.get("terraform_version").is_some() && planned).then_some("--terraform-plan")
}

/// `main.parameters.json` beside `main.json`, the name `az deployment` tooling gives it.
fn parameters_beside(template: &Path) -> Option<PathBuf> {
    let stem = template.file_stem()?.to_str()?;
    let beside = template.with_file_name(format!("{stem}.parameters.json"));
    beside.is_file().then_some(beside)
}
