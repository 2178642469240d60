//! A read-only Azure Resource Manager client: GET, and the Resource Graph query POST, nothing
//! else. One HTTP client, one token, retries with backoff for throttling and server errors.

use std::time::Duration;

use azure_core::credentials::Secret;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use thiserror::Error;
use url::Url;

pub const RESOURCE_GRAPH_API: &str = "2024-04-01";

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
}

impl ArmError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
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
}

/// How long to wait between attempts: exponential with jitter, or what `Retry-After` asks.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    /// The most a `Retry-After` may make us wait; longer asks end the retries.
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
}

#[derive(Debug, Clone)]
pub struct ArmClient {
    http: reqwest::Client,
    endpoint: Url,
    token: Secret,
    timeout: Duration,
    retry: RetryPolicy,
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
            token,
            timeout,
            retry,
            unreachable: std::sync::Arc::default(),
        }
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
                endpoint: self.endpoint.as_str().trim_end_matches('/').to_string(),
                cause,
            }),
        }
    }

    /// `GET {endpoint}{path}?api-version=...`
    pub async fn get(&self, path: &str, api_version: &str) -> Result<Value, ArmError> {
        let mut url = self
            .endpoint
            .join(path.trim_start_matches('/'))
            .map_err(|e| ArmError::Malformed(format!("`{path}` is not a resource path: {e}")))?;
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        self.send(Method::GET, url, None).await
    }

    /// Every item of a paged list (`value` + `nextLink`).
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>, ArmError> {
        let mut page = self.get(path, api_version).await?;
        let mut items = Vec::new();
        loop {
            let values = page
                .get_mut("value")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| ArmError::Malformed("a list without `value`".to_string()))?;
            items.append(values);
            let Some(next) = page
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                return Ok(items);
            };
            let next = self.own_link(next)?;
            page = self.send(Method::GET, next, None).await?;
        }
    }

    /// Rows of an Azure Resource Graph query, following `$skipToken`.
    pub async fn resource_graph(
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
        let mut rows = Vec::new();
        let mut skip_token: Option<String> = None;
        loop {
            let mut body = json!({ "query": query, "options": { "resultFormat": "objectArray" } });
            if !subscriptions.is_empty() {
                body["subscriptions"] = json!(subscriptions);
            }
            if let Some(token) = &skip_token {
                body["options"]["$skipToken"] = json!(token);
            }
            let mut page = self.send(Method::POST, url.clone(), Some(body)).await?;
            let data = page
                .get_mut("data")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| {
                    ArmError::Malformed("a Resource Graph answer without `data` rows".to_string())
                })?;
            rows.append(data);
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

    async fn send(&self, method: Method, url: Url, body: Option<Value>) -> Result<Value, ArmError> {
        let mut attempt = 0;
        loop {
            let outcome = self
                .send_once(method.clone(), url.clone(), body.as_ref())
                .await;
            let (error, retry_after) = match outcome {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            attempt += 1;
            if !error.retryable() || attempt >= self.retry.attempts {
                return Err(error);
            }
            let wait = match retry_after {
                Some(asked) if asked > self.retry.max_wait => return Err(error),
                Some(asked) => asked,
                None => self.retry.backoff(attempt - 1),
            };
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Value, (ArmError, Option<Duration>)> {
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
        let bytes = response
            .bytes()
            .await
            .map_err(|e| (self.transport_error(e), None))?;
        if !status.is_success() {
            return Err((status_error(status, &bytes), retry_after(&headers)));
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if !content_type.to_ascii_lowercase().contains("json") {
            return Err((ArmError::ContentType(content_type), None));
        }
        serde_json::from_slice(&bytes).map_err(|e| (ArmError::Malformed(e.to_string()), None))
    }

    fn transport_error(&self, error: reqwest::Error) -> ArmError {
        if error.is_timeout() {
            ArmError::Timeout(self.timeout)
        } else if error.is_decode() || error.is_body() {
            ArmError::Malformed(format!("the body was cut short ({error})"))
        } else {
            // Never the URL's query or headers: only what failed.
            let connect = error.is_connect();
            let cause = error_chain(&error.without_url());
            if connect {
                if let Ok(mut unreachable) = self.unreachable.lock() {
                    unreachable.get_or_insert_with(|| cause.clone());
                }
            }
            ArmError::Transport(cause)
        }
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
    fn backoff_grows() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        assert!(policy.backoff(0) < Duration::from_millis(201));
        assert!(policy.backoff(2) >= Duration::from_millis(400));
    }
}
