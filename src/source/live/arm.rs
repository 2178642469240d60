//! A read-only Azure Resource Manager client: GET, and the Resource Graph query POST, nothing
//! else. One HTTP client, one token, retries with backoff for throttling and server errors.
//!
//! Nothing a server sends is trusted to be small or well-behaved: an answer is read up to
//! [`Limits::body`], a paged read stops at a repeated link and at its page, item and byte
//! limits, and every string taken from an answer (bodies, error messages, headers, links) is
//! redacted of credentials before it leaves this module.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use azure_core::credentials::Secret;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use thiserror::Error;
use url::Url;

use super::redact::Redactor;

pub const RESOURCE_GRAPH_API: &str = "2024-04-01";

/// Why a paged read stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// A `nextLink` or `$skipToken` that was already followed: the pages go round in a loop.
    Repeated,
    /// More pages than [`Limits`] allows.
    Pages(usize),
    /// More items than [`Limits`] allows.
    Items(usize),
    /// More bytes, all pages together, than [`Limits`] allows.
    Bytes(usize),
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ArmError {
    #[error("ARM answered {status}{}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    #[error("ARM did not answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("could not reach ARM: {0}")]
    Transport(String),
    #[error("ARM answered with `{0}`, not JSON")]
    ContentType(String),
    #[error("ARM's answer could not be read: {0}")]
    Malformed(String),
    #[error("refusing to follow a link to `{0}`: it is not the ARM endpoint")]
    ForeignLink(String),
    #[error("{what} was not read to its end: {}; a partial list is not checked", truncation(*.after, .why))]
    Truncated {
        what: &'static str,
        /// Pages read before stopping.
        after: usize,
        why: Truncation,
    },
    #[error("the answer is larger than {}, the most cmk-check reads of one answer", size(*.0))]
    TooLarge(usize),
}

fn truncation(after: usize, why: &Truncation) -> String {
    let pages = |n: usize| format!("{n} page{}", if n == 1 { "" } else { "s" });
    match why {
        Truncation::Repeated => {
            format!("after {} it led back to a page already read", pages(after))
        }
        Truncation::Pages(limit) => format!("it has more than {}", pages(*limit)),
        Truncation::Items(limit) => {
            format!(
                "it holds more than {limit} items (stopped after {})",
                pages(after)
            )
        }
        Truncation::Bytes(limit) => format!(
            "its pages add up to more than {} (stopped after {})",
            size(*limit),
            pages(after)
        ),
    }
}

/// `16 MiB`, `64 KiB`, `1000 bytes`.
fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

impl ArmError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What to do about an answer that was not wrong but could not be used whole; `None` when
    /// trying again is the advice.
    pub fn remedy(&self) -> Option<&'static str> {
        match self {
            Self::Truncated { .. } => Some(
                "look at it in the Azure portal; ARM's lists end within a few pages, so one that loops or runs on comes from the endpoint or a proxy in between (`--arm-endpoint`, HTTPS_PROXY)",
            ),
            Self::TooLarge(_) => Some(
                "ARM's answers are a few MB at most: check the endpoint or a proxy in between (`--arm-endpoint`, HTTPS_PROXY)",
            ),
            _ => None,
        }
    }

    fn retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Transport(_) => true,
            _ => false,
        }
    }

    /// The same error with every server-given string redacted, and clipped: a server picks
    /// the length of a link or a message, and a terminal should not have to show megabytes.
    pub fn redacted(self, redactor: &Redactor) -> Self {
        let text = |s: String| clip(redactor.text(&s));
        match self {
            Self::Status {
                status,
                code,
                message,
            } => Self::Status {
                status,
                code: code.map(text),
                message: message.map(text),
            },
            Self::Transport(s) => Self::Transport(text(s)),
            Self::ContentType(s) => Self::ContentType(text(s)),
            Self::Malformed(s) => Self::Malformed(text(s)),
            Self::ForeignLink(s) => Self::ForeignLink(text(s)),
            same @ (Self::Timeout(_) | Self::Truncated { .. } | Self::TooLarge(_)) => same,
        }
    }
}

/// The most of one server-given string an error keeps: more than any message ARM writes.
const MAX_TEXT: usize = 2_000;

fn clip(text: String) -> String {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

/// How long to wait between attempts: exponential with jitter, or what `Retry-After` asks.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    /// The most the waits between the attempts of one request may add up to: a `Retry-After`
    /// that would pass it ends the retries. One request so takes at most `attempts` times the
    /// timeout, plus `max_wait`.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base: Duration::from_millis(400),
            max_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self.base.saturating_mul(1 << attempt.min(10));
        let jitter = self.base.mul_f64(fastrand::f64());
        exponential + jitter
    }

    /// What `Retry-After` asks, but never less than the backoff: `0` or a date in the past
    /// must not turn the retries into a burst.
    fn wait(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        self.backoff(attempt).max(asked.unwrap_or_default())
    }
}

/// The most cmk-check reads from ARM, per answer and per paged read. ARM's real answers stay
/// far below: a resource body is a few KB, a list page a few hundred KB, a key has tens of
/// versions and a subscription at most a few thousand activity-log alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one answer.
    pub body: usize,
    /// Bytes of all the pages of one paged read together.
    pub paged_bytes: usize,
    /// Pages of a list (`value` + `nextLink`).
    pub list_pages: usize,
    /// Items of a list, all pages together.
    pub list_items: usize,
    /// Pages of a Resource Graph query (`$skipToken`); a page holds up to 1,000 rows.
    pub graph_pages: usize,
    /// Rows of a Resource Graph query, all pages together.
    pub graph_rows: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: usize = 1024 * 1024;
        Self {
            body: 16 * MIB,
            paged_bytes: 64 * MIB,
            list_pages: 50,
            list_items: 5_000,
            graph_pages: 1_000,
            graph_rows: 100_000,
        }
    }
}

/// An error body is read only for its code and message.
const ERROR_BODY: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct ArmClient {
    http: reqwest::Client,
    endpoint: Url,
    token: Secret,
    timeout: Duration,
    retry: RetryPolicy,
    limits: Limits,
    redactor: Redactor,
    /// Why ARM could not be reached at all (DNS, refused, TLS), once a request found out.
    unreachable: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// ARM could not be reached at all: one problem, not a finding per request.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("could not reach Azure Resource Manager at `{endpoint}`: {cause}")]
pub struct Unreachable {
    pub endpoint: String,
    pub cause: String,
}

/// One answer: its JSON, and how many bytes it took.
type Answer = (Value, usize);

impl ArmClient {
    pub fn new(
        http: reqwest::Client,
        endpoint: Url,
        token: Secret,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            http,
            endpoint,
            redactor: Redactor::new(&token),
            token,
            timeout,
            retry,
            limits: Limits::default(),
            unreachable: std::sync::Arc::default(),
        }
    }

    /// The same client with other limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// `Err` when a request of this client could not reach ARM at all.
    pub fn reachable(&self) -> Result<(), Unreachable> {
        let cause = self
            .unreachable
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        match cause {
            None => Ok(()),
            Some(cause) => Err(Unreachable {
                endpoint: self
                    .redactor
                    .text(self.endpoint.as_str().trim_end_matches('/')),
                cause: self.redactor.text(&cause),
            }),
        }
    }

    /// `GET {endpoint}{path}?api-version=...`
    pub async fn get(&self, path: &str, api_version: &str) -> Result<Value, ArmError> {
        let read = async {
            let url = self.resource_url(path, api_version)?;
            self.send(Method::GET, url, None).await
        };
        read.await
            .map(|(value, _)| value)
            .map_err(|e| e.redacted(&self.redactor))
    }

    /// Every item of a paged list (`value` + `nextLink`), or why not all could be read.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>, ArmError> {
        self.list_pages(path, api_version)
            .await
            .map_err(|e| e.redacted(&self.redactor))
    }

    /// Rows of an Azure Resource Graph query, following `$skipToken`, or why not all could be
    /// read.
    pub async fn resource_graph(
        &self,
        query: &str,
        subscriptions: &[String],
    ) -> Result<Vec<Value>, ArmError> {
        self.graph_pages(query, subscriptions)
            .await
            .map_err(|e| e.redacted(&self.redactor))
    }

    fn resource_url(&self, path: &str, api_version: &str) -> Result<Url, ArmError> {
        let mut url = self
            .endpoint
            .join(path.trim_start_matches('/'))
            .map_err(|e| ArmError::Malformed(format!("`{path}` is not a resource path: {e}")))?;
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        Ok(url)
    }

    async fn list_pages(&self, path: &str, api_version: &str) -> Result<Vec<Value>, ArmError> {
        let mut pager = Pager::new(
            "ARM's list",
            self.limits.list_pages,
            self.limits.list_items,
            self.limits.paged_bytes,
        );
        let mut url = self.resource_url(path, api_version)?;
        let mut items = Vec::new();
        loop {
            pager.follow(url.as_str())?;
            let (mut page, bytes) = self.send(Method::GET, url, None).await?;
            let values = page
                .get_mut("value")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| ArmError::Malformed("a list without `value`".to_string()))?;
            pager.take(&mut items, values, bytes)?;
            let Some(next) = page
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                return Ok(items);
            };
            url = self.own_link(next)?;
        }
    }

    async fn graph_pages(
        &self,
        query: &str,
        subscriptions: &[String],
    ) -> Result<Vec<Value>, ArmError> {
        let mut url = self
            .endpoint
            .join("providers/Microsoft.ResourceGraph/resources")
            .map_err(|e| ArmError::Malformed(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("api-version", RESOURCE_GRAPH_API);
        let mut pager = Pager::new(
            "the Azure Resource Graph query",
            self.limits.graph_pages,
            self.limits.graph_rows,
            self.limits.paged_bytes,
        );
        let mut rows = Vec::new();
        let mut skip_token: Option<String> = None;
        loop {
            let mut body = json!({ "query": query, "options": { "resultFormat": "objectArray" } });
            if !subscriptions.is_empty() {
                body["subscriptions"] = json!(subscriptions);
            }
            match &skip_token {
                Some(token) => {
                    pager.follow(token)?;
                    body["options"]["$skipToken"] = json!(token);
                }
                None => pager.follow("")?,
            }
            let (mut page, bytes) = self.send(Method::POST, url.clone(), Some(body)).await?;
            let data = page
                .get_mut("data")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| {
                    ArmError::Malformed("a Resource Graph answer without `data` rows".to_string())
                })?;
            pager.take(&mut rows, data, bytes)?;
            skip_token = page
                .get("$skipToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if skip_token.is_none() {
                return Ok(rows);
            }
        }
    }

    /// A `nextLink` must lead back to the endpoint we trust with the token.
    fn own_link(&self, link: &str) -> Result<Url, ArmError> {
        let url =
            Url::parse(link).map_err(|_| ArmError::Malformed(format!("`{link}` is not a URL")))?;
        if url.origin() == self.endpoint.origin() {
            return Ok(url);
        }
        // ARM writes its public host into nextLink even behind a proxy: keep the path, use our host.
        if url.host_str().is_some_and(|h| h.starts_with("management.")) {
            let mut rebased = self.endpoint.clone();
            rebased.set_path(url.path());
            rebased.set_query(url.query());
            return Ok(rebased);
        }
        Err(ArmError::ForeignLink(link.to_string()))
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
    ) -> Result<Answer, ArmError> {
        let mut attempt = 0;
        let mut waited = Duration::ZERO;
        loop {
            let outcome = self
                .send_once(method.clone(), url.clone(), body.as_ref())
                .await;
            let (error, retry_after) = match outcome {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            attempt += 1;
            if !error.retryable() || attempt >= self.retry.attempts {
                return Err(error);
            }
            let wait = self.retry.wait(attempt - 1, retry_after);
            waited = waited.saturating_add(wait);
            if waited > self.retry.max_wait {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, (ArmError, Option<Duration>)> {
        let mut request = self
            .http
            .request(method, url)
            .timeout(self.timeout)
            .header(AUTHORIZATION, format!("Bearer {}", self.token.secret()))
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| (self.transport_error(e), None))?;
        let status = response.status();
        let headers = response.headers().clone();
        if !status.is_success() {
            // Without a readable body the status alone still says what happened.
            let body = self
                .read_body(response, ERROR_BODY.min(self.limits.body))
                .await
                .unwrap_or_default();
            return Err((status_error(status, &body), retry_after(&headers)));
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if !content_type.to_ascii_lowercase().contains("json") {
            return Err((ArmError::ContentType(content_type), None));
        }
        let bytes = self
            .read_body(response, self.limits.body)
            .await
            .map_err(|e| (e, None))?;
        let mut value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| (ArmError::Malformed(e.to_string()), None))?;
        self.redactor.value(&mut value);
        Ok((value, bytes.len()))
    }

    /// The body, chunk by chunk, failing as soon as it passes `limit`: a body that does not
    /// end is never held whole.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        limit: usize,
    ) -> Result<Vec<u8>, ArmError> {
        let declared = response.content_length().unwrap_or_default();
        if usize::try_from(declared).map_or(true, |n| n > limit) {
            return Err(ArmError::TooLarge(limit));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e))?
        {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(ArmError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, error: reqwest::Error) -> ArmError {
        // Never the URL: a link the server sent may carry anything in its query.
        let error = error.without_url();
        if error.is_timeout() {
            ArmError::Timeout(self.timeout)
        } else if error.is_decode() || error.is_body() {
            ArmError::Malformed(format!("the body was cut short ({error})"))
        } else {
            let connect = error.is_connect();
            let cause = self.redactor.text(&error_chain(&error));
            if connect {
                if let Ok(mut unreachable) = self.unreachable.lock() {
                    unreachable.get_or_insert_with(|| cause.clone());
                }
            }
            ArmError::Transport(cause)
        }
    }
}

/// The bounds of one paged read, and the links it followed.
struct Pager {
    what: &'static str,
    pages: usize,
    bytes: usize,
    max_pages: usize,
    max_items: usize,
    max_bytes: usize,
    /// Hashes of the links or skip tokens followed: a server picks their length.
    followed: HashSet<u64>,
}

impl Pager {
    fn new(what: &'static str, max_pages: usize, max_items: usize, max_bytes: usize) -> Self {
        Self {
            what,
            pages: 0,
            bytes: 0,
            max_pages,
            max_items,
            max_bytes,
            followed: HashSet::new(),
        }
    }

    fn truncated(&self, why: Truncation) -> ArmError {
        ArmError::Truncated {
            what: self.what,
            after: self.pages,
            why,
        }
    }

    /// Before asking for the next page: stop at a link already followed and at the page limit.
    fn follow(&mut self, link: &str) -> Result<(), ArmError> {
        let mut hasher = DefaultHasher::new();
        link.hash(&mut hasher);
        if !self.followed.insert(hasher.finish()) {
            return Err(self.truncated(Truncation::Repeated));
        }
        if self.pages >= self.max_pages {
            return Err(self.truncated(Truncation::Pages(self.max_pages)));
        }
        Ok(())
    }

    /// A page read: its items join the others unless they pass the limits.
    fn take(
        &mut self,
        items: &mut Vec<Value>,
        page: &mut Vec<Value>,
        bytes: usize,
    ) -> Result<(), ArmError> {
        self.pages += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > self.max_bytes {
            return Err(self.truncated(Truncation::Bytes(self.max_bytes)));
        }
        if items.len().saturating_add(page.len()) > self.max_items {
            return Err(self.truncated(Truncation::Items(self.max_items)));
        }
        items.append(page);
        Ok(())
    }
}

/// An error and its causes, which say what failed (`dns error`, `connection refused`).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// ARM's error body: `{"error": {"code", "message"}}`.
fn status_error(status: StatusCode, body: &[u8]) -> ArmError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let text = |key: &str| {
        error
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    ArmError::Status {
        status: status.as_u16(),
        code: text("code"),
        message: text("message"),
    }
}

/// `Retry-After: 5` or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at
        .signed_duration_since(chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    Some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_when_present() {
        let e = status_error(
            StatusCode::FORBIDDEN,
            br#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#,
        );
        assert_eq!(e.to_string(), "ARM answered 403 AuthorizationFailed: no");
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, b"<html>").to_string(),
            "ARM answered 502"
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }

    #[test]
    fn a_retry_after_of_zero_or_in_the_past_still_backs_off() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        assert!(policy.wait(1, Some(Duration::ZERO)) >= Duration::from_millis(200));
        assert!(policy.wait(0, None) >= Duration::from_millis(100));
        assert_eq!(
            policy.wait(0, Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn a_pager_stops_at_a_link_followed_before_and_at_its_limits() {
        let mut pager = Pager::new("ARM's list", 2, 3, 100);
        let mut items = Vec::new();
        pager.follow("a").unwrap();
        pager.take(&mut items, &mut vec![json!(1)], 10).unwrap();
        assert_eq!(
            pager.follow("a"),
            Err(ArmError::Truncated {
                what: "ARM's list",
                after: 1,
                why: Truncation::Repeated
            })
        );
        pager.follow("b").unwrap();
        pager.take(&mut items, &mut vec![json!(2)], 10).unwrap();
        let pages = pager.follow("c").unwrap_err();
        assert_eq!(
            pages.to_string(),
            "ARM's list was not read to its end: it has more than 2 pages; a partial list is not checked"
        );
        assert!(pages.remedy().unwrap().contains("Azure portal"));

        let mut pager = Pager::new("the Azure Resource Graph query", 10, 3, 100);
        let mut rows = vec![json!(1), json!(2)];
        let items = pager.take(&mut rows, &mut vec![json!(3), json!(4)], 10);
        assert_eq!(items.unwrap_err().to_string(), "the Azure Resource Graph query was not read to its end: it holds more than 3 items (stopped after 1 page); a partial list is not checked");
        assert_eq!(rows.len(), 2, "a page past the limit is not kept");
        let bytes = pager.take(&mut rows, &mut Vec::new(), 91);
        assert!(bytes
            .unwrap_err()
            .to_string()
            .contains("its pages add up to more than 100 bytes (stopped after 2 pages)"));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(16 * 1024 * 1024), "16 MiB");
        assert_eq!(size(64 * 1024), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(
            ArmError::TooLarge(16 * 1024 * 1024).to_string(),
            "the answer is larger than 16 MiB, the most cmk-check reads of one answer"
        );
    }

    #[test]
    fn every_server_given_string_of_an_error_is_redacted() {
        let redactor = Redactor::new(&Secret::new("tok-123456"));
        let echoed = || "sent Bearer tok-123456".to_string();
        let errors = [
            ArmError::Status {
                status: 403,
                code: Some(echoed()),
                message: Some(echoed()),
            },
            ArmError::Transport(echoed()),
            ArmError::ContentType(echoed()),
            ArmError::Malformed(echoed()),
            ArmError::ForeignLink(echoed()),
        ];
        for error in errors {
            let text = error.redacted(&redactor).to_string();
            assert!(!text.contains("tok-123456"), "{text}");
            assert!(text.contains("sent Bearer [redacted]"), "{text}");
        }
    }

    #[test]
    fn a_long_server_string_is_clipped_after_redaction() {
        let redactor = Redactor::new(&Secret::new("tok-123456"));
        let long = format!("{}é tok-123456", "a".repeat(MAX_TEXT - 1));
        let clipped = ArmError::ForeignLink(long).redacted(&redactor).to_string();
        assert!(
            clipped.contains(&format!("{}… (13 more bytes)", "a".repeat(MAX_TEXT - 1))),
            "{clipped}"
        );
        assert!(!clipped.contains("tok-"));
        let near_end = format!("{}tok-123456", "a".repeat(MAX_TEXT - 4));
        let clipped = ArmError::Malformed(near_end)
            .redacted(&redactor)
            .to_string();
        assert!(
            !clipped.contains("tok-"),
            "a token cut in two is still redacted: {clipped}"
        );
    }

    #[test]
    fn backoff_grows() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        assert!(policy.backoff(0) < Duration::from_millis(201));
        assert!(policy.backoff(2) >= Duration::from_millis(400));
    }
}
