//! SARIF 2.1.0, the format GitHub code scanning (and most other code-scanning dashboards)
//! ingests. One run; the driver declares the whole rule catalog so that a dashboard can show the
//! documentation of a rule even for results it has not seen before.

use std::collections::{BTreeMap, HashMap};

use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};

use crate::engine::{Finding, Report};
use crate::lint::Rule;
use crate::lint::{Level, Severity};
use crate::render::fleet::{ClusterEntry, FleetReport};
use crate::render::json::JsonFinding;
use crate::render::span::{
    document_region, file_region, label, printable, resource_ref, written_label, FileRegion,
};
use crate::render::RenderError;
use crate::rules;
use crate::state::Place;

/// The schema the output is validated against in the tests (the OASIS errata 01 edition).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of our entry in `partialFingerprints`. Versioned: changing what the hash covers must
/// change the key, or dashboards would close every open result and open new ones.
pub const FINGERPRINT_KEY: &str = "cmkCheckFinding/v1";

/// Used while Cargo.toml names no homepage or repository: the service's own page on the
/// requirements this tool checks.
const FALLBACK_INFORMATION_URI: &str = crate::azure::docs::CONCEPTS;

pub fn render(report: &Report) -> Result<String, RenderError> {
    let mut text = serde_json::to_string_pretty(&log(report))?;
    text.push('\n');
    Ok(text)
}

fn log(report: &Report) -> Sarif {
    let mut seen = HashMap::new();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|finding| result(finding, &mut seen))
        .collect();
    sarif(results)
}

/// One run of cmk-check with the whole rule catalog and `results`.
fn sarif(results: Vec<SarifResult>) -> Sarif {
    let driver = ToolComponent::builder()
        .name("cmk-check")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(information_uri())
        .rules(
            rules::ALL
                .iter()
                .map(|rule| descriptor(rule))
                .collect::<Vec<_>>(),
        )
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        // `SourceDoc::line_col` counts characters, not the UTF-16 units SARIF assumes by default.
        .column_kind("unicodeCodePoints")
        .results(results)
        .build();
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version("2.1.0")
        .runs(vec![run])
        .build()
}

/// The fleet report as one run: a result per finding of each cluster, its logical location
/// naming the cluster.
/// Written as it is serialized, as the fleet's JSON report is.
pub fn write_fleet(report: &FleetReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut seen = HashMap::new();
    let mut results = Vec::new();
    for cluster in &report.clusters {
        for finding in &cluster.findings {
            results.push(fleet_result(cluster, finding, &mut seen));
        }
    }
    serde_json::to_writer_pretty(&mut *out, &sarif(results))?;
    out.write_all(b"\n")
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

fn unverified_property() -> PropertyBag {
    PropertyBag::builder()
        .additional_properties(BTreeMap::from([(
            "unverified".to_string(),
            serde_json::Value::Bool(true),
        )]))
        .build()
}

fn fleet_result(
    cluster: &ClusterEntry,
    finding: &JsonFinding,
    seen: &mut HashMap<String, usize>,
) -> SarifResult {
    let at = if finding.pointer.is_empty() {
        finding.resource.clone()
    } else {
        format!("{}#{}", finding.resource, finding.pointer)
    };
    let logical = vec![
        LogicalLocation::builder()
            .fully_qualified_name(printable(&cluster.info.id).as_ref())
            .name(printable(&cluster.info.name).as_ref())
            .kind("resource")
            .build(),
        LogicalLocation::builder()
            .fully_qualified_name(printable(&at).as_ref())
            .kind("resource")
            .build(),
    ];
    let resource = finding
        .resource
        .split_once("://")
        .map_or(finding.resource.as_str(), |(_, rest)| rest)
        .trim_matches('/');
    let location = Location::builder()
        .logical_locations(logical)
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(artifact_uri(&format!("azure/{resource}")))
                        .build(),
                )
                .build(),
        )
        .build();
    let id = cluster.info.id.to_lowercase();
    let mut result = SarifResult::builder()
        .rule_id(finding.code.as_str())
        .level(level(finding.severity))
        .message(
            Message::builder()
                .text(format!(
                    "{}\n\n{}",
                    printable(&finding.message),
                    printable(&finding.help)
                ))
                .build(),
        )
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            stable_hash(
                &[
                    &finding.code,
                    &finding.resource.to_lowercase(),
                    &finding.pointer,
                    &id,
                ],
                seen,
            ),
        )]))
        .suppressions(
            finding
                .exemption
                .iter()
                .map(|e| {
                    Suppression::builder()
                        .kind("external")
                        .justification(e.reason.as_str())
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .build();
    result.rule_index = rules::ALL
        .iter()
        .position(|rule| rule.code == finding.code)
        .and_then(|index| i64::try_from(index).ok());
    if finding.unverified {
        result.properties = Some(unverified_property());
    }
    result
}

pub(crate) fn information_uri() -> &'static str {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
        .into_iter()
        .find(|uri| !uri.is_empty())
        .unwrap_or(FALLBACK_INFORMATION_URI)
}

pub(crate) fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let what = section(rule.doc, "What it checks").unwrap_or(rule.summary);
    let configuration = match rule.default_level {
        Level::Deny => ReportingConfiguration::builder().level("error").build(),
        Level::Warn => ReportingConfiguration::builder().level("warning").build(),
        Level::Allow => ReportingConfiguration::builder()
            .enabled(false)
            .level("none")
            .build(),
    };
    ReportingDescriptor::builder()
        .id(rule.code)
        .name(rule.name)
        .short_description(
            MultiformatMessageString::builder()
                .text(rule.summary)
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(what)
                .markdown(what)
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(rule.doc)
                .markdown(rule.doc)
                .build(),
        )
        .help_uri(rule.url)
        .default_configuration(configuration)
        .build()
}

/// The body of the `## {heading}` section of a rule's Markdown doc, up to the next heading of
/// the same level.
fn section<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
    let marker = format!("## {heading}");
    let mut lines = doc.split_inclusive('\n');
    let mut start = 0;
    for line in lines.by_ref() {
        start += line.len();
        if line.trim_end() == marker {
            break;
        }
    }
    if start >= doc.len() {
        return None;
    }
    let mut end = start;
    for line in lines {
        if line.starts_with("## ") {
            break;
        }
        end += line.len();
    }
    let body = doc[start..end].trim();
    (!body.is_empty()).then_some(body)
}

fn result(finding: &Finding, seen: &mut HashMap<String, usize>) -> SarifResult {
    let violation = &finding.violation;
    let mut result = SarifResult::builder()
        .rule_id(finding.code())
        .level(level(finding.severity))
        .message(
            Message::builder()
                .text(format!(
                    "{}\n\n{}",
                    printable(&violation.message),
                    printable(&violation.help_text())
                ))
                .build(),
        )
        .locations(vec![location(finding)])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            fingerprint(finding, seen),
        )]))
        // An empty list says "not suppressed"; an absent one would say "unknown".
        .suppressions(
            finding
                .exemption
                .iter()
                .map(|exemption| {
                    Suppression::builder()
                        .kind("external")
                        .justification(exemption.reason.as_str())
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .build();
    // The `.tf` attribute is the primary location; the planned value is related to it.
    if violation.place.written_in.is_some() {
        if let Some(region) = document_region(violation) {
            let mut related = physical(&region);
            related.message = Some(Message::builder().text("the value in the plan").build());
            related.id = Some(0);
            result.related_locations = Some(vec![related]);
        }
    }
    result.rule_index = rules::ALL
        .iter()
        .position(|rule| rule.code == finding.code())
        .and_then(|index| i64::try_from(index).ok());
    if violation.unverified {
        result.properties = Some(unverified_property());
    }
    result
}

fn location(finding: &Finding) -> Location {
    let place = &finding.violation.place;
    let logical = LogicalLocation::builder()
        .fully_qualified_name(resource_ref(place))
        .kind("resource")
        .build();
    let mut location = Location::builder()
        .logical_locations(vec![logical])
        .message(
            Message::builder()
                .text(printable(&primary_label(&finding.violation)).as_ref())
                .build(),
        )
        .build();
    if let Some(region) = file_region(&finding.violation) {
        location.physical_location = physical(&region).physical_location;
    } else {
        // GitHub code scanning rejects a whole upload when a result has no artifact location, so
        // a body fetched from Azure is named by a path made from its resource ID. No such file
        // exists in the repository; the alert shows without a code preview.
        location.physical_location = Some(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(artifact_uri(&azure_path(place)))
                        .build(),
                )
                .build(),
        );
    }
    location
}

/// What the primary location says: the label where the user writes the value.
fn primary_label(violation: &crate::lint::Violation) -> String {
    written_label(violation).map_or_else(|| label(violation).text, |(_, spot)| spot.text)
}

/// A location that is only a region of a file.
fn physical(region: &FileRegion) -> Location {
    let mut location = Location::builder().build();
    location.physical_location = Some(
        PhysicalLocation::builder()
            .artifact_location(
                ArtifactLocation::builder()
                    .uri(artifact_uri(&region.path))
                    .build(),
            )
            .region(
                Region::builder()
                    .start_line(to_i64(region.start_line))
                    .start_column(to_i64(region.start_column))
                    .end_line(to_i64(region.end_line))
                    .end_column(to_i64(region.end_column))
                    .build(),
            )
            .build(),
    );
    location
}

/// `azure/subscriptions/.../vaults/kv` for an ARM ID, `azure/kv.vault.azure.net/keys/k` for a
/// key URI.
fn azure_path(place: &Place) -> String {
    let resource = if place.resource.is_empty() {
        place.doc.name()
    } else {
        place.resource.as_str()
    };
    let path = resource
        .split_once("://")
        .map_or(resource, |(_, rest)| rest)
        .trim_matches('/');
    format!("azure/{path}")
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stable identity of the finding across runs: the rule, the resource (ARM IDs and key URIs
/// compare without case, and ARM is not consistent about the case it returns) and the pointer.
/// Line numbers stay out: reformatting a snapshot must not reopen a result. FNV-1a is used
/// because its output is fixed by definition, unlike `std`'s hasher.
fn fingerprint(finding: &Finding, seen: &mut HashMap<String, usize>) -> String {
    let resource = finding.resource().to_lowercase();
    stable_hash(
        &[finding.code(), resource.as_str(), finding.pointer()],
        seen,
    )
}

/// FNV-1a of the parts, numbered when two results would share it.
fn stable_hash(parts: &[&str], seen: &mut HashMap<String, usize>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let hash = format!("{hash:016x}");
    // Two findings of one rule at one property would otherwise be merged into one result.
    let count = seen.entry(hash.clone()).or_insert(0);
    *count += 1;
    if *count == 1 {
        hash
    } else {
        format!("{hash}:{count}")
    }
}

/// A path as a URI reference: relative paths stay relative, absolute ones become `file:` URIs.
pub(crate) fn artifact_uri(path: &str) -> String {
    let bytes = path.as_bytes();
    let drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if drive {
        format!("file:///{}:{}", &path[..1], percent_encode(&path[2..]))
    } else if path.starts_with('/') {
        format!("file://{}", percent_encode(path))
    } else {
        percent_encode(path)
    }
}

/// Escapes all but unreserved characters and `/`; a `:` in a relative path would read as a
/// scheme.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_is_the_body_up_to_the_next_heading() {
        let doc = "# T\n\n## What it checks\nLine one\nline two.\n\n## Why\nNo.\n";
        assert_eq!(section(doc, "What it checks"), Some("Line one\nline two."));
        assert_eq!(section(doc, "Example"), None);
    }

    #[test]
    fn every_rule_doc_has_a_what_it_checks_section() {
        for rule in rules::ALL {
            assert!(
                section(rule.doc, "What it checks").is_some(),
                "{}",
                rule.code
            );
        }
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            artifact_uri(&crate::render::span::relative_path("./a\\b c.json")),
            "a/b%20c.json"
        );
        assert_eq!(artifact_uri("/tmp/x:y.json"), "file:///tmp/x%3Ay.json");
        assert_eq!(artifact_uri("C:/snap.json"), "file:///C:/snap.json");
    }
}
