//! The untyped core every typed node builds into: a sea-query expression whose bound values
//! are tagged placeholders, with the values themselves kept beside it. Building a whole
//! statement asks sea-query for the SQL (`$1`, `$2`, … in order) and maps each placeholder
//! back to its value, so any `ToSql` type can be bound (enums, `numeric`, arrays) and no
//! value is ever written into the SQL text.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres_types::ToSql;
use sea_query::{Expr, Value, Values};

/// A bound value, shared so that queries can be cloned.
pub type BoundValue = Arc<dyn ToSql + Send + Sync>;

/// Tags have the top bit set; sea-query's own values (`LIMIT`, `OFFSET`) are below it.
const TAG: u64 = 1 << 63;
static NEXT_TAG: AtomicU64 = AtomicU64::new(0);

/// A value with the tag its placeholder carries.
#[derive(Clone)]
pub(crate) struct Param {
    tag: u64,
    value: BoundValue,
}

/// An expression in construction: sea-query's node and the values it binds.
#[derive(Clone)]
pub struct Built {
    pub(crate) expr: Expr,
    pub(crate) params: Vec<Param>,
}

impl fmt::Debug for Built {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Built")
            .field("expr", &self.expr)
            .field("params", &self.params.len())
            .finish()
    }
}

impl Built {
    /// A node that binds nothing.
    pub(crate) fn plain(expr: Expr) -> Built {
        Built {
            expr,
            params: Vec::new(),
        }
    }

    /// A placeholder for `value`.
    pub(crate) fn value(value: BoundValue) -> Built {
        let tag = TAG | NEXT_TAG.fetch_add(1, Ordering::Relaxed);
        Built {
            expr: Expr::Value(Value::BigUnsigned(Some(tag))),
            params: vec![Param { tag, value }],
        }
    }

    /// Combines the parts' values and makes a node of their expressions.
    pub(crate) fn combine(parts: Vec<Built>, make: impl FnOnce(Vec<Expr>) -> Expr) -> Built {
        let mut params = Vec::new();
        let mut exprs = Vec::with_capacity(parts.len());
        for p in parts {
            params.extend(p.params);
            exprs.push(p.expr);
        }
        Built {
            expr: make(exprs),
            params,
        }
    }

    /// Maps the expression, keeping the values.
    pub(crate) fn map(self, f: impl FnOnce(Expr) -> Expr) -> Built {
        Built {
            expr: f(self.expr),
            params: self.params,
        }
    }

    /// A node rendered from a template with `$1`, `$2`, … standing for `parts` (sea-query's
    /// custom expression; the template itself holds no user text).
    pub(crate) fn template(template: String, parts: Vec<Built>) -> Built {
        Built::combine(parts, |exprs| Expr::cust_with_exprs(template, exprs))
    }

    /// Moves the values into `into` and returns the expression.
    pub(crate) fn take(self, into: &mut Vec<Param>) -> Expr {
        into.extend(self.params);
        self.expr
    }
}

/// A statement ready to run: its SQL text, with `$n` placeholders, and the values to bind.
/// The text depends only on the query's shape, so the prepared-statement cache reuses it.
#[derive(Clone)]
pub struct SqlQuery {
    /// The SQL text.
    pub sql: String,
    /// The values for `$1`, `$2`, … in order.
    pub params: Vec<BoundValue>,
}

impl SqlQuery {
    /// The values as the client's parameter slice wants them.
    pub fn param_refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| &**p as &(dyn ToSql + Sync))
            .collect()
    }
}

impl fmt::Debug for SqlQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -- binds: {:?}", self.sql, self.params)
    }
}

impl fmt::Display for SqlQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Pairs sea-query's values (in placeholder order) with the tagged values.
pub(crate) fn finish(sql: String, values: Values, mut params: Vec<Param>) -> SqlQuery {
    if !params.is_sorted_by_key(|p| p.tag) {
        params.sort_unstable_by_key(|p| p.tag);
    }
    let out = values
        .0
        .into_iter()
        .map(|v| match v {
            Value::BigUnsigned(Some(n)) if n & TAG != 0 => {
                let i = params
                    .binary_search_by_key(&n, |p| p.tag)
                    .expect("every placeholder's value travels with its expression");
                params[i].value.clone()
            }
            // LIMIT and OFFSET, which sea-query binds itself.
            Value::BigUnsigned(Some(n)) => Arc::new(n as i64) as BoundValue,
            other => unreachable!("sea-query bound a value the builder did not give it: {other:?}"),
        })
        .collect();
    SqlQuery { sql, params: out }
}
