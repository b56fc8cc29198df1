//! The `table!` macro: Diesel 2.x's declaration syntax, read by a `macro_rules!` muncher.
//!
//! Stages (internal rules of `__lg_table!`): `@uses` collects `use` lines (none means
//! `use lifeguard_schema::sql_types::*`, as in Diesel); `@tattrs` the table's attributes
//! (`#[sql_name]`, doc comments); the header gives the optional schema, the name and the
//! primary key (default `id`); `@cols` reads every `name -> Type` with its attributes in one
//! step, so long tables do not approach the recursion limit; `@gen` writes the module, with
//! small helpers reading each column's `#[sql_name]`, `#[max_length]` and doc comments.
//! Several tables may follow one another in one invocation.

/// Declares a table (Diesel's `table!` syntax), generating a module with a `table` type, one
/// unit type per column carrying its SQL type, `all_columns`, `SqlType` (the row's SQL
/// types) and `META`, the declaration readable at run time.
///
/// ```
/// lifeguard_schema::table! {
///     use lifeguard_schema::sql_types::*;
///
///     /// Registered users.
///     users (id) {
///         id -> Int8,
///         #[max_length = 255]
///         email -> Varchar,
///         #[sql_name = "type"]
///         kind -> Text,
///         nickname -> Nullable<Text>,
///         tags -> Array<Text>,
///     }
/// }
///
/// use lifeguard_schema::meta::{Column, Table};
/// assert_eq!(users::table::meta().name, "users");
/// assert_eq!(<users::kind as Column>::NAME, "type");
/// let email = users::META.column("email").unwrap();
/// assert_eq!(email.sql_type_text(), "varchar(255)");
/// assert!(users::META.column("nickname").unwrap().nullable());
/// assert_eq!(users::META.primary_key, &["id"]);
/// ```
#[macro_export]
macro_rules! table {
    ($($tokens:tt)*) => {
        $crate::__lg_table! { @uses [] $($tokens)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __lg_table {
    // ---- `use` lines -------------------------------------------------------------------
    (@uses [$($uses:tt)*] use $($rest:tt)*) => {
        $crate::__lg_table! { @use [$($uses)*] [use] $($rest)* }
    };
    (@use [$($uses:tt)*] [$($cur:tt)*] ; $($rest:tt)*) => {
        $crate::__lg_table! { @uses [$($uses)* $($cur)* ;] $($rest)* }
    };
    (@use [$($uses:tt)*] [$($cur:tt)*] $t:tt $($rest:tt)*) => {
        $crate::__lg_table! { @use [$($uses)*] [$($cur)* $t] $($rest)* }
    };
    (@uses [$($uses:tt)*] $($rest:tt)+) => {
        $crate::__lg_table! { @tattrs [$($uses)*] [] [] $($rest)+ }
    };
    (@uses [$($uses:tt)*]) => {};

    // ---- table attributes --------------------------------------------------------------
    (@tattrs $uses:tt [$($sql:tt)*] $attrs:tt #[sql_name = $name:literal] $($rest:tt)*) => {
        $crate::__lg_table! { @tattrs $uses [$name] $attrs $($rest)* }
    };
    (@tattrs $uses:tt $sql:tt [$($attrs:tt)*] #[$meta:meta] $($rest:tt)*) => {
        $crate::__lg_table! { @tattrs $uses $sql [$($attrs)* #[$meta]] $($rest)* }
    };

    // ---- header: [schema.]name [(primary key)] { columns } -----------------------------
    (@tattrs $uses:tt $sql:tt $attrs:tt
        $schema:ident . $name:ident ($($pk:ident),+ $(,)?) { $($body:tt)* } $($more:tt)*) => {
        $crate::__lg_table! { @cols [$uses $sql $attrs [::core::option::Option::Some(stringify!($schema))] $name [$($pk)+]] [] $($body)* }
        $crate::__lg_table! { @uses $uses $($more)* }
    };
    (@tattrs $uses:tt $sql:tt $attrs:tt
        $schema:ident . $name:ident { $($body:tt)* } $($more:tt)*) => {
        $crate::__lg_table! { @cols [$uses $sql $attrs [::core::option::Option::Some(stringify!($schema))] $name [id]] [] $($body)* }
        $crate::__lg_table! { @uses $uses $($more)* }
    };
    (@tattrs $uses:tt $sql:tt $attrs:tt
        $name:ident ($($pk:ident),+ $(,)?) { $($body:tt)* } $($more:tt)*) => {
        $crate::__lg_table! { @cols [$uses $sql $attrs [::core::option::Option::None] $name [$($pk)+]] [] $($body)* }
        $crate::__lg_table! { @uses $uses $($more)* }
    };
    (@tattrs $uses:tt $sql:tt $attrs:tt
        $name:ident { $($body:tt)* } $($more:tt)*) => {
        $crate::__lg_table! { @cols [$uses $sql $attrs [::core::option::Option::None] $name [id]] [] $($body)* }
        $crate::__lg_table! { @uses $uses $($more)* }
    };

    // ---- columns: one rule reads them all (no recursion per column) --------------------
    (@cols $ctx:tt [] $( $(#[$($attr:tt)*])* $col:ident -> $ty:ty ),* $(,)?) => {
        $crate::__lg_table! { @gen $ctx [$( {$col $ty [$( [$($attr)*] )*]} )*] }
    };

    // ---- the generated module ----------------------------------------------------------
    (@gen [[$($uses:tt)*] [$($tsql:tt)*] [$($tattrs:tt)*] [$schema:expr] $name:ident [$($pk:ident)+]]
        [$({$col:ident $ty:ty [$($cattr:tt)*]})*]) => {
        $($tattrs)*
        #[allow(non_camel_case_types, non_upper_case_globals, dead_code, unused_imports)]
        pub mod $name {
            $crate::__lg_table! { @imports [$($uses)*] }

            /// The table itself (`FROM` target).
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct table;

            /// One unit type per column.
            pub mod columns {
                use super::*;
                $(
                    $crate::__lg_table! { @colstruct [$($cattr)*] [] $col }

                    impl $crate::meta::Column for $col {
                        type Table = super::table;
                        type SqlType = $ty;
                        const NAME: &'static str = $crate::__lg_table!(@colname [$($cattr)*] $col);
                    }
                )*
            }
            pub use self::columns::*;

            /// Every column, in declaration order.
            pub const all_columns: ($(columns::$col,)*) = ($(columns::$col,)*);

            /// The SQL types of a whole row, in declaration order.
            pub type SqlType = ($($ty,)*);

            /// The declaration, readable at run time.
            pub static META: $crate::meta::TableMeta = $crate::meta::TableMeta {
                schema: $schema,
                name: $crate::__lg_table!(@or [$($tsql)*] stringify!($name)),
                rust_name: stringify!($name),
                primary_key: &[$(<columns::$pk as $crate::meta::Column>::NAME),+],
                columns: &[$(
                    $crate::meta::ColumnMeta {
                        name: <columns::$col as $crate::meta::Column>::NAME,
                        rust_name: stringify!($col),
                        sql_type: <$ty as $crate::sql_types::SqlType>::DESC,
                        max_length: $crate::__lg_table!(@collen [$($cattr)*]),
                    },
                )*],
            };

            impl $crate::meta::Table for table {
                fn meta() -> &'static $crate::meta::TableMeta {
                    &META
                }
            }
        }
    };

    // ---- helpers -----------------------------------------------------------------------
    (@or [] $default:expr) => { $default };
    (@or [$value:literal] $default:expr) => { $value };
    (@imports []) => { use $crate::sql_types::*; };
    (@imports [$($uses:tt)+]) => { $($uses)+ };
    (@colname [] $col:ident) => { stringify!($col) };
    (@colname [[sql_name = $name:literal] $($rest:tt)*] $col:ident) => { $name };
    (@colname [[$($other:tt)*] $($rest:tt)*] $col:ident) => {
        $crate::__lg_table!(@colname [$($rest)*] $col)
    };
    (@collen []) => { ::core::option::Option::None };
    (@collen [[max_length = $n:literal] $($rest:tt)*]) => { ::core::option::Option::Some($n) };
    (@collen [[$($other:tt)*] $($rest:tt)*]) => { $crate::__lg_table!(@collen [$($rest)*]) };
    // A column's unit type, with its doc comments (its other attributes are the macro's).
    (@colstruct [] [$($docs:tt)*] $col:ident) => {
        $($docs)*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $col;
    };
    (@colstruct [[doc = $doc:literal] $($rest:tt)*] [$($docs:tt)*] $col:ident) => {
        $crate::__lg_table! { @colstruct [$($rest)*] [$($docs)* #[doc = $doc]] $col }
    };
    (@colstruct [[$($other:tt)*] $($rest:tt)*] $docs:tt $col:ident) => {
        $crate::__lg_table! { @colstruct [$($rest)*] $docs $col }
    };
}
