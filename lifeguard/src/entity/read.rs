//! Running entity queries: `all`, `one`, `exactly_one`, `count`, `exists`, pagination
//! (offset and keyset), partial models, rows with their related rows, and `find_by_id`.

use lifeguard_schema::entity::{
    Cursor, Entity, Find, FindAlso, FindById, FindPartial, FromColumns, ModelField, PartialModel,
    RustOf,
};
use lifeguard_schema::meta::Column;

use super::{RowReader, cache, load_models, model_from_row};
use crate::client::{Error, Result};
use crate::executor::LifeExecutor;
use crate::query::with_params;

/// Running a [`Find`].
pub trait FindExt<T: Entity>: Sized {
    /// Every row.
    fn all(self, db: &impl LifeExecutor) -> Result<Vec<T::Model>>;
    /// The first row by the query's order (`LIMIT 1`), or `None`.
    fn one(self, db: &impl LifeExecutor) -> Result<Option<T::Model>>;
    /// The only row: none, or more than one, is [`Error::RowCount`] (`LIMIT 2`).
    fn exactly_one(self, db: &impl LifeExecutor) -> Result<T::Model>;
    /// The number of rows.
    fn count(self, db: &impl LifeExecutor) -> Result<u64>;
    /// Whether there is any row.
    fn exists(self, db: &impl LifeExecutor) -> Result<bool>;
    /// Pages of `per_page` rows (at least 1), ordered by the query's order, then the primary
    /// key when it has none.
    fn paginate<E: LifeExecutor>(self, db: &E, per_page: u64) -> Paginator<'_, T, E>;
    /// Page `page` (from 0) of `per_page` rows, and the number of rows in all pages.
    fn paginate_and_count(
        self,
        db: &impl LifeExecutor,
        per_page: u64,
        page: u64,
    ) -> Result<(Vec<T::Model>, u64)>;
}

fn scalar<V: for<'a> crate::client::FromSql<'a>>(
    db: &impl LifeExecutor,
    q: &lifeguard_schema::query::SqlQuery,
) -> Result<V> {
    let row = with_params(q, |p| db.query_one(&q.sql, p))?;
    row.try_get::<usize, V>(0)
}

impl<T: Entity> FindExt<T> for Find<T> {
    fn all(self, db: &impl LifeExecutor) -> Result<Vec<T::Model>> {
        load_models(db, &self.to_sql())
    }

    fn one(self, db: &impl LifeExecutor) -> Result<Option<T::Model>> {
        Ok(load_models(db, &self.limited_sql(1))?.pop())
    }

    fn exactly_one(self, db: &impl LifeExecutor) -> Result<T::Model> {
        let mut rows = load_models(db, &self.limited_sql(2))?;
        match rows.len() {
            1 => Ok(rows.pop().expect("one row")),
            n => Err(Error::RowCount {
                expected: "exactly one row",
                actual: n,
            }),
        }
    }

    fn count(self, db: &impl LifeExecutor) -> Result<u64> {
        let n: i64 = scalar(db, &self.count_sql())?;
        Ok(n.max(0) as u64)
    }

    fn exists(self, db: &impl LifeExecutor) -> Result<bool> {
        scalar(db, &self.exists_sql())
    }

    fn paginate<E: LifeExecutor>(self, db: &E, per_page: u64) -> Paginator<'_, T, E> {
        Paginator {
            db,
            find: self,
            per_page: per_page.max(1),
        }
    }

    fn paginate_and_count(
        self,
        db: &impl LifeExecutor,
        per_page: u64,
        page: u64,
    ) -> Result<(Vec<T::Model>, u64)> {
        let p = self.paginate(db, per_page);
        let rows = p.fetch_page(page)?;
        let total = p.num_items()?;
        Ok((rows, total))
    }
}

/// Offset pagination of a query, from [`FindExt::paginate`]. Pages are numbered from 0.
pub struct Paginator<'d, T: Entity, E> {
    db: &'d E,
    find: Find<T>,
    per_page: u64,
}

impl<T: Entity, E: LifeExecutor> Paginator<'_, T, E> {
    /// The rows of page `page` (empty past the last page).
    pub fn fetch_page(&self, page: u64) -> Result<Vec<T::Model>> {
        load_models(self.db, &self.find.clone().page_sql(self.per_page, page))
    }

    /// The number of rows in all pages.
    pub fn num_items(&self) -> Result<u64> {
        self.find.clone().count(self.db)
    }

    /// The number of pages (0 when there is no row).
    pub fn num_pages(&self) -> Result<u64> {
        Ok(self.num_items()?.div_ceil(self.per_page))
    }

    /// Rows per page.
    pub fn per_page(&self) -> u64 {
        self.per_page
    }
}

/// Running a [`FindById`] (through the executor's entity cache when it has one).
pub trait FindByIdExt<T: Entity> {
    /// The row, or `None`.
    fn one(self, db: &impl LifeExecutor) -> Result<Option<T::Model>>;
}

impl<T: Entity> FindByIdExt<T> for FindById<T> {
    fn one(self, db: &impl LifeExecutor) -> Result<Option<T::Model>> {
        let load = || {
            let q = self.to_sql();
            let rows = with_params(&q, |p| db.query(&q.sql, p))?;
            match rows.len() {
                0 => Ok(None),
                1 => model_from_row(&rows[0]).map(Some),
                n => Err(Error::RowCount {
                    expected: "at most one row for a primary key",
                    actual: n,
                }),
            }
        };
        if self.deleted == lifeguard_schema::entity::Deleted::Exclude {
            cache::read_through::<T, _>(db, &self.key, load)
        } else {
            load()
        }
    }
}

/// Running a [`FindPartial`].
pub trait FindPartialExt<P> {
    /// Every row, as partial models.
    fn all(self, db: &impl LifeExecutor) -> Result<Vec<P>>;
    /// The first row, or `None`.
    fn one(self, db: &impl LifeExecutor) -> Result<Option<P>>;
}

impl<T: Entity, P: PartialModel<Entity = T>> FindPartialExt<P> for FindPartial<T, P> {
    fn all(self, db: &impl LifeExecutor) -> Result<Vec<P>> {
        load_models(db, &self.to_sql())
    }

    fn one(self, db: &impl LifeExecutor) -> Result<Option<P>> {
        Ok(load_models(db, &self.limited_sql(1))?.pop())
    }
}

/// A row with its related row, from [`FindAlsoExt::all`].
pub type WithRelated<P, C> = (<P as Entity>::Model, Option<<C as Entity>::Model>);

/// Running a [`FindAlso`].
pub trait FindAlsoExt<P: Entity, C: Entity> {
    /// Every row with its related row (`None` when it has none).
    fn all(self, db: &impl LifeExecutor) -> Result<Vec<WithRelated<P, C>>>;
}

impl<P: Entity, C: Entity> FindAlsoExt<P, C> for FindAlso<P, C> {
    fn all(self, db: &impl LifeExecutor) -> Result<Vec<WithRelated<P, C>>> {
        if std::ptr::eq(P::meta(), C::meta()) {
            return Err(Error::Unsupported(format!(
                "{}: also_related on a relation of a table to itself needs table aliases, which \
                 the entity layer does not have yet; use load_many or load_one",
                P::meta().name
            )));
        }
        let q = self.to_sql();
        let rows = with_params(&q, |p| db.query(&q.sql, p))?;
        rows.iter()
            .map(|row| {
                let mut r = RowReader::new(row);
                let parent = P::Model::from_columns(&mut r)?;
                // The child's first column is NULL only when there is no child (a LEFT JOIN
                // miss): checked on its primary key's first column.
                let key_at = C::meta()
                    .columns
                    .iter()
                    .position(|c| Some(&c.name) == C::meta().primary_key.first())
                    .unwrap_or(0);
                let child = if row.is_null(P::Model::WIDTH + key_at) {
                    None
                } else {
                    Some(C::Model::from_columns(&mut r)?)
                };
                Ok((parent, child))
            })
            .collect()
    }
}

/// Running a [`Cursor`].
pub trait CursorExt<T: Entity> {
    /// The rows, in the column's ascending order.
    fn all(self, db: &impl LifeExecutor) -> Result<Vec<T::Model>>;
}

impl<T, C> CursorExt<T> for Cursor<T, C>
where
    T: Entity,
    C: ModelField + Column<Table = T>,
    RustOf<C>: postgres_types::ToSql + Clone + Send + Sync + 'static,
{
    fn all(self, db: &impl LifeExecutor) -> Result<Vec<T::Model>> {
        let (q, reversed) = self.to_sql();
        let mut rows: Vec<T::Model> = load_models(db, &q)?;
        if reversed {
            rows.reverse();
        }
        Ok(rows)
    }
}
