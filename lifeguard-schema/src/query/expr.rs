//! Typed expressions: every node knows its SQL type and the tables it names.

use std::marker::PhantomData;

use super::built::{Built, Node, Op, Un};
use super::sources::MakeNullable;
use crate::meta::{Column, JoinTo, Table};
use crate::sql_types::{Array, Bool, Nullable, SqlType};

/// A typed SQL expression.
///
/// `SqlType` is its SQL type marker; `Tables` is the tree of tables its columns come from,
/// which the query checks against the tables it selects from.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a SQL expression of the expected type",
    label = "expected a value or expression of the column's SQL type",
    note = "each SQL type takes its own Rust types (Int4: i32, Int8: i64, Text: String or &str, Bool: bool, …; \
            see lifeguard_schema::query::types); a nullable column also takes an `Option`"
)]
pub trait Expression: Sized {
    /// The SQL type the expression evaluates to.
    type SqlType;
    /// The tables the expression names (see [`sources`](super::sources)).
    type Tables;
    /// Builds the untyped node.
    fn build(self) -> Built;
}

/// An expression of SQL type `ST` naming tables `T`: the result of an operator, a function
/// or a bound value.
pub struct Typed<ST, T> {
    pub(crate) built: Built,
    _marker: PhantomData<fn() -> (ST, T)>,
}

impl<ST, T> Clone for Typed<ST, T> {
    fn clone(&self) -> Self {
        Typed::new(self.built.clone())
    }
}

impl<ST, T> std::fmt::Debug for Typed<ST, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.built.fmt(f)
    }
}

impl<ST, T> Typed<ST, T> {
    pub(crate) fn new(built: Built) -> Self {
        Typed {
            built,
            _marker: PhantomData,
        }
    }
}

impl<ST, T> Expression for Typed<ST, T> {
    type SqlType = ST;
    type Tables = T;
    fn build(self) -> Built {
        self.built
    }
}

/// A value bound as a parameter, of SQL type `ST`.
pub type Bound<ST> = Typed<ST, ()>;

impl<ST> Bound<ST> {
    /// Binds `value`.
    pub fn bind<V: postgres_types::ToSql + Send + Sync + 'static>(value: V) -> Self {
        Typed::new(Built::value(std::sync::Arc::new(value)))
    }
}

/// Something usable where an expression of SQL type `ST` is expected: an expression of that
/// type, or a Rust value of a matching type (bound as a parameter).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a value of SQL type `{ST}`",
    label = "expected a value or expression of SQL type `{ST}`",
    note = "each SQL type takes its own Rust types (Int4: i32, Int8: i64, Text: String or &str, …); \
            a nullable column takes a plain value or an `Option`; \
            to compare a non-null expression with a nullable one, call `.nullable()` on it"
)]
pub trait AsExpression<ST> {
    /// The expression it becomes.
    type Expression: Expression<SqlType = ST>;
    /// Converts (Diesel's name, kept for familiarity).
    #[allow(clippy::wrong_self_convention)]
    fn as_expression(self) -> Self::Expression;
}

impl<E: Expression> AsExpression<E::SqlType> for E {
    type Expression = E;
    fn as_expression(self) -> E {
        self
    }
}

/// The tables named by what `R` becomes as an expression of type `ST`.
pub type TablesOf<R, ST> = <<R as AsExpression<ST>>::Expression as Expression>::Tables;

/// `child.fk = parent.pk` for a declared relation.
pub(crate) fn join_condition<C: JoinTo<P>, P: Table>() -> Built {
    let parent = P::meta();
    let pk = parent.primary_key.first().copied().unwrap_or("id");
    Built::binary(
        Built::column::<C::ForeignKey>(),
        Op::Eq,
        Built::new(Node::column(parent, pk)),
    )
}

/// `SqlType` of `Bool` or `Nullable<Bool>`: usable as a condition.
#[diagnostic::on_unimplemented(
    message = "a condition must be of SQL type Bool, not `{Self}`",
    label = "expected a boolean expression"
)]
pub trait BoolLike {}
impl BoolLike for Bool {}
impl BoolLike for Nullable<Bool> {}

/// `a = b`; it also assigns `b` to column `a` in `insert`/`update`.
pub struct Eq<L, R> {
    pub(crate) lhs: L,
    pub(crate) rhs: R,
}

impl<L: Clone, R: Clone> Clone for Eq<L, R> {
    fn clone(&self) -> Self {
        Eq {
            lhs: self.lhs.clone(),
            rhs: self.rhs.clone(),
        }
    }
}

impl<L: Expression, R: Expression> Expression for Eq<L, R> {
    type SqlType = Bool;
    type Tables = (L::Tables, R::Tables);
    fn build(self) -> Built {
        binary(self.lhs, Op::Eq, self.rhs)
    }
}

fn binary<L: Expression, R: Expression>(l: L, op: Op, r: R) -> Built {
    Built::binary(l.build(), op, r.build())
}

/// The result of a binary operator on `L` and `R`.
pub type Binary<ST, L, R> = Typed<ST, (<L as Expression>::Tables, R)>;

/// Comparison, null tests, membership, ordering and nullability: methods on every
/// expression (and, through the generated code, on every column).
pub trait ExpressionMethods: Expression {
    /// `self = rhs`.
    fn eq<R: AsExpression<Self::SqlType>>(self, rhs: R) -> Eq<Self, R::Expression> {
        Eq {
            lhs: self,
            rhs: rhs.as_expression(),
        }
    }
    /// `self <> rhs`.
    fn ne<R: AsExpression<Self::SqlType>>(
        self,
        rhs: R,
    ) -> Binary<Bool, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(binary(self, Op::Ne, rhs.as_expression()))
    }
    /// `self > rhs`.
    fn gt<R: AsExpression<Self::SqlType>>(
        self,
        rhs: R,
    ) -> Binary<Bool, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(binary(self, Op::Gt, rhs.as_expression()))
    }
    /// `self >= rhs`.
    fn ge<R: AsExpression<Self::SqlType>>(
        self,
        rhs: R,
    ) -> Binary<Bool, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(binary(self, Op::Ge, rhs.as_expression()))
    }
    /// `self < rhs`.
    fn lt<R: AsExpression<Self::SqlType>>(
        self,
        rhs: R,
    ) -> Binary<Bool, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(binary(self, Op::Lt, rhs.as_expression()))
    }
    /// `self <= rhs`.
    fn le<R: AsExpression<Self::SqlType>>(
        self,
        rhs: R,
    ) -> Binary<Bool, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(binary(self, Op::Le, rhs.as_expression()))
    }
    /// `self BETWEEN low AND high`.
    fn between<A, B>(
        self,
        low: A,
        high: B,
    ) -> Typed<
        Bool,
        (
            Self::Tables,
            (TablesOf<A, Self::SqlType>, TablesOf<B, Self::SqlType>),
        ),
    >
    where
        A: AsExpression<Self::SqlType>,
        B: AsExpression<Self::SqlType>,
    {
        Typed::new(Built::template(
            "$1 BETWEEN $2 AND $3",
            vec![
                self.build().operand(),
                low.as_expression().build().operand(),
                high.as_expression().build().operand(),
            ],
        ))
    }
    /// `self IS NULL`.
    #[allow(clippy::wrong_self_convention)]
    fn is_null(self) -> Typed<Bool, Self::Tables> {
        Typed::new(Built::unary(Un::IsNull, self.build()))
    }
    /// `self IS NOT NULL`.
    #[allow(clippy::wrong_self_convention)]
    fn is_not_null(self) -> Typed<Bool, Self::Tables> {
        Typed::new(Built::unary(Un::IsNotNull, self.build()))
    }
    /// `self = ANY($1)`: equal to one of `values`, bound as one array parameter, so the SQL
    /// is the same whatever the number of values.
    fn eq_any<R>(self, values: R) -> Binary<Bool, Self, TablesOf<R, ArrayOf<Self>>>
    where
        Self::SqlType: SqlType,
        R: AsExpression<ArrayOf<Self>>,
    {
        Typed::new(Built::template(
            "$1 = ANY($2)",
            vec![
                self.build().operand(),
                values.as_expression().build().operand(),
            ],
        ))
    }
    /// `self <> ALL($1)`: different from every one of `values` (one array parameter).
    fn ne_all<R>(self, values: R) -> Binary<Bool, Self, TablesOf<R, ArrayOf<Self>>>
    where
        Self::SqlType: SqlType,
        R: AsExpression<ArrayOf<Self>>,
    {
        Typed::new(Built::template(
            "$1 <> ALL($2)",
            vec![
                self.build().operand(),
                values.as_expression().build().operand(),
            ],
        ))
    }
    /// Ascending order.
    fn asc(self) -> super::select::Ordered<Self::Tables> {
        super::select::Ordered::new(self.build(), sea_query::Order::Asc)
    }
    /// Descending order.
    fn desc(self) -> super::select::Ordered<Self::Tables> {
        super::select::Ordered::new(self.build(), sea_query::Order::Desc)
    }
    /// The same expression typed as nullable: to compare with a nullable one, or to read a
    /// column of a left-joined table.
    fn nullable(
        self,
    ) -> Typed<<Self::SqlType as SqlType>::IntoNullable, <Self::Tables as MakeNullable>::Out>
    where
        Self::SqlType: SqlType,
        Self::Tables: MakeNullable,
    {
        Typed::new(self.build())
    }
    /// `CAST(self AS type)` of another SQL type, checked by the server.
    fn cast<ST2: SqlType>(self) -> Typed<ST2, Self::Tables> {
        let ty = ST2::DESC.sql();
        Typed::new(Built::new(Node::Cast(Box::new(self.build().0), ty)))
    }
}

impl<E: Expression> ExpressionMethods for E {}

/// An array of the non-null version of `E`'s type (what `eq_any` binds).
pub type ArrayOf<E> = Array<<<E as Expression>::SqlType as SqlType>::NotNull>;

/// `and`, `or` on conditions.
pub trait BoolExpressionMethods: Expression
where
    Self::SqlType: BoolLike,
{
    /// `self AND other`.
    fn and<R>(self, other: R) -> Binary<Bool, Self, R::Tables>
    where
        R: Expression,
        R::SqlType: BoolLike,
    {
        Typed::new(binary(self, Op::And, other))
    }
    /// `self OR other` (parenthesized as needed).
    fn or<R>(self, other: R) -> Binary<Bool, Self, R::Tables>
    where
        R: Expression,
        R::SqlType: BoolLike,
    {
        Typed::new(binary(self, Op::Or, other))
    }
}

impl<E: Expression> BoolExpressionMethods for E where E::SqlType: BoolLike {}

/// `NOT e`.
pub fn not<E: Expression>(e: E) -> Typed<Bool, E::Tables>
where
    E::SqlType: BoolLike,
{
    Typed::new(Built::unary(Un::Not, e.build()))
}

/// `LIKE`, `ILIKE` on text.
pub trait TextExpressionMethods: Expression
where
    Self::SqlType: TextLike,
{
    /// `self LIKE pattern`.
    fn like<R: AsExpression<Self::SqlType>>(
        self,
        pattern: R,
    ) -> Binary<Bool, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(binary(self, Op::Like, pattern.as_expression()))
    }
    /// `self NOT LIKE pattern`.
    fn not_like<R: AsExpression<Self::SqlType>>(
        self,
        pattern: R,
    ) -> Binary<Bool, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(binary(self, Op::NotLike, pattern.as_expression()))
    }
    /// `self ILIKE pattern` (case-insensitive).
    fn ilike<R: AsExpression<Self::SqlType>>(
        self,
        pattern: R,
    ) -> Binary<Bool, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(Built::template(
            "$1 ILIKE $2",
            vec![
                self.build().operand(),
                pattern.as_expression().build().operand(),
            ],
        ))
    }
    /// `self || other`.
    fn concat<R: AsExpression<Self::SqlType>>(
        self,
        other: R,
    ) -> Binary<Self::SqlType, Self, TablesOf<R, Self::SqlType>> {
        Typed::new(Built::template(
            "$1 || $2",
            vec![
                self.build().operand(),
                other.as_expression().build().operand(),
            ],
        ))
    }
}

impl<E: Expression> TextExpressionMethods for E where E::SqlType: TextLike {}

/// Text types (`Text`, `Varchar`, nullable or not).
pub trait TextLike {}
impl TextLike for crate::sql_types::Text {}
impl TextLike for crate::sql_types::Varchar {}
impl<T: TextLike> TextLike for Nullable<T> {}

/// Numeric SQL types: arithmetic, `sum` and `avg`.
pub trait SqlNumeric: SqlType {
    /// The type of `sum(x)` (nullable: the sum of no rows is NULL).
    type Sum;
    /// The type of `avg(x)`.
    type Avg;
}

macro_rules! numeric {
    ($($t:ident => $sum:ident, $avg:ident;)*) => {$(
        impl SqlNumeric for crate::sql_types::$t {
            type Sum = Nullable<crate::sql_types::$sum>;
            type Avg = Nullable<crate::sql_types::$avg>;
        }
    )*};
}

numeric! {
    Int2 => Int8, Numeric;
    Int4 => Int8, Numeric;
    Int8 => Numeric, Numeric;
    Float4 => Float4, Float8;
    Float8 => Float8, Float8;
    Numeric => Numeric, Numeric;
}

impl<T: SqlNumeric> SqlNumeric for Nullable<T> {
    type Sum = T::Sum;
    type Avg = T::Avg;
}

pub(crate) fn arith<L: Expression, R: Expression>(l: L, op: Op, r: R) -> Built {
    binary(l, op, r)
}

macro_rules! typed_ops {
    ($($trait:ident $method:ident $op:ident;)*) => {$(
        impl<ST, T, R> std::ops::$trait<R> for Typed<ST, T>
        where
            ST: SqlNumeric,
            R: AsExpression<ST>,
        {
            type Output = Typed<ST, (T, TablesOf<R, ST>)>;
            fn $method(self, rhs: R) -> Self::Output {
                Typed::new(arith(self, Op::$op, rhs.as_expression()))
            }
        }
    )*};
}

typed_ops! {
    Add add Add;
    Sub sub Sub;
    Mul mul Mul;
    Div div Div;
}

/// `DEFAULT`, for a column in `insert` or `update`.
pub fn default_value<ST>() -> Typed<ST, ()> {
    Typed::new(Built::new(Node::Default))
}

/// `excluded.column` inside `on_conflict(…).do_update()`: the value the insert proposed.
pub fn excluded<C: Column>(_column: C) -> Typed<C::SqlType, ()> {
    Typed::new(Built::new(Node::AliasColumn("excluded", C::NAME)))
}

/// Binds a Rust value as an expression of SQL type `ST` with an explicit cast, for places
/// where PostgreSQL cannot infer a parameter's type (a bare value in a select list).
pub fn into_sql<ST: SqlType, V: AsExpression<ST>>(value: V) -> Typed<ST, TablesOf<V, ST>> {
    let ty = ST::DESC.sql();
    Typed::new(Built::new(Node::Cast(
        Box::new(value.as_expression().build().0),
        ty,
    )))
}

/// Implements [`Expression`] and the arithmetic operators for a column type; used by
/// `table!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __lg_column_expr {
    ($col:ident, $ty:ty) => {
        impl $crate::query::Expression for $col {
            type SqlType = $ty;
            type Tables = super::table;
            fn build(self) -> $crate::query::Built {
                $crate::query::Built::column::<$col>()
            }
        }
        $crate::__lg_column_expr!(@op $col $ty, Add add);
        $crate::__lg_column_expr!(@op $col $ty, Sub sub);
        $crate::__lg_column_expr!(@op $col $ty, Mul mul);
        $crate::__lg_column_expr!(@op $col $ty, Div div);
    };
    (@op $col:ident $ty:ty, $trait:ident $method:ident) => {
        impl<R> ::core::ops::$trait<R> for $col
        where
            R: $crate::query::AsExpression<$ty>,
            <R::Expression as $crate::query::Expression>::SqlType: $crate::query::SqlNumeric,
        {
            type Output = $crate::query::Typed<
                $ty,
                (super::table, <R::Expression as $crate::query::Expression>::Tables),
            >;
            fn $method(self, rhs: R) -> Self::Output {
                $crate::query::Typed::from_op(self, stringify!($trait), rhs.as_expression())
            }
        }
    };
}

impl<ST, T> Typed<ST, T> {
    /// An arithmetic node (used by generated code).
    #[doc(hidden)]
    pub fn from_op<L: Expression, R: Expression>(l: L, op: &str, r: R) -> Self {
        let op = match op {
            "Add" => Op::Add,
            "Sub" => Op::Sub,
            "Mul" => Op::Mul,
            _ => Op::Div,
        };
        Typed::new(arith(l, op, r))
    }
}
