//! Typed queries: the builder from `lifeguard-schema` (see [`lifeguard_schema::query`]) and
//! running it through any [`LifeExecutor`] — the pool, a guard, a client or a transaction.
//!
//! ```no_run
//! use lifeguard::query::dsl::*;
//!
//! lifeguard::table! {
//!     users (id) { id -> Int4, name -> Text, email -> Nullable<Text>, }
//! }
//!
//! # let pool = lifeguard::LifeguardPool::connect("postgres://localhost/app")?;
//! let names: Vec<(i32, String)> = users::table
//!     .select((users::id, users::name))
//!     .filter(users::email.is_not_null())
//!     .order_by(users::id)
//!     .load(&pool)?;
//! let id: i32 = insert_into(users::table)
//!     .values(users::name.eq("ann"))
//!     .returning(users::id)
//!     .get_result(&pool)?;
//! let n = update(users::table.filter(users::id.eq(id)))
//!     .set(users::email.eq("ann@example.com"))
//!     .execute(&pool)?;
//! assert_eq!(n, 1);
//! # Ok::<(), lifeguard::Error>(())
//! ```

use crate::client::{Error, Result, ToSql, at_most_one, exactly_one};
use crate::executor::{FromRow, LifeExecutor};
pub use lifeguard_schema::query::*;

/// Everything a query needs in scope: `use lifeguard::query::dsl::*;`.
pub mod dsl {
    pub use super::{RunQueryDsl, RunSelectDsl};
    pub use lifeguard_schema::query::dsl::*;
}

/// Calls `f` with the query's values as the client's parameter slice, without allocating
/// for the usual handful of values.
pub(crate) fn with_params<T>(q: &SqlQuery, f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> T) -> T {
    const ON_STACK: usize = 8;
    if q.params.len() <= ON_STACK {
        let mut refs: [&(dyn ToSql + Sync); ON_STACK] = [&0_i32; ON_STACK];
        for (slot, p) in refs.iter_mut().zip(&q.params) {
            *slot = &**p;
        }
        f(&refs[..q.params.len()])
    } else {
        f(&q.param_refs())
    }
}

fn run_load<U, ST>(db: &impl LifeExecutor, q: SqlQuery) -> Result<Vec<U>>
where
    U: Queryable<ST>,
    U::Row: FromRow,
{
    let rows = with_params(&q, |params| db.query(&q.sql, params))?;
    rows.iter()
        .map(|r| U::Row::from_row(r).map(U::build))
        .collect()
}

/// Running a built statement: `execute`, `load`, `get_result(s)`.
pub trait RunQueryDsl: BuildSql + Sized {
    /// Runs the statement and returns the number of rows it affected (or returned).
    fn execute(self, db: &impl LifeExecutor) -> Result<u64> {
        let q = self.build_sql();
        with_params(&q, |params| db.execute(&q.sql, params))
    }

    /// Runs the query and reads every row into `U` by position (a value, a tuple, or a
    /// struct declared with [`queryable!`](crate::queryable)); `U` must match the selected
    /// SQL types at compile time.
    fn load<U>(self, db: &impl LifeExecutor) -> Result<Vec<U>>
    where
        Self: LoadQuery,
        U: Queryable<<Self as LoadQuery>::SqlType>,
        U::Row: FromRow,
    {
        run_load::<U, _>(db, self.build_sql())
    }

    /// Same as [`load`](RunQueryDsl::load).
    fn get_results<U>(self, db: &impl LifeExecutor) -> Result<Vec<U>>
    where
        Self: LoadQuery,
        U: Queryable<<Self as LoadQuery>::SqlType>,
        U::Row: FromRow,
    {
        self.load(db)
    }

    /// Runs a statement that returns exactly one row (`INSERT … RETURNING` of one row, a
    /// lookup by key) and reads it; none or several is [`Error::RowCount`].
    fn get_result<U>(self, db: &impl LifeExecutor) -> Result<U>
    where
        Self: LoadQuery,
        U: Queryable<<Self as LoadQuery>::SqlType>,
        U::Row: FromRow,
    {
        exactly_one(self.load(db)?)
    }
}

impl<Q: BuildSql> RunQueryDsl for Q {}

/// What only a `SELECT` can do: `first`, `optional`, `count`, `exists`.
pub trait RunSelectDsl<S>: Sized {
    /// The first row (`LIMIT 1`); no row is [`Error::RowCount`].
    fn first<U>(self, db: &impl LifeExecutor) -> Result<U>
    where
        U: Queryable<S>,
        U::Row: FromRow;

    /// The first row (`LIMIT 1`), or `None` when there is none.
    fn optional<U>(self, db: &impl LifeExecutor) -> Result<Option<U>>
    where
        U: Queryable<S>,
        U::Row: FromRow;

    /// The number of rows the query returns (`SELECT count(*) FROM (query) q`).
    fn count(self, db: &impl LifeExecutor) -> Result<i64>;

    /// Whether the query returns any row (`SELECT EXISTS (query)`).
    fn exists(self, db: &impl LifeExecutor) -> Result<bool>;
}

impl<Q: IntoSelect<SqlType = S>, S> RunSelectDsl<S> for Q {
    fn first<U>(self, db: &impl LifeExecutor) -> Result<U>
    where
        U: Queryable<S>,
        U::Row: FromRow,
    {
        match self.optional(db)? {
            Some(u) => Ok(u),
            None => Err(Error::RowCount {
                expected: "at least one row",
                actual: 0,
            }),
        }
    }

    fn optional<U>(self, db: &impl LifeExecutor) -> Result<Option<U>>
    where
        U: Queryable<S>,
        U::Row: FromRow,
    {
        at_most_one(run_load::<U, S>(db, self.into_select().limit(1).to_sql())?)
    }

    fn count(self, db: &impl LifeExecutor) -> Result<i64> {
        let q = self.into_select().count_sql();
        let (n,): (i64,) = FromRow::from_row(&db.query_one(&q.sql, &q.param_refs())?)?;
        Ok(n)
    }

    fn exists(self, db: &impl LifeExecutor) -> Result<bool> {
        let q = self.into_select().exists_sql();
        let (b,): (bool,) = FromRow::from_row(&db.query_one(&q.sql, &q.param_refs())?)?;
        Ok(b)
    }
}
