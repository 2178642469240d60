//! A read-only Azure Resource Manager client: GET, and the Resource Graph query POST, nothing
//! else. One HTTP client, one token, retries with backoff for throttling and server errors.
//!
//! Nothing a server sends is trusted to be small or well-behaved: an answer is read up to
//! [`Limits::body`], a paged read stops at a repeated link and at its page, item and byte
//! limits, and every string taken from an answer (bodies, error messages, headers, links) is
//! redacted of credentials before it leaves this module.

use std::time::Duration;

use azure_core::credentials::Secret;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{json, Value};
use thiserror::Error;
use url::Url;

mod error;
mod paging;
mod policy;
mod throttle;

use self::error::{error_chain, status_error};
pub use self::error::{ArmError, Truncation};
use self::paging::Pager;
use self::policy::retry_after;
pub use self::policy::{Limits, RetryPolicy};
pub use self::throttle::Class;
use self::throttle::Throttle;
use super::redact::Redactor;
use crate::azure::api::RESOURCE_GRAPH as RESOURCE_GRAPH_API;

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
    /// How long each class of request must wait, shared by every clone of the client.
    throttle: std::sync::Arc<Throttle>,
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
/// A successful answer: its body, its size, and the headers that matter to the caller.
struct Answer {
    value: Value,
    bytes: usize,
    /// Resource Graph says here that it left subscriptions out.
    subscription_limit_hit: bool,
}

/// Where a Resource Graph query looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphScope {
    /// Every subscription the credential can read.
    Tenant,
    Subscriptions(Vec<String>),
    ManagementGroups(Vec<String>),
}

/// The rows of a Resource Graph query, and whether Resource Graph said it left any out.
#[derive(Debug, Clone, Default)]
pub struct GraphAnswer {
    pub rows: Vec<Value>,
    /// `resultTruncated`: the rows are not all there is.
    pub truncated: bool,
    /// `x-ms-tenant-subscription-limit-hit`: the tenant has more subscriptions than one query
    /// covers.
    pub subscription_limit_hit: bool,
}

/// The most rows a Resource Graph page holds.
const GRAPH_PAGE_ROWS: u32 = 1_000;

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
            throttle: std::sync::Arc::default(),
        }
    }

    /// How long a request to `path` must still wait for Azure's throttling: a caller that
    /// spreads its requests waits before it takes a turn.
    pub fn throttled_for(&self, path: &str) -> Duration {
        self.endpoint
            .join(path.trim_start_matches('/'))
            .ok()
            .and_then(|url| Class::of(&url))
            .map_or(Duration::ZERO, |class| self.throttle.wait(&class))
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
            .map(|answer| answer.value)
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
        let scope = if subscriptions.is_empty() {
            GraphScope::Tenant
        } else {
            GraphScope::Subscriptions(subscriptions.to_vec())
        };
        self.graph(query, &scope).await.map(|answer| answer.rows)
    }

    /// A Resource Graph query over `scope`, 1,000 rows a page, and what it said it left out.
    pub async fn graph(&self, query: &str, scope: &GraphScope) -> Result<GraphAnswer, ArmError> {
        self.graph_pages(query, scope)
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
            let Answer {
                value: mut page,
                bytes,
                ..
            } = self.send(Method::GET, url, None).await?;
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

    async fn graph_pages(&self, query: &str, scope: &GraphScope) -> Result<GraphAnswer, ArmError> {
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
        let mut answer = GraphAnswer::default();
        let mut skip_token: Option<String> = None;
        loop {
            let mut body = json!({
                "query": query,
                "options": { "resultFormat": "objectArray", "$top": GRAPH_PAGE_ROWS },
            });
            match scope {
                GraphScope::Tenant => {}
                GraphScope::Subscriptions(ids) => body["subscriptions"] = json!(ids),
                GraphScope::ManagementGroups(ids) => body["managementGroups"] = json!(ids),
            }
            match &skip_token {
                Some(token) => {
                    pager.follow(token)?;
                    body["options"]["$skipToken"] = json!(token);
                }
                None => pager.follow("")?,
            }
            let Answer {
                value: mut page,
                bytes,
                subscription_limit_hit,
            } = self.send(Method::POST, url.clone(), Some(body)).await?;
            answer.subscription_limit_hit |= subscription_limit_hit;
            answer.truncated |= page.get("resultTruncated").is_some_and(|t| {
                t.as_bool() == Some(true)
                    || t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("true"))
            });
            let data = page
                .get_mut("data")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| {
                    ArmError::Malformed("a Resource Graph answer without `data` rows".to_string())
                })?;
            pager.take(&mut answer.rows, data, bytes)?;
            skip_token = page
                .get("$skipToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if skip_token.is_none() {
                return Ok(answer);
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
        let class = Class::of(&url);
        loop {
            if let Some(class) = &class {
                self.throttle.pass(class, self.retry.max_wait).await;
            }
            let outcome = self
                .send_once(method.clone(), url.clone(), body.as_ref(), class.as_ref())
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
        class: Option<&Class>,
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
        if let Some(class) = class {
            self.throttle.heard(class, status, &headers);
        }
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
        let subscription_limit_hit = headers
            .get("x-ms-tenant-subscription-limit-hit")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        Ok(Answer {
            value,
            bytes: bytes.len(),
            subscription_limit_hit,
        })
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
