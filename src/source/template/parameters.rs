//! A deployment parameters file (`--parameters`), checked as ARM checks it against the template:
//! every parameter it gives must be one the template declares.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::deployment::{fold, given_value};
use super::expr::Evaluated;
use super::{bicep, has_extension, TemplateError};
use crate::document::json::Members as _;
use crate::document::read::{parse_json, read_text};
use crate::document::similar::edit_distance;
use crate::document::{escape, SourceDoc};

/// The parameters a file gives, with the file for diagnostics.
#[derive(Debug)]
pub struct Parameters {
    pub doc: Arc<SourceDoc>,
    /// Name, as written → `{"value": ...}` or `{"reference": ...}`.
    pub values: Map<String, Value>,
}

impl Parameters {
    /// A deploymentParameters file (or a `.bicepparam`, compiled by Bicep).
    pub fn read(path: &Path) -> Result<Self, TemplateError> {
        let name = path.display().to_string();
        let text = if has_extension(path, "bicepparam") {
            let compiled = bicep(&["build-params", "--stdout"], path)?;
            // `build-params` wraps the parameters file as a string in `parametersJson`.
            serde_json::from_str::<Value>(&compiled)
                .ok()
                .and_then(|v| v.text("parametersJson").map(str::to_string))
                .unwrap_or(compiled)
        } else {
            read_text(path)?
        };
        Self::parse(&name, text)
    }

    /// A parameters file's text: `{"$schema": ".../deploymentParameters.json#", "parameters":
    /// {"name": {"value": ...}}}`.
    pub fn parse(name: &str, text: String) -> Result<Self, TemplateError> {
        let doc = SourceDoc::file(name, text);
        let root = parse_json(&doc)?;
        let refuse = |pointer: &str, reason: String| {
            let anchor = doc.anchor(pointer);
            TemplateError::NotParameters {
                name: name.to_string(),
                reason,
                src: Arc::clone(&doc),
                span: (anchor.offset, anchor.len).into(),
            }
        };
        if let Some(schema) = root.member("$schema") {
            let named = schema
                .as_str()
                .is_some_and(|s| s.to_ascii_lowercase().contains("deploymentparameters"));
            if !named {
                return Err(refuse(
                    "/$schema",
                    format!("its `$schema` is {schema}, not a deploymentParameters schema"),
                ));
            }
        }
        let Some(values) = root.member("parameters").and_then(Value::as_object) else {
            return Err(refuse("", "it has no `parameters` object".to_string()));
        };
        for (parameter, entry) in values {
            if entry.member("value").is_none() && entry.member("reference").is_none() {
                return Err(refuse(
                    &format!("/parameters/{}", escape(parameter)),
                    format!(
                        "parameter `{parameter}` has neither a `value` nor a Key Vault `reference`"
                    ),
                ));
            }
        }
        let values = values.clone();
        Ok(Self { doc, values })
    }

    /// ARM rejects a deployment that gives a parameter its template does not declare.
    pub fn check(&self, template: &Value, template_name: &str) -> Result<(), TemplateError> {
        let declared: Vec<&String> = template
            .member("parameters")
            .and_then(Value::as_object)
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        let Some(extra) = self
            .values
            .keys()
            .find(|given| !declared.iter().any(|d| fold(d) == fold(given)))
        else {
            return Ok(());
        };
        let anchor = self.doc.anchor(&format!("/parameters/{}", escape(extra)));
        let help = match closest(extra, &declared) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "remove it from the parameters file, or declare it in the template".to_string(),
        };
        Err(TemplateError::UndeclaredParameter {
            name: self.doc.name().to_string(),
            parameter: extra.clone(),
            template: template_name.to_string(),
            help,
            src: Arc::clone(&self.doc),
            span: (anchor.offset, anchor.len).into(),
        })
    }

    /// The values by folded name, as the deployment reads them.
    pub fn given(&self) -> HashMap<String, Evaluated> {
        self.values
            .iter()
            .map(|(name, entry)| (fold(name), given_value(name, entry)))
            .collect()
    }
}

/// The declared name nearest a misspelt one.
fn closest<'a>(wanted: &str, declared: &[&'a String]) -> Option<&'a str> {
    let wanted = fold(wanted);
    declared
        .iter()
        .map(|name| (edit_distance(&wanted, &fold(name)), name.as_str()))
        .filter(|(distance, name)| *distance <= (name.chars().count() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::panic,
        reason = "tests stop at the first failure"
    )]

    use super::*;
    use serde_json::json;

    const SCHEMA: &str =
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";

    fn parse(text: &str) -> Result<Parameters, TemplateError> {
        Parameters::parse("p.json", text.to_string())
    }

    #[test]
    fn a_parameter_the_template_does_not_declare_is_refused_with_a_suggestion() {
        let given = parse(&format!(
            r#"{{"$schema": "{SCHEMA}", "parameters": {{"clusterNmae": {{"value": "c"}}}}}}"#
        ))
        .unwrap();
        let template = json!({"parameters": {"ClusterName": {"type": "string"}, "location": {"type": "string"}}});
        let Err(TemplateError::UndeclaredParameter {
            parameter,
            help,
            span,
            ..
        }) = given.check(&template, "t.json")
        else {
            panic!("not refused");
        };
        assert_eq!(parameter, "clusterNmae");
        assert_eq!(help, "did you mean `ClusterName`?");
        assert!(span.offset() > 0);
        // Names compare without case.
        let given = parse(r#"{"parameters": {"LOCATION": {"value": "x"}}}"#).unwrap();
        assert!(given.check(&template, "t.json").is_ok());
    }

    #[test]
    fn a_file_that_is_not_a_parameters_file_is_refused() {
        for text in [
            r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "parameters": {}}"#,
            r#"{"$schema": 5, "parameters": {}}"#,
            r#"{"location": {"value": "x"}}"#,
            r#"{"parameters": []}"#,
            r#"{"parameters": {"location": "westeurope"}}"#,
            r#"[]"#,
        ] {
            assert!(
                matches!(parse(text), Err(TemplateError::NotParameters { .. })),
                "{text}"
            );
        }
        let given =
            parse(r#"{"Parameters": {"a": {"Value": 1}, "b": {"reference": {}}}}"#).unwrap();
        let values = given.given();
        assert_eq!(values["a"], Evaluated::Known(json!(1)));
        assert!(values["b"].known().is_none());
    }
}
