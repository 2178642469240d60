#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests stop at the first failure"
)]

//! cmk-check against a fake ARM that misbehaves on purpose: it echoes the token back, pages
//! forever, sends endless bodies, throttles without end or is not there at all. Each read must
//! end soon, bounded, without the token in any output, and with what it could not read
//! reported as could-not-verify.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cmk_check::engine::{self, Options, Report};
use cmk_check::source::live::target::Target;
use cmk_check::source::live::{self, Live};
use cmk_check::source::snapshot;
use common::*;
use serde_json::{json, Value};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const GRAPH: &str = "/providers/Microsoft.ResourceGraph/resources";

fn check(live: &Live) -> Report {
    engine::run(&live.state, &Options::new(NOW.parse().unwrap()))
}

/// Reads `target`, failing the test if the read does not end within `limit`.
async fn read_within(server: &MockServer, target: &Target, limit: Duration) -> Live {
    let azure = azure(server, Duration::from_secs(5));
    tokio::time::timeout(limit, live::read(target, &azure))
        .await
        .unwrap_or_else(|_| panic!("the live read did not end within {limit:?}"))
}

/// The finding of `code`, which must be could-not-verify.
fn unverified<'r>(report: &'r Report, code: &str) -> &'r cmk_check::engine::Finding {
    let finding = report
        .findings
        .iter()
        .find(|f| f.code() == code)
        .unwrap_or_else(|| panic!("no {code} finding in {:?}", codes(report)));
    assert!(
        finding.violation.unverified,
        "{code} should be unverified: {}",
        finding.violation.message
    );
    finding
}

fn codes(report: &Report) -> Vec<(String, bool)> {
    report
        .findings
        .iter()
        .map(|f| (f.code().to_string(), f.violation.unverified))
        .collect()
}

fn requests_to(requests: &[Request], at: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.url.path().eq_ignore_ascii_case(at))
        .count()
}

fn versions_path(snapshot: &Value) -> String {
    format!(
        "{}/keys/{}/versions",
        id(&snapshot["vault"]),
        key_uri(snapshot).name
    )
}

fn alerts_path(snapshot: &Value) -> String {
    let subscription = id(&snapshot["vault"])
        .split('/')
        .nth(2)
        .unwrap()
        .to_string();
    format!("/subscriptions/{subscription}/providers/Microsoft.Insights/activityLogAlerts")
}

// ---------------------------------------------------------------------------------------------
// 1. A server that echoes the token
// ---------------------------------------------------------------------------------------------

/// Answers with what the request's `Authorization` header held, as a careless (or hostile)
/// server or proxy would.
struct Echo(Box<dyn Fn(&str) -> ResponseTemplate + Send + Sync>);

impl Echo {
    fn new(answer: impl Fn(&str) -> ResponseTemplate + Send + Sync + 'static) -> Self {
        Self(Box::new(answer))
    }

    /// An ARM error body that quotes the header in its code and its message.
    fn error(status: u16) -> Self {
        Self::new(move |authorization| {
            ResponseTemplate::new(status).set_body_json(json!({
                "error": {
                    "code": format!("Echo{authorization}"),
                    "message": format!("The request carried `Authorization: {authorization}`; token {}", bare(authorization)),
                }
            }))
        })
    }
}

/// The token alone, without `Bearer `.
fn bare(authorization: &str) -> &str {
    authorization
        .strip_prefix("Bearer ")
        .unwrap_or(authorization)
}

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        (self.0)(authorization)
    }
}

async fn echo(server: &MockServer, http: &str, at: &str, answer: Echo) {
    Mock::given(method(http))
        .and(ArmPath(at.to_string()))
        .respond_with(answer)
        .mount(server)
        .await;
}

/// Every kind of error answer, each echoing the token: identity 403, vault 404, key 403 (and
/// then the data plane 403, echoing its own token), versions 400, alerts 500, and Resource
/// Graph 401 when it is asked for the vault.
async fn echoing_errors(server: &MockServer, snapshot: &Value) {
    echo(server, "GET", &id(&snapshot["identity"]), Echo::error(403)).await;
    echo(server, "GET", &id(&snapshot["vault"]), Echo::error(404)).await;
    echo(server, "GET", &key_path(snapshot), Echo::error(403)).await;
    echo(server, "GET", &versions_path(snapshot), Echo::error(400)).await;
    echo(server, "GET", &alerts_path(snapshot), Echo::error(500)).await;
    echo(server, "POST", GRAPH, Echo::error(401)).await;
    let key = key_uri(snapshot);
    let data_plane = format!("/keys/{}/{}", key.name, key.version.unwrap_or_default());
    Mock::given(method("GET"))
        .and(path(data_plane.clone()))
        .and(header_exists("authorization"))
        .respond_with(Echo::error(403))
        .mount(server)
        .await;
    serve_data_plane(server, &key_uri(snapshot), &snapshot["key"]).await;
}

/// Answers that are not errors, each echoing the token: the identity's body holds it (as a
/// value and as a key), the vault answers an HTML page whose Content-Type quotes it, the key
/// answers 401, the versions list links to a foreign host with the token in the link, and the
/// alerts hold it in their bodies.
async fn echoing_answers(server: &MockServer, snapshot: &Value) {
    let identity = snapshot["identity"].clone();
    echo(
        server,
        "GET",
        &id(&snapshot["identity"]),
        Echo::new(move |authorization| {
            let mut body = identity.clone();
            body["tags"] = json!({ "echo": authorization, bare(authorization): "as a key" });
            ok(&body)
        }),
    )
    .await;
    echo(
        server,
        "GET",
        &id(&snapshot["vault"]),
        Echo::new(|authorization| {
            ResponseTemplate::new(200)
                .set_body_bytes(format!("<html>{authorization}</html>"))
                .insert_header(
                    "content-type",
                    format!("text/html; echo=\"{authorization}\"").as_str(),
                )
        }),
    )
    .await;
    echo(server, "GET", &key_path(snapshot), Echo::error(401)).await;
    echo(
        server,
        "GET",
        &versions_path(snapshot),
        Echo::new(|authorization| {
            ok(&json!({
                "value": [],
                "nextLink": format!("https://collector.example.net/steal?auth={authorization}&t={}", bare(authorization)),
            }))
        }),
    )
    .await;
    let alerts = snapshot["activityLogAlerts"].clone();
    echo(
        server,
        "GET",
        &alerts_path(snapshot),
        Echo::new(move |authorization| {
            let mut alerts = alerts.clone();
            for alert in alerts.as_array_mut().unwrap() {
                alert["tags"] = json!({ "echo": authorization });
                alert["properties"]["description"] = json!(format!("sent with {authorization}"));
            }
            ok(&json!({ "value": alerts }))
        }),
    )
    .await;
}

/// Fails if the ARM token, or the token minted for the Key Vault data plane, is in `text`.
fn assert_no_token(what: &str, text: &str) {
    assert!(
        !text.contains(TOKEN),
        "{what}: the ARM token leaked:\n{text}"
    );
    assert!(
        !text.contains("token-for"),
        "{what}: the Key Vault token leaked:\n{text}"
    );
}

/// Everything a live read gives: the state, its gaps, the unread lines, the recording, the
/// findings.
fn everything(live: &Live) -> String {
    format!(
        "{live:?}\n{}\n{:?}",
        snapshot::write(&live.recording),
        check(live)
    )
}

#[tokio::test]
async fn an_echoed_token_is_in_no_error_gap_or_unread_line() {
    let snapshot = load("fixtures/clean.json");
    for with_vault in [true, false] {
        let server = MockServer::start().await;
        echoing_errors(&server, &snapshot).await;
        let live = read_within(
            &server,
            &planned_target(&snapshot, with_vault),
            Duration::from_secs(30),
        )
        .await;
        assert_no_token("the live read", &everything(&live));
        // The echo reached each message, redacted: the test would prove nothing otherwise.
        // Without `--vault`, Resource Graph's answer stands for the vault, key and versions.
        let echoed = live
            .unread
            .iter()
            .filter(|l| l.contains("Bearer [redacted]"))
            .count();
        let expected = if with_vault { 5 } else { 2 };
        assert_eq!(echoed, expected, "{:#?}", live.unread);
        if with_vault {
            let key = live.unread.iter().find(|l| l.starts_with("the key could"));
            assert!(
                key.unwrap().contains("then the Key Vault data plane"),
                "the data plane was asked and echoed its own token"
            );
        }
    }
}

#[tokio::test]
async fn an_echoed_token_is_in_no_body_link_or_header_and_is_recorded_redacted() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    echoing_answers(&server, &snapshot).await;
    let live = read_within(
        &server,
        &planned_target(&snapshot, true),
        Duration::from_secs(30),
    )
    .await;
    assert_no_token("the live read", &everything(&live));
    // The bodies that echoed it are still read and recorded, with the token redacted.
    let identity = live.recording.identity.clone().unwrap();
    assert_eq!(identity["tags"]["echo"], "Bearer [redacted]");
    assert_eq!(identity["tags"]["[redacted]"], "as a key");
    let alerts = live.recording.alerts.clone().unwrap();
    assert_eq!(
        alerts[0]["properties"]["description"],
        "sent with Bearer [redacted]"
    );
    let unread = live.unread.join("\n");
    assert!(
        unread.contains("text/html; echo=\"Bearer [redacted]\""),
        "{unread}"
    );
    assert!(unread.contains("refusing to follow a link to `https://collector.example.net/steal?auth=Bearer [redacted]&t=[redacted]`"), "{unread}");
    assert!(unread.contains("did not accept the token"), "{unread}");
    // Nothing was sent to the foreign host: it does not exist.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests_to(&requests, &versions_path(&snapshot)), 1);
}

/// stdout, stderr and the file the command wrote, if any.
fn outputs(assert: &assert_cmd::assert::Assert, file: Option<&std::path::Path>) -> String {
    let output = assert.get_output();
    let written = file
        .map(|f| std::fs::read_to_string(f).unwrap())
        .unwrap_or_default();
    format!(
        "{}\n{}\n{written}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

/// One run of the command line: what it is, its arguments after the common ones, the exit
/// code it must give, and the file it writes.
struct Run {
    command: &'static str,
    args: Vec<String>,
    code: i32,
    file: Option<std::path::PathBuf>,
}

#[tokio::test(flavor = "multi_thread")]
async fn an_echoed_token_reaches_no_output_of_the_command_line() {
    let snapshot = load("fixtures/clean.json");
    let dir = std::env::temp_dir().join(format!("cmk-check-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (scenario, with_vault) in [("errors", true), ("errors", false), ("answers", true)] {
        let server = MockServer::start().await;
        if scenario == "errors" {
            echoing_errors(&server, &snapshot).await;
        } else {
            echoing_answers(&server, &snapshot).await;
        }
        let at = |name: &str| dir.join(format!("{scenario}-{with_vault}-{name}"));
        let mut runs: Vec<Run> = ["human", "json", "sarif", "github", "junit"]
            .into_iter()
            .map(|format| Run {
                command: "check",
                args: vec!["--format".into(), format.into()],
                code: 1,
                file: None,
            })
            .collect();
        runs.push(Run {
            command: "check",
            args: vec![
                "--format".into(),
                "json".into(),
                "--output".into(),
                at("report.json").display().to_string(),
            ],
            code: 1,
            file: Some(at("report.json")),
        });
        runs.push(Run {
            command: "snapshot",
            args: vec!["-o".into(), at("snapshot.json").display().to_string()],
            code: 0,
            file: Some(at("snapshot.json")),
        });
        runs.push(Run {
            command: "snapshot",
            args: Vec::new(),
            code: 0,
            file: None,
        });
        // Each run waits out the retries of the 500s: all at once, not one after another.
        let uri = server.uri();
        let outputs: Vec<(String, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = runs
                .iter()
                .map(|run| {
                    let (snapshot, uri) = (&snapshot, &uri);
                    scope.spawn(move || {
                        let assert = planned_command(run.command, snapshot, uri, with_vault)
                            .args(&run.args)
                            .assert()
                            .code(run.code);
                        let what = format!("{scenario}: {} {}", run.command, run.args.join(" "));
                        (what, outputs(&assert, run.file.as_deref()))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (what, all) in &outputs {
            assert_no_token(what, all);
        }
        let all: String = outputs.iter().map(|(_, all)| all.as_str()).collect();
        assert!(
            all.contains("Bearer [redacted]"),
            "{scenario}: the echo never reached an output"
        );
        if scenario == "answers" {
            let recorded = std::fs::read_to_string(at("snapshot.json")).unwrap();
            assert!(
                recorded.contains("\"echo\": \"Bearer [redacted]\""),
                "{recorded}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// 2. Pages without end
// ---------------------------------------------------------------------------------------------

/// A fixture whose key was rotated within the day: CMK020 needs its versions.
const ROTATED: &str = "fixtures/fail/CMK020-previous-version-disabled.json";

/// Where a page links to.
#[derive(Clone, Copy)]
enum Next {
    /// Always the same page: a loop.
    Same,
    /// A page never seen before, forever.
    Fresh,
}

/// A list whose pages go on: `items` items a page, each page's `nextLink` as `next` says.
struct EndlessList {
    server: String,
    at: String,
    item: Value,
    items: usize,
    next: Next,
}

impl Respond for EndlessList {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let page: usize = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        let next = match self.next {
            Next::Same => 2,
            Next::Fresh => page + 1,
        };
        ok(&json!({
            "value": vec![self.item.clone(); self.items],
            "nextLink": format!("{}{}?api-version=2024-11-01&page={next}", self.server, self.at),
        }))
    }
}

async fn endless_list(server: &MockServer, at: &str, item: &Value, items: usize, next: Next) {
    Mock::given(method("GET"))
        .and(ArmPath(at.to_string()))
        .respond_with(EndlessList {
            server: server.uri(),
            at: at.to_string(),
            item: item.clone(),
            items,
            next,
        })
        .mount(server)
        .await;
}

/// The key's versions and the alerts, both paging as `next` says.
async fn endless_lists(server: &MockServer, snapshot: &Value, items: usize, next: Next) {
    let version = &snapshot["keyVersions"][0];
    endless_list(server, &versions_path(snapshot), version, items, next).await;
    let alert = &snapshot["activityLogAlerts"][0];
    endless_list(server, &alerts_path(snapshot), alert, items, next).await;
    serve(server, snapshot).await;
}

/// Both lists ended in `why`, each after `requests` requests, and the rules that needed them
/// could not verify.
async fn lists_truncated(
    server: &MockServer,
    snapshot: &Value,
    live: &Live,
    requests: usize,
    why: &str,
) {
    let received = server.received_requests().await.unwrap();
    assert_eq!(requests_to(&received, &versions_path(snapshot)), requests);
    assert_eq!(requests_to(&received, &alerts_path(snapshot)), requests);
    let report = check(live);
    for code in ["CMK020", "CMK021"] {
        let message = &unverified(&report, code).violation.message;
        assert!(
            message.contains("ARM's list was not read to its end"),
            "{message}"
        );
        assert!(message.contains(why), "{message}");
    }
    assert!(
        live.recording.key_versions.is_none(),
        "a partial list is never recorded"
    );
    assert!(
        live.recording.alerts.is_none(),
        "a partial list is never recorded"
    );
}

#[tokio::test]
async fn a_next_link_that_leads_back_ends_the_list() {
    let snapshot = load(ROTATED);
    let server = MockServer::start().await;
    endless_lists(&server, &snapshot, 50, Next::Same).await;
    let live = read_within(
        &server,
        &planned_target(&snapshot, true),
        Duration::from_secs(20),
    )
    .await;
    // The first page, then page 2, which links to itself.
    lists_truncated(
        &server,
        &snapshot,
        &live,
        2,
        "after 2 pages it led back to a page already read",
    )
    .await;
}

#[tokio::test]
async fn endless_next_links_end_at_the_page_limit() {
    let snapshot = load(ROTATED);
    let server = MockServer::start().await;
    endless_lists(&server, &snapshot, 50, Next::Fresh).await;
    let started = Instant::now();
    let live = read_within(
        &server,
        &planned_target(&snapshot, true),
        Duration::from_secs(20),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    lists_truncated(&server, &snapshot, &live, 50, "it has more than 50 pages").await;
}

#[tokio::test]
async fn a_list_with_more_items_than_any_real_one_ends_at_the_item_limit() {
    let snapshot = load(ROTATED);
    let server = MockServer::start().await;
    endless_lists(&server, &snapshot, 1_000, Next::Fresh).await;
    let live = read_within(
        &server,
        &planned_target(&snapshot, true),
        Duration::from_secs(20),
    )
    .await;
    lists_truncated(
        &server,
        &snapshot,
        &live,
        6,
        "it holds more than 5000 items (stopped after 6 pages)",
    )
    .await;
}

/// Resource Graph pages on: each answer has one row that is not the vault, and a skip token.
struct EndlessGraph {
    next: Next,
    answered: AtomicUsize,
}

impl Respond for EndlessGraph {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.answered.fetch_add(1, Ordering::SeqCst);
        let token = match self.next {
            Next::Same => "the-same-token".to_string(),
            Next::Fresh => format!("token-{n}"),
        };
        ok(&json!({
            "totalRecords": 1_000_000, "count": 1, "resultTruncated": "false",
            "data": [{"id": format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/other-{n}")}],
            "$skipToken": token,
        }))
    }
}

async fn graph_that_pages_on(next: Next) -> (MockServer, Live) {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GRAPH))
        .respond_with(EndlessGraph {
            next,
            answered: AtomicUsize::new(0),
        })
        .mount(&server)
        .await;
    serve(&server, &snapshot).await;
    let live = read_within(
        &server,
        &planned_target(&snapshot, false),
        Duration::from_secs(60),
    )
    .await;
    (server, live)
}

/// The vault could not be found, so what needs it could not be verified.
fn vault_unverified(live: &Live, why: &str) {
    let report = check(live);
    let message = &unverified(&report, "CMK004").violation.message;
    assert!(message.contains("could not look up vault `kv-cmk-prod` in Azure Resource Graph: the Azure Resource Graph query was not read to its end"), "{message}");
    assert!(message.contains(why), "{message}");
}

#[tokio::test]
async fn a_repeated_skip_token_ends_the_graph_query() {
    let (server, live) = graph_that_pages_on(Next::Same).await;
    let received = server.received_requests().await.unwrap();
    assert_eq!(requests_to(&received, GRAPH), 2);
    vault_unverified(&live, "after 2 pages it led back to a page already read");
}

#[tokio::test]
async fn endless_fresh_skip_tokens_end_at_the_page_limit() {
    let started = Instant::now();
    let (server, live) = graph_that_pages_on(Next::Fresh).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(requests_to(&received, GRAPH), 1_000);
    vault_unverified(&live, "it has more than 1000 pages");
}

// ---------------------------------------------------------------------------------------------
// 3. Bodies without end
// ---------------------------------------------------------------------------------------------

const MIB: usize = 1024 * 1024;

/// A server on loopback that answers every request with a chunked JSON body of `total` bytes,
/// made as it is sent (the test holds none of it), and reports how many bytes it could send
/// before the client hung up.
fn chunked_server(total: usize) -> (String, std::sync::mpsc::Receiver<usize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let (sent, report) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let sent = sent.clone();
            std::thread::spawn(move || {
                let mut written = 0;
                let _ = answer_chunked(stream, total, &mut written);
                let _ = sent.send(written);
            });
        }
    });
    (uri, report)
}

/// Reads the request's head, then sends `{"value": [], "pad": "aaa…"}` in 64 KiB chunks.
fn answer_chunked(
    mut stream: std::net::TcpStream,
    total: usize,
    written: &mut usize,
) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buffer[..n]);
    }
    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")?;
    let mut chunk = |stream: &mut std::net::TcpStream, bytes: &[u8]| -> std::io::Result<()> {
        stream.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())?;
        stream.write_all(bytes)?;
        stream.write_all(b"\r\n")?;
        *written += bytes.len();
        Ok(())
    };
    chunk(&mut stream, br#"{"value": [], "pad": ""#)?;
    let pad = vec![b'a'; 64 * 1024];
    let mut padded = 0;
    while padded < total {
        chunk(&mut stream, &pad)?;
        padded += pad.len();
    }
    chunk(&mut stream, br#""}"#)?;
    chunk(&mut stream, b"")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_chunked_body_is_read_only_up_to_the_limit() {
    // Four times the limit: the old client read it whole and answered with it.
    let (uri, sent) = chunked_server(64 * MIB);
    let arm = cmk_check::source::live::arm::ArmClient::new(
        reqwest::Client::new(),
        uri.parse().unwrap(),
        azure_core::credentials::Secret::new(TOKEN),
        Duration::from_secs(20),
        cmk_check::source::live::arm::RetryPolicy::default(),
    );
    let read = tokio::time::timeout(
        Duration::from_secs(30),
        arm.get("/subscriptions/s", "2024-11-01"),
    )
    .await
    .expect("the read ends");
    let too_large = "the answer is larger than 16 MiB, the most cmk-check reads of one answer";
    let message = |read: Result<_, cmk_check::source::live::arm::ArmError>| match read {
        Ok(_) => panic!("a body past the limit was read whole"),
        Err(e) => e.to_string(),
    };
    assert_eq!(message(read.map(|_| ())), too_large);
    // The client hung up soon after the limit; what the sockets buffer is all that went on.
    // Waiting off the runtime, which must go on to close the connection.
    let sent = tokio::task::spawn_blocking(move || sent.recv_timeout(Duration::from_secs(20)))
        .await
        .unwrap()
        .unwrap();
    assert!(sent < 40 * MIB, "{} MiB were sent", sent / MIB);
    // A list reads its pages the same way.
    let list = arm.list(
        "/subscriptions/s/providers/Microsoft.Insights/activityLogAlerts",
        "2020-10-01",
    );
    assert_eq!(message(list.await.map(|_| ())), too_large);
}

/// `body` with a tag that makes it `bytes` long or a little more.
fn padded(body: &Value, bytes: usize) -> Vec<u8> {
    let mut body = body.clone();
    body["tags"] = json!({ "pad": "a".repeat(bytes) });
    serde_json::to_vec(&body).unwrap()
}

#[tokio::test]
async fn a_body_larger_than_the_limit_could_not_be_verified() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    get(
        &server,
        &id(&snapshot["vault"]),
        ResponseTemplate::new(200)
            .set_body_raw(padded(&snapshot["vault"], 16 * MIB), "application/json"),
    )
    .await;
    serve(&server, &snapshot).await;
    let live = read_within(
        &server,
        &planned_target(&snapshot, true),
        Duration::from_secs(30),
    )
    .await;
    let report = check(&live);
    let finding = unverified(&report, "CMK006");
    assert!(
        finding
            .violation
            .message
            .contains("could not read vault `kv-cmk-prod`: the answer is larger than 16 MiB"),
        "{}",
        finding.violation.message
    );
    assert!(
        finding
            .violation
            .help
            .contains("ARM's answers are a few MB at most"),
        "{}",
        finding.violation.help
    );
    assert!(live.recording.vault.is_none());
}

#[tokio::test]
async fn a_key_vault_body_larger_than_the_limit_could_not_be_verified() {
    let snapshot = load("fixtures/fail/CMK011-data-plane-1024-bit.json");
    let server = MockServer::start().await;
    let key = key_uri(&snapshot);
    let data_plane = format!(
        "/keys/{}/{}",
        key.name,
        key.version.clone().unwrap_or_default()
    );
    Mock::given(method("GET"))
        .and(path(data_plane))
        .and(header_exists("authorization"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(padded(&snapshot["key"], 16 * MIB), "application/json"),
        )
        .mount(&server)
        .await;
    serve(&server, &snapshot).await;
    let live = read_within(
        &server,
        &planned_target(&snapshot, true),
        Duration::from_secs(30),
    )
    .await;
    let report = check(&live);
    let message = &unverified(&report, "CMK011").violation.message;
    assert!(
        message.contains("then the Key Vault data plane: the answer is larger than 16 MiB"),
        "{message}"
    );
}

#[tokio::test]
async fn the_limits_are_the_clients_to_choose_and_an_error_body_is_read_only_for_its_status() {
    use cmk_check::source::live::arm::Limits;
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    get(
        &server,
        &id(&snapshot["identity"]),
        ResponseTemplate::new(404).set_body_raw(
            padded(&json!({"error": {"code": "NotFound"}}), MIB),
            "application/json",
        ),
    )
    .await;
    serve(&server, &snapshot).await;
    let mut azure = azure(&server, Duration::from_secs(5));
    azure.arm = azure.arm.with_limits(Limits {
        body: 512,
        ..Limits::default()
    });
    let vault = azure.arm.get(&id(&snapshot["vault"]), "2024-11-01").await;
    assert_eq!(
        vault.unwrap_err().to_string(),
        "the answer is larger than 512 bytes, the most cmk-check reads of one answer"
    );
    // A too-long error body does not hide the status.
    let identity = azure
        .arm
        .get(&id(&snapshot["identity"]), "2023-01-31")
        .await;
    assert_eq!(identity.unwrap_err().to_string(), "ARM answered 404");
}

// ---------------------------------------------------------------------------------------------
// 4. Throttling without end
// ---------------------------------------------------------------------------------------------

/// Answers `first` the first `times` requests (or always), then `then`; records when each
/// request arrived.
struct Throttling {
    first: ResponseTemplate,
    times: Option<usize>,
    then: ResponseTemplate,
    arrivals: Arc<std::sync::Mutex<Vec<Instant>>>,
}

impl Respond for Throttling {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut arrivals = self.arrivals.lock().unwrap();
        arrivals.push(Instant::now());
        if self.times.is_none_or(|times| arrivals.len() <= times) {
            self.first.clone()
        } else {
            self.then.clone()
        }
    }
}

/// The identity answers `answer` (`times` times, or always), the rest as the fixture says;
/// what the read gave, and when the identity was asked.
async fn identity_answers(answer: ResponseTemplate, times: Option<usize>) -> (Live, Vec<Instant>) {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    let arrivals = Arc::default();
    Mock::given(method("GET"))
        .and(ArmPath(id(&snapshot["identity"])))
        .respond_with(Throttling {
            first: answer,
            times,
            then: ok(&snapshot["identity"]),
            arrivals: Arc::clone(&arrivals),
        })
        .mount(&server)
        .await;
    serve(&server, &snapshot).await;
    let live = read_within(
        &server,
        &planned_target(&snapshot, true),
        Duration::from_secs(30),
    )
    .await;
    let times = arrivals.lock().unwrap().clone();
    (live, times)
}

fn throttled(retry_after: &str) -> ResponseTemplate {
    ResponseTemplate::new(429).insert_header("Retry-After", retry_after)
}

#[tokio::test]
async fn a_retry_after_beyond_the_bound_ends_the_retries() {
    let started = Instant::now();
    let (live, asked) = identity_answers(throttled("3600"), None).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(asked.len(), 1, "an hour is past the bound: no retry");
    let report = check(&live);
    assert!(unverified(&report, "CMK001")
        .violation
        .message
        .contains("ARM answered 429"));
}

#[tokio::test]
async fn a_retry_after_on_503_is_honoured() {
    let answer = ResponseTemplate::new(503).insert_header("Retry-After", "1");
    let (live, asked) = identity_answers(answer, Some(1)).await;
    assert_eq!(asked.len(), 2);
    let waited = asked[1].duration_since(asked[0]);
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    assert!(check(&live).findings.is_empty());
}

#[tokio::test]
async fn a_retry_after_date_in_the_past_does_not_spin() {
    let past =
        ResponseTemplate::new(503).insert_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT");
    let (live, asked) = identity_answers(past, None).await;
    assert_eq!(asked.len(), 4, "the attempts are bounded");
    // The test client's backoff starts at 5 ms: a date in the past must not skip it.
    for pair in asked.windows(2) {
        let waited = pair[1].duration_since(pair[0]);
        assert!(
            waited >= Duration::from_millis(5),
            "retried after {waited:?}"
        );
    }
    let report = check(&live);
    assert!(unverified(&report, "CMK001")
        .violation
        .message
        .contains("ARM answered 503"));
}

#[tokio::test]
async fn the_waits_of_one_request_add_up_to_the_bound_at_most() {
    // The test client waits 2 s at most in all: 1 s, 1 s, then it gives up.
    let started = Instant::now();
    let (live, asked) = identity_answers(throttled("1"), None).await;
    let took = started.elapsed();
    assert_eq!(asked.len(), 3);
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let report = check(&live);
    assert!(unverified(&report, "CMK001")
        .violation
        .message
        .contains("ARM answered 429"));
}

// ---------------------------------------------------------------------------------------------
// 5. No ARM at all
// ---------------------------------------------------------------------------------------------

#[test]
fn a_refused_port_exits_2_naming_the_host_and_the_cause_not_findings() {
    let snapshot = load("fixtures/clean.json");
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    for command in ["check", "snapshot"] {
        let run = planned_command(command, &snapshot, &endpoint, true)
            .timeout(Duration::from_secs(60))
            .assert()
            .code(2)
            .stdout("");
        // The diagnostic is wrapped to the terminal: one line of words again.
        let stderr = String::from_utf8_lossy(&run.get_output().stderr)
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            stderr.contains(&format!(
                "could not reach Azure Resource Manager at `{endpoint}`"
            )),
            "{command}: {stderr}"
        );
        assert!(
            stderr.to_ascii_lowercase().contains("connection refused"),
            "{command}: {stderr}"
        );
        assert!(
            !stderr.contains("CMK0"),
            "{command}: findings instead of one problem: {stderr}"
        );
        assert!(!stderr.contains("warning:"), "{command}: {stderr}");
    }
}

/// A host that does not resolve (`.invalid` never does, RFC 2606) is one problem too.
#[test]
fn an_unresolvable_host_exits_2_naming_the_host_and_the_cause() {
    let snapshot = load("fixtures/clean.json");
    let endpoint = "https://management.cmk-check.invalid";
    let run = planned_command("check", &snapshot, endpoint, true)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stdout("");
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(
        stderr.contains(&format!(
            "could not reach Azure Resource Manager at `{endpoint}`"
        )),
        "{stderr}"
    );
    assert!(stderr.to_ascii_lowercase().contains("dns"), "{stderr}");
    assert!(!stderr.contains("CMK0"), "{stderr}");
}

/// A server's error text is the server's to choose: escape sequences in it (a screen clear, a
/// hyperlink, a bell) reach no output of the command line raw, and a bidirectional override
/// reaches none of those drawn on a terminal (JSON, SARIF and XML carry it as data).
#[tokio::test(flavor = "multi_thread")]
async fn terminal_escapes_in_server_errors_reach_no_output_raw() {
    let snapshot = load("fixtures/clean.json");
    let server = MockServer::start().await;
    let hostile =
        "\u{1b}[2J\u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7}\u{202e}desrever";
    let answer = move |_: &str| {
        ResponseTemplate::new(403).set_body_json(json!({
            "error": {"code": format!("Denied{hostile}"), "message": format!("no: {hostile}")}
        }))
    };
    echo(
        &server,
        "GET",
        &id(&snapshot["identity"]),
        Echo::new(answer),
    )
    .await;
    echo(&server, "GET", &id(&snapshot["vault"]), Echo::new(answer)).await;
    serve(&server, &snapshot).await;
    let uri = server.uri();
    let outputs: Vec<(String, String)> = std::thread::scope(|scope| {
        ["human", "json", "sarif", "github", "junit"]
            .map(|format| {
                let (snapshot, uri) = (&snapshot, &uri);
                scope.spawn(move || {
                    let assert = planned_command("check", snapshot, uri, true)
                        .args(["--format", format])
                        .assert()
                        .code(1);
                    (format.to_string(), outputs(&assert, None))
                })
            })
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    for (format, all) in &outputs {
        assert!(
            all.contains("desrever"),
            "{format}: the error never reached the output"
        );
        let terminal = ["human", "github"].contains(&format.as_str());
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            if raw == '\u{202e}' && !terminal {
                continue;
            }
            assert!(!all.contains(raw), "{format} prints {raw:?} raw:\n{all}");
        }
    }
}
