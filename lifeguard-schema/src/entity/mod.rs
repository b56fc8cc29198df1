//! The entity layer's pure half: what `table!` generates for each table besides its columns
//! (the [`Model`](Entity::Model) row struct, the [`Record`] change set, the key), and the SQL
//! the entity operations run. Executing them is `lifeguard::entity`.
//!
//! ```
//! lifeguard_schema::table! {
//!     users (id) {
//!         id -> Int8,
//!         name -> Text,
//!         bio -> Nullable<Text>,
//!     }
//! }
//!
//! // A row: plain public fields, typed from the declaration.
//! let ann = users::Model { id: 1, name: "ann".into(), bio: None };
//! // A change set: every field is unset, unchanged or set.
//! let mut rec = users::Record::from_model(ann.clone());
//! assert!(!lifeguard_schema::entity::Record::is_changed(&rec));
//! rec.bio.set(Some("hi".to_string()));
//! assert!(lifeguard_schema::entity::Record::is_changed(&rec));
//! ```

mod find;
mod macros;
mod relation;
pub mod validate;
mod write;

use std::fmt;
use std::hash::Hash;

use postgres_types::FromSql;

use crate::meta::{Column, Table};
use crate::query::BoundValue;
use crate::sql_types::SqlType;

pub use find::{Cursor, Deleted, Find, FindAlso, FindById, FindPartial, InsertMany};
pub use relation::{
    ChildToParent, KeyPart, ParentToChild, Related, Relation, ViaJoin, children_of, linked_to,
    loader_sql, many_to_many_sql, parent_of,
};
pub use validate::{FieldError, ValidationErrors};
pub use write::{
    DeleteMany, RecordWrite, UpdateMany, delete_by_key_sql, insert_many_sql, insert_sql,
    restore_sql, save_sql, select_by_key, update_sql,
};

/// The Rust type a column's values have in a model (`RustOf<users::id>` is `i64` for an
/// `Int8` column).
pub type RustOf<C> = <<C as Column>::SqlType as SqlType>::Rust;

/// The model of a record type.
pub type ModelOf<R> = <<R as Record>::Entity as Entity>::Model;

/// Reads a result row's columns in order (implemented by `lifeguard`'s rows).
pub trait ReadColumns {
    /// The error a failed read gives.
    type Error;
    /// Reads the next column as `T`.
    fn read<T: for<'a> FromSql<'a>>(&mut self) -> Result<T, Self::Error>;
    /// Whether the next column is NULL (without reading it).
    fn next_is_null(&self) -> bool;
    /// Skips `n` columns.
    fn skip(&mut self, n: usize);
}

/// A value read from consecutive columns of a row: a model, a partial model.
pub trait FromColumns: Sized {
    /// How many columns it reads.
    const WIDTH: usize;
    /// Reads its columns from the reader's position on.
    fn from_columns<R: ReadColumns>(r: &mut R) -> Result<Self, R::Error>;
}

/// The row type a [`FromColumns`] value is decoded through (used by `Queryable` impls).
#[derive(Debug, Clone, PartialEq)]
pub struct Columns<T>(pub T);

/// A column whose value a model holds in a field (generated for every column).
pub trait ModelField: Column<Table: Entity> {
    /// The field's value.
    fn get(model: &<Self::Table as Entity>::Model) -> &RustOf<Self>;
}

/// Entity behaviour declared on the table: soft deletes and managed timestamps (column
/// names, in SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behavior {
    /// `#[soft_delete(column)]`: deleting sets this column to `now()`; queries skip rows
    /// where it is set.
    pub soft_delete: Option<&'static str>,
    /// `#[timestamps(created, updated)]`: set to `now()` on insert unless given.
    pub created_at: Option<&'static str>,
    /// `#[timestamps(created, updated)]`: set to `now()` on insert and on every update that
    /// changes something, unless given.
    pub updated_at: Option<&'static str>,
}

/// A table with an entity layer (every table `table!` declares).
pub trait Entity: Table + Copy + Default + Send + Sync + 'static {
    /// The row struct (`users::Model`).
    type Model: FromColumns
        + EntityModel<Entity = Self>
        + Clone
        + fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static;
    /// The change set (`users::Record`).
    type Record: Record<Entity = Self> + Hooks;
    /// The primary key's value: the column's Rust type, or a tuple for a composite key.
    type Key: Clone + fmt::Debug + serde::Serialize + Send + Sync + 'static;
    /// Soft deletes and timestamps.
    const BEHAVIOR: Behavior;
    /// The model's key.
    fn key_of(model: &Self::Model) -> Self::Key;
    /// The key's values, in primary-key order, for binding.
    fn key_values(key: &Self::Key, out: &mut Vec<BoundValue>);
}

/// A table's model (`users::Model`), knowing its table.
pub trait EntityModel: Sized {
    /// The table.
    type Entity: Entity<Model = Self>;
}

/// A table whose primary key is one column (what `find_related` through `joinable!` needs).
pub trait SinglePrimaryKey: Entity {
    /// The key column.
    type KeyColumn: ModelField + Column<Table = Self>;
}

/// One field of a [`Record`]: not given, loaded and unchanged, or set (to be written).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    /// Not given: an insert leaves the column to its default, an update does not touch it.
    #[default]
    Unset,
    /// Loaded from the database and not changed since.
    Unchanged(T),
    /// Set: written by the next insert, update or save.
    Set(T),
}

impl<T> Field<T> {
    /// Sets the value (marks the field changed, even if the value is the same).
    pub fn set(&mut self, value: impl Into<T>) {
        *self = Field::Set(value.into());
    }

    /// The value, set or unchanged.
    pub fn get(&self) -> Option<&T> {
        match self {
            Field::Unset => None,
            Field::Unchanged(v) | Field::Set(v) => Some(v),
        }
    }

    /// Whether the field is set (will be written).
    pub fn is_set(&self) -> bool {
        matches!(self, Field::Set(_))
    }

    /// Forgets the value.
    pub fn unset(&mut self) {
        *self = Field::Unset;
    }
}

/// A change set of one table's row (`users::Record`), generated by `table!`.
pub trait Record: Default + Clone + fmt::Debug + Send + Sync + 'static {
    /// The table.
    type Entity: Entity<Record = Self>;
    /// A record of `model`'s values, all unchanged (to edit an existing row).
    fn from_model(model: ModelOf<Self>) -> Self;
    /// The set fields, as (column index, value).
    fn changes(&self, out: &mut Vec<(usize, BoundValue)>);
    /// The set and unchanged fields, as (column index, value).
    fn present(&self, out: &mut Vec<(usize, BoundValue)>);
    /// The primary key, when every key field is set or unchanged.
    fn key(&self) -> Option<<Self::Entity as Entity>::Key>;
    /// Whether any field is set.
    fn is_changed(&self) -> bool;
    /// Runs the validators declared on the columns (`#[validate(…)]`, `#[max_length]`)
    /// on the set fields.
    fn validate_fields(&self, errors: &mut ValidationErrors);
    /// Marks every field unchanged with the values of `model` (after a write).
    fn reset(&mut self, model: &ModelOf<Self>);
}

/// Why a hook refused an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookError(pub String);

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HookError {}

impl From<&str> for HookError {
    fn from(s: &str) -> HookError {
        HookError(s.to_owned())
    }
}

impl From<String> for HookError {
    fn from(s: String) -> HookError {
        HookError(s)
    }
}

/// Hooks and model-level validation of a table's records. Every method does nothing by
/// default; `table!` implements this for `Record` unless the table says `#[hooks]`, in
/// which case the application implements it:
///
/// ```
/// use lifeguard_schema::entity::{HookError, Hooks, ValidationErrors};
///
/// lifeguard_schema::table! {
///     #[hooks]
///     users (id) { id -> Int8, name -> Text, }
/// }
///
/// impl Hooks for users::Record {
///     fn before_insert(&mut self) -> Result<(), HookError> {
///         if let Some(name) = self.name.get() {
///             let trimmed = name.trim().to_string();
///             self.name.set(trimmed);
///         }
///         Ok(())
///     }
///     fn validate(&self, errors: &mut ValidationErrors) {
///         if self.name.get().is_some_and(|n| n == "root") {
///             errors.add("name", "is reserved");
///         }
///     }
/// }
/// ```
///
/// Order of an insert: `before_insert`, validation (fields, then [`validate`](Hooks::validate)),
/// the statement, `after_insert`. An error from a before hook or validation stops the
/// operation before anything is sent; an error from an after hook is returned after the
/// statement ran, so inside a transaction it rolls the write back with the rest.
pub trait Hooks: Record {
    /// Before an insert (also `save` of a record without a key).
    fn before_insert(&mut self) -> Result<(), HookError> {
        Ok(())
    }
    /// After an insert, with the row as stored.
    fn after_insert(&self, _model: &ModelOf<Self>) -> Result<(), HookError> {
        Ok(())
    }
    /// Before an update (also `save` of a record with a key).
    fn before_update(&mut self) -> Result<(), HookError> {
        Ok(())
    }
    /// After an update, with the row as stored.
    fn after_update(&self, _model: &ModelOf<Self>) -> Result<(), HookError> {
        Ok(())
    }
    /// Before a delete (soft or not).
    fn before_delete(&self) -> Result<(), HookError> {
        Ok(())
    }
    /// After a delete.
    fn after_delete(&self) -> Result<(), HookError> {
        Ok(())
    }
    /// Model-level validation, run after the field validators; add every problem to
    /// `errors`.
    fn validate(&self, _errors: &mut ValidationErrors) {}
}

/// A hashable form of a key column's value, for grouping rows in eager loading.
pub trait GroupKey: Clone + Eq + Hash + Send + Sync + postgres_types::ToSql + 'static {}
impl<T: Clone + Eq + Hash + Send + Sync + postgres_types::ToSql + 'static> GroupKey for T {}

/// A struct over some columns of a table, declared with
/// [`partial_model!`](crate::partial_model).
pub trait PartialModel: FromColumns {
    /// The table.
    type Entity: Entity;
    /// The columns it reads, in order (SQL names).
    fn columns() -> &'static [&'static str];
}

/// The SQL types a soft-delete column may have.
#[diagnostic::on_unimplemented(
    message = "a soft-delete column must be `Nullable<Timestamptz>` or `Nullable<Timestamp>`, not `{Self}`"
)]
pub trait SoftDeleteType {}
impl SoftDeleteType for crate::sql_types::Nullable<crate::sql_types::Timestamptz> {}
impl SoftDeleteType for crate::sql_types::Nullable<crate::sql_types::Timestamp> {}

/// The SQL types a managed timestamp column may have.
#[diagnostic::on_unimplemented(
    message = "a managed timestamp column must be `Timestamptz` or `Timestamp` (or nullable), not `{Self}`"
)]
pub trait TimestampType {}
impl TimestampType for crate::sql_types::Timestamptz {}
impl TimestampType for crate::sql_types::Timestamp {}
impl<T: TimestampType> TimestampType for crate::sql_types::Nullable<T> {}

#[doc(hidden)]
pub mod __private {
    pub use postgres_types;
    pub use serde;

    /// Compiles only for a soft-delete column of a timestamp type.
    pub fn soft_delete_column<C: crate::meta::Column>()
    where
        C::SqlType: super::SoftDeleteType,
    {
    }

    /// Compiles only for a timestamp column.
    pub fn timestamp_column<C: crate::meta::Column>()
    where
        C::SqlType: super::TimestampType,
    {
    }
}
