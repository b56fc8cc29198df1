//! `Find`: an entity query (a typed select of the table's model, which knows about soft
//! deletes), its keyset cursor, and its join with related rows.

use std::marker::PhantomData;
use std::sync::Arc;

use super::{Entity, ModelField, Relation, RustOf};
use crate::meta::{Column, Table};
use crate::query::built::Op;
use crate::query::select::wrap;
use crate::query::sources::AllIn;
use crate::query::{BoolLike, Built, Expression, IntoSelect, OrderList, SelectQuery, SqlQuery};

/// Which rows of a soft-deleting table a query sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Only rows that are not deleted (the default).
    Exclude,
    /// Every row.
    Include,
    /// Only deleted rows.
    Only,
}

/// A query for a table's models: `users::Entity::find().filter(…).order_by(…)`. Filters and
/// orderings are typed like the query builder's; on a soft-deleting table, deleted rows are
/// left out unless [`with_deleted`](Find::with_deleted) or
/// [`only_deleted`](Find::only_deleted) says otherwise.
pub struct Find<T: Entity> {
    query: SelectQuery<(T, ()), T::SqlType>,
    deleted: Deleted,
}

impl<T: Entity> Clone for Find<T> {
    fn clone(&self) -> Self {
        Find {
            query: self.query.clone(),
            deleted: self.deleted,
        }
    }
}

impl<T: Entity> std::fmt::Debug for Find<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.clone().to_sql(), f)
    }
}

impl<T: Entity> Default for Find<T> {
    fn default() -> Self {
        Find::new()
    }
}

impl<T: Entity> Find<T> {
    /// Every row (that is not soft-deleted).
    pub fn new() -> Find<T> {
        Find {
            query: T::default().into_select(),
            deleted: Deleted::Exclude,
        }
    }

    /// Adds a `WHERE` condition (several are joined with `AND`).
    pub fn filter<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(T, ()), I>,
    {
        self.query = self.query.filter(condition);
        self
    }

    /// `WHERE (existing) OR condition`.
    pub fn or_filter<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(T, ()), I>,
    {
        self.query = self.query.or_filter(condition);
        self
    }

    /// Replaces the ordering.
    pub fn order_by<L: OrderList, I>(mut self, order: L) -> Self
    where
        L::Tables: AllIn<(T, ()), I>,
    {
        self.query = self.query.order_by(order);
        self
    }

    /// Adds to the ordering.
    pub fn then_order_by<L: OrderList, I>(mut self, order: L) -> Self
    where
        L::Tables: AllIn<(T, ()), I>,
    {
        self.query = self.query.then_order_by(order);
        self
    }

    /// `LIMIT n`.
    pub fn limit(mut self, n: i64) -> Self {
        self.query = self.query.limit(n);
        self
    }

    /// `OFFSET n`.
    pub fn offset(mut self, n: i64) -> Self {
        self.query = self.query.offset(n);
        self
    }

    /// `FOR UPDATE`: locks the rows until the transaction ends.
    pub fn for_update(mut self) -> Self {
        self.query = self.query.for_update();
        self
    }

    /// Applies a named scope: any function from a query to a query.
    ///
    /// ```
    /// lifeguard_schema::table! { users (id) { id -> Int8, active -> Bool, } }
    /// use lifeguard_schema::entity::Find;
    /// use lifeguard_schema::query::dsl::*;
    ///
    /// fn active(q: Find<users::table>) -> Find<users::table> {
    ///     q.filter(users::active.eq(true))
    /// }
    /// let sql = users::Entity::find().scope(active).to_sql().sql;
    /// assert!(sql.ends_with(r#"WHERE "users"."active" = $1"#));
    /// ```
    pub fn scope(self, scope: impl FnOnce(Self) -> Self) -> Self {
        scope(self)
    }

    /// Includes soft-deleted rows.
    pub fn with_deleted(mut self) -> Self {
        self.deleted = Deleted::Include;
        self
    }

    /// Only soft-deleted rows.
    pub fn only_deleted(mut self) -> Self {
        self.deleted = Deleted::Only;
        self
    }

    /// Which rows the query sees.
    pub fn deleted(&self) -> Deleted {
        self.deleted
    }

    /// Adds an untyped condition (relations).
    pub(crate) fn push_filter(mut self, condition: Built) -> Self {
        self.query.core.push_filter(condition);
        self
    }

    /// Whether the query has an `ORDER BY`.
    pub fn is_ordered(&self) -> bool {
        self.query.core.has_order()
    }

    /// Orders by the primary key when nothing else orders it (what pagination needs for
    /// stable pages).
    pub fn order_by_key_if_unordered(mut self) -> Self {
        if !self.query.core.has_order() {
            let meta = T::meta();
            for k in meta.primary_key {
                let name = column_name(meta, k);
                self.query.core.push_order(Built::col(meta, name), false);
            }
        }
        self
    }

    /// The typed select, with the soft-delete condition applied: to go on with the full
    /// query builder (joins, selects of some columns, aggregates).
    pub fn into_query(mut self) -> SelectQuery<(T, ()), T::SqlType> {
        if let Some(col) = T::BEHAVIOR.soft_delete {
            let meta = T::meta();
            let name = column_name(meta, col);
            match self.deleted {
                Deleted::Exclude => self
                    .query
                    .core
                    .push_filter(Built::col(meta, name).null_test(true)),
                Deleted::Only => self
                    .query
                    .core
                    .push_filter(Built::col(meta, name).null_test(false)),
                Deleted::Include => {}
            }
        }
        self.query
    }

    /// The SQL of the query.
    pub fn to_sql(self) -> SqlQuery {
        self.into_query().to_sql()
    }

    /// The SQL with `LIMIT n` (what `one` and `exactly_one` run).
    pub fn limited_sql(self, n: i64) -> SqlQuery {
        self.limit(n).to_sql()
    }

    /// `SELECT count(*) FROM (query)`.
    pub fn count_sql(self) -> SqlQuery {
        self.into_query().count_sql()
    }

    /// `SELECT EXISTS (query)`.
    pub fn exists_sql(self) -> SqlQuery {
        self.into_query().exists_sql()
    }

    /// The page `page` (from 0) of `per_page` rows, ordered by the query's order, then the
    /// primary key when there is none.
    pub fn page_sql(self, per_page: u64, page: u64) -> SqlQuery {
        let mut f = self.order_by_key_if_unordered();
        let per = i64::try_from(per_page.max(1)).unwrap_or(i64::MAX);
        let off = i64::try_from(page.saturating_mul(per_page.max(1))).unwrap_or(i64::MAX);
        f.query.core.set_window(Some(per), Some(off));
        f.to_sql()
    }

    /// Keyset (cursor) pagination on `column`, which must be unique (the primary key, or a
    /// unique column): `find().cursor_by(users::id).after(100).first(20)`.
    pub fn cursor_by<C>(self, column: C) -> Cursor<T, C>
    where
        C: ModelField + Column<Table = T>,
        RustOf<C>: postgres_types::ToSql + Clone + Send + Sync + 'static,
    {
        let _ = column;
        Cursor {
            find: self,
            after: None,
            before: None,
            take: None,
            _column: PhantomData,
        }
    }

    /// Selects only the columns of partial model `P`.
    pub fn select_partial<P: super::PartialModel<Entity = T>>(self) -> FindPartial<T, P> {
        let meta = T::meta();
        let mut query = self.into_query();
        query.core.set_select(
            P::columns()
                .iter()
                .map(|c| Built::col(meta, column_name(meta, c)))
                .collect(),
        );
        FindPartial {
            query,
            _marker: PhantomData,
        }
    }

    /// Each row with its related row through `relation` (`LEFT JOIN`), in one query:
    /// `users::Entity::find().also_related(posts::user_id)` gives `(user, Option<post>)`
    /// pairs, a user without posts once with `None`.
    pub fn also_related<R>(self, relation: R) -> FindAlso<T, R::Child>
    where
        R: Relation<Parent = T>,
    {
        let _ = relation;
        let mut query = self.into_query();
        let parent = T::meta();
        let child = <R::Child as Table>::meta();
        let on = Built::col(child, column_name(child, R::child_column())).compare_col(
            Op::Eq,
            Built::col(parent, column_name(parent, R::parent_column())),
        );
        query.core.push_left_join(child, on);
        if let Some(col) = <R::Child as Entity>::BEHAVIOR.soft_delete {
            // Deleted children are not related rows; the condition belongs in the join.
            query
                .core
                .and_last_join(Built::col(child, column_name(child, col)).null_test(true));
        }
        query.core.select_all_of(&[parent, child]);
        FindAlso {
            query: wrap(query.core),
            _marker: PhantomData,
        }
    }
}

/// The `'static` name of column `name` of `meta` (names in behaviour and relations are
/// given as SQL names; the metadata holds the same strings).
pub(crate) fn column_name(meta: &'static crate::meta::TableMeta, name: &str) -> &'static str {
    meta.column(name)
        .map(|c| c.name)
        .unwrap_or_else(|| panic!("table {} has no column {name}", meta.name))
}

/// Rows with their related rows (`LEFT JOIN`), from [`Find::also_related`].
pub struct FindAlso<P: Entity, C: Entity> {
    query: SelectQuery<(P, ()), P::SqlType>,
    _marker: PhantomData<fn() -> C>,
}

impl<P: Entity, C: Entity> FindAlso<P, C> {
    /// The SQL: the parent's columns, then the child's.
    pub fn to_sql(self) -> SqlQuery {
        self.query.to_sql()
    }
}

/// Keyset pagination over a unique column, from [`Find::cursor_by`]: rows after or before
/// a value, the first or last `n`, always in the column's ascending order.
pub struct Cursor<T: Entity, C> {
    find: Find<T>,
    after: Option<crate::query::BoundValue>,
    before: Option<crate::query::BoundValue>,
    take: Option<(bool, i64)>,
    _column: PhantomData<fn() -> C>,
}

impl<T, C> Cursor<T, C>
where
    T: Entity,
    C: ModelField + Column<Table = T>,
    RustOf<C>: postgres_types::ToSql + Clone + Send + Sync + 'static,
{
    /// Rows whose column is greater than `value`.
    pub fn after(mut self, value: impl Into<RustOf<C>>) -> Self {
        self.after = Some(Arc::new(value.into()));
        self
    }

    /// Rows whose column is less than `value`.
    pub fn before(mut self, value: impl Into<RustOf<C>>) -> Self {
        self.before = Some(Arc::new(value.into()));
        self
    }

    /// The first `n` rows (smallest values).
    pub fn first(mut self, n: u64) -> Self {
        self.take = Some((false, i64::try_from(n).unwrap_or(i64::MAX)));
        self
    }

    /// The last `n` rows (largest values), still returned in ascending order.
    pub fn last(mut self, n: u64) -> Self {
        self.take = Some((true, i64::try_from(n).unwrap_or(i64::MAX)));
        self
    }

    /// The SQL, and whether its rows come back in descending order (to be reversed).
    pub fn to_sql(self) -> (SqlQuery, bool) {
        let meta = T::meta();
        let col = || Built::col(meta, C::NAME);
        let mut f = self.find;
        if let Some(v) = self.after {
            f = f.push_filter(col().compare(Op::Gt, v));
        }
        if let Some(v) = self.before {
            f = f.push_filter(col().compare(Op::Lt, v));
        }
        let mut q = f.into_query();
        let (last, limit) = match self.take {
            Some((last, n)) => (last, Some(n)),
            None => (false, None),
        };
        q.core.clear_order();
        q.core.push_order(col(), last);
        q.core.set_window(limit, None);
        (q.to_sql(), last)
    }
}

/// A query reading partial models, from [`Find::select_partial`].
pub struct FindPartial<T: Entity, P> {
    query: SelectQuery<(T, ()), T::SqlType>,
    _marker: PhantomData<fn() -> P>,
}

impl<T: Entity, P> FindPartial<T, P> {
    /// The SQL.
    pub fn to_sql(self) -> SqlQuery {
        self.query.to_sql()
    }

    /// The SQL with `LIMIT n`.
    pub fn limited_sql(self, n: i64) -> SqlQuery {
        self.query.limit(n).to_sql()
    }
}

/// A lookup by primary key: `users::Entity::find_by_id(7)`, or a tuple for a composite key.
#[derive(Debug, Clone)]
pub struct FindById<T: Entity> {
    /// The key.
    pub key: T::Key,
    /// Which rows it sees (soft deletes).
    pub deleted: Deleted,
}

impl<T: Entity> FindById<T> {
    /// The row with `key`.
    pub fn new(key: T::Key) -> Self {
        FindById {
            key,
            deleted: Deleted::Exclude,
        }
    }

    /// Finds the row even if it is soft-deleted.
    pub fn with_deleted(mut self) -> Self {
        self.deleted = Deleted::Include;
        self
    }

    /// The SQL.
    pub fn to_sql(&self) -> SqlQuery {
        super::select_by_key::<T>(&self.key, self.deleted)
    }
}

/// Records to insert in one statement: `users::Entity::insert_many(records)`.
#[derive(Debug, Clone)]
pub struct InsertMany<T: Entity> {
    /// The records, in order.
    pub records: Vec<T::Record>,
}

impl<T: Entity> InsertMany<T> {
    /// Inserts `records`.
    pub fn new(records: impl IntoIterator<Item = T::Record>) -> Self {
        InsertMany {
            records: records.into_iter().collect(),
        }
    }
}
