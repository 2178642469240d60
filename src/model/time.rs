//! Key Vault dates: Unix seconds in ARM and the data plane, RFC 3339 strings in what the Azure
//! CLI prints. Reports show them as RFC 3339 in UTC.

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A date as Key Vault gives it, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnixTime(pub i64);

impl<'de> Deserialize<'de> for UnixTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Seconds;
        impl Visitor<'_> for Seconds {
            type Value = UnixTime;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("Unix seconds or an RFC 3339 date")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<UnixTime, E> {
                Ok(UnixTime(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UnixTime, E> {
                i64::try_from(v)
                    .map(UnixTime)
                    .map_err(|_| E::custom(format!("expected a date, found the number `{v}`")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<UnixTime, E> {
                if v.is_finite() && v.abs() < 1e15 {
                    #[allow(
                        clippy::cast_possible_truncation,
                        reason = "finite and bounded: whole seconds of a date"
                    )]
                    Ok(UnixTime(v.trunc() as i64))
                } else {
                    Err(E::custom(format!(
                        "expected a date, found the number `{v}`"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UnixTime, E> {
                if let Ok(seconds) = v.trim().parse::<i64>() {
                    return Ok(UnixTime(seconds));
                }
                DateTime::parse_from_rfc3339(v.trim())
                    .map(|d| UnixTime(d.timestamp()))
                    .map_err(|_| {
                        E::custom(format!(
                            "expected a date (Unix seconds or RFC 3339), found the string `{v}`"
                        ))
                    })
            }
        }
        deserializer.deserialize_any(Seconds)
    }
}

pub fn unix(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

pub fn format_unix(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0).map_or_else(
        || format!("{seconds} (Unix seconds)"),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}
