//! The command line. This is the only place where errors become a `miette::Report` and where
//! the process exit code is decided.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use cmk_check::engine::{self, Options, Severity};
use cmk_check::render::{self, human};
use cmk_check::rules;
use cmk_check::source::snapshot;
use miette::{Diagnostic, Report};
use thiserror::Error;

/// Exit codes (a contract): 0 clean, 1 findings at error level, 2 could not run.
const EXIT_FINDINGS: u8 = 1;
const EXIT_CANNOT_RUN: u8 = 2;

#[derive(Parser)]
#[command(
    name = "cmk-check",
    version,
    about = "Checks every prerequisite of customer-managed-key encryption for Azure Cosmos DB for PostgreSQL",
    after_help = "Exit codes: 0 no error-level finding, 1 at least one error-level finding, 2 cmk-check could not run.\n\
                  Run `cmk-check explain CMK004` to learn about a rule."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the identity, key vault, key and cluster against every requirement
    #[command(after_help = "Examples:\n  \
        cmk-check check --snapshot fixtures/clean.json\n  \
        cmk-check check --snapshot state.json --now 2026-12-01T00:00:00Z --format json\n  \
        cmk-check check --snapshot state.json --expiry-warning-days 60")]
    Check(CheckArgs),
    /// List the rules: code, name, default level and summary
    #[command(after_help = "Examples:\n  cmk-check rules\n  cmk-check rules --format json")]
    Rules {
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the documentation of one rule
    #[command(
        after_help = "Examples:\n  cmk-check explain CMK004\n  cmk-check explain purge-protection-disabled"
    )]
    Explain {
        /// Rule code (`CMK004`, any case) or name (`purge-protection-disabled`)
        rule: String,
    },
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Snapshot file (format v1) holding the ARM bodies to check
    #[arg(long, value_name = "FILE")]
    snapshot: PathBuf,
    /// The time to check dates against (RFC 3339); defaults to the real time
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Warn when the key expires within this many days (CMK015)
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=36500))]
    expiry_warning_days: u32,
    /// Plain prose for screen readers instead of drawn diagnostics (also: NO_GRAPHICS=1)
    #[arg(long)]
    narrated: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

fn parse_now(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("{e}; expected RFC 3339, e.g. 2026-11-27T12:00:00Z"))
}

#[derive(Debug, Error, Diagnostic)]
enum CliError {
    #[error("unknown rule `{0}`")]
    #[diagnostic(
        code(cmk_check::unknown_rule),
        help("`cmk-check rules` lists every code and name")
    )]
    UnknownRule(String),
    #[error("could not write the report")]
    #[diagnostic(code(cmk_check::output))]
    Output(#[source] std::io::Error),
    #[error("could not encode the report as JSON")]
    #[diagnostic(code(cmk_check::output))]
    Json(#[source] serde_json::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Words are not broken: a path or a command split across lines would not copy. Setting the
    // hook fails only when one is already installed, and nothing else installs one.
    miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .break_words(false)
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .build(),
        )
    }))
    .ok();
    match run(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Report> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rules { format } => {
            print(&rules_catalog(format)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { rule } => {
            let rule = rules::find(&rule).ok_or(CliError::UnknownRule(rule))?;
            print(rule.doc)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(args: CheckArgs) -> Result<ExitCode, Report> {
    let state = snapshot::read(&args.snapshot)?;
    let mut options = Options::new(args.now.unwrap_or_else(Utc::now));
    options.expiry_warning_days = i64::from(args.expiry_warning_days);
    let report = engine::run(&state, &options);
    let text = match args.format {
        Format::Json => render::json::render(&report).map_err(CliError::Json)?,
        Format::Human => {
            let stdout = std::io::stdout();
            let style = human::Style {
                color: stdout.is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
                narrated: args.narrated
                    || std::env::var_os("NO_GRAPHICS").is_some_and(|v| !v.is_empty() && v != "0"),
                width: terminal_width(),
            };
            human::render(&report, style)
        }
    };
    print(&text)?;
    Ok(if report.worst() == Some(Severity::Error) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

fn rules_catalog(format: Format) -> Result<String, Report> {
    match format {
        Format::Json => {
            let entries: Vec<_> = rules::ALL
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code,
                        "name": r.name,
                        "defaultLevel": r.default_level.as_str(),
                        "summary": r.summary,
                        "url": r.url,
                    })
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&entries).map_err(CliError::Json)?;
            text.push('\n');
            Ok(text)
        }
        Format::Human => {
            let width = rules::ALL.iter().map(|r| r.name.len()).max().unwrap_or(0);
            Ok(rules::ALL
                .iter()
                .map(|r| {
                    format!(
                        "{}  {:width$}  {:5}  {}\n",
                        r.code,
                        r.name,
                        r.default_level.as_str(),
                        r.summary
                    )
                })
                .collect())
        }
    }
}

fn print(text: &str) -> Result<(), Report> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        // A closed pipe (`cmk-check rules | head`) is the reader's choice, not our failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Output(e).into()),
    }
}
