//! The commands: each reads its input through `source::load`, runs the engine and renders.

pub mod args;
mod audit;
mod docs;
mod hook;
mod key_file;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use cmk_check::engine::{self, FailOn, Report};
use cmk_check::render::{self, catalog, github, human, Format};
use cmk_check::rules;
use cmk_check::source::live::target::Target;
use cmk_check::source::live::Connection;
use cmk_check::source::{self, snapshot, Input, Loaded};
use miette::{Diagnostic, Report as Problem};
use thiserror::Error;

use self::args::{CatalogFormat, CheckArgs, Command, LiveArgs, ReportArgs};
pub use self::output::eprint;

/// Exit codes (a contract): 0 clean, 1 findings at or above `--fail-on`, 2 could not run.
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_CANNOT_RUN: u8 = 2;

#[derive(Debug, Error, Diagnostic)]
pub(crate) enum CliError {
    #[error("unknown rule `{name}`")]
    #[diagnostic(code(cmk_check::unknown_rule))]
    UnknownRule {
        name: String,
        #[help]
        help: String,
    },
    #[error("could not render the report")]
    #[diagnostic(code(cmk_check::output))]
    Render(#[source] render::RenderError),
    #[error("could not write the report")]
    #[diagnostic(code(cmk_check::output))]
    Output(#[source] std::io::Error),
    #[error("could not write `{path}`")]
    #[diagnostic(code(cmk_check::output))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not start the async runtime")]
    #[diagnostic(code(cmk_check::runtime))]
    Runtime(#[source] std::io::Error),
    #[error("could not read `{path}`")]
    #[diagnostic(code(cmk_check::io))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not find the working directory")]
    #[diagnostic(code(cmk_check::io))]
    WorkingDirectory(#[source] std::io::Error),
}

pub fn run(command: Command) -> Result<ExitCode, Problem> {
    match command {
        Command::Check(args) => check(&args),
        Command::Snapshot { live, output } => record(&live, output),
        Command::Audit(args) => audit::audit(&args),
        Command::Merge(args) => audit::merge(&args),
        Command::KeyFile(args) => key_file::key_file(&args),
        Command::Rules { format } => {
            let text = match format {
                CatalogFormat::Human => catalog::human(),
                CatalogFormat::Json => {
                    catalog::json().map_err(|e| CliError::Render(render::RenderError::Json(e)))?
                }
            };
            output::print(&text).map_err(CliError::Output)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hook { files } => hook::hook(&files),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { output } => docs::man(output.as_deref()),
        Command::Explain { rule } => {
            let found = rules::find(&rule).ok_or_else(|| CliError::UnknownRule {
                help: cmk_check::config::suggest_rule(&rule),
                name: rule,
            })?;
            output::print(found.doc).map_err(CliError::Output)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(args: &CheckArgs) -> Result<ExitCode, Problem> {
    let cwd = std::env::current_dir().map_err(CliError::WorkingDirectory)?;
    let options = cmk_check::config::resolve(&args.overrides(), &cwd)?;
    let declared = (
        &args.snapshot,
        &args.template.template,
        &args.terraform.terraform_plan,
    );
    let input = match declared {
        (Some(path), _, _) => Input::Snapshot(path.clone()),
        (None, Some(path), _) => Input::Template {
            path: path.clone(),
            parameters: args.template.parameters.clone(),
            placement: args.placement(options.now),
            offline: args.template.offline,
        },
        (None, None, Some(plan)) => Input::Terraform {
            plan: plan.clone(),
            dir: args.terraform.terraform_dir.clone(),
            placement: args.terraform_placement(),
            offline: args.template.offline,
        },
        (None, None, None) => {
            let target = Target::from_flags(&args.live.flags(), args.live.connection.cloud.into())?;
            Input::Live(Box::new(target))
        }
    };
    let loaded = load(&input, &args.live.connection.connection())?;
    let reports: Vec<Report> = loaded
        .targets
        .iter()
        .map(|state| engine::run(state, &options))
        .collect();
    for (state, report) in loaded.targets.iter().zip(&reports) {
        if state.is_service_managed() && report.findings.is_empty() {
            eprint(&format!(
                "note: cluster `{}` is encrypted with service-managed keys: no customer-managed-key requirement applies (`--require-cmk` makes it an error)",
                render::span::printable(&report.target)
            ));
        }
    }
    let merged = engine::merge(&reports);
    fix_script(&args.report, &merged.findings)?;
    emit(&reports, &merged, &args.report, args.gate.fail_on.into())
}

/// Renders the reports in the format asked for, to the file or stdout, and gives the exit code.
fn emit(
    reports: &[Report],
    merged: &Report,
    args: &ReportArgs,
    fail_on: FailOn,
) -> Result<ExitCode, Problem> {
    let format = Format::from(args.format);
    let style = human::Style {
        color: output::color(args.output.is_some()),
        narrated: output::narrated(args.narrated),
        width: output::terminal_width(),
    };
    let text = render::render(reports, merged, format, style, fail_on).map_err(CliError::Render)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|source| CliError::Write {
                path: path.clone(),
                source,
            })?;
            eprint(&render::summary_line(merged));
        }
        None => output::print(&text).map_err(CliError::Output)?,
    }
    if let Some(path) = &args.sarif_output {
        let sarif = render::render(reports, merged, Format::Sarif, style, fail_on)
            .map_err(CliError::Render)?;
        std::fs::write(path, sarif).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    if format == Format::Github {
        if let Some(path) = output::step_summary_path() {
            // Earlier steps of the job write to the same file: append.
            output::append(&path, &github::step_summary(merged))
                .map_err(|source| CliError::Write { path, source })?;
        }
    }
    Ok(if fail_on.fails(merged.worst()) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads the input, with a spinner while Azure is read; says what was skipped or unread.
fn load(input: &Input, connection: &Connection) -> Result<Loaded, Problem> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let spinner = matches!(
        input,
        Input::Live(_)
            | Input::Template { offline: false, .. }
            | Input::Terraform { offline: false, .. }
    )
    .then(|| output::Spinner::start("reading Azure"));
    let loaded = runtime.block_on(source::load(input, connection));
    drop(spinner);
    let loaded = loaded?;
    for note in &loaded.notes {
        eprint(&format!("note: {}", render::span::printable(note)));
    }
    for warning in &loaded.warnings {
        eprint(&format!("warning: {}", render::span::printable(warning)));
    }
    Ok(loaded)
}

/// `cmk-check snapshot`: the live state as a snapshot file.
fn record(args: &LiveArgs, output: Option<PathBuf>) -> Result<ExitCode, Problem> {
    let target = Target::from_flags(&args.flags(), args.connection.cloud.into())?;
    let loaded = load(
        &Input::Live(Box::new(target)),
        &args.connection.connection(),
    )?;
    let recording = loaded.recording.unwrap_or_default();
    let mut text = serde_json::to_string_pretty(&snapshot::write(&recording))
        .map_err(|e| CliError::Render(render::RenderError::Json(e)))?;
    text.push('\n');
    match output {
        Some(path) => {
            std::fs::write(&path, text).map_err(|source| CliError::Write { path, source })?
        }
        None => output::print(&text).map_err(CliError::Output)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the fix script of `findings` when `--fix-script` asks for one.
pub(crate) fn fix_script(
    report: &args::ReportArgs,
    findings: &[cmk_check::engine::Finding],
) -> Result<(), CliError> {
    let Some(path) = &report.fix_script else {
        return Ok(());
    };
    let text = render::script::render(findings, report.fix_format.into());
    std::fs::write(path, text).map_err(|source| CliError::Write {
        path: path.clone(),
        source,
    })
}
