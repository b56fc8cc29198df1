//! The untyped core every typed node builds into, and turning a statement into SQL.
//!
//! Nodes form a small tree of their own. A statement is rendered by converting the tree into
//! sea-query's statement and asking sea-query for the PostgreSQL text; each bound value
//! enters sea-query as a tagged placeholder, and sea-query's list of values (in `$1`, `$2`, …
//! order) is mapped back through the tags, so any `ToSql` type can be bound (enums,
//! `numeric`, arrays) and no value is ever written into the text.
//!
//! The text depends only on the statement's shape, never on its values. Each statement
//! therefore also writes a shape key (every node kind, operator, name and raw text, but no
//! value), and the text with its placeholder order is cached per thread under that key: a
//! query shape is rendered by sea-query once per thread, later builds only walk the tree.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use postgres_types::ToSql;
use sea_query::{BinOper, Expr, ExprTrait, Func, Keyword, Value, Values};

use crate::meta::TableMeta;

/// A bound value, shared so that queries can be cloned.
pub type BoundValue = Arc<dyn ToSql + Send + Sync>;

/// Placeholder tags have the top bit set; the rest is the value's index in the statement.
const TAG: u64 = 1 << 63;

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    And,
    Or,
    Like,
    NotLike,
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn sea(self) -> BinOper {
        match self {
            Op::Eq => BinOper::Equal,
            Op::Ne => BinOper::NotEqual,
            Op::Gt => BinOper::GreaterThan,
            Op::Ge => BinOper::GreaterThanOrEqual,
            Op::Lt => BinOper::SmallerThan,
            Op::Le => BinOper::SmallerThanOrEqual,
            Op::And => BinOper::And,
            Op::Or => BinOper::Or,
            Op::Like => BinOper::Like,
            Op::NotLike => BinOper::NotLike,
            Op::Add => BinOper::Add,
            Op::Sub => BinOper::Sub,
            Op::Mul => BinOper::Mul,
            Op::Div => BinOper::Div,
        }
    }
}

/// Unary operators and one-argument functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Un {
    Not,
    IsNull,
    IsNotNull,
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Lower,
    Upper,
}

/// A node of an expression tree.
#[derive(Clone)]
pub(crate) enum Node {
    /// `"schema"."table"."column"`.
    Column(&'static TableMeta, &'static str),
    /// `"alias"."column"` (`excluded.x`).
    AliasColumn(&'static str, &'static str),
    /// A bound value.
    Value(BoundValue),
    Binary(Box<Node>, Op, Box<Node>),
    Unary(Un, Box<Node>),
    CountStar,
    /// `CAST(node AS type)`.
    Cast(Box<Node>, String),
    /// sea-query's custom expression: `$1`, `$2`, … stand for the parts.
    Template(Cow<'static, str>, Vec<Node>),
    /// SQL text written as given.
    Text(Cow<'static, str>),
    Default,
    /// `(SELECT …)`.
    SubQuery(Box<super::select::SelectCore>),
    /// `EXISTS (SELECT …)`.
    Exists(Box<super::select::SelectCore>),
    /// `node IN (SELECT …)`.
    InSubquery(Box<Node>, Box<super::select::SelectCore>),
}

/// An expression in construction.
#[derive(Clone)]
pub struct Built(pub(crate) Node);

impl fmt::Debug for Built {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut values = Vec::new();
        let expr = self.0.clone().into_expr(&mut values);
        write!(f, "{expr:?} binding {values:?}")
    }
}

/// The shape key of a statement under construction.
pub(crate) struct Key(Vec<u8>);

thread_local! {
    /// The key buffer, reused from one build to the next on this thread.
    static KEY_BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

impl Default for Key {
    fn default() -> Key {
        let mut buf = KEY_BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
        buf.clear();
        Key(buf)
    }
}

impl Key {
    pub(crate) fn byte(&mut self, b: u8) {
        self.0.push(b);
    }
    pub(crate) fn usize(&mut self, n: usize) {
        self.0.extend_from_slice(&n.to_ne_bytes());
    }
    /// A `'static` name: its address and length identify it.
    pub(crate) fn name(&mut self, s: &'static str) {
        self.usize(s.as_ptr() as usize);
        self.usize(s.len());
    }
    pub(crate) fn meta(&mut self, t: &'static TableMeta) {
        self.usize(t as *const TableMeta as usize);
    }
    /// Text of any lifetime: written out.
    pub(crate) fn text(&mut self, s: &str) {
        self.usize(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
}

impl Node {
    pub(crate) fn column(t: &'static TableMeta, name: &'static str) -> Node {
        Node::Column(t, name)
    }

    /// Writes the shape and collects the values, in the order `into_expr` binds them.
    pub(crate) fn shape(&self, key: &mut Key, values: &mut Vec<BoundValue>) {
        match self {
            Node::Column(t, c) => {
                key.byte(1);
                key.meta(t);
                key.name(c);
            }
            Node::AliasColumn(a, c) => {
                key.byte(2);
                key.name(a);
                key.name(c);
            }
            Node::Value(v) => {
                key.byte(3);
                values.push(v.clone());
            }
            Node::Binary(l, op, r) => {
                key.byte(4);
                key.byte(*op as u8);
                l.shape(key, values);
                r.shape(key, values);
            }
            Node::Unary(u, e) => {
                key.byte(5);
                key.byte(*u as u8);
                e.shape(key, values);
            }
            Node::CountStar => key.byte(6),
            Node::Cast(e, ty) => {
                key.byte(7);
                key.text(ty);
                e.shape(key, values);
            }
            Node::Template(t, parts) => {
                key.byte(8);
                key.text(t);
                key.usize(parts.len());
                for p in parts {
                    p.shape(key, values);
                }
            }
            Node::Text(t) => {
                key.byte(9);
                key.text(t);
            }
            Node::Default => key.byte(10),
            Node::SubQuery(s) => {
                key.byte(11);
                s.shape(key, values);
            }
            Node::Exists(s) => {
                key.byte(12);
                s.shape(key, values);
            }
            Node::InSubquery(e, s) => {
                key.byte(13);
                e.shape(key, values);
                s.shape(key, values);
            }
        }
    }

    /// sea-query's expression; values are appended to `values` and stand as tags.
    pub(crate) fn into_expr(self, values: &mut Vec<BoundValue>) -> Expr {
        match self {
            Node::Column(t, c) => match t.schema {
                Some(s) => Expr::col((s, t.name, c)),
                None => Expr::col((t.name, c)),
            },
            Node::AliasColumn(a, c) => Expr::col((a, c)),
            Node::Value(v) => tag(v, values),
            Node::Binary(l, op, r) => {
                let l = l.into_expr(values);
                let r = r.into_expr(values);
                l.binary(op.sea(), r)
            }
            Node::Unary(u, e) => {
                let e = e.into_expr(values);
                match u {
                    Un::Not => e.not(),
                    Un::IsNull => e.is_null(),
                    Un::IsNotNull => e.is_not_null(),
                    Un::Count => Func::count(e).into(),
                    Un::CountDistinct => Func::count_distinct(e).into(),
                    Un::Sum => Func::sum(e).into(),
                    Un::Avg => Func::avg(e).into(),
                    Un::Min => Func::min(e).into(),
                    Un::Max => Func::max(e).into(),
                    Un::Lower => Func::lower(e).into(),
                    Un::Upper => Func::upper(e).into(),
                }
            }
            Node::CountStar => Func::count(Expr::col(sea_query::Asterisk)).into(),
            Node::Cast(e, ty) => e.into_expr(values).cast_as(ty),
            Node::Template(t, parts) => {
                let exprs: Vec<Expr> = parts.into_iter().map(|p| p.into_expr(values)).collect();
                Expr::cust_with_exprs(t, exprs)
            }
            Node::Text(t) => Expr::cust(t),
            Node::Default => Expr::Keyword(Keyword::Default),
            Node::SubQuery(s) => Expr::SubQuery(None, Box::new(s.statement(values).into())),
            Node::Exists(s) => Expr::exists(s.statement(values)),
            Node::InSubquery(e, s) => {
                let e = e.into_expr(values);
                e.in_subquery(s.statement(values))
            }
        }
    }
}

/// The placeholder for `v`, appended to `values`.
pub(crate) fn tag(v: BoundValue, values: &mut Vec<BoundValue>) -> Expr {
    let i = values.len() as u64;
    values.push(v);
    Expr::Value(Value::BigUnsigned(Some(TAG | i)))
}

/// The tag value for a number sea-query takes as `u64` (`LIMIT`, `OFFSET`), bound as `int8`.
pub(crate) fn tag_number(n: i64, values: &mut Vec<BoundValue>) -> u64 {
    let i = values.len() as u64;
    values.push(Arc::new(n));
    TAG | i
}

impl Built {
    pub(crate) fn new(node: Node) -> Built {
        Built(node)
    }

    /// A placeholder for `value`.
    pub(crate) fn value(value: BoundValue) -> Built {
        Built(Node::Value(value))
    }

    /// A column reference (used by generated code).
    #[doc(hidden)]
    pub fn column<C: crate::meta::Column>() -> Built {
        use crate::meta::Table;
        Built(Node::Column(C::Table::meta(), C::NAME))
    }

    /// `table.column`, untyped (entity layer).
    pub(crate) fn col(t: &'static TableMeta, name: &'static str) -> Built {
        Built(Node::column(t, name))
    }

    /// `self = $1`, `self > $1`, … with `value` bound (entity layer).
    pub(crate) fn compare(self, op: Op, value: BoundValue) -> Built {
        Built::binary(self, op, Built::value(value))
    }

    /// `self = other`, `self > other`, … between two expressions (entity layer).
    pub(crate) fn compare_col(self, op: Op, other: Built) -> Built {
        Built::binary(self, op, other)
    }

    /// `self IN (subquery)` (entity layer).
    pub(crate) fn in_subquery(self, sub: super::select::SelectCore) -> Built {
        Built(Node::InSubquery(Box::new(self.0), Box::new(sub)))
    }

    /// `self IS NULL` or `self IS NOT NULL` (entity layer).
    pub(crate) fn null_test(self, is_null: bool) -> Built {
        Built::unary(if is_null { Un::IsNull } else { Un::IsNotNull }, self)
    }

    /// `self = ANY($1)` with `array` bound as one array parameter (entity layer).
    pub(crate) fn eq_any_value(self, array: BoundValue) -> Built {
        Built::template("$1 = ANY($2)", vec![self.operand(), Built::value(array)])
    }

    pub(crate) fn binary(l: Built, op: Op, r: Built) -> Built {
        Built(Node::Binary(Box::new(l.0), op, Box::new(r.0)))
    }

    pub(crate) fn unary(u: Un, e: Built) -> Built {
        Built(Node::Unary(u, Box::new(e.0)))
    }

    /// The node as an operand inside a template: parenthesized unless it is atomic (a
    /// column, a value, a function call, a subquery).
    pub(crate) fn operand(self) -> Built {
        match self.0 {
            Node::Binary(..)
            | Node::Template(..)
            | Node::Text(..)
            | Node::Unary(Un::Not | Un::IsNull | Un::IsNotNull, _)
            | Node::Exists(_)
            | Node::InSubquery(..) => Built::template("($1)", vec![self]),
            _ => self,
        }
    }

    /// The node as one of several `WHERE` conditions joined by `AND` (rendered as a flat
    /// chain): parenthesized unless nothing in it binds looser than `AND`.
    pub(crate) fn conjunct(self) -> Built {
        match &self.0 {
            Node::Binary(_, op, _) if *op != Op::Or => self,
            Node::Column(..)
            | Node::Value(_)
            | Node::Unary(Un::IsNull | Un::IsNotNull, _)
            | Node::Exists(_)
            | Node::InSubquery(..) => self,
            _ => Built::template("($1)", vec![self]),
        }
    }

    /// A node rendered from a template with `$1`, `$2`, … standing for `parts`.
    pub(crate) fn template(template: impl Into<Cow<'static, str>>, parts: Vec<Built>) -> Built {
        Built(Node::Template(
            template.into(),
            parts.into_iter().map(|p| p.0).collect(),
        ))
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

/// A rendered shape: the text and, for each placeholder, the index of its value in walk
/// order.
struct Rendered {
    sql: String,
    order: Vec<u32>,
}

/// Shapes cached per thread; beyond this many the cache starts over (a program builds a
/// bounded set of shapes, so this only guards against unbounded dynamic raw SQL).
const CACHE_LIMIT: usize = 4096;

/// Statements binding more values than this are not cached.
const MAX_CACHED_VALUES: usize = 256;

/// A fast hash for shape keys (FxHash's mixing, eight bytes at a time); the map compares
/// whole keys, so the hash only spreads them.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_ne_bytes(c.try_into().expect("eight bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Shapes = HashMap<Vec<u8>, Rc<Rendered>, std::hash::BuildHasherDefault<KeyHasher>>;

thread_local! {
    static RENDERED: RefCell<Shapes> = RefCell::new(Shapes::default());
}

/// A statement's SQL: from the cache when its shape was rendered before on this thread,
/// else from `render` (which builds sea-query's statement with tagged values, in the same
/// walk order as `values`, and returns its text and values).
pub(crate) fn render(
    key: Key,
    values: Vec<BoundValue>,
    render: impl FnOnce() -> (String, Values, usize),
) -> SqlQuery {
    // Statements with many values (large batches) vary in shape with their size: render them
    // without filling the cache.
    let cacheable = values.len() <= MAX_CACHED_VALUES;
    let hit = if cacheable {
        RENDERED.with(|c| c.borrow().get(&key.0).cloned())
    } else {
        None
    };
    let rendered = match hit {
        Some(r) => r,
        None => {
            let (sql, tags, count) = render();
            debug_assert_eq!(count, values.len(), "one walk order for shape and render");
            let order = tags
                .0
                .into_iter()
                .map(|v| match v {
                    Value::BigUnsigned(Some(n)) if n & TAG != 0 => (n & !TAG) as u32,
                    other => unreachable!(
                        "sea-query bound a value the builder did not give it: {other:?}"
                    ),
                })
                .collect();
            let r = Rc::new(Rendered { sql, order });
            if !cacheable {
                KEY_BUFFER.with(|b| *b.borrow_mut() = key.0);
                return SqlQuery {
                    sql: r.sql.clone(),
                    params: r
                        .order
                        .iter()
                        .map(|&i| values[i as usize].clone())
                        .collect(),
                };
            }
            RENDERED.with(|c| {
                let mut c = c.borrow_mut();
                if c.len() >= CACHE_LIMIT {
                    c.clear();
                }
                c.insert(key.0.clone(), r.clone());
            });
            r
        }
    };
    KEY_BUFFER.with(|b| *b.borrow_mut() = key.0);
    SqlQuery {
        sql: rendered.sql.clone(),
        params: rendered
            .order
            .iter()
            .map(|&i| values[i as usize].clone())
            .collect(),
    }
}
