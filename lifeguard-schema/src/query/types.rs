//! Which Rust types read and write which SQL types.
//!
//! | SQL type | Rust type |
//! |---|---|
//! | `Bool` | `bool` |
//! | `Int2`, `Int4`, `Int8` | `i16`, `i32`, `i64` |
//! | `Float4`, `Float8` | `f32`, `f64` |
//! | `Numeric` | [`Numeric`](crate::values::Numeric) (exact decimal text) |
//! | `Text`, `Varchar` | `String` (and `&str` to write) |
//! | `Bytea` | `Vec<u8>` (and `&[u8]` to write) |
//! | `Date`, `Time`, `Timestamp` | `chrono::NaiveDate`, `NaiveTime`, `NaiveDateTime` |
//! | `Timestamptz` | `chrono::DateTime<Utc>` or `DateTime<FixedOffset>` |
//! | `Interval` | [`Interval`](crate::values::Interval) |
//! | `Uuid` | `uuid::Uuid` |
//! | `Json`, `Jsonb` | `serde_json::Value` |
//! | `Array<T>` | `Vec<R>` where `R` is `T`'s Rust type |
//! | `Nullable<T>` | `Option<R>` (and a plain `R` to write) |
//! | an enum declared with [`sql_enum!`](crate::sql_enum) | the enum itself |

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use postgres_types::ToSql;

use super::expr::{AsExpression, Bound};
use crate::sql_types::*;
use crate::values;

/// A Rust type that holds values of SQL type `ST`, both ways.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a value of SQL type `{ST}`",
    label = "this Rust type does not match the column's SQL type",
    note = "a nullable column (`Nullable<…>`) reads into `Option<…>`; see lifeguard_schema::query::types for the table of types"
)]
pub trait SqlCompatible<ST> {}

/// Implements the reading and writing traits for a Rust type of a SQL type; used by
/// [`sql_enum!`](crate::sql_enum).
#[doc(hidden)]
#[macro_export]
macro_rules! __lg_value_type {
    ($st:ty => $rust:ty) => {
        impl $crate::query::SqlCompatible<$st> for $rust {}
        impl $crate::query::Queryable<$st> for $rust {
            type Row = ($rust,);
            fn build(row: ($rust,)) -> Self {
                row.0
            }
        }
        impl $crate::query::AsExpression<$st> for $rust {
            type Expression = $crate::query::Bound<$st>;
            fn as_expression(self) -> Self::Expression {
                $crate::query::Bound::bind(self)
            }
        }
        impl $crate::query::AsExpression<$crate::sql_types::Nullable<$st>> for $rust {
            type Expression = $crate::query::Bound<$crate::sql_types::Nullable<$st>>;
            fn as_expression(self) -> Self::Expression {
                $crate::query::Bound::bind(self)
            }
        }
        impl<'a> $crate::query::AsExpression<$st> for &'a $rust {
            type Expression = $crate::query::Bound<$st>;
            fn as_expression(self) -> Self::Expression {
                $crate::query::Bound::bind(::core::clone::Clone::clone(self))
            }
        }
        impl<'a> $crate::query::AsExpression<$crate::sql_types::Nullable<$st>> for &'a $rust {
            type Expression = $crate::query::Bound<$crate::sql_types::Nullable<$st>>;
            fn as_expression(self) -> Self::Expression {
                $crate::query::Bound::bind(::core::clone::Clone::clone(self))
            }
        }
    };
}

macro_rules! value_types {
    ($($st:ty => $($rust:ty),+;)*) => {$($(
        crate::__lg_value_type!($st => $rust);
    )+)*};
}

value_types! {
    Bool => bool;
    Int2 => i16;
    Int4 => i32;
    Int8 => i64;
    Float4 => f32;
    Float8 => f64;
    crate::sql_types::Numeric => values::Numeric;
    Text => String;
    Varchar => String;
    Bytea => Vec<u8>;
    Date => NaiveDate;
    Time => NaiveTime;
    Timestamp => NaiveDateTime;
    Timestamptz => DateTime<Utc>, DateTime<FixedOffset>;
    crate::sql_types::Interval => values::Interval;
    Uuid => uuid::Uuid;
    Json => serde_json::Value;
    Jsonb => serde_json::Value;
}

macro_rules! borrowed {
    ($($st:ty => $rust:ty => $owned:ty;)*) => {$(
        impl<'a> AsExpression<$st> for &'a $rust {
            type Expression = Bound<$st>;
            fn as_expression(self) -> Bound<$st> {
                Bound::bind(<$owned>::from(self))
            }
        }
        impl<'a> AsExpression<Nullable<$st>> for &'a $rust {
            type Expression = Bound<Nullable<$st>>;
            fn as_expression(self) -> Bound<Nullable<$st>> {
                Bound::bind(<$owned>::from(self))
            }
        }
    )*};
}

borrowed! {
    Text => str => String;
    Varchar => str => String;
    Bytea => [u8] => Vec<u8>;
}

impl<T: SqlCompatible<ST>, ST> SqlCompatible<Nullable<ST>> for Option<T> {}
impl<T: SqlCompatible<ST>, ST> SqlCompatible<Array<ST>> for Vec<T> {}

impl<T, ST> AsExpression<Nullable<ST>> for Option<T>
where
    T: SqlCompatible<ST> + ToSql + Send + Sync + 'static,
{
    type Expression = Bound<Nullable<ST>>;
    fn as_expression(self) -> Bound<Nullable<ST>> {
        Bound::bind(self)
    }
}

impl<T, ST> AsExpression<Array<ST>> for Vec<T>
where
    T: SqlCompatible<ST> + ToSql + Send + Sync + 'static,
{
    type Expression = Bound<Array<ST>>;
    fn as_expression(self) -> Bound<Array<ST>> {
        Bound::bind(self)
    }
}

impl<T, ST> AsExpression<Nullable<Array<ST>>> for Vec<T>
where
    T: SqlCompatible<ST> + ToSql + Send + Sync + 'static,
{
    type Expression = Bound<Nullable<Array<ST>>>;
    fn as_expression(self) -> Bound<Nullable<Array<ST>>> {
        Bound::bind(self)
    }
}

impl<T, ST> AsExpression<Array<ST>> for &[T]
where
    T: SqlCompatible<ST> + ToSql + Clone + Send + Sync + 'static,
{
    type Expression = Bound<Array<ST>>;
    fn as_expression(self) -> Bound<Array<ST>> {
        Bound::bind(self.to_vec())
    }
}

impl<'a> AsExpression<Array<Text>> for &'a [&'a str] {
    type Expression = Bound<Array<Text>>;
    fn as_expression(self) -> Bound<Array<Text>> {
        Bound::bind(self.iter().map(|s| s.to_string()).collect::<Vec<String>>())
    }
}

/// A Rust type a result row of SQL types `ST` can be read into, by position: a single value,
/// a tuple (up to 16), or a struct declared with [`queryable!`](crate::queryable).
#[diagnostic::on_unimplemented(
    message = "a row of SQL type `{ST}` cannot be read into `{Self}`",
    label = "the Rust types must match the selected columns' SQL types, in order",
    note = "a nullable column (`Nullable<…>`) must be read into `Option<…>`"
)]
pub trait Queryable<ST>: Sized {
    /// The tuple of Rust values read from the row, in order.
    type Row;
    /// Makes the value from the row's values.
    fn build(row: Self::Row) -> Self;
}

impl<T: SqlCompatible<ST>, ST: SqlType> Queryable<Nullable<ST>> for Option<T> {
    type Row = (Option<T>,);
    fn build(row: (Option<T>,)) -> Option<T> {
        row.0
    }
}

impl<T: SqlCompatible<ST>, ST: SqlType> Queryable<Array<ST>> for Vec<T> {
    type Row = (Vec<T>,);
    fn build(row: (Vec<T>,)) -> Vec<T> {
        row.0
    }
}

macro_rules! tuple_queryable {
    ($($t:ident $st:ident),+) => {
        impl<$($t: SqlCompatible<$st>, $st),+> Queryable<($($st,)+)> for ($($t,)+) {
            type Row = ($($t,)+);
            fn build(row: Self::Row) -> Self {
                row
            }
        }
    };
}

tuple_queryable!(A SA);
tuple_queryable!(A SA, B SB);
tuple_queryable!(A SA, B SB, C SC);
tuple_queryable!(A SA, B SB, C SC, D SD);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH, I SI);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH, I SI, J SJ);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH, I SI, J SJ, K SK);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH, I SI, J SJ, K SK, L SL);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH, I SI, J SJ, K SK, L SL, M SM);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH, I SI, J SJ, K SK, L SL, M SM, N SN);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH, I SI, J SJ, K SK, L SL, M SM, N SN, O SO);
tuple_queryable!(A SA, B SB, C SC, D SD, E SE, F SF, G SG, H SH, I SI, J SJ, K SK, L SL, M SM, N SN, O SO, P SP);

/// Declares a struct that query results are read into, by position: its fields, in order,
/// must match the selected columns' SQL types (checked at compile time).
///
/// ```
/// lifeguard_schema::table! { users { id -> Int4, name -> Text, bio -> Nullable<Text>, } }
/// lifeguard_schema::queryable! {
///     #[derive(Debug)]
///     pub struct User {
///         pub id: i32,
///         pub name: String,
///         pub bio: Option<String>,
///     }
/// }
/// fn loads<U: lifeguard_schema::query::Queryable<users::SqlType>>() {}
/// loads::<User>();
/// ```
#[macro_export]
macro_rules! queryable {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),+ $(,)?
    }) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $ty,)+
        }

        impl<ST> $crate::query::Queryable<ST> for $name
        where
            ($($ty,)+): $crate::query::Queryable<ST>,
        {
            type Row = <($($ty,)+) as $crate::query::Queryable<ST>>::Row;
            fn build(row: Self::Row) -> Self {
                let ($($field,)+) = <($($ty,)+) as $crate::query::Queryable<ST>>::build(row);
                $name { $($field,)+ }
            }
        }
    };
}
