//! Azure's throttling, as its headers tell it: Resource Graph allows each user a quota of
//! queries per window (`x-ms-user-quota-remaining`, `x-ms-user-quota-resets-after`), ARM a
//! bucket of reads per subscription (`x-ms-ratelimit-remaining-subscription-reads`), and a 429
//! says how long to wait (`Retry-After`). When a class runs out, every request of that class
//! waits, so that concurrent requests do not all run into the same 429.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use tokio::time::Instant;
use url::Url;

/// What a request counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Class {
    /// Resource Graph queries: a quota per user.
    Graph,
    /// ARM reads in one subscription (lower case).
    Subscription(String),
}

impl Class {
    /// The class of a request to `url`; `None` for requests Azure does not throttle by class.
    pub fn of(url: &Url) -> Option<Self> {
        let path = url.path().to_ascii_lowercase();
        if path.contains("/providers/microsoft.resourcegraph/") {
            return Some(Self::Graph);
        }
        let mut segments = path.trim_start_matches('/').split('/');
        (segments.next() == Some("subscriptions"))
            .then(|| segments.next())
            .flatten()
            .filter(|s| !s.is_empty())
            .map(|s| Self::Subscription(s.to_string()))
    }
}

/// A read bucket that is empty refills in about this long (ARM refills 25 reads a second).
const REFILL: Duration = Duration::from_secs(1);

/// The time before which each class may send nothing.
#[derive(Debug, Default)]
pub struct Throttle {
    gates: Mutex<HashMap<Class, Instant>>,
}

impl Throttle {
    /// How long a request of `class` must still wait.
    pub fn wait(&self, class: &Class) -> Duration {
        let gates = self.gates.lock();
        let Ok(gates) = gates else {
            return Duration::ZERO;
        };
        gates.get(class).map_or(Duration::ZERO, |at| {
            at.saturating_duration_since(Instant::now())
        })
    }

    /// Waits until `class` may send, but never longer than `most`.
    pub async fn pass(&self, class: &Class, most: Duration) {
        let wait = self.wait(class).min(most);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Learns from an answer how long its class must now wait.
    pub fn heard(&self, class: &Class, status: StatusCode, headers: &HeaderMap) {
        let wait = match (status, class) {
            (StatusCode::TOO_MANY_REQUESTS, _) => {
                Some(super::policy::retry_after(headers).unwrap_or(REFILL))
            }
            (_, Class::Graph) => (number(headers, "x-ms-user-quota-remaining") == Some(0))
                .then(|| clock(headers, "x-ms-user-quota-resets-after").unwrap_or(REFILL)),
            (_, Class::Subscription(_)) => {
                (number(headers, "x-ms-ratelimit-remaining-subscription-reads") == Some(0))
                    .then_some(REFILL)
            }
        };
        let Some(wait) = wait else { return };
        if let Ok(mut gates) = self.gates.lock() {
            let until = Instant::now() + wait;
            let gate = gates.entry(class.clone()).or_insert(until);
            *gate = (*gate).max(until);
        }
    }
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `00:00:05`, as Resource Graph writes how long until its quota resets.
fn clock(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let text = headers.get(name)?.to_str().ok()?;
    let mut seconds = 0.0f64;
    for part in text.trim().split(':') {
        seconds = seconds * 60.0 + part.parse::<f64>().ok()?;
    }
    (0.0..86_400.0)
        .contains(&seconds)
        .then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn classes_come_from_the_path() {
        let url = |p: &str| Url::parse(&format!("https://management.azure.com{p}")).unwrap();
        assert_eq!(
            Class::of(&url("/providers/Microsoft.ResourceGraph/resources")),
            Some(Class::Graph)
        );
        assert_eq!(
            Class::of(&url("/subscriptions/ABC/resourceGroups/rg")),
            Some(Class::Subscription("abc".to_string()))
        );
        assert_eq!(Class::of(&url("/providers/Microsoft.Insights")), None);
    }

    #[tokio::test]
    async fn an_empty_quota_closes_its_class_until_it_resets() {
        let throttle = Throttle::default();
        throttle.heard(
            &Class::Graph,
            StatusCode::OK,
            &headers(&[
                ("x-ms-user-quota-remaining", "0"),
                ("x-ms-user-quota-resets-after", "00:00:02"),
            ]),
        );
        assert!(throttle.wait(&Class::Graph) > Duration::from_millis(1_500));
        let other = Class::Subscription("s".to_string());
        assert_eq!(throttle.wait(&other), Duration::ZERO);
        throttle.heard(
            &other,
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "3")]),
        );
        assert!(throttle.wait(&other) > Duration::from_millis(2_500));
        throttle.heard(
            &other,
            StatusCode::OK,
            &headers(&[("x-ms-ratelimit-remaining-subscription-reads", "11")]),
        );
        assert!(
            throttle.wait(&other) > Duration::from_millis(2_500),
            "a gate only grows"
        );
    }
}
