//! A fake Azure Resource Manager (and Key Vault data plane) on loopback, serving the bodies of
//! the shipped fixtures at the paths ARM would serve them.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fake"
)]

pub mod tenant;
pub mod tools;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::Url;
use cmk_check::azure::keyuri::KeyUri;
use cmk_check::source::live::arm::{ArmClient, RetryPolicy};
use cmk_check::source::live::keyvault::KeyVaultReader;
use cmk_check::source::live::Azure;
use serde_json::{json, Value};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const TOKEN: &str = "arm-token-d2f9c1e7";
pub const NOW: &str = "2026-11-27T12:00:00Z";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load(relative: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(relative)).unwrap()).unwrap()
}

/// Mints a token for any audience, as the Azure CLI would.
#[derive(Debug)]
pub struct FakeCredential;

#[async_trait::async_trait]
impl TokenCredential for FakeCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(AccessToken::new(
            Secret::new(format!("token-for {}", scopes.join(" "))),
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

pub fn azure(server: &MockServer, timeout: Duration) -> Azure {
    let http = reqwest::Client::new();
    let endpoint = Url::parse(&server.uri()).unwrap();
    let retry = RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(5),
        max_wait: Duration::from_secs(2),
    };
    Azure {
        arm: ArmClient::new(
            http.clone(),
            endpoint.clone(),
            Secret::new(TOKEN),
            timeout,
            retry,
        ),
        key_vault: Some(KeyVaultReader::new(
            Arc::new(FakeCredential),
            http,
            Some(endpoint),
        )),
    }
}

pub fn ok(body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// ARM resolves resource IDs without regard to case (`resourcegroups`, `resourceGroups`).
pub struct ArmPath(pub String);

impl wiremock::Match for ArmPath {
    fn matches(&self, request: &Request) -> bool {
        request.url.path().eq_ignore_ascii_case(&self.0)
    }
}

pub async fn get(server: &MockServer, at: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(ArmPath(at.to_string()))
        .respond_with(response)
        .mount(server)
        .await;
}

pub fn id(body: &Value) -> String {
    body["id"].as_str().unwrap().to_string()
}

pub fn key_uri(snapshot: &Value) -> KeyUri {
    KeyUri::parse(snapshot["keyUri"].as_str().unwrap()).unwrap()
}

pub fn key_path(snapshot: &Value) -> String {
    let key = key_uri(snapshot);
    let vault = id(&snapshot["vault"]);
    match key.version {
        Some(version) => format!("{vault}/keys/{}/versions/{version}", key.name),
        None => format!("{vault}/keys/{}", key.name),
    }
}

pub fn forbidden() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({
        "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action."}
    }))
}

/// The data plane answers like Key Vault: a challenge without a token, the bundle with one.
pub async fn serve_data_plane(server: &MockServer, key: &KeyUri, bundle: &Value) {
    let at = format!(
        "/keys/{}/{}",
        key.name,
        key.version.clone().unwrap_or_default()
    );
    Mock::given(method("GET"))
        .and(path(at.clone()))
        .and(header_exists("authorization"))
        .respond_with(ok(bundle))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "WWW-Authenticate",
            "Bearer authorization=\"https://login.microsoftonline.com/b6c948ef-f6b5-4384-8354-da3a15eca969\", resource=\"https://vault.azure.net\"",
        ))
        .mount(server)
        .await;
}

/// Mounts every body of a snapshot where ARM would serve it.
pub async fn serve(server: &MockServer, snapshot: &Value) {
    get(
        server,
        &id(&snapshot["identity"]),
        ok(&snapshot["identity"]),
    )
    .await;
    get(server, &id(&snapshot["vault"]), ok(&snapshot["vault"])).await;
    let key = &snapshot["key"];
    if key.get("key").is_some() {
        get(server, &key_path(snapshot), forbidden()).await;
        serve_data_plane(server, &key_uri(snapshot), key).await;
    } else {
        get(server, &key_path(snapshot), ok(key)).await;
    }
    let versions = format!(
        "{}/keys/{}/versions",
        id(&snapshot["vault"]),
        key_uri(snapshot).name
    );
    get(
        server,
        &versions,
        ok(&json!({ "value": snapshot["keyVersions"] })),
    )
    .await;
    if let Some(cluster) = snapshot
        .get("cluster")
        .filter(|c| c.pointer("/properties/provisioningState").is_some())
    {
        get(server, &id(cluster), ok(cluster)).await;
    }
    if let Some(settings) = snapshot.get("vaultDiagnosticSettings") {
        get(
            server,
            &diagnostics_path(snapshot),
            ok(&json!({ "value": settings })),
        )
        .await;
    }
    if let Some(status) = snapshot.get("availability") {
        get(server, &id(status), ok(status)).await;
    }
    if let Some(alerts) = snapshot.get("activityLogAlerts") {
        let subscription = id(&snapshot["vault"])
            .split('/')
            .nth(2)
            .unwrap()
            .to_string();
        let path =
            format!("/subscriptions/{subscription}/providers/Microsoft.Insights/activityLogAlerts");
        get(server, &path, ok(&json!({ "value": alerts }))).await;
    }
}

/// Where ARM lists the diagnostic settings of the snapshot's vault.
pub fn diagnostics_path(snapshot: &Value) -> String {
    format!(
        "{}/providers/Microsoft.Insights/diagnosticSettings",
        id(&snapshot["vault"])
    )
}

/// The bodies a planned-cluster check reads with `--vault`, at the paths ARM serves them: what
/// is in flight at once.
pub fn planned_bodies(snapshot: &Value) -> Vec<(String, Value)> {
    let vault = id(&snapshot["vault"]);
    let subscription = vault.split('/').nth(2).unwrap().to_string();
    vec![
        (id(&snapshot["identity"]), snapshot["identity"].clone()),
        (vault.clone(), snapshot["vault"].clone()),
        (key_path(snapshot), snapshot["key"].clone()),
        (
            format!("{vault}/keys/{}/versions", key_uri(snapshot).name),
            json!({"value": snapshot["keyVersions"]}),
        ),
        (
            format!("/subscriptions/{subscription}/providers/Microsoft.Insights/activityLogAlerts"),
            json!({"value": snapshot["activityLogAlerts"]}),
        ),
        (
            diagnostics_path(snapshot),
            json!({"value": snapshot["vaultDiagnosticSettings"]}),
        ),
    ]
}

/// The rules a plain check runs: those about the state (the config's own run only with
/// exemptions). Counts in assertions derive from the registry, never from a number.
pub fn state_rules() -> usize {
    cmk_check::rules::ALL
        .iter()
        .filter(|r| matches!(r.check, cmk_check::lint::Check::State(_)))
        .count()
}

/// The summary line of a report, e.g. `1 error, 0 warnings; N of M rules passed`, M from the registry.
pub fn summary(errors: usize, warnings: usize, failing: usize, checked: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}; {} of {checked} rules passed",
        plural(errors, "error"),
        plural(warnings, "warning"),
        checked - failing
    )
}

/// Snapshot settings that keep catalog-wide counts out of snapshots: a new rule must not
/// change the snapshot of a fixture it does not touch.
pub fn catalog_neutral() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"\d+ of \d+ rules passed",
        "[passed] of [checked] rules passed",
    );
    settings.add_filter(r#""rulesChecked": \d+"#, r#""rulesChecked": "[checked]""#);
    settings.add_filter(
        r"against the \d+ rules checked",
        "against the [checked] rules checked",
    );
    settings
}

/// A report restricted to the rules that found something, for formats that list every rule
/// checked (JUnit): the snapshot shows the fixture's cases, not the catalog.
pub fn only_rules_with_findings(report: &cmk_check::engine::Report) -> cmk_check::engine::Report {
    let mut report = report.clone();
    let findings = report.findings.clone();
    report
        .checked
        .retain(|rule| findings.iter().any(|f| f.rule.code == rule.code));
    report.rules_passed = 0;
    report
}

/// The SARIF log without the rule catalog (`tool.driver.rules`, the results' `ruleIndex`),
/// which `tests/formats.rs` snapshots once.
pub fn sarif_without_catalog(text: &str) -> String {
    let mut log: Value = serde_json::from_str(text).unwrap();
    for run in log["runs"].as_array_mut().unwrap() {
        run["tool"]["driver"]
            .as_object_mut()
            .unwrap()
            .remove("rules");
        for result in run["results"].as_array_mut().unwrap() {
            result.as_object_mut().unwrap().remove("ruleIndex");
        }
    }
    serde_json::to_string_pretty(&log).unwrap()
}

/// The target of a planned cluster in a fixture: identity and key, the vault's ID only when
/// `with_vault` (else Resource Graph finds it).
pub fn planned_target(
    snapshot: &Value,
    with_vault: bool,
) -> cmk_check::source::live::target::Target {
    use cmk_check::source::live::target::{ResourceId, Target};
    let raw = snapshot["keyUri"].as_str().unwrap().to_string();
    Target {
        location: snapshot["location"].as_str().map(str::to_string),
        identity: Some(ResourceId::parse_any("--identity", &id(&snapshot["identity"])).unwrap()),
        key: Some((raw.clone(), KeyUri::parse(&raw).unwrap())),
        vault: with_vault.then(|| {
            ResourceId::parse(
                "--vault",
                &id(&snapshot["vault"]),
                cmk_check::azure::VAULT_TYPE,
            )
            .unwrap()
        }),
        ..Target::default()
    }
}

/// The command line of a planned-cluster check (or snapshot) of a fixture against `server`,
/// signed in as a pipeline is: `--auth access-token` with [`TOKEN`] in the environment.
pub fn planned_command(
    command: &str,
    snapshot: &Value,
    server: &str,
    with_vault: bool,
) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("cmk-check").unwrap();
    cmd.current_dir(root())
        .env("CMK_CHECK_ACCESS_TOKEN", TOKEN)
        .env_remove("CMK_CHECK_ARM_ENDPOINT")
        .env_remove("NO_GRAPHICS")
        .args([command, "--auth", "access-token", "--arm-endpoint", server])
        .args(["--location", snapshot["location"].as_str().unwrap()])
        .args(["--identity", &id(&snapshot["identity"])])
        .args(["--key", snapshot["keyUri"].as_str().unwrap()]);
    if with_vault {
        cmd.args(["--vault", &id(&snapshot["vault"])]);
    }
    if command == "check" {
        cmd.args(["--now", NOW]);
    }
    cmd
}
