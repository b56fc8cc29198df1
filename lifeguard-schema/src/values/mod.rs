//! Rust value types for PostgreSQL types that the ecosystem crates do not cover: exact
//! `numeric`, `interval`, and the text of user-declared types ([`Label`]).
//!
//! All implement `postgres_types::ToSql` and `FromSql` in PostgreSQL's binary format, and
//! serde's `Serialize`/`Deserialize` (a `numeric` as its decimal text, an `interval` as its
//! three fields), so entity models holding them serialize.

mod interval;
mod label;
mod numeric;

pub use interval::{Interval, IntervalOverflowError};
pub use label::Label;
pub use numeric::{Numeric, ParseNumericError};

impl serde::Serialize for Numeric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Numeric {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Numeric, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Interval {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Interval", 3)?;
        st.serialize_field("months", &self.months)?;
        st.serialize_field("days", &self.days)?;
        st.serialize_field("microseconds", &self.microseconds)?;
        st.end()
    }
}

impl<'de> serde::Deserialize<'de> for Interval {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Interval, D::Error> {
        // Read as a map of the three fields (missing ones are zero).
        let map = std::collections::BTreeMap::<String, i64>::deserialize(d)?;
        let field = |name: &str| map.get(name).copied().unwrap_or(0);
        let narrow = |name: &str| {
            i32::try_from(field(name))
                .map_err(|_| serde::de::Error::custom(format!("interval {name} out of range")))
        };
        Ok(Interval::new(
            narrow("months")?,
            narrow("days")?,
            field("microseconds"),
        ))
    }
}
