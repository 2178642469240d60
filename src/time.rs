//! Key Vault dates are Unix seconds; reports show them as RFC 3339 in UTC.

use chrono::{DateTime, Utc};

pub fn unix(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

pub fn format_unix(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0).map_or_else(
        || format!("{seconds} (Unix seconds)"),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}
