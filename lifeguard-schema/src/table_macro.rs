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
///
/// Beyond Diesel, attributes declare what migrations need, in words that read like the SQL
/// they mean. On a column: `#[default = "now()"]`, `#[identity = "always"]` (or
/// `"by default"`, or bare `#[identity]`), `#[generated = "price * qty"]` (stored),
/// `#[unique]`, `#[check = "price > 0"]`,
/// `#[references(table(column), on_delete = cascade, on_update = restrict,
/// deferrable = initially_deferred)]`, `#[renamed_from = "old_name"]`. On a table:
/// `#[unique(a, b)]` (optionally `name = "..."` first), `#[check("sql")]` (or
/// `check(name = "...", "sql")`), `#[index(on(a, "lower(b)"), unique, using = "gin",
/// include(c), where = "sql", name = "...")]`, `#[foreign_key((a, b) references table(x, y),
/// on_delete = set_null, name = "...")]`, `#[renamed_from = "old"]`. Doc comments are the
/// SQL comments, as in Diesel's `print-schema`. Column names in table attributes and
/// referenced tables and columns are Rust paths, so a typo does not compile; referenced
/// tables are siblings in the same module. An unknown attribute is a compile error:
///
/// ```compile_fail
/// lifeguard_schema::table! {
///     t (id) {
///         id -> Int4,
///         #[defualt = "1"] // error: table!: unknown column attribute `#[defualt = "1"]`
///         x -> Int4,
///     }
/// }
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
        $crate::__lg_table! { @tattrs [$($uses)*] [] $($rest)+ }
    };
    (@uses [$($uses:tt)*]) => {};

    // ---- table attributes: collected raw, read by the helpers below ----------------------
    (@tattrs $uses:tt [$($attrs:tt)*] #[$($attr:tt)*] $($rest:tt)*) => {
        $crate::__lg_table! { @tattrs $uses [$($attrs)* [$($attr)*]] $($rest)* }
    };

    // ---- header: [schema.]name [(primary key)] { columns } -----------------------------
    (@tattrs $uses:tt $attrs:tt
        $schema:ident . $name:ident ($($pk:ident),+ $(,)?) { $($body:tt)* } $($more:tt)*) => {
        $crate::__lg_table! { @cols [$uses $attrs [::core::option::Option::Some(stringify!($schema))] $name [$($pk)+]] [] $($body)* }
        $crate::__lg_table! { @uses $uses $($more)* }
    };
    (@tattrs $uses:tt $attrs:tt
        $schema:ident . $name:ident { $($body:tt)* } $($more:tt)*) => {
        $crate::__lg_table! { @cols [$uses $attrs [::core::option::Option::Some(stringify!($schema))] $name [id]] [] $($body)* }
        $crate::__lg_table! { @uses $uses $($more)* }
    };
    (@tattrs $uses:tt $attrs:tt
        $name:ident ($($pk:ident),+ $(,)?) { $($body:tt)* } $($more:tt)*) => {
        $crate::__lg_table! { @cols [$uses $attrs [::core::option::Option::None] $name [$($pk)+]] [] $($body)* }
        $crate::__lg_table! { @uses $uses $($more)* }
    };
    (@tattrs $uses:tt $attrs:tt
        $name:ident { $($body:tt)* } $($more:tt)*) => {
        $crate::__lg_table! { @cols [$uses $attrs [::core::option::Option::None] $name [id]] [] $($body)* }
        $crate::__lg_table! { @uses $uses $($more)* }
    };

    // ---- columns: one rule reads them all (no recursion per column) --------------------
    (@cols $ctx:tt [] $( $(#[$($attr:tt)*])* $col:ident -> $ty:ty ),* $(,)?) => {
        $crate::__lg_table! { @gen $ctx [$( {$col $ty [$( [$($attr)*] )*]} )*] }
    };

    // ---- the generated module ----------------------------------------------------------
    (@gen [[$($uses:tt)*] [$($tattr:tt)*] [$schema:expr] $name:ident [$($pk:ident)+]]
        [$({$col:ident $ty:ty [$($cattr:tt)*]})*]) => {
        #[allow(non_camel_case_types, non_upper_case_globals, dead_code, unused_imports)]
        pub mod $name {
            $crate::__lg_table! { @imports [$($uses)*] }

            /// The table itself (`FROM` target).
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct table;

            /// The table's name in SQL.
            pub const NAME: &str = $crate::__lg_table!(@sql_name [$($tattr)*] stringify!($name));
            /// The table's schema, if declared.
            pub const SCHEMA: ::core::option::Option<&str> = $schema;

            /// One unit type per column.
            pub mod columns {
                use super::*;
                $crate::__lg_table! { @check_table_attrs [$($tattr)*] }
                $(
                    $crate::__lg_table! { @check_col_attrs [$($cattr)*] }
                    $crate::__lg_table! { @colstruct [$($cattr)*] [] $col }

                    impl $crate::meta::Column for $col {
                        type Table = super::table;
                        type SqlType = $ty;
                        const NAME: &'static str = $crate::__lg_table!(@sql_name [$($cattr)*] stringify!($col));
                    }
                    $crate::__lg_column_expr!($col, $ty);
                    $crate::__lg_table! { @relation [$($cattr)*] $col }
                )*
            }
            pub use self::columns::*;

            /// Every column, in declaration order.
            pub const all_columns: ($(columns::$col,)*) = ($(columns::$col,)*);

            /// The SQL types of a whole row, in declaration order.
            pub type SqlType = ($($ty,)*);

            /// The declaration, readable at run time.
            pub static META: $crate::meta::TableMeta = $crate::meta::TableMeta {
                schema: SCHEMA,
                name: NAME,
                rust_name: stringify!($name),
                primary_key: &[$(<columns::$pk as $crate::meta::Column>::NAME),+],
                columns: &[$(
                    $crate::meta::ColumnMeta {
                        name: <columns::$col as $crate::meta::Column>::NAME,
                        rust_name: stringify!($col),
                        sql_type: <$ty as $crate::sql_types::SqlType>::DESC,
                        max_length: $crate::__lg_table!(@max_length [$($cattr)*]),
                        docs: $crate::__lg_table!(@docs [$($cattr)*] []),
                        default: $crate::__lg_table!(@default [$($cattr)*]),
                        identity: $crate::__lg_table!(@identity [$($cattr)*]),
                        generated: $crate::__lg_table!(@generated [$($cattr)*]),
                        unique: $crate::__lg_table!(@unique_col [$($cattr)*]),
                        check: $crate::__lg_table!(@check_col [$($cattr)*]),
                        references: $crate::__lg_table!(@references [$($cattr)*]),
                        renamed_from: $crate::__lg_table!(@renamed_from [$($cattr)*]),
                    },
                )*],
                docs: $crate::__lg_table!(@docs [$($tattr)*] []),
                renamed_from: $crate::__lg_table!(@renamed_from [$($tattr)*]),
                indexes: $crate::__lg_table!(@indexes [$($tattr)*] []),
                uniques: $crate::__lg_table!(@uniques [$($tattr)*] []),
                checks: $crate::__lg_table!(@checks [$($tattr)*] []),
                foreign_keys: $crate::__lg_table!(@foreign_keys [$($tattr)*] []),
            };

            impl $crate::meta::Table for table {
                type SqlType = self::SqlType;
                fn meta() -> &'static $crate::meta::TableMeta {
                    &META
                }
            }

            $crate::__lg_entity! { [$($tattr)*] $name [$($pk)+] [$({$col $ty [$($cattr)*]})*] }
        }
    };

    // ---- helpers: each reads one kind of attribute from a list `[[attr] [attr] ...]` ----
    (@imports []) => { use $crate::sql_types::*; };
    (@imports [$($uses:tt)+]) => { $($uses)+ };

    (@sql_name [] $default:expr) => { $default };
    (@sql_name [[sql_name = $name:literal] $($rest:tt)*] $default:expr) => { $name };
    (@sql_name [$other:tt $($rest:tt)*] $default:expr) => {
        $crate::__lg_table!(@sql_name [$($rest)*] $default)
    };

    (@max_length []) => { ::core::option::Option::None };
    (@max_length [[max_length = $n:literal] $($rest:tt)*]) => { ::core::option::Option::Some($n) };
    (@max_length [$other:tt $($rest:tt)*]) => { $crate::__lg_table!(@max_length [$($rest)*]) };

    (@docs [] [$($doc:literal)*]) => { &[$($doc),*] };
    (@docs [[doc = $doc:literal] $($rest:tt)*] [$($docs:literal)*]) => {
        $crate::__lg_table!(@docs [$($rest)*] [$($docs)* $doc])
    };
    (@docs [$other:tt $($rest:tt)*] $docs:tt) => { $crate::__lg_table!(@docs [$($rest)*] $docs) };

    (@default []) => { ::core::option::Option::None };
    (@default [[default = $sql:literal] $($rest:tt)*]) => { ::core::option::Option::Some($sql) };
    (@default [$other:tt $($rest:tt)*]) => { $crate::__lg_table!(@default [$($rest)*]) };

    (@identity []) => { ::core::option::Option::None };
    (@identity [[identity = "always"] $($rest:tt)*]) => {
        ::core::option::Option::Some($crate::meta::Identity::Always)
    };
    (@identity [[identity = "by default"] $($rest:tt)*]) => {
        ::core::option::Option::Some($crate::meta::Identity::ByDefault)
    };
    (@identity [[identity] $($rest:tt)*]) => {
        ::core::option::Option::Some($crate::meta::Identity::ByDefault)
    };
    (@identity [$other:tt $($rest:tt)*]) => { $crate::__lg_table!(@identity [$($rest)*]) };

    (@generated []) => { ::core::option::Option::None };
    (@generated [[generated = $sql:literal] $($rest:tt)*]) => { ::core::option::Option::Some($sql) };
    (@generated [$other:tt $($rest:tt)*]) => { $crate::__lg_table!(@generated [$($rest)*]) };

    (@unique_col []) => { false };
    (@unique_col [[unique] $($rest:tt)*]) => { true };
    (@unique_col [$other:tt $($rest:tt)*]) => { $crate::__lg_table!(@unique_col [$($rest)*]) };

    (@check_col []) => { ::core::option::Option::None };
    (@check_col [[check = $sql:literal] $($rest:tt)*]) => { ::core::option::Option::Some($sql) };
    (@check_col [$other:tt $($rest:tt)*]) => { $crate::__lg_table!(@check_col [$($rest)*]) };

    (@renamed_from []) => { ::core::option::Option::None };
    (@renamed_from [[renamed_from = $old:literal] $($rest:tt)*]) => {
        ::core::option::Option::Some($old)
    };
    (@renamed_from [$other:tt $($rest:tt)*]) => { $crate::__lg_table!(@renamed_from [$($rest)*]) };

    // `#[references(table(column), on_delete = cascade, ...)]` on a column.
    (@references []) => { ::core::option::Option::None };
    (@references [[references($table:ident ($column:ident) $(, $key:ident = $value:tt)* $(,)?)] $($rest:tt)*]) => {
        ::core::option::Option::Some($crate::meta::Reference {
            schema: super::$table::SCHEMA,
            table: super::$table::NAME,
            column: <super::$table::columns::$column as $crate::meta::Column>::NAME,
            on_delete: $crate::__lg_table!(@on_delete [$($key = $value)*]),
            on_update: $crate::__lg_table!(@on_update [$($key = $value)*]),
            deferrable: $crate::__lg_table!(@deferrable [$($key = $value)*]),
        })
    };
    (@references [$other:tt $($rest:tt)*]) => { $crate::__lg_table!(@references [$($rest)*]) };

    // A column's `#[references(...)]` is also a relation for joins.
    (@relation [] $col:ident) => {};
    (@relation [[references($table:ident ($column:ident) $(, $key:ident = $value:tt)* $(,)?)] $($rest:tt)*] $col:ident) => {
        impl $crate::meta::References for $col {
            type Target = super::super::$table::table;
            type TargetColumn = super::super::$table::columns::$column;
        }
    };
    (@relation [$other:tt $($rest:tt)*] $col:ident) => { $crate::__lg_table! { @relation [$($rest)*] $col } };

    // Options of a foreign key, in any order: `on_delete = cascade`, `on_update = set_null`,
    // `deferrable = initially_deferred`, `name = "fk_name"`.
    (@on_delete []) => { $crate::meta::FkAction::NoAction };
    (@on_delete [on_delete = $action:ident $($rest:tt)*]) => { $crate::__lg_table!(@action $action) };
    (@on_delete [$key:ident = $value:tt $($rest:tt)*]) => { $crate::__lg_table!(@on_delete [$($rest)*]) };
    (@on_update []) => { $crate::meta::FkAction::NoAction };
    (@on_update [on_update = $action:ident $($rest:tt)*]) => { $crate::__lg_table!(@action $action) };
    (@on_update [$key:ident = $value:tt $($rest:tt)*]) => { $crate::__lg_table!(@on_update [$($rest)*]) };
    (@deferrable []) => { $crate::meta::Deferrable::No };
    (@deferrable [deferrable = initially_deferred $($rest:tt)*]) => {
        $crate::meta::Deferrable::InitiallyDeferred
    };
    (@deferrable [deferrable = initially_immediate $($rest:tt)*]) => {
        $crate::meta::Deferrable::InitiallyImmediate
    };
    (@deferrable [$key:ident = $value:tt $($rest:tt)*]) => { $crate::__lg_table!(@deferrable [$($rest)*]) };
    (@fk_name []) => { ::core::option::Option::None };
    (@fk_name [name = $name:literal $($rest:tt)*]) => { ::core::option::Option::Some($name) };
    (@fk_name [$key:ident = $value:tt $($rest:tt)*]) => { $crate::__lg_table!(@fk_name [$($rest)*]) };
    (@action no_action) => { $crate::meta::FkAction::NoAction };
    (@action restrict) => { $crate::meta::FkAction::Restrict };
    (@action cascade) => { $crate::meta::FkAction::Cascade };
    (@action set_null) => { $crate::meta::FkAction::SetNull };
    (@action set_default) => { $crate::meta::FkAction::SetDefault };

    // Table-level lists.
    (@key $column:ident) => { <columns::$column as $crate::meta::Column>::NAME };
    (@key $expr:literal) => { $expr };

    (@indexes [] [$($done:expr,)*]) => { &[$($done),*] };
    (@indexes [[index($($opt:tt)*)] $($rest:tt)*] [$($done:expr,)*]) => {
        $crate::__lg_table!(@indexes [$($rest)*] [$($done,)* $crate::__lg_table!(@index [$($opt)*] [] [] [false] [] [] []),])
    };
    (@indexes [$other:tt $($rest:tt)*] $done:tt) => { $crate::__lg_table!(@indexes [$($rest)*] $done) };
    // One `#[index(on(a, "lower(b)"), unique, using = "gin", include(c), where = "...", name = "...")]`.
    (@index [] [$($name:tt)*] [$($key:tt)*] [$unique:expr] [$($method:tt)*] [$($inc:ident)*] [$($pred:tt)*]) => {
        $crate::meta::IndexMeta {
            name: $crate::__lg_table!(@opt [$($name)*]),
            keys: &[$($crate::__lg_table!(@key $key)),*],
            unique: $unique,
            method: $crate::__lg_table!(@opt [$($method)*]),
            include: &[$(<columns::$inc as $crate::meta::Column>::NAME),*],
            predicate: $crate::__lg_table!(@opt [$($pred)*]),
        }
    };
    (@index [on($($k:tt),+ $(,)?) $(, $($rest:tt)*)?] $name:tt [] $u:tt $m:tt $i:tt $p:tt) => {
        $crate::__lg_table!(@index [$($($rest)*)?] $name [$($k)+] $u $m $i $p)
    };
    (@index [unique $(, $($rest:tt)*)?] $name:tt $k:tt [$u:expr] $m:tt $i:tt $p:tt) => {
        $crate::__lg_table!(@index [$($($rest)*)?] $name $k [true] $m $i $p)
    };
    (@index [using = $method:literal $(, $($rest:tt)*)?] $name:tt $k:tt $u:tt [] $i:tt $p:tt) => {
        $crate::__lg_table!(@index [$($($rest)*)?] $name $k $u [$method] $i $p)
    };
    (@index [include($($c:ident),+ $(,)?) $(, $($rest:tt)*)?] $name:tt $k:tt $u:tt $m:tt [] $p:tt) => {
        $crate::__lg_table!(@index [$($($rest)*)?] $name $k $u $m [$($c)+] $p)
    };
    (@index [where = $pred:literal $(, $($rest:tt)*)?] $name:tt $k:tt $u:tt $m:tt $i:tt []) => {
        $crate::__lg_table!(@index [$($($rest)*)?] $name $k $u $m $i [$pred])
    };
    (@index [name = $n:literal $(, $($rest:tt)*)?] [] $k:tt $u:tt $m:tt $i:tt $p:tt) => {
        $crate::__lg_table!(@index [$($($rest)*)?] [$n] $k $u $m $i $p)
    };
    (@opt []) => { ::core::option::Option::None };
    (@opt [$value:literal]) => { ::core::option::Option::Some($value) };

    (@uniques [] [$($done:expr,)*]) => { &[$($done),*] };
    (@uniques [[unique(name = $n:literal, $($c:ident),+ $(,)?)] $($rest:tt)*] [$($done:expr,)*]) => {
        $crate::__lg_table!(@uniques [$($rest)*] [$($done,)* $crate::meta::UniqueMeta {
            name: ::core::option::Option::Some($n),
            columns: &[$(<columns::$c as $crate::meta::Column>::NAME),+],
        },])
    };
    (@uniques [[unique($($c:ident),+ $(,)?)] $($rest:tt)*] [$($done:expr,)*]) => {
        $crate::__lg_table!(@uniques [$($rest)*] [$($done,)* $crate::meta::UniqueMeta {
            name: ::core::option::Option::None,
            columns: &[$(<columns::$c as $crate::meta::Column>::NAME),+],
        },])
    };
    (@uniques [$other:tt $($rest:tt)*] $done:tt) => { $crate::__lg_table!(@uniques [$($rest)*] $done) };

    (@checks [] [$($done:expr,)*]) => { &[$($done),*] };
    (@checks [[check(name = $n:literal, $sql:literal $(,)?)] $($rest:tt)*] [$($done:expr,)*]) => {
        $crate::__lg_table!(@checks [$($rest)*] [$($done,)* $crate::meta::CheckMeta {
            name: ::core::option::Option::Some($n),
            expr: $sql,
        },])
    };
    (@checks [[check($sql:literal $(,)?)] $($rest:tt)*] [$($done:expr,)*]) => {
        $crate::__lg_table!(@checks [$($rest)*] [$($done,)* $crate::meta::CheckMeta {
            name: ::core::option::Option::None,
            expr: $sql,
        },])
    };
    (@checks [$other:tt $($rest:tt)*] $done:tt) => { $crate::__lg_table!(@checks [$($rest)*] $done) };

    // `#[foreign_key((a, b) references table(x, y), on_delete = cascade, name = "fk")]`.
    (@foreign_keys [] [$($done:expr,)*]) => { &[$($done),*] };
    (@foreign_keys [[foreign_key(($($c:ident),+ $(,)?) references $table:ident ($($rc:ident),+ $(,)?) $(, $key:ident = $value:tt)* $(,)?)] $($rest:tt)*] [$($done:expr,)*]) => {
        $crate::__lg_table!(@foreign_keys [$($rest)*] [$($done,)* $crate::meta::ForeignKeyMeta {
            name: $crate::__lg_table!(@fk_name [$($key = $value)*]),
            columns: &[$(<columns::$c as $crate::meta::Column>::NAME),+],
            ref_schema: super::$table::SCHEMA,
            ref_table: super::$table::NAME,
            ref_columns: &[$(<super::$table::columns::$rc as $crate::meta::Column>::NAME),+],
            on_delete: $crate::__lg_table!(@on_delete [$($key = $value)*]),
            on_update: $crate::__lg_table!(@on_update [$($key = $value)*]),
            deferrable: $crate::__lg_table!(@deferrable [$($key = $value)*]),
        },])
    };
    (@foreign_keys [$other:tt $($rest:tt)*] $done:tt) => { $crate::__lg_table!(@foreign_keys [$($rest)*] $done) };

    // Unknown or malformed attributes are compile errors, not silently ignored.
    (@check_col_attrs []) => {};
    (@check_col_attrs [[sql_name = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[max_length = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[doc = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[default = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[identity = "always"] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[identity = "by default"] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[identity] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[generated = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[unique] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[check = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[references($($v:tt)*)] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[renamed_from = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[validate($($v:tt)*)] $($rest:tt)*]) => { $crate::__lg_table!{@check_col_attrs [$($rest)*]} };
    (@check_col_attrs [[$($other:tt)*] $($rest:tt)*]) => {
        ::core::compile_error!(concat!(
            "table!: unknown column attribute `#[", stringify!($($other)*),
            "]`; expected sql_name, max_length, default, identity (= \"always\" | \"by default\"), ",
            "generated, unique, check, references(table(column), ...), renamed_from or validate(...)"
        ));
    };
    (@check_table_attrs []) => {};
    (@check_table_attrs [[sql_name = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[doc = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[renamed_from = $v:literal] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[unique($($v:tt)*)] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[check($($v:tt)*)] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[index($($v:tt)*)] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[foreign_key($($v:tt)*)] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[soft_delete($c:ident)] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[timestamps($c:ident, $u:ident $(,)?)] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[hooks] $($rest:tt)*]) => { $crate::__lg_table!{@check_table_attrs [$($rest)*]} };
    (@check_table_attrs [[$($other:tt)*] $($rest:tt)*]) => {
        ::core::compile_error!(concat!(
            "table!: unknown table attribute `#[", stringify!($($other)*),
            "]`; expected sql_name, renamed_from, unique(...), check(...), index(...), foreign_key(...), ",
            "soft_delete(column), timestamps(created, updated) or hooks"
        ));
    };

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

/// Declares that `child` joins `parent` through `child.fk`, which references the parent's
/// primary key (Diesel's syntax): `joinable!(posts -> users (author_id));`.
///
/// ```
/// lifeguard_schema::table! { users { id -> Int4, } }
/// lifeguard_schema::table! { posts { id -> Int4, author_id -> Int4, } }
/// lifeguard_schema::joinable!(posts -> users (author_id));
///
/// use lifeguard_schema::meta::{Column, JoinTo};
/// fn fk<C: JoinTo<P>, P: lifeguard_schema::meta::Table>() -> &'static str {
///     <C::ForeignKey as Column>::NAME
/// }
/// assert_eq!(fk::<posts::table, users::table>(), "author_id");
/// ```
#[macro_export]
macro_rules! joinable {
    ($child:ident -> $parent:ident ($fk:ident)) => {
        impl $crate::meta::JoinTo<$parent::table> for $child::table {
            type ForeignKey = $child::$fk;
        }
    };
}

/// Accepted for Diesel compatibility, and expands to nothing: Lifeguard does not need a
/// declaration per pair of tables (which grows with the square of the table count). A
/// query's columns are checked against the tables the query itself names.
#[macro_export]
macro_rules! allow_tables_to_appear_in_same_query {
    ($($table:ident),* $(,)?) => {};
}
