//! The command line. This is the only place where errors become a `miette::Report` and where
//! the process exit code is decided.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use cmk_check::config;
use cmk_check::engine::{self, Level, Options, Severity};
use cmk_check::render::{self, github, human};
use cmk_check::rules;
use cmk_check::source::live::auth::AuthMethod;
use cmk_check::source::live::cloud::CloudName;
use cmk_check::source::live::target::{self, ResourceId, Target};
use cmk_check::source::live::{self, Connection};
use cmk_check::source::snapshot;
use cmk_check::source::template;
use cmk_check::state::State;
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
        cmk-check check --location westeurope --identity <identity-id> --key <key-uri>\n  \
        cmk-check check --cluster <cluster-id>\n  \
        cmk-check check --template main.json --parameters main.parameters.json\n  \
        cmk-check check --snapshot state.json --format sarif --output cmk.sarif")]
    Check(Box<CheckArgs>),
    /// Read the live state from Azure and write it as a snapshot file
    #[command(after_help = "Examples:\n  \
        cmk-check snapshot --location westeurope --identity <identity-id> --key <key-uri> -o state.json\n  \
        cmk-check check --snapshot state.json")]
    Snapshot {
        #[command(flatten)]
        live: Box<LiveArgs>,
        /// Where to write the snapshot (default: standard output)
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List the rules: code, name, default level and summary
    #[command(after_help = "Examples:\n  cmk-check rules\n  cmk-check rules --format json")]
    Rules {
        #[arg(long, value_enum, default_value_t = CatalogFormat::Human)]
        format: CatalogFormat,
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
    /// Snapshot file (format v1) holding the ARM bodies to check, instead of reading Azure
    #[arg(long, value_name = "FILE", conflicts_with_all = ["location", "identity", "key", "vault", "cluster", "template"])]
    snapshot: Option<PathBuf>,
    /// The time to check dates against (RFC 3339); defaults to the real time
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t = render::Format::Human)]
    format: render::Format,
    /// Write the report to FILE; a one-line summary still goes to stderr
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Warn when the key expires within this many days (CMK015) [default: 30, or the config's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=36500))]
    expiry_warning_days: Option<u32>,
    /// Plain prose for screen readers instead of drawn diagnostics (also: NO_GRAPHICS=1)
    #[arg(long)]
    narrated: bool,
    #[command(flatten)]
    template: TemplateArgs,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    gate: GateArgs,
}

/// What fails the run, and which rules say what.
#[derive(clap::Args)]
#[command(next_help_heading = "Gate")]
struct GateArgs {
    /// The lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Make a rule an error (code or name; repeatable)
    #[arg(long, value_name = "RULE")]
    deny: Vec<String>,
    /// Make a rule a warning (code or name; repeatable)
    #[arg(long, value_name = "RULE")]
    warn: Vec<String>,
    /// Turn a rule off (code or name; repeatable)
    #[arg(long, value_name = "RULE")]
    allow: Vec<String>,
    /// Config file [default: cmk-check.toml in the working directory or its parents]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum FailOn {
    Note,
    Warning,
    Error,
    Never,
}

impl FailOn {
    fn fails(self, worst: Option<Severity>) -> bool {
        let threshold = match self {
            Self::Note => Severity::Note,
            Self::Warning => Severity::Warning,
            Self::Error => Severity::Error,
            Self::Never => return false,
        };
        worst.is_some_and(|w| w >= threshold)
    }
}

/// A deployment template to check before it is deployed.
#[derive(clap::Args)]
#[command(next_help_heading = "Template")]
struct TemplateArgs {
    /// ARM deployment template (JSON, or .bicep compiled with the Bicep CLI) declaring the clusters
    #[arg(long, value_name = "FILE", conflicts_with_all = ["identity", "key", "vault", "cluster"])]
    template: Option<PathBuf>,
    /// Parameters file for the template (deploymentParameters JSON, or .bicepparam)
    #[arg(long, value_name = "FILE", requires = "template")]
    parameters: Option<PathBuf>,
    /// Do not read the resources the template only references: they are "could not verify"
    #[arg(long, requires = "template")]
    offline: bool,
    /// The resource group the template will be deployed to (its `resourceGroup().name`)
    #[arg(long, value_name = "NAME", requires = "template")]
    resource_group: Option<String>,
}

/// What to read from Azure, and how.
#[derive(clap::Args)]
#[command(next_help_heading = "Live Azure")]
struct LiveArgs {
    /// Region the cluster will be created in (with --template: the resource group's region)
    #[arg(long, value_name = "REGION")]
    location: Option<String>,
    /// Resource ID of the user-assigned managed identity
    #[arg(long, value_name = "RESOURCE_ID")]
    identity: Option<String>,
    /// Key Vault key URI, with or without a version
    #[arg(long, value_name = "KEY_URI")]
    key: Option<String>,
    /// Resource ID of the key vault (skips finding it with Azure Resource Graph)
    #[arg(long, value_name = "RESOURCE_ID")]
    vault: Option<String>,
    /// Resource ID of an existing cluster (Microsoft.DBforPostgreSQL/serverGroupsv2)
    #[arg(long, value_name = "RESOURCE_ID")]
    cluster: Option<String>,
    /// Subscription to search for the vault in (with --template: the one deployed to)
    #[arg(long, value_name = "SUBSCRIPTION_ID")]
    subscription: Option<String>,
    /// How to sign in
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto)]
    auth: AuthMethod,
    /// Which Azure cloud
    #[arg(long, value_enum, default_value_t = CloudName::Public)]
    cloud: CloudName,
    /// Azure Resource Manager endpoint (plain http only on loopback)
    #[arg(long, value_name = "URL", env = "CMK_CHECK_ARM_ENDPOINT")]
    arm_endpoint: Option<String>,
    /// Key Vault data-plane endpoint replacing every vault's address (plain http only on loopback)
    #[arg(
        long,
        value_name = "URL",
        env = "CMK_CHECK_KEYVAULT_ENDPOINT",
        hide = true
    )]
    keyvault_endpoint: Option<String>,
    /// Seconds to wait for each answer
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum CatalogFormat {
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
    #[error("could not render the report")]
    #[diagnostic(code(cmk_check::output))]
    Render(#[source] render::RenderError),
    #[error("could not write the report")]
    #[diagnostic(code(cmk_check::output))]
    Output(#[source] std::io::Error),
    #[error("could not encode the report as JSON")]
    #[diagnostic(code(cmk_check::output))]
    Json(#[source] serde_json::Error),
    #[error("nothing to check")]
    #[diagnostic(
        code(cmk_check::no_target),
        help("give `--snapshot FILE`, or `--location`, `--identity` and `--key` for a planned cluster, or `--cluster` for an existing one")
    )]
    NoTarget,
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
        Command::Check(args) => check(*args),
        Command::Snapshot { live, output } => record(&live, output),
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
    let options = options(&args)?;
    let states = match (&args.snapshot, &args.template.template) {
        (Some(path), _) => vec![snapshot::read(path)?],
        (None, Some(path)) => read_template(path, &args)?,
        (None, None) => vec![read_live(&args.live)?.state],
    };
    let reports: Vec<engine::Report> = states
        .iter()
        .map(|state| engine::run(state, &options))
        .collect();
    let report = engine::merge(&reports);
    let style = human::Style {
        color: args.output.is_none()
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        narrated: args.narrated
            || std::env::var_os("NO_GRAPHICS").is_some_and(|v| !v.is_empty() && v != "0"),
        width: terminal_width(),
    };
    let text = render::render(&reports, args.format, style).map_err(CliError::Render)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|source| CliError::Write {
                path: path.clone(),
                source,
            })?;
            eprintln!("{}", render::summary_line(&report));
        }
        None => print(&text)?,
    }
    if args.format == render::Format::Github {
        write_step_summary(&report)?;
    }
    Ok(if args.gate.fail_on.fails(report.worst()) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// Engine options from defaults, then the config file, then the command line.
fn options(args: &CheckArgs) -> Result<Options, Report> {
    let config_path = match &args.gate.config {
        Some(path) => Some(path.clone()),
        // Shown relative to where the user stands, as they would type it.
        None => std::env::current_dir().ok().and_then(|dir| {
            config::discover(&dir)
                .map(|found| found.strip_prefix(&dir).map(PathBuf::from).unwrap_or(found))
        }),
    };
    let config = match &config_path {
        Some(path) => config::load(path)?,
        None => config::Config::default(),
    };
    let mut options = Options::new(args.now.unwrap_or_else(Utc::now));
    if let Some(days) = args.expiry_warning_days.or(config.expiry_warning_days) {
        options.expiry_warning_days = i64::from(days);
    }
    for (rule, level) in config.levels {
        options.levels.insert(rule.code, level);
    }
    // On the command line the stronger word wins: allow, then warn, then deny.
    for (names, level) in [
        (&args.gate.allow, Level::Allow),
        (&args.gate.warn, Level::Warn),
        (&args.gate.deny, Level::Deny),
    ] {
        for name in names {
            let rule = rules::find(name).ok_or_else(|| CliError::UnknownRule(name.clone()))?;
            options.levels.insert(rule.code, level);
        }
    }
    options.exemptions = config.exemptions;
    Ok(options)
}

/// GitHub shows this Markdown on the run's summary page.
fn write_step_summary(report: &engine::Report) -> Result<(), Report> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = PathBuf::from(path);
    // Earlier steps of the job write to the same file: append.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(github::step_summary(report).as_bytes()))
        .map_err(|source| CliError::Write { path, source })?;
    Ok(())
}

/// The state of each CMK cluster the template declares; what it only references is read from
/// Azure unless `--offline`.
fn read_template(path: &std::path::Path, args: &CheckArgs) -> Result<Vec<State>, Report> {
    let placement = template::Placement {
        subscription: args.live.subscription.clone(),
        resource_group: args.template.resource_group.clone(),
        location: args.live.location.clone(),
    };
    let read = template::read(path, args.template.parameters.as_deref(), &placement)?;
    for note in &read.notes {
        eprintln!("note: {note}");
    }
    let mut targets = read.targets;
    if targets.is_empty() {
        eprintln!(
            "note: no cluster of `{}` uses a customer-managed key: nothing to check",
            path.display()
        );
    }
    if !args.template.offline && !targets.is_empty() {
        let connection = connection(&args.live);
        let runtime = runtime()?;
        let spinner = Spinner::start("reading Azure");
        let completed = runtime.block_on(async {
            let azure = live::connect(&connection).await?;
            for planned in &mut targets {
                template::complete(planned, &azure, args.live.subscription.as_deref()).await;
            }
            Ok::<_, Report>(())
        });
        drop(spinner);
        completed?;
    }
    Ok(targets.into_iter().map(|planned| planned.state).collect())
}

fn connection(args: &LiveArgs) -> Connection {
    Connection {
        auth: args.auth,
        cloud: args.cloud,
        arm_endpoint: args.arm_endpoint.clone(),
        keyvault_endpoint: args.keyvault_endpoint.clone(),
        timeout: std::time::Duration::from_secs(args.timeout),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Report> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?)
}

/// `cmk-check snapshot`: the live state as a snapshot file.
fn record(args: &LiveArgs, output: Option<PathBuf>) -> Result<ExitCode, Report> {
    let live = read_live(args)?;
    let mut text = serde_json::to_string_pretty(&live.snapshot).map_err(CliError::Json)?;
    text.push('\n');
    match output {
        Some(path) => {
            std::fs::write(&path, text).map_err(|source| CliError::Write { path, source })?
        }
        None => print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn read_live(args: &LiveArgs) -> Result<live::Live, Report> {
    let target = live_target(args)?;
    let connection = connection(args);
    let runtime = runtime()?;
    let spinner = Spinner::start("reading Azure");
    let live = runtime.block_on(async {
        let azure = live::connect(&connection).await?;
        Ok::<_, Report>(live::read(&target, &azure).await)
    });
    drop(spinner);
    let live = live?;
    for line in &live.unread {
        eprintln!("warning: {line}");
    }
    Ok(live)
}

fn live_target(args: &LiveArgs) -> Result<Target, Report> {
    let id = |flag, value: &Option<String>, kind| {
        value
            .as_deref()
            .map(|v| ResourceId::parse(flag, v, kind))
            .transpose()
    };
    let target = Target {
        location: args.location.clone(),
        identity: args
            .identity
            .as_deref()
            .map(|v| ResourceId::parse_any("--identity", v))
            .transpose()?,
        key: args
            .key
            .as_deref()
            .map(|raw| target::parse_key_uri(raw).map(|k| (raw.to_string(), k)))
            .transpose()?,
        vault: id("--vault", &args.vault, target::VAULT_TYPE)?,
        cluster: id("--cluster", &args.cluster, target::CLUSTER_TYPE)?,
        subscription: args.subscription.clone(),
        alerts_subscription: None,
    };
    let planned = target.location.is_some() && target.identity.is_some() && target.key.is_some();
    if target.cluster.is_none() && !planned {
        return Err(CliError::NoTarget.into());
    }
    if let Some((raw, key)) = &target.key {
        let suffix = live::cloud::Cloud::vault_suffix_of(args.cloud);
        if !key.host.ends_with(suffix) {
            return Err(target::ArgumentError {
                flag: "--key",
                expected: "a key in the chosen cloud",
                src: miette::NamedSource::new("--key", raw.clone()),
                span: (8, key.host.len()).into(),
                reason: format!("vaults of this cloud end in `{suffix}`"),
                help: Some(
                    "choose the key's cloud with `--cloud public|china|usgovernment`".to_string(),
                ),
            }
            .into());
        }
    }
    Ok(target)
}

/// A spinner on stderr while Azure is read, only when a person is watching.
struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    fn start(message: &'static str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new_spinner().with_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Self(Some(bar))
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

fn rules_catalog(format: CatalogFormat) -> Result<String, Report> {
    match format {
        CatalogFormat::Json => {
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
        CatalogFormat::Human => {
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
