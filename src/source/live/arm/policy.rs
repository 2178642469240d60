//! How long to wait between attempts, and how much of an answer to read.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

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
    pub(super) fn wait(&self, attempt: u32, asked: Option<Duration>) -> Duration {
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

/// `Retry-After: 5` or an HTTP date.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
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
    use reqwest::header::RETRY_AFTER;

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
    fn backoff_grows() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        assert!(policy.backoff(0) < Duration::from_millis(201));
        assert!(policy.backoff(2) >= Duration::from_millis(400));
    }
}
