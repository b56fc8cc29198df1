//! The entity layer: SeaORM's surface over the tables `table!` declares, generic over
//! [`LifeExecutor`] (the pool, a connection, a transaction), with no async.
//!
//! Every table gets, in its module:
//! - `Model`, an immutable row struct (one public field per column, serde
//!   `Serialize`/`Deserialize`), and `Entity`, the table by its entity name;
//! - `Record`, a change set: each field is a [`Field`] (unset, unchanged, set); `insert`,
//!   `update` (only the set fields, by primary key), `save` (an atomic upsert), `delete`;
//! - `Entity::find()`, `find_by_id`, `insert_many`, `update_many`, `delete_many`.
//!
//! ```no_run
//! use lifeguard::entity::prelude::*;
//! use lifeguard::query::dsl::*;
//!
//! lifeguard::table! {
//!     users (id) {
//!         #[identity]
//!         id -> Int8,
//!         #[validate(length(min = 1))]
//!         name -> Text,
//!         email -> Nullable<Text>,
//!     }
//! }
//! type User = users::Model;
//!
//! # let pool = lifeguard::LifeguardPool::connect("postgres://localhost/app")?;
//! let mut rec = users::Record::new();
//! rec.name.set("ann");
//! let ann: User = rec.insert(&pool)?;
//!
//! let same = users::Entity::find_by_id(ann.id).one(&pool)?;
//! assert_eq!(same.as_ref(), Some(&ann));
//!
//! let named: Vec<User> = users::Entity::find()
//!     .filter(users::name.like("a%"))
//!     .order_by(users::id)
//!     .all(&pool)?;
//!
//! let mut edit = users::Record::from_model(ann);
//! edit.email.set(Some("ann@example.com".to_string()));
//! edit.update(&pool)?; // UPDATE users SET email = $1 WHERE id = $2 RETURNING …
//! # Ok::<(), lifeguard::Error>(())
//! ```
//!
//! Relations, eager loading, hooks, validators, soft deletes, timestamps, scopes and
//! managers: see [`relation`], [`Hooks`](lifeguard_schema::entity::Hooks),
//! [`validate`](lifeguard_schema::entity::validate) and the README's entity section.

mod cache;
mod read;
pub mod relation;
mod write;

use crate::client::{Error, FromSql, Result, Row};
use crate::executor::FromRow;
pub use cache::EntityCache;
pub use lifeguard_schema::entity::*;
pub use read::{
    CursorExt, FindAlsoExt, FindByIdExt, FindExt, FindPartialExt, Paginator, WithRelated,
};
pub use relation::{ChildModel, LoaderExt, ModelExt, NestedLoaderExt, ParentModel};
pub use write::{BulkExt, InsertManyExt, RecordExt};

/// The traits that run entity operations: `use lifeguard::entity::prelude::*;`.
pub mod prelude {
    pub use super::{
        BulkExt, CursorExt, Entity, Field, FindAlsoExt, FindByIdExt, FindExt, FindPartialExt,
        Hooks, InsertManyExt, LifeModel, LifeRecord, LoaderExt, ModelExt, NestedLoaderExt,
        RecordExt,
    };
}

/// Reads a row's columns in order, for [`FromColumns`].
pub(crate) struct RowReader<'a> {
    row: &'a Row,
    at: usize,
}

impl<'a> RowReader<'a> {
    pub(crate) fn new(row: &'a Row) -> Self {
        RowReader { row, at: 0 }
    }
}

impl ReadColumns for RowReader<'_> {
    type Error = Error;

    fn read<T: for<'b> FromSql<'b>>(&mut self) -> Result<T> {
        let v = self.row.try_get::<usize, T>(self.at)?;
        self.at += 1;
        Ok(v)
    }

    fn next_is_null(&self) -> bool {
        self.row.is_null(self.at)
    }

    fn skip(&mut self, n: usize) {
        self.at += n;
    }
}

fn width_error(expected: usize, actual: usize) -> Error {
    Error::ColumnNotFound(format!(
        "{expected} columns expected by the model, the row has {actual}"
    ))
}

impl<T: FromColumns> FromRow for Columns<T> {
    fn from_row(row: &Row) -> Result<Self> {
        if row.len() != T::WIDTH {
            return Err(width_error(T::WIDTH, row.len()));
        }
        T::from_columns(&mut RowReader::new(row)).map(Columns)
    }
}

/// Reads a model from a whole row.
pub(crate) fn model_from_row<M: FromColumns>(row: &Row) -> Result<M> {
    if row.len() < M::WIDTH {
        return Err(width_error(M::WIDTH, row.len()));
    }
    M::from_columns(&mut RowReader::new(row))
}

/// Runs `q` and reads every row into a model.
pub(crate) fn load_models<M: FromColumns>(
    db: &(impl crate::executor::LifeExecutor + ?Sized),
    q: &lifeguard_schema::query::SqlQuery,
) -> Result<Vec<M>> {
    let rows = crate::query::with_params(q, |p| db.query(&q.sql, p))?;
    rows.iter().map(model_from_row).collect()
}
