//! Writing through the entity layer: a record's `insert`, `update`, `save`, `delete`,
//! `force_delete` and `restore` (with hooks, validation, timestamps and soft deletes), and
//! the statements over many rows.

use lifeguard_schema::entity::{
    DeleteMany, Entity, FromColumns, HookError, Hooks, InsertMany, LifeRecord, ModelOf,
    RecordWrite, UpdateMany, ValidationErrors, delete_by_key_sql, insert_many_sql, insert_sql,
    restore_sql, save_sql, update_sql,
};
use lifeguard_schema::meta::Table;
use lifeguard_schema::query::SqlQuery;

use super::{RowReader, cache, load_models, model_from_row};
use crate::client::{Error, Result};
use crate::executor::LifeExecutor;
use crate::query::with_params;

fn table_name<T: Entity>() -> &'static str {
    T::meta().name
}

fn hook<T: Entity>(name: &'static str, r: std::result::Result<(), HookError>) -> Result<()> {
    r.map_err(|e| Error::Hook {
        table: table_name::<T>(),
        hook: name,
        message: e.0,
    })
}

/// Field validators, then the model-level `validate`. (Columns an insert leaves out are the
/// database's business: a Diesel-style `schema.rs` does not declare server defaults, so a
/// NOT NULL column without a declared default may well have one.)
fn validate<R: Hooks>(rec: &R) -> Result<()> {
    let mut errors = ValidationErrors::default();
    rec.validate_fields(&mut errors);
    rec.validate(&mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation {
            table: <R::Entity as Table>::meta().name,
            errors,
        })
    }
}

fn one_row<M: FromColumns>(db: &impl LifeExecutor, q: &SqlQuery) -> Result<Option<M>> {
    let rows = with_params(q, |p| db.query(&q.sql, p))?;
    match rows.first() {
        Some(r) => model_from_row(r).map(Some),
        None => Ok(None),
    }
}

/// Writing a record. Every write refreshes the record from the row as stored (all fields
/// unchanged), and goes through the executor's entity cache seam.
pub trait RecordExt: Hooks {
    /// `INSERT … RETURNING *`: `before_insert`, validation, the statement, `after_insert`.
    /// Unset columns take their defaults; managed timestamps are set.
    fn insert(&mut self, db: &impl LifeExecutor) -> Result<ModelOf<Self>>;

    /// `UPDATE … SET <set fields> WHERE <key> RETURNING *`; `None` (and nothing sent, no
    /// hook run) when no field is set. No row with the key (or a soft-deleted one) is
    /// [`Error::RecordNotFound`].
    fn update(&mut self, db: &impl LifeExecutor) -> Result<Option<ModelOf<Self>>>;

    /// An atomic upsert (`INSERT … ON CONFLICT (<key>) DO UPDATE SET <set fields>`); a record
    /// without its key is inserted. Runs the insert or the update hooks (the before hook by
    /// whether the key is given, the after hook by what the database did). A soft-deleted row
    /// with the key is left alone ([`Error::RecordNotFound`]); a loaded record whose key field
    /// was changed is refused (`update` re-keys a row).
    fn save(&mut self, db: &impl LifeExecutor) -> Result<ModelOf<Self>>;

    /// Deletes the row by key (on a soft-deleting table, marks it deleted); returns the number
    /// of rows affected (0 when there was none; `after_delete` runs only when one was).
    fn delete(&self, db: &impl LifeExecutor) -> Result<u64>;

    /// Deletes the row for good, even on a soft-deleting table.
    fn force_delete(&self, db: &impl LifeExecutor) -> Result<u64>;

    /// Undoes a soft delete; [`Error::RecordNotFound`] when no deleted row has the key.
    fn restore(&mut self, db: &impl LifeExecutor) -> Result<ModelOf<Self>>;
}

impl<R: Hooks> RecordExt for R {
    fn insert(&mut self, db: &impl LifeExecutor) -> Result<ModelOf<Self>> {
        hook::<R::Entity>("before_insert", self.before_insert())?;
        let mut changes = Vec::new();
        self.changes(&mut changes);
        validate(self)?;
        let q = insert_sql::<R::Entity>(&changes);
        let model: ModelOf<Self> = one_row(db, &q)?.ok_or(Error::RowCount {
            expected: "the inserted row",
            actual: 0,
        })?;
        cache::after_write::<R::Entity, _>(db, &<R::Entity as Entity>::key_of(&model));
        hook::<R::Entity>("after_insert", self.after_insert(&model))?;
        self.reset(&model);
        Ok(model)
    }

    fn update(&mut self, db: &impl LifeExecutor) -> Result<Option<ModelOf<Self>>> {
        if !self.is_changed() {
            return Ok(None);
        }
        let key = self.row_key().ok_or(Error::MissingKey {
            table: table_name::<R::Entity>(),
            operation: "update",
        })?;
        hook::<R::Entity>("before_update", self.before_update())?;
        validate(self)?;
        let mut changes = Vec::new();
        self.changes(&mut changes);
        let Some(q) = update_sql::<R::Entity>(&key, &changes) else {
            return Ok(None);
        };
        let model: ModelOf<Self> = one_row(db, &q)?.ok_or_else(|| Error::RecordNotFound {
            table: table_name::<R::Entity>(),
            key: format!("{key:?}"),
        })?;
        cache::after_write::<R::Entity, _>(db, &key);
        hook::<R::Entity>("after_update", self.after_update(&model))?;
        self.reset(&model);
        Ok(Some(model))
    }

    fn save(&mut self, db: &impl LifeExecutor) -> Result<ModelOf<Self>> {
        let Some(key) = self.key() else {
            return self.insert(db);
        };
        if self.loaded_key().is_some_and(|loaded| loaded != key) {
            return Err(Error::Unsupported(format!(
                "{}: save of a record whose primary key was changed (from {:?} to {key:?}); \
                 update re-keys the row, insert makes a new one",
                table_name::<R::Entity>(),
                self.loaded_key().expect("checked above"),
            )));
        }
        hook::<R::Entity>("before_update", self.before_update())?;
        validate(self)?;
        let (mut present, mut changes) = (Vec::new(), Vec::new());
        self.present(&mut present);
        self.changes(&mut changes);
        let q = save_sql::<R::Entity>(&present, &changes);
        let rows = with_params(&q, |p| db.query(&q.sql, p))?;
        // No row: the key's row exists but is soft-deleted (the upsert leaves it alone).
        let row = rows.first().ok_or_else(|| Error::RecordNotFound {
            table: table_name::<R::Entity>(),
            key: format!("{key:?} (soft-deleted)"),
        })?;
        let mut reader = RowReader::new(row);
        let model = ModelOf::<Self>::from_columns(&mut reader)?;
        let inserted: bool = row.try_get::<usize, bool>(ModelOf::<Self>::WIDTH)?;
        cache::after_write::<R::Entity, _>(db, &<R::Entity as Entity>::key_of(&model));
        if inserted {
            hook::<R::Entity>("after_insert", self.after_insert(&model))?;
        } else {
            hook::<R::Entity>("after_update", self.after_update(&model))?;
        }
        self.reset(&model);
        Ok(model)
    }

    fn delete(&self, db: &impl LifeExecutor) -> Result<u64> {
        delete_record(self, db, false)
    }

    fn force_delete(&self, db: &impl LifeExecutor) -> Result<u64> {
        delete_record(self, db, true)
    }

    fn restore(&mut self, db: &impl LifeExecutor) -> Result<ModelOf<Self>> {
        let key = self.row_key().ok_or(Error::MissingKey {
            table: table_name::<R::Entity>(),
            operation: "restore",
        })?;
        let Some(q) = restore_sql::<R::Entity>(&key) else {
            return Err(Error::Unsupported(format!(
                "{}: restore needs a table with #[soft_delete(column)]",
                table_name::<R::Entity>()
            )));
        };
        let model: ModelOf<Self> = one_row(db, &q)?.ok_or_else(|| Error::RecordNotFound {
            table: table_name::<R::Entity>(),
            key: format!("{key:?} (among deleted rows)"),
        })?;
        cache::after_write::<R::Entity, _>(db, &key);
        self.reset(&model);
        Ok(model)
    }
}

fn delete_record<R: Hooks>(rec: &R, db: &impl LifeExecutor, force: bool) -> Result<u64> {
    let key = rec.row_key().ok_or(Error::MissingKey {
        table: table_name::<R::Entity>(),
        operation: "delete",
    })?;
    hook::<R::Entity>("before_delete", rec.before_delete())?;
    let q = delete_by_key_sql::<R::Entity>(&key, force);
    let n = with_params(&q, |p| db.execute(&q.sql, p))?;
    cache::after_write::<R::Entity, _>(db, &key);
    if n > 0 {
        hook::<R::Entity>("after_delete", rec.after_delete())?;
    }
    Ok(n)
}

/// The most parameters one statement can bind (the protocol counts them in 16 bits).
const MAX_PARAMETERS: usize = 65_535;

/// Running statements over many rows: `insert_many`, `update_many`, `delete_many`.
/// `insert_many` runs each record's hooks and validation; `update_many` and `delete_many`
/// are single statements and run no per-row hook.
pub trait BulkExt {
    /// What running it gives.
    type Output;
    /// Runs it.
    fn exec(self, db: &impl LifeExecutor) -> Result<Self::Output>;
}

impl<T: Entity> BulkExt for InsertMany<T> {
    /// The inserted rows, in order.
    type Output = Vec<T::Model>;

    fn exec(mut self, db: &impl LifeExecutor) -> Result<Vec<T::Model>> {
        if self.records.is_empty() {
            return Ok(Vec::new());
        }
        let rows = prepare_inserts::<T>(&mut self.records)?;
        let q = insert_many_sql::<T>(&rows, true);
        let models: Vec<T::Model> = load_models(db, &q)?;
        cache::after_bulk_write::<T, _>(db);
        for (rec, model) in self.records.iter().zip(&models) {
            hook::<T>("after_insert", rec.after_insert(model))?;
        }
        Ok(models)
    }
}

/// `insert_many` without reading the rows back.
pub trait InsertManyExt {
    /// Inserts the records in one statement without `RETURNING`, and returns how many rows
    /// it inserted. Runs each record's `before_insert` and validation; `after_insert`, which
    /// is given the stored row, does not run (use `exec` for that).
    fn exec_without_returning(self, db: &impl LifeExecutor) -> Result<u64>;
}

impl<T: Entity> InsertManyExt for InsertMany<T> {
    fn exec_without_returning(mut self, db: &impl LifeExecutor) -> Result<u64> {
        if self.records.is_empty() {
            return Ok(0);
        }
        let rows = prepare_inserts::<T>(&mut self.records)?;
        let q = insert_many_sql::<T>(&rows, false);
        let n = with_params(&q, |p| db.execute(&q.sql, p))?;
        cache::after_bulk_write::<T, _>(db);
        Ok(n)
    }
}

/// Runs each record's `before_insert` and validation, and checks the parameter limit.
fn prepare_inserts<T: Entity>(records: &mut [T::Record]) -> Result<Vec<RecordWrite>> {
    let mut rows = Vec::with_capacity(records.len());
    for rec in records.iter_mut() {
        hook::<T>("before_insert", rec.before_insert())?;
        let mut changes = Vec::new();
        rec.changes(&mut changes);
        validate(rec)?;
        rows.push(changes);
    }
    let values: usize = rows.iter().map(Vec::len).sum();
    if values > MAX_PARAMETERS {
        return Err(Error::Unsupported(format!(
            "{}: insert_many of {} records binds {values} values, more than PostgreSQL's \
             {MAX_PARAMETERS} parameters in one statement; insert them in smaller batches",
            table_name::<T>(),
            rows.len()
        )));
    }
    Ok(rows)
}

impl<T: Entity> BulkExt for UpdateMany<T> {
    /// The number of rows updated.
    type Output = u64;

    fn exec(self, db: &impl LifeExecutor) -> Result<u64> {
        let q = self.to_sql();
        let n = with_params(&q, |p| db.execute(&q.sql, p))?;
        cache::after_bulk_write::<T, _>(db);
        Ok(n)
    }
}

impl<T: Entity> BulkExt for DeleteMany<T> {
    /// The number of rows deleted (or marked deleted).
    type Output = u64;

    fn exec(self, db: &impl LifeExecutor) -> Result<u64> {
        let q = self.to_sql();
        let n = with_params(&q, |p| db.execute(&q.sql, p))?;
        cache::after_bulk_write::<T, _>(db);
        Ok(n)
    }
}
