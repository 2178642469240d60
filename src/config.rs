//! `cmk-check.toml`: rule levels, the expiry warning window, and governed exemptions. Every
//! mistake in it stops the run with a diagnostic pointing into the file. [`resolve`] layers the
//! command line over the file over the defaults.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use miette::{Diagnostic, SourceSpan};
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use crate::document::read::read_text;
use crate::document::{Node, SourceDoc};
use crate::engine::{Exemption, Options};
use crate::lint::{Level, Rule};
use crate::rules;
use crate::state::Place;

pub const FILE_NAME: &str = "cmk-check.toml";

/// The rule `require-cmk` turns on.
const REQUIRE_CMK_RULE: &str = "CMK025";

#[derive(Debug, Default)]
pub struct Config {
    pub expiry_warning_days: Option<u32>,
    /// Every cluster must use a customer-managed key (CMK025 at `deny`).
    pub require_cmk: bool,
    pub levels: Vec<(&'static Rule, Level)>,
    pub exemptions: Vec<Exemption>,
}

#[derive(Debug, Error, Diagnostic)]
pub enum ConfigError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Read(#[from] crate::document::read::ReadError),
    #[error("unknown rule `{name}`")]
    #[diagnostic(code(cmk_check::unknown_rule))]
    UnknownRule {
        name: String,
        #[help]
        help: String,
    },
    #[error("{name}: {message}")]
    #[diagnostic(code(cmk_check::config))]
    Invalid {
        name: String,
        message: String,
        #[source_code]
        src: Arc<SourceDoc>,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    expiry_warning_days: Option<Spanned<u32>>,
    require_cmk: Option<bool>,
    rules: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    exempt: Option<Vec<Spanned<RawExemption>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExemption {
    rule: Spanned<String>,
    resource: Spanned<String>,
    reason: Option<Spanned<String>>,
    expires: Option<Spanned<toml::Value>>,
}

/// `cmk-check.toml` in `start` or the nearest parent that has one.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read_text(path)?;
    parse(&path.display().to_string(), text)
}

/// What the command line says, over the config file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config`; without it, `cmk-check.toml` in the working directory or a parent.
    pub config: Option<PathBuf>,
    pub now: Option<DateTime<Utc>>,
    pub expiry_warning_days: Option<u32>,
    /// `--require-cmk`.
    pub require_cmk: bool,
    pub allow: Vec<String>,
    pub warn: Vec<String>,
    pub deny: Vec<String>,
}

/// The engine's options: the defaults, then the config file, then the command line.
pub fn resolve(overrides: &Overrides, cwd: &Path) -> Result<Options, ConfigError> {
    let path = match &overrides.config {
        Some(path) => Some(path.clone()),
        // Shown relative to where the user stands, as they would type it.
        None => {
            discover(cwd).map(|found| found.strip_prefix(cwd).map(PathBuf::from).unwrap_or(found))
        }
    };
    let config = match &path {
        Some(path) => load(path)?,
        None => Config::default(),
    };
    let mut options = Options::new(overrides.now.unwrap_or_else(Utc::now));
    if let Some(days) = overrides.expiry_warning_days.or(config.expiry_warning_days) {
        options.expiry_warning_days = i64::from(days);
    }
    for (rule, level) in config.levels {
        options.levels.insert(rule.code, level);
    }
    if config.require_cmk || overrides.require_cmk {
        options.levels.insert(REQUIRE_CMK_RULE, Level::Deny);
    }
    // On the command line the stronger word wins: allow, then warn, then deny.
    for (names, level) in [
        (&overrides.allow, Level::Allow),
        (&overrides.warn, Level::Warn),
        (&overrides.deny, Level::Deny),
    ] {
        for name in names {
            let rule = rules::find(name).ok_or_else(|| ConfigError::UnknownRule {
                name: name.clone(),
                help: suggest_rule(name),
            })?;
            options.levels.insert(rule.code, level);
        }
    }
    options.exemptions = config.exemptions;
    Ok(options)
}

/// "did you mean" for a rule that does not exist.
pub fn suggest_rule(name: &str) -> String {
    match rules::closest(name) {
        Some(close) => {
            format!("did you mean `{close}`? `cmk-check rules` lists every code and name")
        }
        None => "`cmk-check rules` lists every code and name".to_string(),
    }
}

/// "did you mean" for a level that does not exist; severities are the common slip.
fn suggest_level(word: &str) -> Option<String> {
    let lower = word.trim().to_ascii_lowercase();
    let synonym = match lower.as_str() {
        "error" | "err" | "fail" | "forbid" => Some(Level::Deny),
        "warning" | "warnings" => Some(Level::Warn),
        "off" | "ignore" | "none" | "disable" | "disabled" => Some(Level::Allow),
        _ => Level::ALL
            .into_iter()
            .find(|level| crate::document::similar::edit_distance(&lower, level.as_str()) <= 2),
    };
    synonym.map(|level| format!("did you mean `{}`?", level.as_str()))
}

pub fn parse(name: &str, text: String) -> Result<Config, ConfigError> {
    let raw: Result<RawConfig, toml::de::Error> = toml::from_str(&text);
    let mut nodes = HashMap::new();
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let doc = SourceDoc::indexed(name, text, "toml", nodes);
            return Err(invalid(
                &doc,
                e.message(),
                span,
                e.message(),
                hint(e.message()),
            ));
        }
    };
    // Pointers into the file, for the places of exemptions.
    for (i, entry) in raw.exempt.iter().flatten().enumerate() {
        nodes.insert(format!("/exempt/{i}"), node(entry.span()));
        let body = entry.get_ref();
        nodes.insert(format!("/exempt/{i}/rule"), node(body.rule.span()));
        nodes.insert(format!("/exempt/{i}/resource"), node(body.resource.span()));
    }
    let doc = SourceDoc::indexed(name, text, "toml", nodes);

    let mut config = Config {
        expiry_warning_days: raw.expiry_warning_days.map(Spanned::into_inner),
        require_cmk: raw.require_cmk.unwrap_or(false),
        ..Config::default()
    };
    for (rule, level) in raw.rules.iter().flatten() {
        let found = find_rule(&doc, rule)?;
        let Some(parsed) = Level::parse(level.get_ref()) else {
            return Err(invalid(
                &doc,
                &format!("`{}` is not a level", level.get_ref()),
                level.span(),
                "must be `allow`, `warn` or `deny`",
                suggest_level(level.get_ref()),
            ));
        };
        config.levels.push((found, parsed));
    }
    for (i, entry) in raw.exempt.iter().flatten().enumerate() {
        let body = entry.get_ref();
        let rule = find_rule(&doc, &body.rule)?;
        let reason = match &body.reason {
            Some(reason) if !reason.get_ref().trim().is_empty() => reason.get_ref().trim().to_string(),
            Some(reason) => {
                return Err(invalid(&doc, "an exemption's reason is empty", reason.span(), "say why this is accepted", None))
            }
            None => {
                return Err(invalid(
                    &doc,
                    "an exemption needs a reason",
                    entry.span(),
                    "`reason` is missing",
                    Some("add `reason = \"...\"`: why the finding is accepted, and until when (a ticket helps)".to_string()),
                ))
            }
        };
        let expires = match &body.expires {
            None => None,
            Some(value) => Some(date(&doc, value)?),
        };
        config.exemptions.push(Exemption {
            rule,
            resource: body.resource.get_ref().trim().to_string(),
            reason,
            expires,
            place: Place {
                doc: Arc::clone(&doc),
                base: String::new(),
                resource: doc.name().to_string(),
                pointer: format!("/exempt/{i}"),
                label_at: None,
                address: None,
                written_in: None,
            },
        });
    }
    Ok(config)
}

fn node(span: std::ops::Range<usize>) -> Node {
    Node {
        key: None,
        value: (span.start, span.end),
        compound: false,
    }
}

fn find_rule(doc: &Arc<SourceDoc>, name: &Spanned<String>) -> Result<&'static Rule, ConfigError> {
    rules::find(name.get_ref()).ok_or_else(|| {
        invalid(
            doc,
            &format!("there is no rule `{}`", name.get_ref()),
            name.span(),
            "unknown rule",
            Some(suggest_rule(name.get_ref())),
        )
    })
}

/// `2027-03-31` as a TOML date or a string.
fn date(doc: &Arc<SourceDoc>, value: &Spanned<toml::Value>) -> Result<NaiveDate, ConfigError> {
    let text = match value.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => String::new(),
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
        invalid(
            doc,
            "`expires` is not a date",
            value.span(),
            "must be a date: YYYY-MM-DD",
            None,
        )
    })
}

fn invalid(
    doc: &Arc<SourceDoc>,
    message: &str,
    span: std::ops::Range<usize>,
    label: &str,
    help: Option<String>,
) -> ConfigError {
    ConfigError::Invalid {
        name: doc.name().to_string(),
        message: message.trim().to_string(),
        src: Arc::clone(doc),
        span: (span.start, span.len()).into(),
        label: label.trim().to_string(),
        help,
    }
}

fn hint(message: &str) -> Option<String> {
    message.contains("unknown field").then(|| {
        "the keys are `expiry-warning-days`, `require-cmk`, `[rules]` and `[[exempt]]` (with `rule`, `resource`, `reason`, `expires`)".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_example() {
        let text = r#"
expiry-warning-days = 45
[rules]
CMK015 = "deny"
key-version-retired-early = "allow"
[[exempt]]
rule = "CMK006"
resource = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-legacy"
reason = "migrating to a new vault, ticket OPS-1234"
expires = "2027-03-31"
[[exempt]]
rule = "purge-protection-disabled"
resource = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-legacy"
reason = "same"
expires = 2027-03-31
"#;
        let config = parse("cmk-check.toml", text.to_string()).unwrap();
        assert_eq!(config.expiry_warning_days, Some(45));
        let levels: Vec<_> = config.levels.iter().map(|(r, l)| (r.code, *l)).collect();
        assert!(levels.contains(&("CMK015", Level::Deny)));
        assert!(levels.contains(&("CMK020", Level::Allow)));
        assert_eq!(config.exemptions.len(), 2);
        assert_eq!(config.exemptions[1].rule.code, "CMK004");
        assert_eq!(
            config.exemptions[1].expires,
            NaiveDate::from_ymd_opt(2027, 3, 31)
        );
        let anchor = config.exemptions[0].place.doc.anchor("/exempt/0");
        assert!(anchor.exact);
    }
}
