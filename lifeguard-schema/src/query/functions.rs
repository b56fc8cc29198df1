//! SQL functions: aggregates, window functions and a few common scalar ones.

use std::marker::PhantomData;

use super::built::{Built, Node, Un};
use super::expr::{AsExpression, Expression, SqlNumeric, TablesOf, Typed};
use super::select::{OrderItem, OrderList, SelectList};
use crate::sql_types::{Int8, SqlType};

/// An aggregate call: an expression, and with `.over(window)` a window function.
pub struct Aggregate<ST, T> {
    built: Built,
    _marker: PhantomData<fn() -> (ST, T)>,
}

impl<ST, T> Clone for Aggregate<ST, T> {
    fn clone(&self) -> Self {
        Aggregate::new(self.built.clone())
    }
}

impl<ST, T> Aggregate<ST, T> {
    fn new(built: Built) -> Self {
        Aggregate {
            built,
            _marker: PhantomData,
        }
    }

    /// `aggregate OVER (window)`.
    pub fn over<W>(self, window: Window<W>) -> Typed<ST, (T, W)> {
        Typed::new(window.apply(self.built))
    }
}

impl<ST, T> Expression for Aggregate<ST, T> {
    type SqlType = ST;
    type Tables = T;
    fn build(self) -> Built {
        self.built
    }
}

/// A window-only function (`row_number()`, `rank()`): usable after `.over(window)`.
pub struct WindowFunction<ST> {
    name: &'static str,
    _marker: PhantomData<fn() -> ST>,
}

impl<ST> WindowFunction<ST> {
    /// `function() OVER (window)`.
    pub fn over<W>(self, window: Window<W>) -> Typed<ST, W> {
        Typed::new(window.apply(Built::new(Node::Text(self.name.into()))))
    }
}

/// `row_number()`: the row's number in its partition, from 1.
pub fn row_number() -> WindowFunction<Int8> {
    WindowFunction {
        name: "row_number()",
        _marker: PhantomData,
    }
}

/// `rank()`: rank with gaps.
pub fn rank() -> WindowFunction<Int8> {
    WindowFunction {
        name: "rank()",
        _marker: PhantomData,
    }
}

/// `dense_rank()`: rank without gaps.
pub fn dense_rank() -> WindowFunction<Int8> {
    WindowFunction {
        name: "dense_rank()",
        _marker: PhantomData,
    }
}

/// A window: `PARTITION BY … ORDER BY …`; start with [`window`].
pub struct Window<T> {
    partition: Vec<Built>,
    order: Vec<OrderItem>,
    _marker: PhantomData<fn() -> T>,
}

/// An empty window (`OVER ()`): add `partition_by` and `order_by`.
pub fn window() -> Window<()> {
    Window {
        partition: Vec::new(),
        order: Vec::new(),
        _marker: PhantomData,
    }
}

impl<T> Window<T> {
    /// `PARTITION BY list`.
    pub fn partition_by<L: SelectList>(mut self, list: L) -> Window<(T, L::Tables)> {
        list.exprs(&mut self.partition);
        Window {
            partition: self.partition,
            order: self.order,
            _marker: PhantomData,
        }
    }

    /// `ORDER BY list` inside the window.
    pub fn order_by<L: OrderList>(mut self, order: L) -> Window<(T, L::Tables)> {
        order.items(&mut self.order);
        Window {
            partition: self.partition,
            order: self.order,
            _marker: PhantomData,
        }
    }

    fn apply(self, function: Built) -> Built {
        let mut template = String::from("$1 OVER (");
        let mut parts = vec![function];
        if !self.partition.is_empty() {
            template.push_str("PARTITION BY ");
            for (i, p) in self.partition.into_iter().enumerate() {
                if i > 0 {
                    template.push_str(", ");
                }
                parts.push(p);
                template.push_str(&format!("${}", parts.len()));
            }
        }
        if !self.order.is_empty() {
            if parts.len() > 1 {
                template.push(' ');
            }
            template.push_str("ORDER BY ");
            for (i, o) in self.order.into_iter().enumerate() {
                if i > 0 {
                    template.push_str(", ");
                }
                let suffix = o.suffix();
                parts.push(o.built);
                template.push_str(&format!("${}{}", parts.len(), suffix));
            }
        }
        template.push(')');
        Built::template(template, parts)
    }
}

/// `count(*)`.
pub fn count_star() -> Aggregate<Int8, ()> {
    Aggregate::new(Built::new(Node::CountStar))
}

/// `count(e)`: the rows where `e` is not NULL.
pub fn count<E: Expression>(e: E) -> Aggregate<Int8, E::Tables> {
    Aggregate::new(Built::unary(Un::Count, e.build()))
}

/// `count(DISTINCT e)`.
pub fn count_distinct<E: Expression>(e: E) -> Aggregate<Int8, E::Tables> {
    Aggregate::new(Built::unary(Un::CountDistinct, e.build()))
}

/// `sum(e)`; NULL over no rows. Integer sums widen as PostgreSQL's do (int4 → int8,
/// int8 → numeric).
pub fn sum<E: Expression>(e: E) -> Aggregate<<E::SqlType as SqlNumeric>::Sum, E::Tables>
where
    E::SqlType: SqlNumeric,
{
    Aggregate::new(Built::unary(Un::Sum, e.build()))
}

/// `avg(e)`: numeric for integers, float8 for floats; NULL over no rows.
pub fn avg<E: Expression>(e: E) -> Aggregate<<E::SqlType as SqlNumeric>::Avg, E::Tables>
where
    E::SqlType: SqlNumeric,
{
    Aggregate::new(Built::unary(Un::Avg, e.build()))
}

/// `min(e)`; NULL over no rows.
pub fn min<E: Expression>(e: E) -> Aggregate<<E::SqlType as SqlType>::IntoNullable, E::Tables>
where
    E::SqlType: SqlType,
{
    Aggregate::new(Built::unary(Un::Min, e.build()))
}

/// `max(e)`; NULL over no rows.
pub fn max<E: Expression>(e: E) -> Aggregate<<E::SqlType as SqlType>::IntoNullable, E::Tables>
where
    E::SqlType: SqlType,
{
    Aggregate::new(Built::unary(Un::Max, e.build()))
}

/// `lower(e)`.
pub fn lower<E: Expression>(e: E) -> Typed<E::SqlType, E::Tables>
where
    E::SqlType: super::expr::TextLike,
{
    Typed::new(Built::unary(Un::Lower, e.build()))
}

/// `upper(e)`.
pub fn upper<E: Expression>(e: E) -> Typed<E::SqlType, E::Tables>
where
    E::SqlType: super::expr::TextLike,
{
    Typed::new(Built::unary(Un::Upper, e.build()))
}

/// `coalesce(e, fallback)`: `e`, or `fallback` (a non-null value of the same type) when
/// `e` is NULL.
#[allow(clippy::type_complexity)]
pub fn coalesce<E, F>(
    e: E,
    fallback: F,
) -> Typed<
    <E::SqlType as SqlType>::NotNull,
    (E::Tables, TablesOf<F, <E::SqlType as SqlType>::NotNull>),
>
where
    E: Expression,
    E::SqlType: SqlType,
    F: AsExpression<<E::SqlType as SqlType>::NotNull>,
{
    Typed::new(Built::template(
        "coalesce($1, $2)",
        vec![e.build(), fallback.as_expression().build()],
    ))
}
