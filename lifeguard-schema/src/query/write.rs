//! `INSERT`, `UPDATE` and `DELETE`: typed builders.

use std::marker::PhantomData;

use sea_query::{LogicalChainOper, OnConflict, PostgresQueryBuilder, Query, ReturningClause};

use super::built::{BoundValue, Built, Key, Node, SqlQuery, render};
use super::expr::{BoolLike, Eq, Expression};
use super::select::{ColumnList, SelectList, SelectQuery, table_ref};
use super::sources::AllIn;
use crate::meta::{Column, Table, TableMeta};

/// `column = value` in an insert or update: made with `column.eq(value)`.
pub trait Assignment<T> {
    /// The tables the value names.
    type Tables;
    /// The column's SQL name.
    fn column_name() -> &'static str;
    /// The value (`None` means `DEFAULT`).
    fn value(self) -> Option<Built>;
}

impl<T: Table, C: Column<Table = T> + Expression, R: Expression> Assignment<T> for Eq<C, R> {
    type Tables = R::Tables;
    fn column_name() -> &'static str {
        C::NAME
    }
    fn value(self) -> Option<Built> {
        Some(self.rhs.build())
    }
}

/// `None` inserts the column's `DEFAULT`, so rows of one batch keep the same columns.
impl<T, A: Assignment<T>> Assignment<T> for Option<A> {
    type Tables = A::Tables;
    fn column_name() -> &'static str {
        A::column_name()
    }
    fn value(self) -> Option<Built> {
        self.and_then(A::value)
    }
}

/// One assignment or a tuple of them (up to 16): a row of an insert, the `SET` of an update.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of `column.eq(value)` assignments to columns of `{T}`",
    note = "write `(t::a.eq(1), t::b.eq(\"x\"))`, with columns of the table being written"
)]
pub trait AssignmentList<T> {
    /// The tables the values name.
    type Tables;
    /// The columns' names, in order.
    fn columns(out: &mut Vec<&'static str>);
    /// The values, in order (`None` for `DEFAULT`).
    fn values(self, out: &mut Vec<Option<Built>>);
}

macro_rules! assignment_lists {
    ($($t:ident $i:tt),+) => {
        impl<TB, $($t: Assignment<TB>),+> AssignmentList<TB> for ($($t,)+) {
            type Tables = assignment_lists!(@tables TB $($t)+);
            fn columns(out: &mut Vec<&'static str>) {
                $(out.push($t::column_name());)+
            }
            fn values(self, out: &mut Vec<Option<Built>>) {
                $(out.push(self.$i.value());)+
            }
        }
        impl<TB, $($t: Assignment<TB>),+> Insertable<TB> for ($($t,)+) {
            type Tables = assignment_lists!(@tables TB $($t)+);
            fn rows(self, columns: &mut Vec<&'static str>, rows: &mut Vec<Vec<Option<Built>>>) {
                one_row::<TB, Self>(self, columns, rows);
            }
        }
    };
    (@tables $tb:ident $t:ident) => { <$t as Assignment<$tb>>::Tables };
    (@tables $tb:ident $t:ident $($rest:ident)+) => {
        (<$t as Assignment<$tb>>::Tables, assignment_lists!(@tables $tb $($rest)+))
    };
}

impl<T: Table, C: Column<Table = T> + Expression, R: Expression> AssignmentList<T> for Eq<C, R> {
    type Tables = R::Tables;
    fn columns(out: &mut Vec<&'static str>) {
        out.push(C::NAME);
    }
    fn values(self, out: &mut Vec<Option<Built>>) {
        out.push(Some(self.rhs.build()));
    }
}

impl<T, A: Assignment<T>> AssignmentList<T> for Option<A> {
    type Tables = A::Tables;
    fn columns(out: &mut Vec<&'static str>) {
        out.push(A::column_name());
    }
    fn values(self, out: &mut Vec<Option<Built>>) {
        out.push(self.and_then(A::value));
    }
}

impl<T: Table, C: Column<Table = T> + Expression, R: Expression> Insertable<T> for Eq<C, R> {
    type Tables = R::Tables;
    fn rows(self, columns: &mut Vec<&'static str>, rows: &mut Vec<Vec<Option<Built>>>) {
        one_row::<T, Self>(self, columns, rows);
    }
}

assignment_lists!(A 0);
assignment_lists!(A 0, B 1);
assignment_lists!(A 0, B 1, C 2);
assignment_lists!(A 0, B 1, C 2, D 3);
assignment_lists!(A 0, B 1, C 2, D 3, E 4);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
assignment_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

/// Rows for `insert_into(t).values(…)`: one row (an assignment list) or a `Vec` of rows of
/// the same shape.
pub trait Insertable<T> {
    /// The tables the values name.
    type Tables;
    /// The rows' values, in the order of `L::columns`.
    fn rows(self, columns: &mut Vec<&'static str>, rows: &mut Vec<Vec<Option<Built>>>);
}

fn one_row<T, L: AssignmentList<T>>(
    row: L,
    columns: &mut Vec<&'static str>,
    rows: &mut Vec<Vec<Option<Built>>>,
) {
    L::columns(columns);
    let mut values = Vec::with_capacity(columns.len());
    row.values(&mut values);
    rows.push(values);
}

impl<T, L: AssignmentList<T>> Insertable<T> for Vec<L> {
    type Tables = L::Tables;
    fn rows(self, columns: &mut Vec<&'static str>, rows: &mut Vec<Vec<Option<Built>>>) {
        L::columns(columns);
        rows.reserve(self.len());
        for r in self {
            let mut row = Vec::with_capacity(columns.len());
            r.values(&mut row);
            rows.push(row);
        }
    }
}

/// No `RETURNING` clause: run with `execute`, which returns the number of rows.
#[derive(Debug, Clone, Copy)]
pub struct NoReturning;
/// A `RETURNING` clause of SQL types `S`: load the rows like a select's.
#[derive(Debug, Clone, Copy)]
pub struct Returning<S>(PhantomData<S>);

fn returning_clause(list: Vec<Built>, values: &mut Vec<BoundValue>) -> ReturningClause {
    Query::returning().exprs(list.into_iter().map(|b| b.0.into_expr(values)))
}

fn value_expr(v: Option<Built>, values: &mut Vec<BoundValue>) -> sea_query::Expr {
    match v {
        Some(b) => b.0.into_expr(values),
        None => sea_query::Expr::Keyword(sea_query::Keyword::Default),
    }
}

fn shape_value(v: &Option<Built>, key: &mut Key, values: &mut Vec<BoundValue>) {
    match v {
        Some(b) => b.0.shape(key, values),
        None => key.byte(0xFF),
    }
}

fn shape_list(list: &Option<Vec<Built>>, key: &mut Key, values: &mut Vec<BoundValue>) {
    match list {
        Some(l) => {
            key.usize(l.len());
            for b in l {
                b.0.shape(key, values);
            }
        }
        None => key.byte(0xFF),
    }
}

fn shape_names(names: &[&'static str], key: &mut Key) {
    key.usize(names.len());
    for n in names {
        key.name(n);
    }
}

#[derive(Clone)]
enum ConflictAction {
    Nothing,
    Update(Vec<(&'static str, Option<Built>)>),
}

/// `INSERT INTO table …`; start with [`insert_into`].
pub struct InsertStatement<T, R = NoReturning> {
    table: &'static TableMeta,
    empty_batch: bool,
    columns: Vec<&'static str>,
    rows: Vec<Vec<Option<Built>>>,
    conflict: Option<(Vec<&'static str>, ConflictAction)>,
    returning: Option<Vec<Built>>,
    _marker: PhantomData<fn() -> (T, R)>,
}

impl<T, R> Clone for InsertStatement<T, R> {
    fn clone(&self) -> Self {
        InsertStatement {
            table: self.table,
            empty_batch: self.empty_batch,
            columns: self.columns.clone(),
            rows: self.rows.clone(),
            conflict: self.conflict.clone(),
            returning: self.returning.clone(),
            _marker: PhantomData,
        }
    }
}

/// `INSERT INTO table`: add rows with `.values(…)`.
///
/// ```
/// use lifeguard_schema::query::dsl::*;
/// lifeguard_schema::table! { users { id -> Int4, name -> Text, } }
/// let q = insert_into(users::table)
///     .values((users::id.eq(1), users::name.eq("ann")))
///     .returning(users::id)
///     .to_sql();
/// assert_eq!(
///     q.sql,
///     r#"INSERT INTO "users" ("id", "name") VALUES ($1, $2) RETURNING "users"."id""#
/// );
/// ```
pub fn insert_into<T: Table>(_table: T) -> InsertStatement<T> {
    InsertStatement {
        table: T::meta(),
        empty_batch: false,
        columns: Vec::new(),
        rows: Vec::new(),
        conflict: None,
        returning: None,
        _marker: PhantomData,
    }
}

impl<T: Table, R> InsertStatement<T, R> {
    fn retype<R2>(self) -> InsertStatement<T, R2> {
        InsertStatement {
            table: self.table,
            empty_batch: self.empty_batch,
            columns: self.columns,
            rows: self.rows,
            conflict: self.conflict,
            returning: self.returning,
            _marker: PhantomData,
        }
    }

    /// The rows to insert: one row (`(t::a.eq(1), t::b.eq(2))`) or a `Vec` of rows.
    /// Without rows, the statement inserts one row of defaults (`DEFAULT VALUES`).
    ///
    /// A second call replaces the rows of the first. An empty `Vec` inserts nothing.
    pub fn values<V: Insertable<T>, I>(mut self, rows: V) -> Self
    where
        V::Tables: AllIn<(), I>,
    {
        let mut columns = Vec::new();
        self.rows.clear();
        rows.rows(&mut columns, &mut self.rows);
        self.empty_batch = self.rows.is_empty();
        self.columns = columns;
        self
    }

    /// `ON CONFLICT (columns) DO NOTHING`.
    pub fn on_conflict_do_nothing<C: ColumnList, I>(mut self, _target: C) -> Self
    where
        C::Tables: AllIn<(T, ()), I>,
    {
        self.conflict = Some((column_names::<C>(), ConflictAction::Nothing));
        self
    }

    /// `ON CONFLICT (columns) DO UPDATE SET …`; the values may name `excluded(column)`, the
    /// row the insert proposed, and the table's own columns.
    pub fn on_conflict_do_update<C: ColumnList, L: AssignmentList<T>, I, J>(
        mut self,
        _target: C,
        set: L,
    ) -> Self
    where
        C::Tables: AllIn<(T, ()), J>,
        L::Tables: AllIn<(T, ()), I>,
    {
        let mut cols = Vec::new();
        L::columns(&mut cols);
        let mut vals = Vec::new();
        set.values(&mut vals);
        self.conflict = Some((
            column_names::<C>(),
            ConflictAction::Update(cols.into_iter().zip(vals).collect()),
        ));
        self
    }

    /// `RETURNING list`: the statement then loads rows like a select.
    pub fn returning<L: SelectList, I>(
        mut self,
        list: L,
    ) -> InsertStatement<T, Returning<L::SqlType>>
    where
        L::Tables: AllIn<(T, ()), I>,
    {
        let mut exprs = Vec::new();
        list.exprs(&mut exprs);
        self.returning = Some(exprs);
        self.retype()
    }

    /// The SQL text and bound values.
    pub fn to_sql(self) -> SqlQuery {
        let mut key = Key::default();
        let mut values = Vec::new();
        key.byte(b'I');
        key.byte(self.empty_batch as u8);
        key.meta(self.table);
        shape_names(&self.columns, &mut key);
        key.usize(self.rows.len());
        for row in &self.rows {
            for v in row {
                shape_value(v, &mut key, &mut values);
            }
        }
        match &self.conflict {
            None => key.byte(0),
            Some((target, action)) => {
                key.byte(1);
                shape_names(target, &mut key);
                match action {
                    ConflictAction::Nothing => key.byte(0),
                    ConflictAction::Update(sets) => {
                        key.usize(sets.len());
                        for (c, v) in sets {
                            key.name(c);
                            shape_value(v, &mut key, &mut values);
                        }
                    }
                }
            }
        }
        shape_list(&self.returning, &mut key, &mut values);
        render(key, values, move || {
            let mut tagged = Vec::new();
            let mut q = Query::insert();
            q.into_table(table_ref(self.table));
            if self.empty_batch {
                // An empty batch inserts no row: `INSERT INTO t (cols) SELECT NULL, … WHERE false`.
                q.columns(self.columns.iter().copied());
                let mut none = Query::select();
                none.exprs(self.columns.iter().map(|_| sea_query::Expr::cust("NULL")))
                    .and_where(sea_query::Expr::cust("false"));
                q.select_from(none).expect("as many values as columns");
            } else if self.rows.is_empty() {
                q.or_default_values();
            } else {
                q.columns(self.columns.iter().copied());
                for row in self.rows {
                    let exprs: Vec<sea_query::Expr> = row
                        .into_iter()
                        .map(|v| value_expr(v, &mut tagged))
                        .collect();
                    q.values_panic(exprs);
                }
            }
            if let Some((target, action)) = self.conflict {
                let mut oc = if target.is_empty() {
                    OnConflict::new()
                } else {
                    OnConflict::columns(target)
                };
                match action {
                    ConflictAction::Nothing => {
                        oc.do_nothing();
                    }
                    ConflictAction::Update(sets) => {
                        let sets: Vec<(&'static str, sea_query::Expr)> = sets
                            .into_iter()
                            .map(|(c, v)| (c, value_expr(v, &mut tagged)))
                            .collect();
                        oc.values(sets);
                    }
                }
                q.on_conflict(oc);
            }
            if let Some(list) = self.returning {
                q.returning(returning_clause(list, &mut tagged));
            }
            let (sql, tags) = q.build(PostgresQueryBuilder);
            (sql, tags, tagged.len())
        })
    }
}

fn column_names<C: ColumnList>() -> Vec<&'static str> {
    let mut names = Vec::new();
    C::names(&mut names);
    names
}

/// What `update`/`delete` act on: a table, or a query on one table whose filter they keep
/// (`update(users::table.filter(users::id.eq(1)))`, as in Diesel).
pub trait WriteTarget {
    /// The table written.
    type Table: Table;
    /// The conditions carried over (ANDed).
    fn into_filters(self) -> Vec<Built>;
}

impl<T: Table> WriteTarget for T {
    type Table = T;
    fn into_filters(self) -> Vec<Built> {
        Vec::new()
    }
}

/// A query with only filters becomes the `WHERE`; one with an order, a limit, an offset or a
/// lock writes exactly the rows it selects (`WHERE ctid IN (SELECT ctid FROM … LIMIT n)`).
impl<T: Table, S> WriteTarget for SelectQuery<(T, ()), S, ()> {
    type Table = T;
    fn into_filters(self) -> Vec<Built> {
        if self.core.is_plain_filter() {
            self.core.filters
        } else {
            vec![self.core.into_ctid_filter()]
        }
    }
}

/// `UPDATE table SET …`; start with [`update`].
pub struct UpdateStatement<T, R = NoReturning> {
    sets: Vec<(&'static str, Option<Built>)>,
    filters: Vec<Built>,
    returning: Option<Vec<Built>>,
    _marker: PhantomData<fn() -> (T, R)>,
}

/// `UPDATE table SET … WHERE …`.
///
/// ```
/// use lifeguard_schema::query::dsl::*;
/// lifeguard_schema::table! { posts { id -> Int4, views -> Int4, } }
/// let q = update(posts::table.filter(posts::id.eq(7)))
///     .set(posts::views.eq(posts::views + 1))
///     .to_sql();
/// assert_eq!(
///     q.sql,
///     r#"UPDATE "posts" SET "views" = "posts"."views" + $1 WHERE "posts"."id" = $2"#
/// );
/// ```
pub fn update<W: WriteTarget>(target: W) -> UpdateStatement<W::Table> {
    UpdateStatement {
        sets: Vec::new(),
        filters: target.into_filters(),
        returning: None,
        _marker: PhantomData,
    }
}

impl<T: Table, R> UpdateStatement<T, R> {
    /// `SET column = value, …` (added to earlier `set`s). An assignment given as an
    /// `Option` is skipped when `None` (a change set); `default_value()` sets `DEFAULT`.
    pub fn set<L: AssignmentList<T>, I>(mut self, assignments: L) -> Self
    where
        L::Tables: AllIn<(T, ()), I>,
    {
        let mut cols = Vec::new();
        L::columns(&mut cols);
        let mut vals = Vec::new();
        assignments.values(&mut vals);
        self.sets.extend(
            cols.into_iter()
                .zip(vals)
                .filter_map(|(c, v)| v.map(|v| (c, Some(v)))),
        );
        self
    }

    /// Adds a `WHERE` condition (joined with `AND`).
    pub fn filter<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(T, ()), I>,
    {
        self.filters.push(condition.build());
        self
    }

    /// `RETURNING list`.
    pub fn returning<L: SelectList, I>(
        mut self,
        list: L,
    ) -> UpdateStatement<T, Returning<L::SqlType>>
    where
        L::Tables: AllIn<(T, ()), I>,
    {
        let mut exprs = Vec::new();
        list.exprs(&mut exprs);
        self.returning = Some(exprs);
        UpdateStatement {
            sets: self.sets,
            filters: self.filters,
            returning: self.returning,
            _marker: PhantomData,
        }
    }

    /// Adds `column = expr` untyped (entity layer: timestamps, soft deletes).
    pub(crate) fn push_raw_set(&mut self, column: &'static str, expr: Built) {
        self.sets.push((column, Some(expr)));
    }

    /// Adds a `WHERE` condition untyped (entity layer).
    pub(crate) fn push_raw_filter(&mut self, condition: Built) {
        self.filters.push(condition);
    }

    /// Whether `column` is assigned.
    pub(crate) fn sets_column(&self, column: &str) -> bool {
        self.sets.iter().any(|(c, _)| *c == column)
    }

    /// Whether nothing is assigned.
    pub(crate) fn sets_nothing(&self) -> bool {
        self.sets.is_empty()
    }

    /// The SQL text and bound values. An update with nothing to set changes no row (it
    /// renders `SET <first column> = <itself> WHERE false`) and returns none.
    pub fn to_sql(mut self) -> SqlQuery {
        if self.sets.is_empty() {
            let t = T::meta();
            let first = t.primary_key.first().copied().unwrap_or(t.columns[0].name);
            self.sets
                .push((first, Some(Built::new(Node::column(t, first)))));
            self.filters = vec![Built::new(Node::Text("false".into()))];
        }
        let mut key = Key::default();
        let mut values = Vec::new();
        key.byte(b'U');
        key.meta(T::meta());
        key.usize(self.sets.len());
        for (c, v) in &self.sets {
            key.name(c);
            shape_value(v, &mut key, &mut values);
        }
        key.usize(self.filters.len());
        for f in &self.filters {
            f.0.shape(&mut key, &mut values);
        }
        shape_list(&self.returning, &mut key, &mut values);
        render(key, values, move || {
            let mut tagged = Vec::new();
            let mut q = Query::update();
            q.table(table_ref(T::meta()));
            for (c, v) in self.sets {
                let e = value_expr(v, &mut tagged);
                q.value(c, e);
            }
            let several = self.filters.len() > 1;
            for f in self.filters {
                let f = if several { f.conjunct() } else { f };
                q.and_or_where(LogicalChainOper::And(f.0.into_expr(&mut tagged)));
            }
            if let Some(list) = self.returning {
                q.returning(returning_clause(list, &mut tagged));
            }
            let (sql, tags) = q.build(PostgresQueryBuilder);
            (sql, tags, tagged.len())
        })
    }
}

/// `DELETE FROM table …`; start with [`delete`].
pub struct DeleteStatement<T, R = NoReturning> {
    filters: Vec<Built>,
    returning: Option<Vec<Built>>,
    _marker: PhantomData<fn() -> (T, R)>,
}

/// `DELETE FROM table WHERE …`.
///
/// ```
/// use lifeguard_schema::query::dsl::*;
/// lifeguard_schema::table! { users { id -> Int4, } }
/// let q = delete(users::table).filter(users::id.gt(10)).returning(users::id).to_sql();
/// assert_eq!(q.sql, r#"DELETE FROM "users" WHERE "users"."id" > $1 RETURNING "users"."id""#);
/// ```
pub fn delete<W: WriteTarget>(target: W) -> DeleteStatement<W::Table> {
    DeleteStatement {
        filters: target.into_filters(),
        returning: None,
        _marker: PhantomData,
    }
}

impl<T: Table, R> DeleteStatement<T, R> {
    /// Takes the conditions (entity layer: a soft delete becomes an update).
    pub(crate) fn take_filters(&mut self) -> Vec<Built> {
        std::mem::take(&mut self.filters)
    }

    /// Adds a `WHERE` condition (joined with `AND`).
    pub fn filter<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(T, ()), I>,
    {
        self.filters.push(condition.build());
        self
    }

    /// `RETURNING list`.
    pub fn returning<L: SelectList, I>(
        mut self,
        list: L,
    ) -> DeleteStatement<T, Returning<L::SqlType>>
    where
        L::Tables: AllIn<(T, ()), I>,
    {
        let mut exprs = Vec::new();
        list.exprs(&mut exprs);
        DeleteStatement {
            filters: std::mem::take(&mut self.filters),
            returning: Some(exprs),
            _marker: PhantomData,
        }
    }

    /// The SQL text and bound values.
    pub fn to_sql(self) -> SqlQuery {
        let mut key = Key::default();
        let mut values = Vec::new();
        key.byte(b'D');
        key.meta(T::meta());
        key.usize(self.filters.len());
        for f in &self.filters {
            f.0.shape(&mut key, &mut values);
        }
        shape_list(&self.returning, &mut key, &mut values);
        render(key, values, move || {
            let mut tagged = Vec::new();
            let mut q = Query::delete();
            q.from_table(table_ref(T::meta()));
            let several = self.filters.len() > 1;
            for f in self.filters {
                let f = if several { f.conjunct() } else { f };
                q.and_or_where(LogicalChainOper::And(f.0.into_expr(&mut tagged)));
            }
            if let Some(list) = self.returning {
                q.returning(returning_clause(list, &mut tagged));
            }
            let (sql, tags) = q.build(PostgresQueryBuilder);
            (sql, tags, tagged.len())
        })
    }
}

/// A statement that can be built into SQL; what `execute` runs.
pub trait BuildSql {
    /// The SQL text and bound values.
    fn build_sql(self) -> SqlQuery;
}

/// A statement that returns rows of SQL types `SqlType`; what `load` runs.
pub trait LoadQuery: BuildSql {
    /// The row's SQL types.
    type SqlType;
}

impl<T: Table> BuildSql for T {
    fn build_sql(self) -> SqlQuery {
        SelectQuery::<(), (), ()>::from_table(self).to_sql()
    }
}
impl<T: Table> LoadQuery for T {
    type SqlType = T::SqlType;
}

/// A table or a select: what `first`, `optional`, `count` and `exists` run on.
pub trait IntoSelect {
    /// The sources.
    type Sources;
    /// The row's SQL types.
    type SqlType;
    /// The select.
    fn into_select(self) -> SelectQuery<Self::Sources, Self::SqlType, ()>;
}

impl<T: Table> IntoSelect for T {
    type Sources = (T, ());
    type SqlType = T::SqlType;
    fn into_select(self) -> SelectQuery<(T, ()), T::SqlType, ()> {
        SelectQuery::<(), (), ()>::from_table(self)
    }
}

impl<QS, S> IntoSelect for SelectQuery<QS, S, ()> {
    type Sources = QS;
    type SqlType = S;
    fn into_select(self) -> Self {
        self
    }
}

impl<QS, S> BuildSql for SelectQuery<QS, S, ()> {
    fn build_sql(self) -> SqlQuery {
        self.to_sql()
    }
}
impl<QS, S> LoadQuery for SelectQuery<QS, S, ()> {
    type SqlType = S;
}

macro_rules! write_statements {
    ($($ty:ident),*) => {$(
        impl<T: Table, R> BuildSql for $ty<T, R> {
            fn build_sql(self) -> SqlQuery {
                self.to_sql()
            }
        }
        impl<T: Table, S> LoadQuery for $ty<T, Returning<S>> {
            type SqlType = S;
        }
    )*};
}

write_statements!(InsertStatement, UpdateStatement, DeleteStatement);
