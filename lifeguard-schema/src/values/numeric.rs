//! `NUMERIC` as exact decimal text, in PostgreSQL's binary format (base-10000 digits).

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;

use bytes::{BufMut, BytesMut};
use postgres_types::{FromSql, IsNull, ToSql, Type, accepts, to_sql_checked};

type BoxError = Box<dyn StdError + Sync + Send>;

const POS: u16 = 0x0000;
const NEG: u16 = 0x4000;
const NAN: u16 = 0xC000;
const PINF: u16 = 0xD000;
const NINF: u16 = 0xF000;

/// An exact `NUMERIC` value kept as its canonical decimal text (`"-12.50"`, `"NaN"`,
/// `"Infinity"`), so no precision is lost in either direction.
///
/// ```
/// use lifeguard_schema::values::Numeric;
/// let n: Numeric = "-0012.340".parse().unwrap();
/// assert_eq!(n.as_str(), "-12.340");
/// assert!("12,5".parse::<Numeric>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Numeric(String);

impl Numeric {
    /// The decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The text is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal number (digits with an optional sign and decimal point)")]
pub struct ParseNumericError(String);

impl FromStr for Numeric {
    type Err = ParseNumericError;

    fn from_str(s: &str) -> Result<Numeric, ParseNumericError> {
        let bad = || ParseNumericError(s.to_owned());
        match s {
            "NaN" => return Ok(Numeric("NaN".into())),
            "Infinity" | "+Infinity" => return Ok(Numeric("Infinity".into())),
            "-Infinity" => return Ok(Numeric("-Infinity".into())),
            _ => {}
        }
        let (neg, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let zero = int == "0" && frac.bytes().all(|b| b == b'0');
        let mut out = String::with_capacity(s.len() + 1);
        if neg && !zero {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        Ok(Numeric(out))
    }
}

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Numeric, BoxError> {
        let rd = |i: usize| -> Result<u16, BoxError> {
            raw.get(i..i + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "truncated numeric value".into())
        };
        let ndigits = rd(0)? as usize;
        let weight = rd(2)? as i16 as i32;
        let sign = rd(4)?;
        let dscale = rd(6)? as usize;
        match sign {
            NAN => return Ok(Numeric("NaN".into())),
            PINF => return Ok(Numeric("Infinity".into())),
            NINF => return Ok(Numeric("-Infinity".into())),
            POS | NEG => {}
            other => return Err(format!("invalid numeric sign {other:#x}").into()),
        }
        let digits = (0..ndigits)
            .map(|i| rd(8 + 2 * i))
            .collect::<Result<Vec<u16>, _>>()?;
        let digit = |w: i32| -> u16 {
            let i = weight - w;
            if i >= 0 && (i as usize) < digits.len() {
                digits[i as usize]
            } else {
                0
            }
        };
        let mut out = String::new();
        if sign == NEG && !digits.is_empty() {
            out.push('-');
        }
        if weight < 0 {
            out.push('0');
        } else {
            out.push_str(&digit(weight).to_string());
            for w in (0..weight).rev() {
                out.push_str(&format!("{:04}", digit(w)));
            }
        }
        if dscale > 0 {
            out.push('.');
            let mut frac = String::new();
            let mut w = -1;
            while frac.len() < dscale {
                frac.push_str(&format!("{:04}", digit(w)));
                w -= 1;
            }
            frac.truncate(dscale);
            out.push_str(&frac);
        }
        Ok(Numeric(out))
    }

    accepts!(NUMERIC);
}

impl ToSql for Numeric {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let head = |out: &mut BytesMut, n: u16, w: i16, s: u16, d: u16| {
            out.put_u16(n);
            out.put_i16(w);
            out.put_u16(s);
            out.put_u16(d);
        };
        match self.0.as_str() {
            "NaN" => {
                head(out, 0, 0, NAN, 0);
                return Ok(IsNull::No);
            }
            "Infinity" => {
                head(out, 0, 0, PINF, 0);
                return Ok(IsNull::No);
            }
            "-Infinity" => {
                head(out, 0, 0, NINF, 0);
                return Ok(IsNull::No);
            }
            _ => {}
        }
        let (neg, body) = match self.0.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, self.0.as_str()),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let dscale = u16::try_from(frac.len()).map_err(|_| "numeric scale too large")?;
        let pad_int = (4 - int.len() % 4) % 4;
        let pad_frac = (4 - frac.len() % 4) % 4;
        let int_digits: String = "0".repeat(pad_int) + int;
        let frac_digits: String = frac.to_owned() + &"0".repeat(pad_frac);
        let group = |s: &str| -> Vec<u16> {
            s.as_bytes()
                .chunks(4)
                .map(|c| c.iter().fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0')))
                .collect()
        };
        let mut digits = group(&int_digits);
        let mut weight = digits.len() as i32 - 1;
        digits.extend(group(&frac_digits));
        let lead = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..lead);
        weight -= lead as i32;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            weight = 0;
        }
        let weight = i16::try_from(weight).map_err(|_| "numeric value out of range")?;
        let n = u16::try_from(digits.len()).map_err(|_| "numeric value too long")?;
        head(out, n, weight, if neg { NEG } else { POS }, dscale);
        for d in digits {
            out.put_u16(d);
        }
        Ok(IsNull::No)
    }

    accepts!(NUMERIC);
    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> String {
        let n: Numeric = s.parse().unwrap();
        let mut buf = BytesMut::new();
        n.to_sql(&Type::NUMERIC, &mut buf).unwrap();
        Numeric::from_sql(&Type::NUMERIC, &buf).unwrap().0
    }

    #[test]
    fn round_trips_in_binary() {
        for s in [
            "0",
            "1",
            "-1",
            "10000",
            "12345.6789",
            "0.0001",
            "-0.5",
            "123456789012345678901234567890.000000000000000000001",
            "1.10",
            "NaN",
            "Infinity",
            "-Infinity",
            "0.000",
        ] {
            assert_eq!(round_trip(s), s, "{s}");
        }
        assert_eq!(round_trip("-0.00"), "0.00");
        assert_eq!(round_trip("007.5"), "7.5");
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", ".", "1e5", "1.2.3", "--1", "abc"] {
            assert!(s.parse::<Numeric>().is_err(), "{s}");
        }
    }
}
