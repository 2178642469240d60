//! The command line, as clap parses it. The library knows nothing of clap: each flag maps to a
//! library type here.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use cmk_check::azure::cloud::CloudName;
use cmk_check::config::Overrides;
use cmk_check::engine::FailOn;
use cmk_check::render::script::FixFormat;
use cmk_check::render::Format;
use cmk_check::source::live::auth::AuthMethod;
use cmk_check::source::live::target::Flags;
use cmk_check::source::live::Connection;
use cmk_check::source::template::Placement;

#[derive(Parser)]
#[command(
    name = "cmk-check",
    version = env!("CMK_CHECK_VERSION"),
    about = "Checks every prerequisite of customer-managed-key encryption for Azure Cosmos DB for PostgreSQL",
    after_help = "Exit codes: 0 no finding at or above --fail-on, 1 at least one such finding, 2 cmk-check could not run.\n\
                  Run `cmk-check explain CMK004` to learn about a rule."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check the identity, key vault, key and cluster against every requirement
    #[command(after_help = "Examples:\n  \
        cmk-check check --snapshot fixtures/clean.json\n  \
        cmk-check check --location westeurope --identity <identity-id> --key <key-uri>\n  \
        cmk-check check --cluster <cluster-id>\n  \
        cmk-check check --template main.json --parameters main.parameters.json\n  \
        cmk-check check --terraform-plan plan.json\n  \
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
    /// Audit every cluster of a tenant (or of subscriptions, or management groups) in one run
    #[command(after_help = "Examples:\n  \
        cmk-check audit\n  \
        cmk-check audit --subscription <sub> --subscription <sub> --require-cmk\n  \
        cmk-check audit --management-group <group> --format sarif --output fleet.sarif\n  \
        cmk-check audit --shard 1/4 --format json --output part-1.json\n  \
        cmk-check audit --record fleet.json; cmk-check audit --snapshot fleet.json")]
    Audit(Box<AuditArgs>),
    /// Combine the JSON fleet reports of `audit --shard` runs into one report
    #[command(
        after_help = "Examples:\n  cmk-check merge part-1.json part-2.json --format sarif --output fleet.sarif"
    )]
    Merge(MergeArgs),
    /// Check a key file before `az keyvault key import` or `restore`: PKCS#12, PEM, BYOK or backup
    #[command(after_help = "Examples:\n  \
        cmk-check key-file key.pfx --password-env PFX_PASSWORD\n  \
        cmk-check key-file key.pem\n  \
        cmk-check key-file key.byok --vault https://kv-cmk-prod.vault.azure.net/\n  \
        cmk-check key-file key.backup --vault <vault-id> --format sarif --output key.sarif")]
    KeyFile(Box<KeyFileArgs>),
    /// Print the documentation of one rule
    #[command(
        after_help = "Examples:\n  cmk-check explain CMK004\n  cmk-check explain purge-protection-disabled"
    )]
    Explain {
        /// Rule code (`CMK004`, any case) or name (`purge-protection-disabled`)
        rule: String,
    },
    /// Check the ARM templates and Terraform plans among FILES, offline (the pre-commit hook)
    #[command(
        after_help = "Other files (a package.json, a snapshot) are passed over.\n\nExamples:\n  \
        cmk-check hook main.json plan.json"
    )]
    Hook {
        /// JSON files: ARM templates (or Bicep compiled to JSON) and `terraform show -json` plans
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the shell completion script for SHELL
    #[command(after_help = "Examples:\n  \
        cmk-check completions bash > ~/.local/share/bash-completion/completions/cmk-check\n  \
        cmk-check completions zsh > ~/.zfunc/_cmk-check\n  \
        cmk-check completions fish > ~/.config/fish/completions/cmk-check.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, or write one page per subcommand into DIR
    #[command(
        after_help = "Examples:\n  cmk-check man | man -l -\n  cmk-check man --output /usr/local/share/man/man1"
    )]
    Man {
        /// Write `cmk-check.1`, `cmk-check-check.1`, … into DIR instead
        #[arg(long, short, value_name = "DIR")]
        output: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
pub struct AuditArgs {
    /// Audit the clusters of this subscription (repeatable) [default: every subscription the credential can read]
    #[arg(long = "subscription", value_name = "ID", conflicts_with_all = ["management_group", "tenant"])]
    pub subscriptions: Vec<String>,
    /// Audit the clusters of the subscriptions under this management group (repeatable)
    #[arg(
        long = "management-group",
        value_name = "ID",
        conflicts_with = "tenant"
    )]
    pub management_group: Vec<String>,
    /// Every subscription the credential can read (the default)
    #[arg(long)]
    pub tenant: bool,
    /// Write every body read to FLEET_FILE (token-free), to replay later with --snapshot
    #[arg(long, value_name = "FLEET_FILE", conflicts_with = "snapshot")]
    pub record: Option<PathBuf>,
    /// Audit a recorded fleet offline instead of reading Azure
    #[arg(long, value_name = "FLEET_FILE")]
    pub snapshot: Option<PathBuf>,
    /// Read vaults and identities through ARM instead of Resource Graph, which may lag minutes
    #[arg(long)]
    pub fresh: bool,
    /// The most reads in flight at once
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Audit the K-th of N deterministic parts of the subscriptions (by a hash of their IDs)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(clap::Args)]
pub struct KeyFileArgs {
    /// The key file: .pfx/.p12, PEM, .byok (Key Vault BYOK) or .backup (Key Vault key backup)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The environment variable holding the file's password (else asked on a terminal)
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// The vault the key goes to: its resource ID or its URI
    #[arg(long, value_name = "VAULT_ID|VAULT_URI")]
    pub vault: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub gate: GateArgs,
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The JSON fleet reports of the shards (`audit --format json`)
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Write the report to FILE; a one-line summary still goes to stderr
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
    pub fail_on: FailOnArg,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Snapshot file (format v1) holding the ARM bodies to check, instead of reading Azure
    #[arg(long, value_name = "FILE", conflicts_with_all = ["location", "identity", "key", "vault", "cluster", "template", "terraform_plan"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub template: TemplateArgs,
    #[command(flatten)]
    pub terraform: TerraformArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// How the report looks and where it goes.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The time to check dates against (RFC 3339); defaults to the real time
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Write the report to FILE; a one-line summary still goes to stderr
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Warn when the key expires within this many days (CMK015) [default: 30, or the config's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=36500))]
    pub expiry_warning_days: Option<u32>,
    /// Plain prose for screen readers instead of drawn diagnostics (also: NO_GRAPHICS=1)
    #[arg(long)]
    pub narrated: bool,
    /// Also write the report as SARIF to FILE, whatever --format shows (one run for both)
    #[arg(long, value_name = "FILE")]
    pub sarif_output: Option<PathBuf>,
    /// Also write the fixes to FILE: a script of the in-place `az` commands (run it yourself)
    #[arg(long, value_name = "FILE")]
    pub fix_script: Option<PathBuf>,
    /// What --fix-script writes: a shell script, or the template edits as a Bicep/ARM snippet
    #[arg(long, value_enum, default_value_t = FixFormatArg::Sh, requires = "fix_script")]
    pub fix_format: FixFormatArg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixFormatArg {
    /// A bash script of the `az` commands that fix the findings in place
    Sh,
    /// The property changes for the template, as a Bicep/ARM snippet
    Bicep,
}

impl From<FixFormatArg> for FixFormat {
    fn from(arg: FixFormatArg) -> Self {
        match arg {
            FixFormatArg::Sh => FixFormat::Sh,
            FixFormatArg::Bicep => FixFormat::Bicep,
        }
    }
}

/// What fails the run, and which rules say what.
#[derive(clap::Args)]
#[command(next_help_heading = "Gate")]
pub struct GateArgs {
    /// The lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
    pub fail_on: FailOnArg,
    /// Make a rule an error (code or name; repeatable)
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,
    /// Make a rule a warning (code or name; repeatable)
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,
    /// Turn a rule off (code or name; repeatable)
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Config file [default: cmk-check.toml in the working directory or its parents]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Which clusters the CMK requirements apply to: not a question for a key file.
#[derive(clap::Args)]
#[command(next_help_heading = "Gate")]
pub struct ScopeArgs {
    /// Every cluster must use a customer-managed key: a service-managed one is an error (CMK025)
    #[arg(long)]
    pub require_cmk: bool,
}

/// A deployment template to check before it is deployed.
#[derive(clap::Args)]
#[command(next_help_heading = "Template")]
#[command(group(clap::ArgGroup::new("declaring").args(["template", "terraform_plan"])))]
pub struct TemplateArgs {
    /// ARM deployment template (JSON, or .bicep compiled with the Bicep CLI) declaring the clusters
    #[arg(long, value_name = "FILE", conflicts_with_all = ["identity", "key", "vault", "cluster"])]
    pub template: Option<PathBuf>,
    /// Parameters file for the template (deploymentParameters JSON, or .bicepparam)
    #[arg(long, value_name = "FILE", requires = "template")]
    pub parameters: Option<PathBuf>,
    /// Do not read the resources the template or plan only references: they are "could not verify"
    #[arg(long, requires = "declaring")]
    pub offline: bool,
    /// The resource group the template will be deployed to (its `resourceGroup().name`)
    #[arg(long, value_name = "NAME", requires = "template")]
    pub resource_group: Option<String>,
}

/// A Terraform plan to check before it is applied.
#[derive(clap::Args)]
#[command(next_help_heading = "Terraform")]
pub struct TerraformArgs {
    /// A saved plan as `terraform show -json PLANFILE` prints it, declaring the clusters
    #[arg(long, value_name = "PLAN.json", conflicts_with_all = ["template", "identity", "key", "vault", "cluster"])]
    pub terraform_plan: Option<PathBuf>,
    /// The root module's `.tf` files, for labels on the attributes [default: the plan's directory]
    #[arg(long, value_name = "DIR", requires = "terraform_plan")]
    pub terraform_dir: Option<PathBuf>,
}

/// What to read from Azure, and how.
#[derive(clap::Args)]
#[command(next_help_heading = "Live Azure")]
pub struct LiveArgs {
    /// Region the cluster will be created in (with --template: the resource group's region)
    #[arg(long, value_name = "REGION")]
    pub location: Option<String>,
    /// Resource ID of the user-assigned managed identity
    #[arg(long, value_name = "RESOURCE_ID")]
    pub identity: Option<String>,
    /// Key Vault key URI, with or without a version
    #[arg(long, value_name = "KEY_URI")]
    pub key: Option<String>,
    /// Resource ID of the key vault (skips finding it with Azure Resource Graph)
    #[arg(long, value_name = "RESOURCE_ID")]
    pub vault: Option<String>,
    /// Resource ID of an existing cluster (Microsoft.DBforPostgreSQL/serverGroupsv2)
    #[arg(long, value_name = "RESOURCE_ID")]
    pub cluster: Option<String>,
    /// Subscription to search for the vault in (with --template: the one deployed to)
    #[arg(long, value_name = "SUBSCRIPTION_ID")]
    pub subscription: Option<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// How to reach Azure.
#[derive(clap::Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// How to sign in
    #[arg(long, value_enum, default_value_t = AuthArg::Auto)]
    pub auth: AuthArg,
    /// Which Azure cloud
    #[arg(long, value_enum, default_value_t = CloudArg::Public)]
    pub cloud: CloudArg,
    /// Azure Resource Manager endpoint (plain http only on loopback)
    #[arg(long, value_name = "URL", env = "CMK_CHECK_ARM_ENDPOINT")]
    pub arm_endpoint: Option<String>,
    /// Key Vault data-plane endpoint replacing every vault's address (plain http only on loopback)
    #[arg(
        long,
        value_name = "URL",
        env = "CMK_CHECK_KEYVAULT_ENDPOINT",
        hide = true
    )]
    pub keyvault_endpoint: Option<String>,
    /// Seconds to wait for each answer
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

impl ConnectionArgs {
    pub fn connection(&self) -> Connection {
        Connection {
            auth: self.auth.into(),
            cloud: self.cloud.into(),
            arm_endpoint: self.arm_endpoint.clone(),
            keyvault_endpoint: self.keyvault_endpoint.clone(),
            timeout: std::time::Duration::from_secs(self.timeout),
        }
    }
}

impl LiveArgs {
    pub fn flags(&self) -> Flags {
        Flags {
            location: self.location.clone(),
            identity: self.identity.clone(),
            key: self.key.clone(),
            vault: self.vault.clone(),
            cluster: self.cluster.clone(),
            subscription: self.subscription.clone(),
        }
    }
}

impl GateArgs {
    pub fn overrides(&self, report: &ReportArgs, require_cmk: bool) -> Overrides {
        Overrides {
            config: self.config.clone(),
            now: report.now,
            expiry_warning_days: report.expiry_warning_days,
            require_cmk,
            allow: self.allow.clone(),
            warn: self.warn.clone(),
            deny: self.deny.clone(),
        }
    }
}

impl CheckArgs {
    pub fn overrides(&self) -> Overrides {
        self.gate.overrides(&self.report, self.scope.require_cmk)
    }

    pub fn terraform_placement(&self) -> cmk_check::source::terraform::Placement {
        cmk_check::source::terraform::Placement {
            subscription: self.live.subscription.clone(),
            cloud: self.live.connection.cloud.into(),
        }
    }

    pub fn placement(&self, now: DateTime<Utc>) -> Placement {
        Placement {
            subscription: self.live.subscription.clone(),
            resource_group: self.template.resource_group.clone(),
            location: self.live.location.clone(),
            cloud: self.live.connection.cloud.into(),
            now,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// rustc-style diagnostics for people
    Human,
    /// The version 1 JSON report
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// GitHub Actions workflow commands (annotations)
    Github,
    /// JUnit XML: one test case per rule
    Junit,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
            FormatArg::Junit => Format::Junit,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Note,
    Warning,
    Error,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(arg: FailOnArg) -> Self {
        match arg {
            FailOnArg::Note => FailOn::Note,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Error => FailOn::Error,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// Client secret, then workload identity (from the environment), then the Azure CLI, then
    /// the Azure Developer CLI
    Auto,
    /// The Azure CLI's login (`az login`)
    Cli,
    /// The Azure Developer CLI's login (`azd auth login`)
    Azd,
    /// Workload identity federation (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE)
    WorkloadIdentity,
    /// A service principal's secret (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)
    ClientSecret,
    /// The managed identity of the machine cmk-check runs on (only on Azure)
    ManagedIdentity,
    /// A bearer token for Azure Resource Manager in CMK_CHECK_ACCESS_TOKEN
    AccessToken,
}

impl From<AuthArg> for AuthMethod {
    fn from(arg: AuthArg) -> Self {
        match arg {
            AuthArg::Auto => AuthMethod::Auto,
            AuthArg::Cli => AuthMethod::Cli,
            AuthArg::Azd => AuthMethod::Azd,
            AuthArg::WorkloadIdentity => AuthMethod::WorkloadIdentity,
            AuthArg::ClientSecret => AuthMethod::ClientSecret,
            AuthArg::ManagedIdentity => AuthMethod::ManagedIdentity,
            AuthArg::AccessToken => AuthMethod::AccessToken,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    Public,
    China,
    Usgovernment,
}

impl From<CloudArg> for CloudName {
    fn from(arg: CloudArg) -> Self {
        match arg {
            CloudArg::Public => CloudName::Public,
            CloudArg::China => CloudName::China,
            CloudArg::Usgovernment => CloudName::UsGovernment,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CatalogFormat {
    Human,
    Json,
}

fn parse_now(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("{e}; expected RFC 3339, e.g. 2026-11-27T12:00:00Z"))
}
