//! `cmk-check audit` and `cmk-check merge`: the fleet, read in bulk, checked cluster by cluster
//! with the same engine as `check`, reported by root cause.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use cmk_check::engine::{self, FailOn};
use cmk_check::lint::Level;
use cmk_check::render::fleet::{self, FleetReport};
use cmk_check::render::{self, Format};
use cmk_check::source::fleet::{self as source, Progress, Request, Scope, Shard};
use cmk_check::source::live;
use miette::{Diagnostic, Report as Problem};
use thiserror::Error;

use super::args::{AuditArgs, MergeArgs};
use super::{eprint, output, CliError, EXIT_FINDINGS};

#[derive(Debug, Error, Diagnostic)]
enum AuditError {
    #[error("--shard {0}")]
    #[diagnostic(
        code(cmk_check::bad_argument),
        help("give the K-th of N parts, 1 ≤ K ≤ N: `--shard 2/4`")
    )]
    Shard(String),
    #[error("`{path}` is not a JSON fleet report: {reason}")]
    #[diagnostic(
        code(cmk_check::not_a_fleet_report),
        help("`cmk-check audit --format json --output FILE` writes one")
    )]
    NotAFleetReport { path: PathBuf, reason: String },
}

pub fn audit(args: &AuditArgs) -> Result<ExitCode, Problem> {
    let cwd = std::env::current_dir().map_err(CliError::WorkingDirectory)?;
    let mut options = cmk_check::config::resolve(
        &args.gate.overrides(&args.report, args.scope.require_cmk),
        &cwd,
    )?;
    for (code, _) in source::NOT_AUDITED {
        if let Some(rule) = cmk_check::rules::find(code) {
            options.levels.insert(rule.code, Level::Allow);
        }
    }
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(AuditError::Shard)?;
    let scope = if !args.subscriptions.is_empty() {
        Scope::Subscriptions(args.subscriptions.clone())
    } else if !args.management_group.is_empty() {
        Scope::ManagementGroups(args.management_group.clone())
    } else {
        Scope::Tenant
    };
    let request = Request {
        scope,
        shard,
        fresh: args.fresh,
        concurrency: usize::from(args.concurrency),
        now: options.now,
    };
    let fleet = match &args.snapshot {
        Some(path) => source::replay(path)?,
        None => read(&request, &args.connection.connection())?,
    };
    if let Some(path) = &args.record {
        let mut text = serde_json::to_string_pretty(&fleet.store.record())
            .map_err(|e| CliError::Render(render::RenderError::Json(e)))?;
        text.push('\n');
        std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    // Kept only for --fix-script: at 10,000 clusters the findings are not small.
    let mut fixable = Vec::new();
    let clusters = fleet.clusters().map(|(state, info)| {
        let report = engine::run(&state, &options);
        if args.report.fix_script.is_some() {
            fixable.extend(report.findings.iter().cloned());
        }
        (info, report)
    });
    let report = FleetReport::new(clusters, fleet.problems.clone());
    super::fix_script(&args.report, &fixable)?;
    // The bodies read are no longer needed once every cluster is checked.
    drop(fleet);
    if let Some(path) = &args.report.sarif_output {
        std::fs::File::create(path)
            .and_then(|file| {
                write(
                    &report,
                    Format::Sarif,
                    args.gate.fail_on.into(),
                    &mut BufWriter::new(file),
                )
            })
            .map_err(|source| CliError::Write {
                path: path.clone(),
                source,
            })?;
    }
    emit(
        &report,
        args.report.format.into(),
        args.report.output.as_deref(),
        args.gate.fail_on.into(),
    )
}

/// Reads the fleet from Azure, with a progress bar on a terminal.
fn read(request: &Request, connection: &live::Connection) -> Result<source::Fleet, Problem> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let progress = Arc::new(Progress::default());
    let bar = output::Bar::start(Arc::clone(&progress));
    let fleet = runtime.block_on(async {
        let azure = live::connect(connection).await?;
        let fleet = source::audit(request, &azure, &progress).await?;
        azure.arm.reachable().map_err(live::ConnectError::from)?;
        Ok::<_, Problem>(fleet)
    });
    drop(bar);
    fleet
}

pub fn merge(args: &MergeArgs) -> Result<ExitCode, Problem> {
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = cmk_check::document::read::read_text(path)?;
        let report: FleetReport =
            serde_json::from_str(&text).map_err(|e| AuditError::NotAFleetReport {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if report.kind != fleet::KIND || report.version != fleet::VERSION {
            return Err(AuditError::NotAFleetReport {
                path: path.clone(),
                reason: format!(
                    "its kind is `{}` version {}, not `fleet` version 1",
                    report.kind, report.version
                ),
            }
            .into());
        }
        reports.push(report);
    }
    emit(
        &FleetReport::merge(reports),
        args.format.into(),
        args.output.as_deref(),
        args.fail_on.into(),
    )
}

/// Renders the fleet report, writes it, and decides the exit code.
fn emit(
    report: &FleetReport,
    format: Format,
    to: Option<&Path>,
    fail_on: FailOn,
) -> Result<ExitCode, Problem> {
    let written = match to {
        Some(path) => std::fs::File::create(path)
            .and_then(|file| write(report, format, fail_on, &mut BufWriter::new(file)))
            .map_err(|source| CliError::Write {
                path: path.to_path_buf(),
                source,
            }),
        None => output::quietly(write(
            report,
            format,
            fail_on,
            &mut BufWriter::new(std::io::stdout().lock()),
        ))
        .map_err(CliError::Output),
    };
    written?;
    if to.is_some() {
        eprint(&report.summary_line());
    }
    if format == Format::Github {
        if let Some(path) = output::step_summary_path() {
            output::append(&path, &fleet::step_summary(report))
                .map_err(|source| CliError::Write { path, source })?;
        }
    }
    Ok(if fail_on.fails(report.worst()) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

fn write(
    report: &FleetReport,
    format: Format,
    fail_on: FailOn,
    out: &mut BufWriter<impl Write>,
) -> std::io::Result<()> {
    let text = match format {
        Format::Human => fleet::human(report, output::terminal_width()),
        Format::Json => return fleet::write_json(report, out).and_then(|()| out.flush()),
        Format::Sarif => return render::sarif::write_fleet(report, out).and_then(|()| out.flush()),
        Format::Github => fleet::github(report),
        Format::Junit => fleet::junit(report, fail_on).map_err(std::io::Error::other)?,
    };
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// How far the read is, for the bar.
pub fn describe(progress: &Progress) -> String {
    format!(
        "{} clusters discovered, {} checked, {} reads in flight",
        progress.discovered.load(Ordering::Relaxed),
        progress.checked.load(Ordering::Relaxed),
        progress.in_flight.load(Ordering::Relaxed)
    )
}
