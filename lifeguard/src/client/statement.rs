//! Prepared statements, their result columns, and the bounded per-connection cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Weak};

use bytes::BytesMut;
use postgres_protocol::message::frontend;
use postgres_types::Type;

use super::pipeline::Pipe;

/// A result column of a prepared statement.
#[derive(Debug, Clone)]
pub struct Column {
    pub(crate) name: String,
    pub(crate) type_: Type,
    pub(crate) table_oid: Option<u32>,
    pub(crate) column_id: Option<i16>,
}

impl Column {
    /// The column's name (or alias).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's SQL type.
    pub fn type_(&self) -> &Type {
        &self.type_
    }

    /// OID of the table the column comes from, if it is a plain table column.
    pub fn table_oid(&self) -> Option<u32> {
        self.table_oid
    }

    /// Attribute number of the column in its table, if it is a plain table column.
    pub fn column_id(&self) -> Option<i16> {
        self.column_id
    }
}

struct StatementInner {
    name: String,
    params: Vec<Type>,
    columns: Arc<[Column]>,
    pipe: Weak<Pipe>,
    /// What its last run reported: 0 unknown, 1 a `SELECT` tag, 2 anything else.
    kind: AtomicU8,
}

impl Drop for StatementInner {
    fn drop(&mut self) {
        // Close the server-side statement with the next request that goes out; requests
        // already queued with this statement are ahead of the Close on the wire.
        if let Some(pipe) = self.pipe.upgrade() {
            let mut msg = BytesMut::new();
            if frontend::close(b'S', &self.name, &mut msg).is_ok() {
                let _ = pipe.enqueue(&msg, false);
            }
        }
    }
}

/// A statement prepared on one connection. Cheap to clone; closed on the server when the
/// last clone is dropped.
#[derive(Clone)]
pub struct Statement(Arc<StatementInner>);

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement")
            .field("name", &self.0.name)
            .field("params", &self.0.params)
            .field("columns", &self.0.columns)
            .finish()
    }
}

impl Statement {
    pub(crate) fn new(
        name: String,
        params: Vec<Type>,
        columns: Vec<Column>,
        pipe: Weak<Pipe>,
    ) -> Statement {
        Statement(Arc::new(StatementInner {
            name,
            params,
            columns: columns.into(),
            pipe,
            kind: AtomicU8::new(0),
        }))
    }

    /// Records the command tag of a completed run (`SELECT n` or something else).
    pub(crate) fn note_tag(&self, select: bool) {
        self.0
            .kind
            .store(if select { 1 } else { 2 }, Ordering::Relaxed);
    }

    /// Whether the statement has run and reported a `SELECT` command tag.
    pub(crate) fn reported_select(&self) -> bool {
        self.0.kind.load(Ordering::Relaxed) == 1
    }

    pub(crate) fn name(&self) -> &str {
        &self.0.name
    }

    pub(crate) fn columns_arc(&self) -> &Arc<[Column]> {
        &self.0.columns
    }

    /// The parameter types the server inferred (or that were given).
    pub fn params(&self) -> &[Type] {
        &self.0.params
    }

    /// The result columns (empty for statements that return no rows).
    pub fn columns(&self) -> &[Column] {
        &self.0.columns
    }

    /// Whether this statement was prepared on the connection behind `pipe`.
    pub(crate) fn belongs_to(&self, pipe: &Arc<Pipe>) -> bool {
        std::ptr::eq(self.0.pipe.as_ptr(), Arc::as_ptr(pipe))
    }
}

/// A bounded map from SQL text to prepared statement, evicting the least recently used.
pub(crate) struct StatementCache {
    map: HashMap<String, (Statement, u64)>,
    tick: u64,
    capacity: usize,
}

impl StatementCache {
    pub(crate) fn new(capacity: usize) -> StatementCache {
        StatementCache {
            map: HashMap::new(),
            tick: 0,
            capacity,
        }
    }

    pub(crate) fn get(&mut self, sql: &str) -> Option<Statement> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(sql).map(|(s, used)| {
            *used = tick;
            s.clone()
        })
    }

    /// Inserts `stmt` unless another caller cached the same SQL first; returns the winner.
    pub(crate) fn insert(&mut self, sql: &str, stmt: Statement) -> Statement {
        if self.capacity == 0 {
            return stmt;
        }
        self.tick += 1;
        if let Some((existing, used)) = self.map.get_mut(sql) {
            *used = self.tick;
            return existing.clone();
        }
        if self.map.len() >= self.capacity
            && let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            self.map.remove(&oldest);
        }
        self.map.insert(sql.to_owned(), (stmt.clone(), self.tick));
        stmt
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(name: &str) -> Statement {
        Statement::new(name.into(), vec![], vec![], Weak::new())
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut c = StatementCache::new(2);
        c.insert("a", stmt("s1"));
        c.insert("b", stmt("s2"));
        assert!(c.get("a").is_some());
        c.insert("c", stmt("s3"));
        assert!(c.get("b").is_none(), "b was least recently used");
        assert!(c.get("a").is_some());
        assert!(c.get("c").is_some());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn first_insert_wins() {
        let mut c = StatementCache::new(4);
        c.insert("a", stmt("s1"));
        let won = c.insert("a", stmt("s2"));
        assert_eq!(won.name(), "s1");
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let mut c = StatementCache::new(0);
        c.insert("a", stmt("s1"));
        assert!(c.get("a").is_none());
    }
}
