//! `LifeExecutor`: one trait for everything that runs SQL (today a [`Client`] and a
//! [`Transaction`]), which higher layers are generic over; and [`FromRow`], typed mapping of
//! rows into tuples and user structs.

use crate::client::{Client, Error, Result, Row, ToSql, Transaction, at_most_one, exactly_one};

/// Runs SQL. Implemented by [`Client`] and [`Transaction`]; code written against it works
/// with either.
///
/// ```no_run
/// use lifeguard::executor::LifeExecutor;
///
/// fn count_users(db: &impl LifeExecutor) -> lifeguard::client::Result<i64> {
///     let (n,): (i64,) = db.query_one_as("SELECT count(*) FROM users", &[])?;
///     Ok(n)
/// }
/// # let mut client = lifeguard::client::connect("postgres://localhost/app")?;
/// count_users(&client)?;
/// let tx = client.transaction()?;
/// count_users(&tx)?;
/// # Ok::<(), lifeguard::client::Error>(())
/// ```
pub trait LifeExecutor {
    /// Runs a statement (prepared and cached per connection) and returns its rows.
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>>;

    /// Runs a statement and returns the number of rows it affected.
    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64>;

    /// Runs `;`-separated statements with the simple protocol: no parameters, no rows, no
    /// prepared statement left behind (DDL, `SET`, scripts).
    fn execute_unprepared(&self, sql: &str) -> Result<()>;

    /// The read-through cache of entity rows this executor offers, if any: the seam where
    /// the entity layer's `find_by_id` and single-row writes meet a cache. None by default.
    fn entity_cache(&self) -> Option<&dyn crate::entity::EntityCache> {
        None
    }

    /// Runs a statement that must return exactly one row.
    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        exactly_one(self.query(sql, params)?)
    }

    /// Runs a statement that returns zero or one row; more than one is an error.
    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        at_most_one(self.query(sql, params)?)
    }

    /// Runs a statement and maps every row with [`FromRow`].
    fn query_as<T: FromRow>(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<T>>
    where
        Self: Sized,
    {
        self.query(sql, params)?.iter().map(T::from_row).collect()
    }

    /// Runs a statement that must return exactly one row and maps it.
    fn query_one_as<T: FromRow>(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<T>
    where
        Self: Sized,
    {
        T::from_row(&self.query_one(sql, params)?)
    }

    /// Runs a statement that returns zero or one row and maps it.
    fn query_opt_as<T: FromRow>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<T>>
    where
        Self: Sized,
    {
        self.query_opt(sql, params)?
            .map(|r| T::from_row(&r))
            .transpose()
    }
}

impl LifeExecutor for Client {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        Client::query(self, sql, params)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        Client::execute(self, sql, params)
    }

    fn execute_unprepared(&self, sql: &str) -> Result<()> {
        self.batch_execute(sql)
    }
}

impl LifeExecutor for Transaction<'_> {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.client().query(sql, params)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.client().execute(sql, params)
    }

    fn execute_unprepared(&self, sql: &str) -> Result<()> {
        self.client().batch_execute(sql)
    }
}

impl<E: LifeExecutor + ?Sized> LifeExecutor for &E {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        (**self).query(sql, params)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        (**self).execute(sql, params)
    }

    fn execute_unprepared(&self, sql: &str) -> Result<()> {
        (**self).execute_unprepared(sql)
    }

    fn entity_cache(&self) -> Option<&dyn crate::entity::EntityCache> {
        (**self).entity_cache()
    }
}

/// Builds a value from a result row.
///
/// Implemented for tuples of up to 16 [`FromSql`](crate::client::FromSql) types (read by
/// position) and, through [`from_row!`](crate::from_row), for user structs (read by column
/// name, so the `SELECT` may list columns in any order).
pub trait FromRow: Sized {
    /// Reads the row; fails with a typed error naming the column on a type mismatch, a NULL
    /// read into a non-`Option`, or a missing column.
    fn from_row(row: &Row) -> Result<Self>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t),+> FromRow for ($($t,)+)
        where
            $($t: for<'a> crate::client::FromSql<'a>),+
        {
            fn from_row(row: &Row) -> Result<Self> {
                let expected = [$($i),+].len();
                if row.len() != expected {
                    return Err(Error::ColumnNotFound(format!(
                        "{expected} columns expected by the tuple, the row has {}",
                        row.len()
                    )));
                }
                Ok(($(row.try_get::<usize, $t>($i)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

/// Implements [`FromRow`] for a struct, reading each field from the column of the same name.
///
/// ```no_run
/// use lifeguard::executor::LifeExecutor;
///
/// #[derive(Debug)]
/// struct User {
///     id: i64,
///     name: String,
///     email: Option<String>,
/// }
/// lifeguard::from_row!(User { id, name, email });
///
/// # let client = lifeguard::client::connect("postgres://localhost/app")?;
/// let users: Vec<User> = client.query_as("SELECT name, email, id FROM users", &[])?;
/// # Ok::<(), lifeguard::client::Error>(())
/// ```
#[macro_export]
macro_rules! from_row {
    ($ty:ident { $($field:ident),+ $(,)? }) => {
        impl $crate::executor::FromRow for $ty {
            fn from_row(row: &$crate::client::Row) -> $crate::client::Result<Self> {
                Ok($ty {
                    $($field: row.try_get(stringify!($field))?,)+
                })
            }
        }
    };
}
