//! What a rule is and what it reports. A rule states a fact and a place; the engine stamps the
//! code, the level and the reference.

#![allow(
    clippy::result_large_err,
    reason = "a rule that cannot run returns its one unverified finding: built once per rule run"
)]

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::key_file::KeyFile;
use crate::model::vault::VaultProperties;
use crate::model::{
    ActivityLogAlert, AvailabilityStatus, Cluster, DiagnosticSetting, Identity, Key, KeyVersion,
    Vault,
};
use crate::state::{Gap, Located, Place, Resource, State};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Note => "note",
        }
    }
}

/// What a rule is set to, in the words of `--allow/--warn/--deny` and `cmk-check.toml`: off,
/// findings are warnings, findings are errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Allow, Level::Warn, Level::Deny];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Warn => "warn",
            Self::Deny => "deny",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(word.trim()))
    }

    /// The severity of the findings of a rule at this level; `None`: the rule does not run.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Self::Allow => None,
            Self::Warn => Some(Severity::Warning),
            Self::Deny => Some(Severity::Error),
        }
    }
}

/// A rule's declaration: its permanent code, its name, and the check.
#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub default_level: Level,
    /// One line for the catalog and SARIF's shortDescription.
    pub summary: &'static str,
    /// `rules/CMKNNN.md`, printed by `cmk-check explain`.
    pub doc: &'static str,
    /// Microsoft's documentation of the requirement.
    pub url: &'static str,
    /// The properties the check reads. When one of them cannot be known (a template value known
    /// only at deployment) or read (a value of the wrong type), the engine reports "could not
    /// verify" instead of running the check on a guess.
    pub reads: &'static [Property],
    /// The inputs that can break the rule, for the tests that a failing fixture of each exists.
    pub breakable_in: &'static [Input],
    pub check: Check,
}

/// The kinds of input a state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Snapshot,
    Template,
    /// A Terraform plan (`terraform show -json`).
    Terraform,
    Config,
    /// A key file before import (`cmk-check key-file`).
    KeyFile,
}

/// A property a rule reads: which resource, and the JSON pointer in its ARM body.
#[derive(Debug, Clone, Copy)]
pub struct Property(pub Subject, pub &'static str);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Identity,
    Vault,
    Key,
    KeyVersions,
    Cluster,
    Alerts,
    VaultDiagnostics,
    Availability,
}

/// What a check returns: its findings, or the one finding that says why it could not run.
pub type Outcome = Result<Vec<Violation>, Violation>;

/// How a rule is checked.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// A pure function of the state and the clock, about a customer-managed-key setup.
    State(fn(&Context<'_>) -> Outcome),
    /// About the cluster itself: run on every cluster, whatever its encryption.
    Cluster(fn(&Context<'_>) -> Outcome),
    /// About the configured exemptions themselves, given each exemption and whether it matched.
    Exemptions(fn(&ExemptionUse<'_>) -> Option<Violation>),
    /// About a key file before import: run by `cmk-check key-file` only.
    KeyFile(KeyFileCheck),
}

/// A pure function of a key file and the clock.
pub type KeyFileCheck = fn(&KeyFileContext<'_>) -> Outcome;

/// What a key-file rule reads.
pub struct KeyFileContext<'a> {
    pub file: &'a KeyFile,
    pub now: DateTime<Utc>,
    pub expiry_warning_days: i64,
}

impl KeyFileContext<'_> {
    /// A place in the file (a BYOK field) or in the account of what was read from it.
    pub fn at(&self, pointer: &str) -> Place {
        Place::root(&self.file.doc, pointer, &self.file.path)
    }
}

/// One configured exemption as the engine applied it.
pub struct ExemptionUse<'a> {
    pub rule: &'static Rule,
    pub resource: &'a str,
    pub expires: Option<chrono::NaiveDate>,
    pub place: &'a Place,
    pub matched: bool,
    pub today: chrono::NaiveDate,
}

/// How a finding is fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Commands that fix the resource where it is, in order.
    InPlace(Vec<String>),
    /// The resource cannot be fixed where it is: commands that create its replacement.
    Replace(Vec<String>),
    /// The change to the code that declares the resource.
    Edit(String),
}

impl Fix {
    pub fn lines(&self) -> &[String] {
        match self {
            Self::InPlace(lines) | Self::Replace(lines) => lines,
            Self::Edit(edit) => std::slice::from_ref(edit),
        }
    }
}

/// One fact a rule found: what is wrong, where, what it must be, and how to fix it.
#[derive(Debug, Clone)]
pub struct Violation {
    pub place: Place,
    pub message: String,
    /// Said at the offending property: what the value must be.
    pub label: String,
    /// Why, or what to do, in prose.
    pub help: String,
    /// The commands or the edit; each a line of its own, never wrapped.
    pub fix: Option<Fix>,
    /// The rule could not tell: the data it needs is missing or could not be read.
    pub unverified: bool,
    /// Byte range inside a string value that is wrong (the bad part of a key URI).
    pub within: Option<std::ops::Range<usize>>,
    /// What made it unverifiable, shared by every finding with the same cause: the report
    /// shows them as one diagnostic.
    pub cause: Option<String>,
}

impl Violation {
    /// A violation at `place`; say what with [`message`](Self::message),
    /// [`label`](Self::label) and [`help`](Self::help).
    pub fn at(place: Place) -> Self {
        Self {
            place,
            message: String::new(),
            label: String::new(),
            help: String::new(),
            fix: None,
            unverified: false,
            within: None,
            cause: None,
        }
    }

    /// The fact, naming the resource.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// What the value at the place must be.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// The command or edit that fixes it.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    /// The help and the fix as one text, for formats without structure (JSON `help`, SARIF).
    pub fn help_text(&self) -> String {
        let mut text = self.help.clone();
        for line in self.fix.iter().flat_map(Fix::lines) {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(line);
        }
        text
    }

    /// A requirement that could not be checked. It never passes silently.
    pub fn unverified(mut self) -> Self {
        self.unverified = true;
        self
    }

    /// Narrows the label to part of the string value.
    pub fn within(mut self, range: std::ops::Range<usize>) -> Self {
        self.within = Some(range);
        self
    }

    pub fn caused_by(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self
    }
}

impl Gap {
    /// The finding of a rule that needed what this gap lacks; `requirement` says what could
    /// not be verified (`purge protection`).
    pub fn unverified(&self, requirement: &str) -> Violation {
        Violation::at(self.place.clone())
            .unverified()
            .message(format!("could not verify {requirement}: {}", self.reason))
            .label(self.label.clone())
            .help(self.remedy.clone())
            .caused_by(self.reason.clone())
    }
}

/// What a rule reads besides the state.
pub struct Context<'a> {
    pub state: &'a State,
    pub now: DateTime<Utc>,
    pub expiry_warning_days: i64,
}

/// The sections of the state, or the finding that says why a rule needing one could not run:
/// `let vault = cx.vault("soft delete")?;`.
impl Context<'_> {
    pub fn location(&self, requirement: &str) -> Result<&Located<String>, Violation> {
        self.state
            .location
            .as_ref()
            .map_err(|gap| gap.unverified(requirement))
    }

    pub fn key_uri(&self, requirement: &str) -> Result<&Located<String>, Violation> {
        self.state
            .key_uri
            .as_ref()
            .map_err(|gap| gap.unverified(requirement))
    }

    pub fn identity(&self, requirement: &str) -> Result<&Resource<Identity>, Violation> {
        self.state
            .identity
            .as_ref()
            .map_err(|gap| gap.unverified(requirement))
    }

    pub fn vault(&self, requirement: &str) -> Result<&Resource<Vault>, Violation> {
        self.state
            .vault
            .as_ref()
            .map_err(|gap| gap.unverified(requirement))
    }

    /// The vault and its `properties`.
    pub fn vault_properties(
        &self,
        requirement: &str,
    ) -> Result<(&Resource<Vault>, &VaultProperties), Violation> {
        let vault = self.vault(requirement)?;
        match vault.body.props() {
            Some(props) => Ok((vault, props)),
            None => {
                let reason = format!("the body of Key Vault `{}` has no `properties`", vault.name);
                Err(Violation::at(vault.at("/properties"))
                    .unverified()
                    .message(format!("could not verify {requirement}: {reason}"))
                    .label("the vault's `properties` object")
                    .help("record the whole body ARM returns: `az keyvault show --name <vault>`")
                    .caused_by(reason))
            }
        }
    }

    pub fn key(&self, requirement: &str) -> Result<&Resource<Key>, Violation> {
        self.state
            .key
            .as_ref()
            .map_err(|gap| gap.unverified(requirement))
    }

    pub fn key_versions(&self, requirement: &str) -> Result<&[Resource<KeyVersion>], Violation> {
        self.state
            .key_versions
            .as_deref()
            .map_err(|gap| gap.unverified(requirement))
    }

    /// The cluster, `None` for a planned one known only by its key and identity.
    pub fn cluster(&self, requirement: &str) -> Result<Option<&Resource<Cluster>>, Violation> {
        self.state
            .cluster
            .as_ref()
            .map(Option::as_ref)
            .map_err(|gap| gap.unverified(requirement))
    }

    pub fn alerts(&self, requirement: &str) -> Result<&[Resource<ActivityLogAlert>], Violation> {
        self.state
            .alerts
            .as_deref()
            .map_err(|gap| gap.unverified(requirement))
    }

    pub fn vault_diagnostics(
        &self,
        requirement: &str,
    ) -> Result<&[Resource<DiagnosticSetting>], Violation> {
        self.state
            .vault_diagnostics
            .as_deref()
            .map_err(|gap| gap.unverified(requirement))
    }

    /// The cluster's availability, `None` where there is no deployed cluster.
    pub fn availability(
        &self,
        requirement: &str,
    ) -> Result<Option<&Resource<AvailabilityStatus>>, Violation> {
        self.state
            .availability
            .as_ref()
            .map(Option::as_ref)
            .map_err(|gap| gap.unverified(requirement))
    }
}
