//! SQL type markers for column declarations: `id -> Int4`, `email -> Nullable<Text>`,
//! `tags -> Array<Text>`. Each marker knows, at compile time, the PostgreSQL type it stands
//! for ([`SqlType::DESC`]). The names are Diesel's, so a Diesel `schema.rs` reads unchanged.

use std::marker::PhantomData;

/// A PostgreSQL type as a column declares it: the base type's name, whether the column is
/// nullable, and how many array dimensions wrap the base type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TypeDesc {
    /// The base type as PostgreSQL names it (`int4`, `text`, `timestamptz`, or a user
    /// enum's name).
    pub name: &'static str,
    /// `Nullable<…>` at the outside.
    pub nullable: bool,
    /// `Array<…>` levels around the base type (0 for scalars).
    pub array_dims: u8,
    /// The labels of a PostgreSQL enum declared with [`sql_enum!`](crate::sql_enum), in
    /// order; empty for every other type.
    pub enum_labels: &'static [&'static str],
}

impl TypeDesc {
    /// The type as SQL writes it, without nullability: `int4`, `text[]`.
    pub fn sql(&self) -> String {
        let mut s = self.name.to_owned();
        for _ in 0..self.array_dims {
            s.push_str("[]");
        }
        s
    }
}

/// A SQL type marker.
pub trait SqlType {
    /// What the marker stands for.
    const DESC: TypeDesc;
    /// The type without `Nullable` (`Nullable<Int4>` gives `Int4`; `Int4` itself).
    type NotNull: SqlType;
    /// The type with `Nullable` (`Int4` gives `Nullable<Int4>`; `Nullable<Int4>` itself).
    type IntoNullable: SqlType;
    /// The Rust type an entity model's field of this SQL type has (`Int4` gives `i32`,
    /// `Nullable<Text>` gives `Option<String>`, `Array<Int8>` gives `Vec<i64>`).
    type Rust;
}

macro_rules! base_types {
    ($($(#[$doc:meta])* $ty:ident => $name:literal => $rust:ty,)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct $ty;

            impl SqlType for $ty {
                const DESC: TypeDesc =
                    TypeDesc { name: $name, nullable: false, array_dims: 0, enum_labels: &[] };
                type NotNull = Self;
                type IntoNullable = Nullable<Self>;
                type Rust = $rust;
            }
        )*
    };
}

base_types! {
    /// `boolean`.
    Bool => "bool" => bool,
    /// `smallint`.
    Int2 => "int2" => i16,
    /// `integer`.
    Int4 => "int4" => i32,
    /// `bigint`.
    Int8 => "int8" => i64,
    /// `real`.
    Float4 => "float4" => f32,
    /// `double precision`.
    Float8 => "float8" => f64,
    /// `numeric` (exact decimal).
    Numeric => "numeric" => crate::values::Numeric,
    /// `text`.
    Text => "text" => String,
    /// `varchar`; `#[max_length = n]` on the column gives `varchar(n)`.
    Varchar => "varchar" => String,
    /// `bytea`.
    Bytea => "bytea" => Vec<u8>,
    /// `date`.
    Date => "date" => chrono::NaiveDate,
    /// `time` (without time zone).
    Time => "time" => chrono::NaiveTime,
    /// `timestamp` (without time zone).
    Timestamp => "timestamp" => chrono::NaiveDateTime,
    /// `timestamptz`.
    Timestamptz => "timestamptz" => chrono::DateTime<chrono::Utc>,
    /// `interval`.
    Interval => "interval" => crate::values::Interval,
    /// `uuid`.
    Uuid => "uuid" => uuid::Uuid,
    /// `json`.
    Json => "json" => serde_json::Value,
    /// `jsonb`.
    Jsonb => "jsonb" => serde_json::Value,
}

/// Diesel's aliases, so its `schema.rs` files read unchanged.
pub type SmallInt = Int2;
/// Alias of [`Int4`].
pub type Integer = Int4;
/// Alias of [`Int8`].
pub type BigInt = Int8;
/// Alias of [`Float4`].
pub type Float = Float4;
/// Alias of [`Float8`].
pub type Double = Float8;
/// Alias of [`Numeric`].
pub type Decimal = Numeric;
/// Alias of [`Bytea`].
pub type Binary = Bytea;
/// Alias of [`Varchar`].
pub type VarChar = Varchar;

/// A column that may be NULL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Nullable<T>(PhantomData<T>);

impl<T: SqlType> SqlType for Nullable<T> {
    const DESC: TypeDesc = TypeDesc {
        nullable: true,
        ..T::DESC
    };
    type NotNull = T::NotNull;
    type IntoNullable = Self;
    type Rust = Option<T::Rust>;
}

/// A PostgreSQL array of `T` (its elements may be NULL, as in every PostgreSQL array).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Array<T>(PhantomData<T>);

impl<T: SqlType> SqlType for Array<T> {
    const DESC: TypeDesc = TypeDesc {
        name: T::DESC.name,
        nullable: false,
        array_dims: T::DESC.array_dims + 1,
        enum_labels: T::DESC.enum_labels,
    };
    type NotNull = Self;
    type IntoNullable = Nullable<Self>;
    type Rust = Vec<T::Rust>;
}

/// Declares a marker for a PostgreSQL enum (or other user type) by its SQL name.
///
/// An entity model reads such a column as [`Label`](crate::values::Label), the value's text
/// (an enum's label); declare the enum with [`sql_enum!`](crate::sql_enum) instead to read it
/// as a Rust enum.
///
/// ```
/// lifeguard_schema::sql_type!(
///     /// The `mood` enum.
///     Mood = "mood"
/// );
/// use lifeguard_schema::sql_types::SqlType;
/// assert_eq!(Mood::DESC.name, "mood");
/// ```
#[macro_export]
macro_rules! sql_type {
    ($(#[$doc:meta])* $ty:ident = $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $ty;

        impl $crate::sql_types::SqlType for $ty {
            const DESC: $crate::sql_types::TypeDesc = $crate::sql_types::TypeDesc {
                name: $name,
                nullable: false,
                array_dims: 0,
                enum_labels: &[],
            };
            type NotNull = Self;
            type IntoNullable = $crate::sql_types::Nullable<Self>;
            type Rust = $crate::values::Label;
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_compose() {
        assert_eq!(Int4::DESC.sql(), "int4");
        let int4 = Int4::DESC;
        assert!(!int4.nullable);
        let t = <Nullable<Array<Text>>>::DESC;
        assert!(t.nullable);
        assert_eq!(t.sql(), "text[]");
        assert_eq!(<Array<Array<Int8>>>::DESC.sql(), "int8[][]");
        let array = <Array<Nullable<Int4>>>::DESC;
        assert!(
            !array.nullable,
            "an array column is NOT NULL unless wrapped in Nullable"
        );
        assert_eq!(<Integer>::DESC, Int4::DESC);
    }
}
