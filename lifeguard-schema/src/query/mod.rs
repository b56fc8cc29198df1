//! The typed query builder: chainable `SELECT`, `INSERT`, `UPDATE` and `DELETE` over the
//! tables `table!` declares, checked at compile time, rendered by sea-query into
//! PostgreSQL with every value bound as a parameter.
//!
//! ```
//! use lifeguard_schema::query::dsl::*;
//!
//! lifeguard_schema::table! {
//!     users (id) { id -> Int4, name -> Text, active -> Bool, }
//! }
//!
//! let q = users::table
//!     .select((users::id, users::name))
//!     .filter(users::active.eq(true).and(users::name.like("a%")))
//!     .order_by(users::id.desc())
//!     .limit(10)
//!     .to_sql();
//! assert_eq!(
//!     q.sql,
//!     r#"SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."active" = $1 AND "users"."name" LIKE $2 ORDER BY "users"."id" DESC LIMIT $3"#
//! );
//! assert_eq!(q.params.len(), 3);
//! ```
//!
//! What does not compile: comparing a column with a value of another type, naming a column
//! of a table the query does not select from, and reading a nullable column into a
//! non-`Option` (see [`Queryable`]).
//!
//! Execution lives in `lifeguard` (`load`, `get_result`, `first`, `execute`, …); this crate
//! only builds SQL.

// Type-level table lists and typed results make long types; they are the point here.
#![allow(clippy::type_complexity)]

pub(crate) mod built;
mod enums;
mod expr;
mod functions;
mod raw;
pub(crate) mod select;
pub mod sources;
pub mod types;
mod write;

pub use built::{BoundValue, Built, SqlQuery};
pub use expr::{
    ArrayOf, AsExpression, Binary, BoolExpressionMethods, BoolLike, Bound, Eq, Expression,
    ExpressionMethods, SqlNumeric, TablesOf, TextExpressionMethods, TextLike, Typed, default_value,
    excluded, into_sql, not,
};
pub use functions::{
    Aggregate, Window, WindowFunction, avg, coalesce, count, count_distinct, count_star,
    dense_rank, lower, max, min, rank, row_number, sum, upper, window,
};
pub use raw::{SqlFragment, sql};
pub use select::{
    ColumnList, OrderList, Ordered, SelectList, SelectQuery, SubqueryMethods, TableQuery, exists,
};
pub use types::{Queryable, SqlCompatible};
pub use write::{
    Assignment, AssignmentList, BuildSql, DeleteStatement, InsertStatement, Insertable, IntoSelect,
    LoadQuery, NoReturning, Returning, UpdateStatement, WriteTarget, delete, insert_into, update,
};

/// Everything a query needs in scope: `use lifeguard_schema::query::dsl::*;`.
pub mod dsl {
    pub use super::{
        BoolExpressionMethods, ExpressionMethods, SubqueryMethods, TableQuery,
        TextExpressionMethods, avg, coalesce, count, count_distinct, count_star, default_value,
        delete, dense_rank, excluded, exists, insert_into, into_sql, lower, max, min, not, rank,
        row_number, sql, sum, update, upper, window,
    };
}

#[doc(hidden)]
pub mod __private {
    pub use postgres_types;
}
