//! The date functions: `utcNow()`, `dateTimeAdd()`, `dateTimeToEpoch()` and
//! `dateTimeFromEpoch()`, with the date-time strings, ISO 8601 durations and .NET format strings
//! they use.
//!
//! What ARM documents and cmk-check follows:
//! - `utcNow()` is allowed only in the default value of a parameter; its default format is
//!   `yyyyMMddTHHmmssZ`; formats are .NET's, with the invariant culture (`utcNow('d')` gives
//!   `03/05/2019`).
//! - `dateTimeAdd()` reads durations as `XmlConvert.ToTimeSpan` does: a year is 365 days and a
//!   month 30 days, leap years or not (`dateTimeAdd('2024-01-01 00:00:00Z', 'P1Y')` is
//!   `2024-12-31T00:00:00Z`). Without a format, the result is written `yyyy-MM-ddTHH:mm:ssZ`, as
//!   the documented examples show, whatever the form of the base.
//! - `dateTimeToEpoch()` counts seconds since 1970-01-01T00:00:00Z; `dateTimeFromEpoch()` writes
//!   `yyyy-MM-ddTHH:mm:ssZ`.
//!
//! The messages here are completed with the function's name by the caller.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};

use super::eval::Fail;

/// `utcNow()`'s format when none is given.
const UTC_NOW_DEFAULT: &str = "yyyyMMddTHHmmssZ";

/// How `dateTimeAdd()` and `dateTimeFromEpoch()` write a date-time without a format.
const ISO_SECONDS: &str = "yyyy-MM-ddTHH:mm:ssZ";

/// The greatest `TimeSpan`, in nanoseconds: `i64::MAX` ticks of 100 ns.
const MAX_TIMESPAN_NANOS: i128 = i64::MAX as i128 * 100;

/// A date-time read from a template string.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Moment {
    at: DateTime<Utc>,
    /// Whether the string said `Z`. Written again, a date-time with another offset depends on
    /// how ARM converts it, which is not confirmed; its instant does not.
    utc: bool,
}

fn unsure(message: impl Into<String>) -> Fail {
    Fail::Unknown(message.into())
}

fn error(message: impl Into<String>) -> Fail {
    Fail::Error(message.into())
}

/// `utcNow([format])`, `now` being the deployment's instant where ARM allows the function.
pub(super) fn utc_now(now: Option<DateTime<Utc>>, format: Option<&str>) -> Result<String, Fail> {
    let Some(now) = now else {
        return Err(error("is only allowed in the default value of a parameter"));
    };
    format_moment(now, format.unwrap_or(UTC_NOW_DEFAULT), true)
}

/// `dateTimeAdd(base, duration, [format])`.
pub(super) fn date_time_add(
    base: &str,
    duration: &str,
    format: Option<&str>,
) -> Result<String, Fail> {
    let moment = parse_moment(base)?;
    let nanos = parse_duration(duration)?;
    let delta = i64::try_from(nanos)
        .ok()
        .map(TimeDelta::nanoseconds)
        .or_else(|| {
            // Beyond 292 years in nanoseconds: whole seconds are enough there.
            i64::try_from(nanos / 1_000_000_000)
                .ok()
                .and_then(TimeDelta::try_seconds)
                .filter(|_| nanos % 1_000_000_000 == 0)
        })
        .ok_or_else(|| {
            unsure(format!(
                "with the duration `{duration}`, beyond cmk-check's range"
            ))
        })?;
    let at = moment
        .at
        .checked_add_signed(delta)
        .filter(|at| in_dotnet_range(*at))
        .ok_or_else(|| {
            unsure(format!(
                "gives a date beyond the years 1 to 9999 for `{base}` and `{duration}`"
            ))
        })?;
    match format {
        Some(format) => {
            if !moment.utc {
                return Err(unsure(format!(
                    "of `{base}`, which is not in UTC: how ARM converts it before formatting is \
                     not confirmed"
                )));
            }
            format_moment(at, format, false)
        }
        None => iso_seconds(at, moment.utc, base),
    }
}

/// `dateTimeToEpoch(dateTime)`: whole seconds since 1970-01-01T00:00:00Z.
pub(super) fn date_time_to_epoch(text: &str) -> Result<i64, Fail> {
    let moment = parse_moment(text)?;
    if moment.at.timestamp_subsec_nanos() != 0 {
        return Err(unsure(format!(
            "of `{text}`, which has a fraction of a second: how ARM rounds it is not confirmed"
        )));
    }
    Ok(moment.at.timestamp())
}

/// `dateTimeFromEpoch(epochTime)`.
pub(super) fn date_time_from_epoch(epoch: i64) -> Result<String, Fail> {
    DateTime::from_timestamp(epoch, 0)
        .filter(|at| in_dotnet_range(*at))
        .map(|at| format_custom(at, ISO_SECONDS, false))
        .unwrap_or_else(|| {
            Err(unsure(format!(
                "of {epoch}, beyond the years 1 to 9999 of .NET's dates"
            )))
        })
}

fn in_dotnet_range(at: DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

/// The documented form of a date-time result without a format: only for whole seconds in UTC,
/// where the examples leave no doubt.
fn iso_seconds(at: DateTime<Utc>, utc: bool, base: &str) -> Result<String, Fail> {
    if !utc {
        return Err(unsure(format!(
            "of `{base}`, which is not in UTC, without a format: how ARM writes the result is \
             not confirmed"
        )));
    }
    if at.timestamp_subsec_nanos() != 0 {
        return Err(unsure(
            "without a format, of a date-time with a fraction of a second: how ARM writes it is \
             not confirmed",
        ));
    }
    format_custom(at, ISO_SECONDS, false)
}

/// Reads the date-time forms ARM is known to accept: ISO 8601 / RFC 3339 with a `T` or a space,
/// seconds and a fraction optional, and `Z` or an offset; and `utcNow()`'s `yyyyMMddTHHmmssZ`.
/// A form without a time zone, or any other form, is Unknown; an impossible date or time is an
/// error.
fn parse_moment(text: &str) -> Result<Moment, Fail> {
    let unread = || {
        unsure(format!(
            "of `{text}`: cmk-check reads ISO 8601 date-times such as `2024-01-31T12:00:00Z`, and \
             how ARM reads this one is not confirmed"
        ))
    };
    let mut reader = Reader::new(text);
    let basic = text.len() == 16 && text.as_bytes().get(8) == Some(&b'T');
    let year = reader.digits(4);
    reader.expect_unless(basic, b'-');
    let month = reader.digits(2);
    reader.expect_unless(basic, b'-');
    let day = reader.digits(2);
    if !(reader.eat(b'T') || (!basic && reader.eat(b' '))) {
        return Err(unread());
    }
    let hour = reader.digits(2);
    reader.expect_unless(basic, b':');
    let minute = reader.digits(2);
    let mut second = Some(0);
    let mut nanos = Some(0);
    if basic {
        second = reader.digits(2);
    } else if reader.eat(b':') {
        second = reader.digits(2);
        if reader.eat(b'.') {
            nanos = reader.fraction();
        }
    }
    let offset = if reader.eat(b'Z') {
        Some(0)
    } else if basic {
        None
    } else {
        reader.offset()
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
        (year, month, day, hour, minute, second)
    else {
        return Err(unread());
    };
    let (Some(nanos), Some(offset), true) = (nanos, offset, reader.done()) else {
        return Err(unread());
    };
    if offset.unsigned_abs() > 14 * 60 {
        return Err(unread());
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .filter(|_| year >= 1)
        .ok_or_else(|| error(format!("`{text}` is not a valid date")))?;
    let local = date
        .and_hms_nano_opt(hour, minute, second, nanos)
        .filter(|_| second < 60)
        .ok_or_else(|| error(format!("`{text}` is not a valid time of day")))?;
    let at = local
        .and_utc()
        .checked_sub_signed(TimeDelta::minutes(i64::from(offset)))
        .filter(|at| in_dotnet_range(*at))
        .ok_or_else(unread)?;
    Ok(Moment {
        at,
        utc: text.ends_with('Z'),
    })
}

/// A cursor over ASCII text that remembers whether everything so far was as expected.
struct Reader<'t> {
    bytes: &'t [u8],
    at: usize,
    failed: bool,
}

impl<'t> Reader<'t> {
    fn new(text: &'t str) -> Self {
        Reader {
            bytes: text.as_bytes(),
            at: 0,
            failed: false,
        }
    }

    /// Everything was read, as expected.
    fn done(&self) -> bool {
        !self.failed && self.at == self.bytes.len()
    }

    fn peek_digits(&self) -> usize {
        self.bytes
            .iter()
            .skip(self.at)
            .take_while(|byte| byte.is_ascii_digit())
            .count()
    }

    /// Exactly `count` digits (at most 9).
    fn digits(&mut self, count: usize) -> Option<u32> {
        if self.failed || self.peek_digits() < count {
            self.failed = true;
            return None;
        }
        let digits = self.bytes.iter().skip(self.at).take(count);
        let value = digits.fold(0, |acc, digit| acc * 10 + u32::from(digit - b'0'));
        self.at += count;
        Some(value)
    }

    fn eat(&mut self, byte: u8) -> bool {
        if !self.failed && self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// The separator `byte`, which the basic form (`skip`) leaves out.
    fn expect_unless(&mut self, skip: bool, byte: u8) {
        if !skip && !self.eat(byte) {
            self.failed = true;
        }
    }

    /// 1 to 7 digits of a second (.NET's precision), in nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let count = self.peek_digits();
        if !(1..=7).contains(&count) {
            self.failed = true;
            return None;
        }
        let value = self.digits(count)?;
        Some(value * 10_u32.pow(9 - count as u32))
    }

    /// `+hh:mm` or `-hh:mm`, in minutes.
    fn offset(&mut self) -> Option<i32> {
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let hours = self.digits(2)?;
        if !self.eat(b':') {
            return None;
        }
        let minutes = self.digits(2).filter(|minutes| *minutes < 60)?;
        Some(sign * (hours * 60 + minutes) as i32)
    }
}

/// Reads an ISO 8601 duration as `XmlConvert.ToTimeSpan`: `[-]P[nY][nM][nD][T[nH][nM][n[.f]S]]`,
/// a year being 365 days and a month 30. In nanoseconds.
fn parse_duration(text: &str) -> Result<i128, Fail> {
    const SECOND: i128 = 1_000_000_000;
    const DAY: i128 = 86_400 * SECOND;
    let unread = || {
        unsure(format!(
            "with the duration `{text}`: cmk-check reads ISO 8601 durations such as `P1Y`, \
             `-P10D` or `PT1H30M`, and how ARM reads this one is not confirmed"
        ))
    };
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let rest = rest.strip_prefix('P').ok_or_else(unread)?;
    let (date_part, time_part) = match rest.split_once('T') {
        Some((_, "")) => return Err(unread()),
        Some((date, time)) => (date, time),
        None => (rest, ""),
    };
    let date = components(date_part, &[('Y', 365 * DAY), ('M', 30 * DAY), ('D', DAY)])
        .ok_or_else(unread)?;
    let time = components(
        time_part,
        &[('H', 3_600 * SECOND), ('M', 60 * SECOND), ('S', SECOND)],
    )
    .ok_or_else(unread)?;
    if date.is_empty() && time.is_empty() {
        return Err(unread());
    }
    let mut total: i128 = 0;
    for (count, unit, designator) in date.into_iter().chain(time) {
        // Only seconds take a fraction.
        if count.nanos != 0 && designator != 'S' {
            return Err(unread());
        }
        total = count
            .whole
            .checked_mul(unit)
            .and_then(|part| part.checked_add(i128::from(count.nanos)))
            .and_then(|part| total.checked_add(part))
            .ok_or_else(unread)?;
    }
    if total > MAX_TIMESPAN_NANOS {
        return Err(unsure(format!(
            "with the duration `{text}`, beyond .NET's greatest time span"
        )));
    }
    Ok(if negative { -total } else { total })
}

/// A number of a duration: whole part and, for seconds, the fraction in nanoseconds.
#[derive(Debug, Clone, Copy, Default)]
struct Count {
    whole: i128,
    nanos: u32,
}

/// Splits `12D3H` into its numbers, each with its unit: the designators must come from `units`,
/// in that order, each at most once. `None` if the text is not such a list.
fn components(text: &str, units: &[(char, i128)]) -> Option<Vec<(Count, i128, char)>> {
    let mut parts = Vec::new();
    let mut reader = Reader::new(text);
    let mut next_unit = 0;
    while reader.at < reader.bytes.len() {
        let count = reader.peek_digits();
        if !(1..=18).contains(&count) {
            return None;
        }
        let high = i128::from(reader.digits(count.min(9))?);
        let whole = if count > 9 {
            high * 10_i128.pow((count - 9) as u32) + i128::from(reader.digits(count - 9)?)
        } else {
            high
        };
        let nanos = if reader.eat(b'.') {
            reader.fraction()?
        } else {
            0
        };
        let designator = char::from(*reader.bytes.get(reader.at)?);
        reader.at += 1;
        let found = units
            .iter()
            .skip(next_unit)
            .position(|&(unit, _)| unit == designator)?;
        let (_, unit) = *units.get(next_unit + found)?;
        next_unit += found + 1;
        parts.push((Count { whole, nanos }, unit, designator));
    }
    (!reader.failed).then_some(parts)
}

/// Formats `at` (in UTC) with a .NET standard or custom format string and the invariant culture.
/// `utc_kind`: whether .NET's `DateTime` is known to be of kind `Utc` (then `o` and `K` write
/// `Z`); it is for `utcNow()`, and not confirmed for the others.
fn format_moment(at: DateTime<Utc>, format: &str, utc_kind: bool) -> Result<String, Fail> {
    let mut chars = format.chars();
    let (Some(only), None) = (chars.next(), chars.next()) else {
        if format.is_empty() {
            return Err(unsure(
                "with an empty format: ARM's answer is not confirmed",
            ));
        }
        return format_custom(at, format, utc_kind);
    };
    let pattern = match only {
        'd' => "MM/dd/yyyy",
        'D' => "dddd, dd MMMM yyyy",
        'f' => "dddd, dd MMMM yyyy HH:mm",
        'F' | 'U' => "dddd, dd MMMM yyyy HH:mm:ss",
        'g' => "MM/dd/yyyy HH:mm",
        'G' => "MM/dd/yyyy HH:mm:ss",
        'M' | 'm' => "MMMM dd",
        'o' | 'O' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        'R' | 'r' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "HH:mm",
        'T' => "HH:mm:ss",
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        'Y' | 'y' => "yyyy MMMM",
        other => {
            return Err(unsure(format!(
                "with the format `{other}`, which cmk-check does not know as a .NET standard \
                 format: ARM's answer is not confirmed"
            )))
        }
    };
    format_custom(at, pattern, utc_kind)
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// .NET custom date and time format specifiers, invariant culture. Specifiers whose output
/// cmk-check is not sure of (`F`, `g`, `z`, counts .NET treats specially) are Unknown.
fn format_custom(at: DateTime<Utc>, format: &str, utc_kind: bool) -> Result<String, Fail> {
    if at.timestamp_subsec_nanos() >= 1_000_000_000 {
        return Err(unsure("of a leap second, which .NET's dates do not have"));
    }
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::with_capacity(format.len() * 2);
    let mut i = 0;
    // After `%`, the next character is one specifier on its own.
    let mut single = false;
    while let Some(&c) = chars.get(i) {
        let run = if single {
            1
        } else {
            chars.iter().skip(i).take_while(|&&next| next == c).count()
        };
        single = false;
        let unknown_count = || {
            unsure(format!(
                "with `{}` in the format: ARM's answer is not confirmed",
                c.to_string().repeat(run)
            ))
        };
        let digits = |value: u32, width: usize| format!("{value:0width$}");
        match c {
            'd' => out.push_str(&match run {
                1 => at.day().to_string(),
                2 => digits(at.day(), 2),
                3 => short(name_of(&DAYS, at.weekday().num_days_from_sunday())),
                4 => name_of(&DAYS, at.weekday().num_days_from_sunday()).to_owned(),
                _ => return Err(unknown_count()),
            }),
            'f' if run <= 7 => {
                let fraction = at.timestamp_subsec_nanos() / 10_u32.pow(9 - run as u32);
                out.push_str(&digits(fraction, run));
            }
            'h' if run <= 2 => {
                let hour = match at.hour() % 12 {
                    0 => 12,
                    hour => hour,
                };
                out.push_str(&digits(hour, run));
            }
            'H' if run <= 2 => out.push_str(&digits(at.hour(), run)),
            'm' if run <= 2 => out.push_str(&digits(at.minute(), run)),
            's' if run <= 2 => out.push_str(&digits(at.second(), run)),
            'M' => out.push_str(&match run {
                1 => at.month().to_string(),
                2 => digits(at.month(), 2),
                3 => short(name_of(&MONTHS, at.month0())),
                4 => name_of(&MONTHS, at.month0()).to_owned(),
                _ => return Err(unknown_count()),
            }),
            't' if run <= 2 => {
                let designator = if at.hour() < 12 { "AM" } else { "PM" };
                out.push_str(if run == 1 {
                    designator.get(..1).unwrap_or_default()
                } else {
                    designator
                });
            }
            'y' if run <= 9 => {
                let year = at.year().unsigned_abs();
                out.push_str(&match run {
                    1 => (year % 100).to_string(),
                    2 => digits(year % 100, 2),
                    _ => digits(year, run),
                });
            }
            'K' if run == 1 && utc_kind => out.push('Z'),
            'f' | 'F' | 'g' | 'h' | 'H' | 'K' | 'm' | 's' | 't' | 'y' | 'z' => {
                return Err(unknown_count())
            }
            '\'' | '"' => {
                let close = chars
                    .iter()
                    .skip(i + 1)
                    .position(|&next| next == c)
                    .ok_or_else(|| unsure("with an unterminated quote in the format"))?;
                let quoted: String = chars.iter().skip(i + 1).take(close).collect();
                if quoted.contains('\\') {
                    return Err(unsure(
                        "with a `\\` inside quotes in the format: ARM's answer is not confirmed",
                    ));
                }
                out.push_str(&quoted);
                i += close + 2;
                continue;
            }
            '\\' => {
                let escaped = chars
                    .get(i + 1)
                    .ok_or_else(|| unsure("with a format that ends with `\\`"))?;
                out.push(*escaped);
                i += 2;
                continue;
            }
            '%' => {
                match chars.get(i + 1) {
                    Some('%') | None => {
                        return Err(unsure(
                            "with a `%` that is not followed by a specifier in the format",
                        ))
                    }
                    Some(_) => single = true,
                }
                i += 1;
                continue;
            }
            // The invariant culture's separators are `:` and `/`; anything else is literal.
            other => {
                out.push(other);
                i += 1;
                continue;
            }
        }
        i += run;
    }
    Ok(out)
}

fn name_of(names: &[&'static str], index: u32) -> &'static str {
    names.get(index as usize).copied().unwrap_or_default()
}

/// The invariant culture's abbreviations: the first three letters.
fn short(name: &str) -> String {
    name.chars().take(3).collect()
}
