//! `SELECT`: a chainable, typed builder.

use std::marker::PhantomData;

use sea_query::{
    CommonTableExpression, Expr, JoinType, LockBehavior, LockType, LogicalChainOper, NullOrdering,
    Order, PostgresQueryBuilder, Query, SelectStatement, WithClause,
};

use super::built::{BoundValue, Built, Key, Node, Op, SqlQuery, render, tag_number};
use super::expr::{BoolLike, Expression, Typed};
use super::sources::{AllIn, Contains, JoinsQuery, NullableTable};
use crate::meta::{Column, References, Table, TableMeta};
use crate::sql_types::{Bool, SqlType};

/// An `ORDER BY` item: an expression with its direction and the place of NULLs.
pub struct Ordered<T> {
    built: Built,
    order: Order,
    nulls: Option<NullOrdering>,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Ordered<T> {
    fn clone(&self) -> Self {
        Ordered {
            built: self.built.clone(),
            order: self.order.clone(),
            nulls: self.nulls,
            _marker: PhantomData,
        }
    }
}

impl<T> Ordered<T> {
    pub(crate) fn new(built: Built, order: Order) -> Self {
        Ordered {
            built,
            order,
            nulls: None,
            _marker: PhantomData,
        }
    }
    /// `NULLS FIRST`.
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some(NullOrdering::First);
        self
    }
    /// `NULLS LAST`.
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some(NullOrdering::Last);
        self
    }
}

/// One `ORDER BY` item, untyped.
#[doc(hidden)]
#[derive(Clone)]
pub struct OrderItem {
    pub(crate) built: Built,
    pub(crate) order: Order,
    pub(crate) nulls: Option<NullOrdering>,
}

impl OrderItem {
    /// `expr ASC|DESC [NULLS FIRST|LAST]` as SQL text after `$n` (for window clauses).
    pub(crate) fn suffix(&self) -> &'static str {
        match (&self.order, self.nulls) {
            (Order::Desc, Some(NullOrdering::First)) => " DESC NULLS FIRST",
            (Order::Desc, Some(NullOrdering::Last)) => " DESC NULLS LAST",
            (Order::Desc, None) => " DESC",
            (_, Some(NullOrdering::First)) => " ASC NULLS FIRST",
            (_, Some(NullOrdering::Last)) => " ASC NULLS LAST",
            _ => " ASC",
        }
    }
}

/// One `ORDER BY` item or a tuple of them; a bare expression sorts ascending.
pub trait OrderList {
    /// The tables it names.
    type Tables;
    /// Appends the items.
    fn items(self, out: &mut Vec<OrderItem>);
}

impl<T> OrderList for Ordered<T> {
    type Tables = T;
    fn items(self, out: &mut Vec<OrderItem>) {
        out.push(OrderItem {
            built: self.built,
            order: self.order,
            nulls: self.nulls,
        });
    }
}

impl<E: Expression> OrderList for E {
    type Tables = E::Tables;
    fn items(self, out: &mut Vec<OrderItem>) {
        out.push(OrderItem {
            built: self.build(),
            order: Order::Asc,
            nulls: None,
        });
    }
}

/// What a query selects: one expression or a tuple of them (up to 16).
pub trait SelectList {
    /// The SQL types of the row.
    type SqlType;
    /// The tables it names.
    type Tables;
    /// Appends the expressions.
    fn exprs(self, out: &mut Vec<Built>);
}

impl<E: Expression> SelectList for E {
    type SqlType = E::SqlType;
    type Tables = E::Tables;
    fn exprs(self, out: &mut Vec<Built>) {
        out.push(self.build());
    }
}

macro_rules! tuple_lists {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Expression),+> SelectList for ($($t,)+) {
            type SqlType = ($($t::SqlType,)+);
            type Tables = tuple_lists!(@tables $($t)+);
            fn exprs(self, out: &mut Vec<Built>) {
                $(out.push(self.$i.build());)+
            }
        }
        impl<$($t: OrderList),+> OrderList for ($($t,)+) {
            type Tables = tuple_lists!(@otables $($t)+);
            fn items(self, out: &mut Vec<OrderItem>) {
                $(self.$i.items(out);)+
            }
        }
    };
    (@tables $t:ident) => { $t::Tables };
    (@tables $t:ident $($rest:ident)+) => { ($t::Tables, tuple_lists!(@tables $($rest)+)) };
    (@otables $t:ident) => { <$t as OrderList>::Tables };
    (@otables $t:ident $($rest:ident)+) => { (<$t as OrderList>::Tables, tuple_lists!(@otables $($rest)+)) };
}

tuple_lists!(A 0);
tuple_lists!(A 0, B 1);
tuple_lists!(A 0, B 1, C 2);
tuple_lists!(A 0, B 1, C 2, D 3);
tuple_lists!(A 0, B 1, C 2, D 3, E 4);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_lists!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

/// Columns for `DISTINCT ON`: one column or a tuple of them.
pub trait ColumnList {
    /// The tables they belong to.
    type Tables;
    /// Appends the column references.
    fn columns(out: &mut Vec<(&'static TableMeta, &'static str)>);
    /// Appends the columns' SQL names.
    fn names(out: &mut Vec<&'static str>);
}

impl<C: Column> ColumnList for C {
    type Tables = C::Table;
    fn columns(out: &mut Vec<(&'static TableMeta, &'static str)>) {
        out.push((C::Table::meta(), C::NAME));
    }
    fn names(out: &mut Vec<&'static str>) {
        out.push(C::NAME);
    }
}

macro_rules! column_lists {
    ($($t:ident),+) => {
        impl<$($t: Column),+> ColumnList for ($($t,)+) {
            type Tables = column_lists!(@tables $($t)+);
            fn columns(out: &mut Vec<(&'static TableMeta, &'static str)>) {
                $(out.push(($t::Table::meta(), $t::NAME));)+
            }
            fn names(out: &mut Vec<&'static str>) {
                $(out.push($t::NAME);)+
            }
        }
    };
    (@tables $t:ident) => { $t::Table };
    (@tables $t:ident $($rest:ident)+) => { ($t::Table, column_lists!(@tables $($rest)+)) };
}

column_lists!(A);
column_lists!(A, B);
column_lists!(A, B, C);
column_lists!(A, B, C, D);
column_lists!(A, B, C, D, E);
column_lists!(A, B, C, D, E, F);

#[derive(Clone)]
enum Distinct {
    No,
    All,
    On(Vec<(&'static TableMeta, &'static str)>),
}

#[derive(Clone)]
struct Join {
    kind: JoinType,
    table: &'static TableMeta,
    on: Built,
}

/// The query's parts, untyped; turned into a sea-query statement when built.
#[derive(Clone)]
pub(crate) struct SelectCore {
    pub(crate) from: &'static TableMeta,
    select: Option<Vec<Built>>,
    joins: Vec<Join>,
    /// `WHERE` conditions, ANDed: kept as a list (one `and_where` each) so a long chain of
    /// `filter` calls does not make a deep tree, which would need a deep stack to render.
    pub(crate) filters: Vec<Built>,
    order: Vec<OrderItem>,
    limit: Option<i64>,
    offset: Option<i64>,
    distinct: Distinct,
    group_by: Vec<Built>,
    having: Option<Built>,
    lock: Option<(LockType, Option<LockBehavior>)>,
    ctes: Vec<(&'static TableMeta, SelectCore)>,
}

pub(crate) fn table_ref(t: &'static TableMeta) -> sea_query::TableRef {
    use sea_query::IntoTableRef;
    match t.schema {
        Some(s) => (s, t.name).into_table_ref(),
        None => t.name.into_table_ref(),
    }
}

pub(crate) fn and(a: Option<Built>, b: Built) -> Built {
    match a {
        None => b,
        Some(a) => Built::binary(a, Op::And, b),
    }
}

/// The conditions ANDed, as a balanced tree (its depth grows with the logarithm of their
/// number); `None` for none.
pub(crate) fn all(mut conditions: Vec<Built>) -> Option<Built> {
    match conditions.len() {
        0 => None,
        1 => conditions.pop(),
        n => {
            let right = conditions.split_off(n - n / 2);
            let (l, r) = (all(conditions)?, all(right)?);
            Some(Built::binary(l, Op::And, r))
        }
    }
}

fn column_expr(t: &'static TableMeta, c: &'static str) -> Expr {
    Node::column(t, c).into_expr(&mut Vec::new())
}

fn order_byte(o: &Order, n: Option<NullOrdering>) -> u8 {
    let d = match o {
        Order::Desc => 1,
        _ => 0,
    };
    d | match n {
        None => 0,
        Some(NullOrdering::First) => 2,
        Some(NullOrdering::Last) => 4,
    }
}

impl SelectCore {
    /// Whether the query is only a filter on its table (what `update`/`delete` can use as a
    /// plain `WHERE`).
    pub(crate) fn is_plain_filter(&self) -> bool {
        self.select.is_none()
            && self.joins.is_empty()
            && self.order.is_empty()
            && self.limit.is_none()
            && self.offset.is_none()
            && matches!(self.distinct, Distinct::No)
            && self.group_by.is_empty()
            && self.having.is_none()
            && self.lock.is_none()
            && self.ctes.is_empty()
    }

    /// The rows the query selects, as `ctid`s: for `update`/`delete` of a query with a limit,
    /// an order or a lock (`WHERE ctid IN (SELECT ctid FROM … LIMIT n)`).
    pub(crate) fn into_ctid_filter(mut self) -> Built {
        let from = self.from;
        self.select = Some(vec![Built::new(Node::column(from, "ctid"))]);
        Built::new(Node::InSubquery(
            Box::new(Node::column(from, "ctid")),
            Box::new(self),
        ))
    }

    /// Adds a `WHERE` condition (entity layer).
    pub(crate) fn push_filter(&mut self, condition: Built) {
        self.filters.push(condition);
    }

    /// Whether an `ORDER BY` is set.
    pub(crate) fn has_order(&self) -> bool {
        !self.order.is_empty()
    }

    /// Appends `expr ASC|DESC` to the ordering.
    pub(crate) fn push_order(&mut self, expr: Built, desc: bool) {
        self.order.push(OrderItem {
            built: expr,
            order: if desc { Order::Desc } else { Order::Asc },
            nulls: None,
        });
    }

    /// Removes the ordering.
    pub(crate) fn clear_order(&mut self) {
        self.order.clear();
    }

    /// ANDs `condition` to the last join's `ON`.
    pub(crate) fn and_last_join(&mut self, condition: Built) {
        if let Some(j) = self.joins.last_mut() {
            let on = std::mem::replace(&mut j.on, Built::new(Node::Default));
            j.on = Built::binary(on, Op::And, condition);
        }
    }

    /// Sets `LIMIT` and `OFFSET`.
    pub(crate) fn set_window(&mut self, limit: Option<i64>, offset: Option<i64>) {
        self.limit = limit;
        self.offset = offset;
    }

    /// `INNER JOIN table ON on`, untyped.
    pub(crate) fn push_inner_join(&mut self, table: &'static TableMeta, on: Built) {
        self.joins.push(Join {
            kind: JoinType::InnerJoin,
            table,
            on,
        });
    }

    /// Replaces the select list, untyped.
    pub(crate) fn set_select(&mut self, list: Vec<Built>) {
        self.select = Some(list);
    }

    /// `LEFT JOIN table ON on`, untyped.
    pub(crate) fn push_left_join(&mut self, table: &'static TableMeta, on: Built) {
        self.joins.push(Join {
            kind: JoinType::LeftJoin,
            table,
            on,
        });
    }

    /// Selects every column of each of `tables`, in order.
    pub(crate) fn select_all_of(&mut self, tables: &[&'static TableMeta]) {
        let mut list = Vec::new();
        for t in tables {
            for c in t.columns {
                list.push(Built::new(Node::column(t, c.name)));
            }
        }
        self.select = Some(list);
    }

    fn new(from: &'static TableMeta) -> Self {
        SelectCore {
            from,
            select: None,
            joins: Vec::new(),
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            distinct: Distinct::No,
            group_by: Vec::new(),
            having: None,
            lock: None,
            ctes: Vec::new(),
        }
    }

    /// Writes the shape and collects the values, in the order `statement` binds them.
    pub(crate) fn shape(&self, key: &mut Key, values: &mut Vec<BoundValue>) {
        key.byte(b'S');
        key.meta(self.from);
        match &self.select {
            Some(list) => {
                key.usize(list.len());
                for b in list {
                    b.0.shape(key, values);
                }
            }
            None => key.byte(0),
        }
        match &self.distinct {
            Distinct::No => key.byte(0),
            Distinct::All => key.byte(1),
            Distinct::On(cols) => {
                key.byte(2);
                key.usize(cols.len());
                for (t, c) in cols {
                    key.meta(t);
                    key.name(c);
                }
            }
        }
        key.usize(self.joins.len());
        for j in &self.joins {
            key.byte(matches!(j.kind, JoinType::LeftJoin) as u8);
            key.meta(j.table);
            j.on.0.shape(key, values);
        }
        key.usize(self.filters.len());
        for f in &self.filters {
            f.0.shape(key, values);
        }
        key.usize(self.group_by.len());
        for g in &self.group_by {
            g.0.shape(key, values);
        }
        match &self.having {
            Some(h) => {
                key.byte(b'H');
                h.0.shape(key, values);
            }
            None => key.byte(0),
        }
        key.usize(self.order.len());
        for o in &self.order {
            key.byte(order_byte(&o.order, o.nulls));
            o.built.0.shape(key, values);
        }
        match self.limit {
            Some(l) => {
                key.byte(b'L');
                values.push(std::sync::Arc::new(l));
            }
            None => key.byte(0),
        }
        match self.offset {
            Some(o) => {
                key.byte(b'O');
                values.push(std::sync::Arc::new(o));
            }
            None => key.byte(0),
        }
        key.byte(match self.lock {
            None => 0,
            Some((t, b)) => {
                let t = match t {
                    LockType::Update => 1,
                    LockType::NoKeyUpdate => 2,
                    LockType::Share => 3,
                    _ => 4,
                };
                t | match b {
                    None => 0,
                    Some(LockBehavior::Nowait) => 8,
                    Some(_) => 16,
                }
            }
        });
        key.usize(self.ctes.len());
        for (t, core) in &self.ctes {
            key.meta(t);
            core.shape(key, values);
        }
    }

    /// The sea-query statement; values are appended to `values` and stand as tags.
    pub(crate) fn statement(self, values: &mut Vec<BoundValue>) -> SelectStatement {
        let mut q = Query::select();
        match self.select {
            Some(list) => {
                for b in list {
                    q.expr(b.0.into_expr(values));
                }
            }
            None => {
                for c in self.from.columns {
                    q.expr(column_expr(self.from, c.name));
                }
            }
        }
        match self.distinct {
            Distinct::No => {}
            Distinct::All => {
                q.distinct();
            }
            Distinct::On(cols) => {
                q.distinct_on(cols.into_iter().map(|(t, c)| match column_expr(t, c) {
                    Expr::Column(c) => c,
                    _ => unreachable!("a column renders as a column"),
                }));
            }
        }
        q.from(table_ref(self.from));
        for j in self.joins {
            let on = j.on.0.into_expr(values);
            q.join(j.kind, table_ref(j.table), on);
        }
        let several = self.filters.len() > 1;
        for f in self.filters {
            let f = if several { f.conjunct() } else { f };
            q.and_or_where(LogicalChainOper::And(f.0.into_expr(values)));
        }
        if !self.group_by.is_empty() {
            let exprs: Vec<Expr> = self
                .group_by
                .into_iter()
                .map(|b| b.0.into_expr(values))
                .collect();
            q.add_group_by(exprs);
        }
        if let Some(h) = self.having {
            q.and_having(h.0.into_expr(values));
        }
        for o in self.order {
            let e = o.built.0.into_expr(values);
            match o.nulls {
                Some(n) => q.order_by_expr_with_nulls(e, o.order, n),
                None => q.order_by_expr(e, o.order),
            };
        }
        if let Some(l) = self.limit {
            q.limit(tag_number(l, values));
        }
        if let Some(o) = self.offset {
            q.offset(tag_number(o, values));
        }
        match self.lock {
            Some((t, Some(b))) => {
                q.lock_with_behavior(t, b);
            }
            Some((t, None)) => {
                q.lock(t);
            }
            None => {}
        }
        if !self.ctes.is_empty() {
            let mut with = WithClause::new();
            for (table, core) in self.ctes {
                let sub = core.statement(values);
                let mut cte = CommonTableExpression::new();
                cte.query(sub).table_name(table.name);
                cte.columns(table.columns.iter().map(|c| c.name));
                with.cte(cte);
            }
            q.with_cte(with);
        }
        q
    }

    /// The statement's SQL, wrapped by `wrap` (plain, `count(*)`, `EXISTS`).
    fn build(self, wrap: Wrap) -> SqlQuery {
        let mut key = Key::default();
        key.byte(wrap as u8);
        let mut values = Vec::new();
        self.shape(&mut key, &mut values);
        render(key, values, move || {
            let mut tagged = Vec::new();
            let inner = self.statement(&mut tagged);
            let (sql, tags) = match wrap {
                Wrap::Plain => inner.build(PostgresQueryBuilder),
                Wrap::Count => Query::select()
                    .expr(sea_query::Func::count(Expr::col(sea_query::Asterisk)))
                    .from_subquery(inner, "q")
                    .build(PostgresQueryBuilder),
                Wrap::Exists => Query::select()
                    .expr(Expr::exists(inner))
                    .build(PostgresQueryBuilder),
            };
            (sql, tags, tagged.len())
        })
    }
}

#[derive(Clone, Copy)]
enum Wrap {
    Plain,
    Count,
    Exists,
}

/// A `SELECT` over the sources `QS` (a type-level list of tables), returning rows of SQL
/// types `S`. `O` lists the outer tables a correlated subquery names.
///
/// Start one from a table: `users::table.filter(users::id.eq(1))`.
pub struct SelectQuery<QS, S, O = ()> {
    pub(crate) core: SelectCore,
    _marker: PhantomData<fn() -> (QS, S, O)>,
}

impl<QS, S, O> Clone for SelectQuery<QS, S, O> {
    fn clone(&self) -> Self {
        wrap(self.core.clone())
    }
}

impl<QS, S, O> std::fmt::Debug for SelectQuery<QS, S, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.clone().core.build(Wrap::Plain), f)
    }
}

pub(crate) fn wrap<QS, S, O>(core: SelectCore) -> SelectQuery<QS, S, O> {
    SelectQuery {
        core,
        _marker: PhantomData,
    }
}

impl<QS, S> SelectQuery<QS, S, ()> {
    /// The SQL text and bound values.
    pub fn to_sql(self) -> SqlQuery {
        self.core.build(Wrap::Plain)
    }

    /// `SELECT count(*) FROM (this query) AS q`, built.
    pub fn count_sql(self) -> SqlQuery {
        self.core.build(Wrap::Count)
    }

    /// `SELECT EXISTS (this query)`, built.
    pub fn exists_sql(self) -> SqlQuery {
        self.core.build(Wrap::Exists)
    }
}

impl<QS, S, O> SelectQuery<QS, S, O> {
    /// The query from table `T`, selecting all its columns.
    pub fn from_table<T: Table>(_table: T) -> SelectQuery<(T, ()), T::SqlType, ()> {
        wrap(SelectCore::new(T::meta()))
    }

    /// Selects `list` (an expression or a tuple of them) instead of the table's columns.
    pub fn select<L: SelectList, I>(mut self, list: L) -> SelectQuery<QS, L::SqlType, O>
    where
        L::Tables: AllIn<QS, I>,
    {
        let mut exprs = Vec::new();
        list.exprs(&mut exprs);
        self.core.select = Some(exprs);
        wrap(self.core)
    }

    /// Adds a `WHERE` condition (several are joined with `AND`).
    pub fn filter<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<QS, I>,
    {
        self.core.filters.push(condition.build());
        self
    }

    /// `WHERE (existing) OR condition`.
    pub fn or_filter<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<QS, I>,
    {
        let c = condition.build();
        let filters = std::mem::take(&mut self.core.filters);
        self.core.filters = vec![match all(filters) {
            None => c,
            Some(f) => Built::binary(f, Op::Or, c),
        }];
        self
    }

    /// Replaces the ordering with `order` (an expression, `.asc()`/`.desc()`, or a tuple).
    pub fn order_by<L: OrderList, I>(mut self, order: L) -> Self
    where
        L::Tables: AllIn<QS, I>,
    {
        self.core.order.clear();
        order.items(&mut self.core.order);
        self
    }

    /// Appends to the ordering.
    pub fn then_order_by<L: OrderList, I>(mut self, order: L) -> Self
    where
        L::Tables: AllIn<QS, I>,
    {
        order.items(&mut self.core.order);
        self
    }

    /// `LIMIT n` (bound as a parameter).
    pub fn limit(mut self, n: i64) -> Self {
        self.core.limit = Some(Ord::max(n, 0));
        self
    }

    /// `OFFSET n` (bound as a parameter).
    pub fn offset(mut self, n: i64) -> Self {
        self.core.offset = Some(Ord::max(n, 0));
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.core.distinct = Distinct::All;
        self
    }

    /// `SELECT DISTINCT ON (columns)`; the ordering should start with the same columns.
    pub fn distinct_on<C: ColumnList, I>(mut self, _columns: C) -> Self
    where
        C::Tables: AllIn<QS, I>,
    {
        let mut cols = Vec::new();
        C::columns(&mut cols);
        self.core.distinct = Distinct::On(cols);
        self
    }

    /// `GROUP BY list`.
    pub fn group_by<L: SelectList, I>(mut self, list: L) -> Self
    where
        L::Tables: AllIn<QS, I>,
    {
        list.exprs(&mut self.core.group_by);
        self
    }

    /// `HAVING condition` (several are joined with `AND`).
    pub fn having<E: Expression, I>(mut self, condition: E) -> Self
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<QS, I>,
    {
        self.core.having = Some(and(self.core.having.take(), condition.build()));
        self
    }

    /// `INNER JOIN table ON <declared relation>` with a table already in the query
    /// (`joinable!`).
    pub fn inner_join<T: Table + JoinsQuery<QS, I, D>, I, D>(
        mut self,
        _table: T,
    ) -> SelectQuery<(T, QS), S, O> {
        self.core.joins.push(Join {
            kind: JoinType::InnerJoin,
            table: T::meta(),
            on: T::on(),
        });
        wrap(self.core)
    }

    /// `LEFT JOIN table ON <declared relation>`. The new table's columns may be NULL, so
    /// they are used through `.nullable()` and read into `Option`.
    pub fn left_join<T: Table + JoinsQuery<QS, I, D>, I, D>(
        mut self,
        _table: T,
    ) -> SelectQuery<(NullableTable<T>, QS), S, O> {
        self.core.joins.push(Join {
            kind: JoinType::LeftJoin,
            table: T::meta(),
            on: T::on(),
        });
        wrap(self.core)
    }

    /// `INNER JOIN table ON condition`.
    pub fn inner_join_on<T: Table, E: Expression, I>(
        mut self,
        _table: T,
        on: E,
    ) -> SelectQuery<(T, QS), S, O>
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(T, QS), I>,
    {
        self.core.joins.push(Join {
            kind: JoinType::InnerJoin,
            table: T::meta(),
            on: on.build(),
        });
        wrap(self.core)
    }

    /// `LEFT JOIN table ON condition`.
    pub fn left_join_on<T: Table, E: Expression, I>(
        mut self,
        _table: T,
        on: E,
    ) -> SelectQuery<(NullableTable<T>, QS), S, O>
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(T, QS), I>,
    {
        self.core.joins.push(Join {
            kind: JoinType::LeftJoin,
            table: T::meta(),
            on: on.build(),
        });
        wrap(self.core)
    }

    /// `INNER JOIN` the table a foreign-key column of the query references
    /// (`posts::table.inner_join_via(posts::author_id)` joins `users`).
    pub fn inner_join_via<F: References, I>(self, fk: F) -> SelectQuery<(F::Target, QS), S, O>
    where
        QS: Contains<F::Table, I>,
    {
        self.join_fk(JoinType::InnerJoin, F::Target::meta(), fk)
    }

    /// `LEFT JOIN` the table a foreign-key column of the query references.
    pub fn left_join_via<F: References, I>(
        self,
        fk: F,
    ) -> SelectQuery<(NullableTable<F::Target>, QS), S, O>
    where
        QS: Contains<F::Table, I>,
    {
        self.join_fk(JoinType::LeftJoin, F::Target::meta(), fk)
    }

    /// `INNER JOIN` the table whose foreign-key column references a table of the query
    /// (`users::table.inner_join_referencing(posts::author_id)` joins `posts`).
    pub fn inner_join_referencing<F: References, I>(
        self,
        fk: F,
    ) -> SelectQuery<(F::Table, QS), S, O>
    where
        QS: Contains<F::Target, I>,
    {
        self.join_fk(JoinType::InnerJoin, F::Table::meta(), fk)
    }

    /// `LEFT JOIN` the table whose foreign-key column references a table of the query.
    pub fn left_join_referencing<F: References, I>(
        self,
        fk: F,
    ) -> SelectQuery<(NullableTable<F::Table>, QS), S, O>
    where
        QS: Contains<F::Target, I>,
    {
        self.join_fk(JoinType::LeftJoin, F::Table::meta(), fk)
    }

    fn join_fk<F: References, QS2>(
        mut self,
        kind: JoinType,
        table: &'static TableMeta,
        _fk: F,
    ) -> SelectQuery<QS2, S, O> {
        self.core.joins.push(Join {
            kind,
            table,
            on: Built::binary(
                Built::column::<F>(),
                Op::Eq,
                Built::column::<F::TargetColumn>(),
            ),
        });
        wrap(self.core)
    }

    /// `WITH cte AS (query)`: `cte` is a table declared with `table!` whose columns name
    /// and type the query's result (checked at compile time); the query may then select
    /// from or join it like any table.
    pub fn with<C: Table, QS2>(mut self, _cte: C, query: SelectQuery<QS2, C::SqlType, ()>) -> Self {
        self.core.ctes.push((C::meta(), query.core));
        self
    }

    /// Lets this query (used as a subquery) name the columns of the outer query's table
    /// `T`: a correlated subquery. The resulting subquery expression names `T`, so the
    /// outer query must select from it.
    pub fn correlate<T: Table>(self, _outer: T) -> SelectQuery<(T, QS), S, (T, O)> {
        wrap(self.core)
    }

    /// `FOR UPDATE`.
    pub fn for_update(mut self) -> Self {
        self.core.lock = Some((LockType::Update, None));
        self
    }
    /// `FOR NO KEY UPDATE`.
    pub fn for_no_key_update(mut self) -> Self {
        self.core.lock = Some((LockType::NoKeyUpdate, None));
        self
    }
    /// `FOR SHARE`.
    pub fn for_share(mut self) -> Self {
        self.core.lock = Some((LockType::Share, None));
        self
    }
    /// `SKIP LOCKED` (after `for_update`/`for_share`).
    pub fn skip_locked(mut self) -> Self {
        let t = self.core.lock.map(|l| l.0).unwrap_or(LockType::Update);
        self.core.lock = Some((t, Some(LockBehavior::SkipLocked)));
        self
    }
    /// `NOWAIT` (after `for_update`/`for_share`).
    pub fn no_wait(mut self) -> Self {
        let t = self.core.lock.map(|l| l.0).unwrap_or(LockType::Update);
        self.core.lock = Some((t, Some(LockBehavior::Nowait)));
        self
    }

    /// The query as a scalar subquery `(SELECT …)`: one value, NULL when it returns no row.
    pub fn single_value(self) -> Typed<<S as SqlType>::IntoNullable, O>
    where
        S: SqlType,
    {
        Typed::new(self.into_subquery_expr())
    }

    pub(crate) fn into_subquery_expr(self) -> Built {
        Built::new(Node::SubQuery(Box::new(self.core)))
    }
}

/// `EXISTS (query)`.
pub fn exists<QS, S, O>(query: SelectQuery<QS, S, O>) -> Typed<Bool, O> {
    Typed::new(Built::new(Node::Exists(Box::new(query.core))))
}

/// Subquery membership on every expression.
pub trait SubqueryMethods: Expression {
    /// `self IN (query)`; the query selects one column of the same SQL type.
    fn eq_any_subquery<QS, O>(
        self,
        query: SelectQuery<QS, Self::SqlType, O>,
    ) -> Typed<Bool, (Self::Tables, O)> {
        Typed::new(Built::new(Node::InSubquery(
            Box::new(self.build().0),
            Box::new(query.core),
        )))
    }
}

impl<E: Expression> SubqueryMethods for E {}

/// Starting a query from a table: `users::table.filter(…)`, `.select(…)`, `.order_by(…)`.
pub trait TableQuery: Table {
    /// The query selecting every column.
    fn query(self) -> SelectQuery<(Self, ()), Self::SqlType> {
        SelectQuery::<(), (), ()>::from_table(self)
    }
    /// See [`SelectQuery::select`].
    fn select<L: SelectList, I>(self, list: L) -> SelectQuery<(Self, ()), L::SqlType>
    where
        L::Tables: AllIn<(Self, ()), I>,
    {
        self.query().select(list)
    }
    /// See [`SelectQuery::filter`].
    fn filter<E: Expression, I>(self, condition: E) -> SelectQuery<(Self, ()), Self::SqlType>
    where
        E::SqlType: BoolLike,
        E::Tables: AllIn<(Self, ()), I>,
    {
        self.query().filter(condition)
    }
    /// See [`SelectQuery::order_by`].
    fn order_by<L: OrderList, I>(self, order: L) -> SelectQuery<(Self, ()), Self::SqlType>
    where
        L::Tables: AllIn<(Self, ()), I>,
    {
        self.query().order_by(order)
    }
    /// See [`SelectQuery::limit`].
    fn limit(self, n: i64) -> SelectQuery<(Self, ()), Self::SqlType> {
        self.query().limit(n)
    }
    /// See [`SelectQuery::inner_join`].
    fn inner_join<T: Table + JoinsQuery<(Self, ()), I, D>, I, D>(
        self,
        table: T,
    ) -> SelectQuery<(T, (Self, ())), Self::SqlType> {
        self.query().inner_join(table)
    }
    /// See [`SelectQuery::left_join`].
    fn left_join<T: Table + JoinsQuery<(Self, ()), I, D>, I, D>(
        self,
        table: T,
    ) -> SelectQuery<(NullableTable<T>, (Self, ())), Self::SqlType> {
        self.query().left_join(table)
    }
    /// See [`SelectQuery::inner_join_via`].
    fn inner_join_via<F: References<Table = Self>>(
        self,
        fk: F,
    ) -> SelectQuery<(F::Target, (Self, ())), Self::SqlType> {
        self.query().inner_join_via(fk)
    }
    /// See [`SelectQuery::left_join_via`].
    fn left_join_via<F: References<Table = Self>>(
        self,
        fk: F,
    ) -> SelectQuery<(NullableTable<F::Target>, (Self, ())), Self::SqlType> {
        self.query().left_join_via(fk)
    }
    /// See [`SelectQuery::inner_join_referencing`].
    fn inner_join_referencing<F: References<Target = Self>>(
        self,
        fk: F,
    ) -> SelectQuery<(F::Table, (Self, ())), Self::SqlType> {
        self.query().inner_join_referencing(fk)
    }
    /// See [`SelectQuery::left_join_referencing`].
    fn left_join_referencing<F: References<Target = Self>>(
        self,
        fk: F,
    ) -> SelectQuery<(NullableTable<F::Table>, (Self, ())), Self::SqlType> {
        self.query().left_join_referencing(fk)
    }
    /// See [`SelectQuery::correlate`].
    fn correlate<T: Table>(self, outer: T) -> SelectQuery<(T, (Self, ())), Self::SqlType, (T, ())> {
        self.query().correlate(outer)
    }
}

impl<T: Table> TableQuery for T {}
