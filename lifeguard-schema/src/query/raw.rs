//! The escape hatch: a raw SQL fragment with bound values.

use std::marker::PhantomData;

use super::built::{Built, Node};
use super::expr::{AsExpression, Expression};

/// A raw SQL fragment of SQL type `ST`, made with [`sql`]. Its pieces are written as given,
/// separated by one space;
/// values appended with [`bind`](SqlFragment::bind) are parameters, never text. It names no
/// table as far as the compile-time checks know: the server checks it.
pub struct SqlFragment<ST> {
    parts: Vec<Built>,
    _marker: PhantomData<fn() -> ST>,
}

impl<ST> Clone for SqlFragment<ST> {
    fn clone(&self) -> Self {
        SqlFragment {
            parts: self.parts.clone(),
            _marker: PhantomData,
        }
    }
}

/// Starts a raw fragment of SQL type `ST`.
///
/// ```
/// use lifeguard_schema::query::dsl::*;
/// use lifeguard_schema::sql_types::{Bool, Text};
/// lifeguard_schema::table! { users { id -> Int4, email -> Text, } }
/// let q = users::table
///     .filter(sql::<Bool>("lower(email) = lower(").bind::<Text, _>("A@B.C").sql(")"))
///     .to_sql();
/// assert!(q.sql.ends_with(r#"WHERE lower(email) = lower( $1 )"#), "{}", q.sql);
/// ```
pub fn sql<ST>(text: &str) -> SqlFragment<ST> {
    SqlFragment {
        parts: vec![Built::new(Node::Text(text.to_owned().into()))],
        _marker: PhantomData,
    }
}

impl<ST> SqlFragment<ST> {
    /// Appends more SQL text.
    pub fn sql(mut self, text: &str) -> Self {
        self.parts
            .push(Built::new(Node::Text(text.to_owned().into())));
        self
    }

    /// Appends a value of SQL type `BT`, bound as a parameter.
    pub fn bind<BT, V: AsExpression<BT>>(mut self, value: V) -> Self {
        self.parts.push(value.as_expression().build());
        self
    }
}

impl<ST> Expression for SqlFragment<ST> {
    type SqlType = ST;
    type Tables = ();
    fn build(self) -> Built {
        let template = (1..=self.parts.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(" ");
        Built::template(template, self.parts)
    }
}
