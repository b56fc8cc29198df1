//! `INTERVAL` as PostgreSQL stores it: months, days and microseconds, kept apart.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use postgres_types::{FromSql, IsNull, ToSql, Type, accepts, to_sql_checked};

type BoxError = Box<dyn StdError + Sync + Send>;

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;

/// A PostgreSQL `interval`: months, days and microseconds, each with its own sign.
///
/// The three fields are not normalised into one another, as in PostgreSQL: a month is not
/// a fixed number of days, nor a day a fixed number of microseconds (daylight saving time).
///
/// ```
/// use lifeguard_schema::values::Interval;
/// let i = Interval::new(14, 3, 14_706_500_000);
/// assert_eq!(i.to_string(), "1 year 2 mons 3 days 04:05:06.5");
/// assert_eq!(Interval::default().to_string(), "00:00:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Whole months (a year is 12 months).
    pub months: i32,
    /// Whole days.
    pub days: i32,
    /// Microseconds.
    pub microseconds: i64,
}

impl Interval {
    /// An interval of `months`, `days` and `microseconds`.
    pub const fn new(months: i32, days: i32, microseconds: i64) -> Interval {
        Interval {
            months,
            days,
            microseconds,
        }
    }

    /// An interval of `microseconds` only.
    pub const fn from_micros(microseconds: i64) -> Interval {
        Interval::new(0, 0, microseconds)
    }

    /// An interval of `days` only.
    pub const fn from_days(days: i32) -> Interval {
        Interval::new(0, days, 0)
    }

    /// An interval of `months` only.
    pub const fn from_months(months: i32) -> Interval {
        Interval::new(months, 0, 0)
    }
}

/// The duration does not fit in an interval's microseconds (more than `i64::MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("duration is too long for an interval (more than i64::MAX microseconds)")]
pub struct IntervalOverflowError;

impl TryFrom<Duration> for Interval {
    type Error = IntervalOverflowError;

    /// The duration as microseconds; nanoseconds below a microsecond are truncated.
    fn try_from(d: Duration) -> Result<Interval, IntervalOverflowError> {
        i64::try_from(d.as_micros())
            .map(Interval::from_micros)
            .map_err(|_| IntervalOverflowError)
    }
}

/// Renders like PostgreSQL's default `postgres` IntervalStyle, e.g.
/// `1 year 2 mons 3 days 04:05:06.5`, `-1 days +01:00:00` or `00:00:00`.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // PostgreSQL's EncodeInterval: a field is printed only when non-zero, and a positive
        // field directly after a negative one gets an explicit `+`.
        let mut is_zero = true;
        let mut is_before = false;
        let months = i64::from(self.months);
        for (value, unit) in [
            (months / 12, "year"),
            (months % 12, "mon"),
            (i64::from(self.days), "day"),
        ] {
            if value == 0 {
                continue;
            }
            let sep = if is_zero { "" } else { " " };
            let plus = if is_before && value > 0 { "+" } else { "" };
            let plural = if value != 1 { "s" } else { "" };
            write!(f, "{sep}{plus}{value} {unit}{plural}")?;
            is_before = value < 0;
            is_zero = false;
        }
        let us = self.microseconds;
        if is_zero || us != 0 {
            let sep = if is_zero { "" } else { " " };
            let sign = if us < 0 {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            };
            let us = us.unsigned_abs();
            let hours = us / USECS_PER_HOUR as u64;
            let minutes = us / USECS_PER_MINUTE as u64 % 60;
            let seconds = us / USECS_PER_SEC as u64 % 60;
            let fraction = us % USECS_PER_SEC as u64;
            write!(f, "{sep}{sign}{hours:02}:{minutes:02}:{seconds:02}")?;
            if fraction != 0 {
                let digits = format!("{fraction:06}");
                write!(f, ".{}", digits.trim_end_matches('0'))?;
            }
        }
        Ok(())
    }
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Interval, BoxError> {
        let raw: &[u8; 16] = raw
            .try_into()
            .map_err(|_| format!("invalid interval length {} (expected 16 bytes)", raw.len()))?;
        let microseconds = i64::from_be_bytes(raw[0..8].try_into().expect("8 bytes"));
        let days = i32::from_be_bytes(raw[8..12].try_into().expect("4 bytes"));
        let months = i32::from_be_bytes(raw[12..16].try_into().expect("4 bytes"));
        Ok(Interval::new(months, days, microseconds))
    }

    accepts!(INTERVAL);
}

impl ToSql for Interval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.microseconds);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    accepts!(INTERVAL);
    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(i: Interval) -> Vec<u8> {
        let mut buf = BytesMut::new();
        i.to_sql(&Type::INTERVAL, &mut buf).unwrap();
        buf.to_vec()
    }

    #[test]
    fn wire_format() {
        let i = Interval::new(0x0102_0304, -2, 0x0102_0304_0506_0708);
        let bytes = encode(i);
        assert_eq!(
            bytes,
            [1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4]
        );
        assert_eq!(Interval::from_sql(&Type::INTERVAL, &bytes).unwrap(), i);
    }

    #[test]
    fn round_trips_in_binary() {
        for i in [
            Interval::default(),
            Interval::new(14, 3, 14_706_500_000),
            Interval::new(-1, 1, -1),
            Interval::new(i32::MIN, i32::MAX, i64::MIN),
            Interval::new(i32::MAX, i32::MIN, i64::MAX),
        ] {
            assert_eq!(Interval::from_sql(&Type::INTERVAL, &encode(i)).unwrap(), i);
        }
    }

    #[test]
    fn checks_type_and_length() {
        assert!(<Interval as ToSql>::accepts(&Type::INTERVAL));
        assert!(!<Interval as ToSql>::accepts(&Type::INT8));
        assert!(<Interval as FromSql>::accepts(&Type::INTERVAL));
        assert!(!<Interval as FromSql>::accepts(&Type::TIME));
        let mut buf = BytesMut::new();
        assert!(
            Interval::default()
                .to_sql_checked(&Type::INT8, &mut buf)
                .is_err()
        );
        assert!(Interval::from_sql(&Type::INTERVAL, &[0; 15]).is_err());
        assert!(Interval::from_sql(&Type::INTERVAL, &[0; 17]).is_err());
    }

    #[test]
    fn displays_like_postgres() {
        let h = USECS_PER_HOUR;
        for (i, s) in [
            (Interval::default(), "00:00:00"),
            (
                Interval::new(14, 3, 14_706_500_000),
                "1 year 2 mons 3 days 04:05:06.5",
            ),
            (Interval::from_months(1), "1 mon"),
            (Interval::from_months(12), "1 year"),
            (Interval::from_months(-14), "-1 years -2 mons"),
            (Interval::from_days(1), "1 day"),
            (Interval::from_days(-1), "-1 days"),
            (Interval::new(0, -1, h), "-1 days +01:00:00"),
            (Interval::new(0, 1, -h), "1 day -01:00:00"),
            (Interval::new(-1, 1, 0), "-1 mons +1 day"),
            (Interval::new(1, -1, 0), "1 mon -1 days"),
            (Interval::from_micros(1), "00:00:00.000001"),
            (Interval::from_micros(-1_500_000), "-00:00:01.5"),
            (
                Interval::from_micros(100 * h + 61 * USECS_PER_SEC),
                "100:01:01",
            ),
            (Interval::from_micros(i64::MIN), "-2562047788:00:54.775808"),
        ] {
            assert_eq!(i.to_string(), s, "{i:?}");
        }
    }

    #[test]
    fn converts_durations() {
        assert_eq!(
            Interval::try_from(Duration::from_nanos(1_500_999)),
            Ok(Interval::from_micros(1_500))
        );
        assert_eq!(
            Interval::try_from(Duration::from_secs(u64::MAX)),
            Err(IntervalOverflowError)
        );
    }
}
