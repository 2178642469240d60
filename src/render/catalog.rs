//! The rule catalog of `cmk-check rules`: code, name, default level and summary.

use crate::lint::Rule;
use crate::rules;

/// One line per rule, in catalog order.
pub fn human() -> String {
    let width = rules::ALL.iter().map(|r| r.name.len()).max().unwrap_or(0);
    rules::ALL
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
        .collect()
}

/// The catalog as JSON: `[{"code", "name", "defaultLevel", "summary", "url"}]`.
pub fn json() -> Result<String, serde_json::Error> {
    let entries: Vec<serde_json::Value> = rules::ALL.iter().map(|r| entry(r)).collect();
    let mut text = serde_json::to_string_pretty(&entries)?;
    text.push('\n');
    Ok(text)
}

fn entry(rule: &Rule) -> serde_json::Value {
    serde_json::json!({
        "code": rule.code,
        "name": rule.name,
        "defaultLevel": rule.default_level.as_str(),
        "summary": rule.summary,
        "url": rule.url,
    })
}
