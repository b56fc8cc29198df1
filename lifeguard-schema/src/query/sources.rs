//! Which tables a query may name, checked at compile time without a declaration per pair of
//! tables.
//!
//! A query's sources are a type-level list `(T1, (T2, ()))` that grows by one table per
//! join. An expression carries the tables its columns come from as a tree (`()`, a table,
//! or a pair of trees). `filter`, `select`, `order_by` and friends require every table of
//! the tree to be in the list ([`AllIn`]); the index types (`Here`, `There<…>`) are
//! inferred and never written by users. A left-joined table enters the list as
//! [`NullableTable`]: its columns are usable only through `.nullable()`, so reading them
//! needs `Option`.

use std::marker::PhantomData;

use crate::meta::Table;

/// A table whose columns may all be NULL in this query (the right side of a left join), or
/// the tables of an expression made `.nullable()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullableTable<T>(PhantomData<T>);

/// Index: the table is at the head of the list.
#[derive(Debug)]
pub struct Here;
/// Index: a nullable use of a table at the head of the list.
#[derive(Debug)]
pub struct HereNullable;
/// Index: the table is further down the list.
#[derive(Debug)]
pub struct There<I>(PhantomData<I>);
/// Index of a leaf of an expression's table tree.
#[derive(Debug)]
pub struct Leaf<I>(PhantomData<I>);

/// The source list contains `T`.
#[diagnostic::on_unimplemented(
    message = "a column of `{T}` is used, but `{T}` is not in this query",
    label = "this expression names a table the query does not select from",
    note = "add the table with `inner_join`/`left_join`; after a left join, use `.nullable()` on its columns"
)]
pub trait Contains<T, I> {}

impl<T, Tail> Contains<T, Here> for (T, Tail) {}
impl<T, Tail> Contains<NullableTable<T>, HereNullable> for (T, Tail) {}
impl<T, H, Tail: Contains<T, I>, I> Contains<T, There<I>> for (H, Tail) {}

/// Every table of an expression's tree is in the source list `QS`.
#[diagnostic::on_unimplemented(
    message = "this expression names a table that is not in the query",
    note = "add the table with `inner_join`/`left_join`; after a left join, use `.nullable()` on its columns"
)]
pub trait AllIn<QS, I> {}

impl<QS> AllIn<QS, ()> for () {}
impl<QS: Contains<T, I>, T: Table, I> AllIn<QS, Leaf<I>> for T {}
impl<QS: Contains<NullableTable<T>, I>, T: Table, I> AllIn<QS, Leaf<I>> for NullableTable<T> {}
impl<QS, A: AllIn<QS, IA>, B: AllIn<QS, IB>, IA, IB> AllIn<QS, (IA, IB)> for (A, B) {}

/// The table tree with every table made nullable (for `.nullable()`).
pub trait MakeNullable {
    /// The result.
    type Out;
}

impl MakeNullable for () {
    type Out = ();
}
impl<T: Table> MakeNullable for T {
    type Out = NullableTable<T>;
}
impl<T> MakeNullable for NullableTable<T> {
    type Out = NullableTable<T>;
}
impl<A: MakeNullable, B: MakeNullable> MakeNullable for (A, B) {
    type Out = (A::Out, B::Out);
}

/// A table one can join to a query whose sources are `QS`, along a declared relation
/// (`joinable!`) with one of the tables already there. `I` locates that table, `D` says
/// which side holds the foreign key; both are inferred.
#[diagnostic::on_unimplemented(
    message = "no relation joins `{Self}` to the tables of this query",
    note = "declare one with `joinable!(child -> parent (fk))`, or give the condition with `inner_join_on`/`left_join_on`"
)]
pub trait JoinsQuery<QS, I, D> {
    /// The `ON` condition.
    fn on() -> super::built::Built;
}

/// Direction: the new table holds the foreign key.
#[derive(Debug)]
pub struct ChildOf;
/// Direction: a table already in the query holds the foreign key.
#[derive(Debug)]
pub struct ParentOf;

impl<T, H, Tail> JoinsQuery<(H, Tail), Here, ChildOf> for T
where
    T: crate::meta::JoinTo<H>,
    H: Table,
{
    fn on() -> super::built::Built {
        super::expr::join_condition::<T, H>()
    }
}

impl<T, H, Tail> JoinsQuery<(H, Tail), Here, ParentOf> for T
where
    H: crate::meta::JoinTo<T>,
    T: Table,
{
    fn on() -> super::built::Built {
        super::expr::join_condition::<H, T>()
    }
}

impl<T, H, Tail, I, D> JoinsQuery<(H, Tail), There<I>, D> for T
where
    T: JoinsQuery<Tail, I, D>,
{
    fn on() -> super::built::Built {
        <T as JoinsQuery<Tail, I, D>>::on()
    }
}
