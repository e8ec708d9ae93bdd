//! Points in time as the packaging standards write them: RFC 3339 in UTC, `Z` for the zone.
//!
//! PEP 700's `upload-time` is `yyyy-mm-ddThh:mm:ss.ffffffZ` (the fraction optional), PEP 751's
//! `upload-time` a TOML offset date-time, and SPDX 2.3's `created` `yyyy-mm-ddThh:mm:ssZ`. One
//! type reads them all (any offset, any number of fraction digits, kept to microseconds) and
//! writes the one form they share. The calendar is the proleptic Gregorian one, computed
//! here: the project has no date crate, and this is all it needs of one.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

const MICROS: i64 = 1_000_000;
const DAY: i64 = 86_400;

/// A moment, UTC, to the microsecond (PEP 700's precision).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp {
    /// Microseconds since 1970-01-01T00:00:00Z (negative before it).
    micros: i64,
}

/// Why a text is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not an RFC 3339 date-time (expected `YYYY-MM-DDThh:mm:ss[.ffffff]Z` or an offset such as `+02:00`)"
)]
pub struct TimestampError {
    pub text: String,
}

impl Timestamp {
    /// Whole seconds since the epoch (`SOURCE_DATE_EPOCH` and file times).
    pub fn from_unix(secs: i64) -> Timestamp {
        Timestamp {
            micros: secs.saturating_mul(MICROS),
        }
    }

    pub fn from_unix_micros(micros: i64) -> Timestamp {
        Timestamp { micros }
    }

    pub fn from_system_time(time: SystemTime) -> Timestamp {
        let micros = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_micros())
                .map(|m| -m)
                .unwrap_or(i64::MIN),
        };
        Timestamp { micros }
    }

    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    /// Microseconds since the epoch.
    pub fn unix_micros(self) -> i64 {
        self.micros
    }

    /// (year, month, day, hour, minute, second) in UTC, for formats with fields of their own
    /// (a zip member's DOS time).
    pub fn utc_fields(self) -> (i64, u32, u32, u32, u32, u32) {
        let secs = self.micros.div_euclid(MICROS);
        let (year, month, day) = civil_from_days(secs.div_euclid(DAY));
        let of_day = u32::try_from(secs.rem_euclid(DAY)).expect("a day has fewer than 2^32 s");
        (
            year,
            month,
            day,
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60,
        )
    }
}

impl fmt::Display for Timestamp {
    /// `YYYY-MM-DDThh:mm:ssZ`, with `.ffffff` before the `Z` when there is a fraction.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.micros.div_euclid(MICROS);
        let fraction = self.micros.rem_euclid(MICROS);
        let (year, month, day) = civil_from_days(secs.div_euclid(DAY));
        let of_day = secs.rem_euclid(DAY);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60
        )?;
        if fraction != 0 {
            write!(f, ".{fraction:06}")?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        parse(text.as_bytes()).ok_or_else(|| TimestampError {
            text: text.to_string(),
        })
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimestampError;

    fn try_from(text: String) -> Result<Timestamp, TimestampError> {
        text.parse()
    }
}

impl From<Timestamp> for String {
    fn from(time: Timestamp) -> String {
        time.to_string()
    }
}

/// `date-time` of RFC 3339 §5.6: `full-date ("T" / "t" / " ") partial-time time-offset`.
/// A leap second (`:60`) is read as the last microsecond of its minute.
fn parse(bytes: &[u8]) -> Option<Timestamp> {
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = bytes.get(range)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let at = |i: usize, expected: &[u8]| bytes.get(i).is_some_and(|b| expected.contains(b));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = bytes.get(19..)?;
    let mut fraction = 0;
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let digits = after_dot.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        // Kept to microseconds: further digits are dropped, fewer are padded.
        fraction = after_dot
            .iter()
            .take(digits)
            .chain(std::iter::repeat(&b'0'))
            .take(6)
            .fold(0, |n, d| n * 10 + i64::from(d - b'0'));
        rest = after_dot.get(digits..)?;
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (hours, minutes) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    let (second, fraction) = if second == 60 {
        (59, MICROS - 1)
    } else {
        (second, fraction)
    };
    let secs =
        days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second - offset;
    Some(Timestamp {
        micros: secs * MICROS + fraction,
    })
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 to (year, month, day), counting in 400-year eras of 146 097 days
/// that start on 1 March, so the leap day ends each year.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`], in the same eras.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * mp + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests;
