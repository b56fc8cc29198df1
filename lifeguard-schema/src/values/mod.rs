//! Rust value types for PostgreSQL types that the ecosystem crates do not cover: exact
//! `numeric` and `interval`.
//!
//! Both implement `postgres_types::ToSql` and `FromSql` in PostgreSQL's binary format.

mod interval;
mod numeric;

pub use interval::{Interval, IntervalOverflowError};
pub use numeric::{Numeric, ParseNumericError};
