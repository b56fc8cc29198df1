//! Exclusive guards: a connection lent to one caller, and a transaction that owns one.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use crate::client::{
    Client, CopyIn, CopyOut, Result, Row, ToSql, Transaction, TransactionBuilder,
    TransactionStatus, at_most_one, exactly_one,
};
use crate::executor::LifeExecutor;

use super::config::ResetOnReturn;
use super::core::Shared;
use super::maintenance::{CHECK_TIMEOUT, spawn};

/// What a returned connection needs before anyone else may use it.
const SESSION_RESET: &str = "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
     SELECT pg_catalog.pg_advisory_unlock_all(); CLOSE ALL; DISCARD TEMP; DISCARD SEQUENCES";

/// A connection held exclusively, from [`LifeguardPool::acquire`](super::LifeguardPool::acquire).
/// It dereferences to [`Client`], so everything a client does works on it (`query`,
/// `listen`, `notifications` ...); what needs the connection alone (`transaction`,
/// `build_transaction`, `copy_in`, `copy_out`) is on the guard itself.
///
/// Dropping it gives the connection back. If it comes back inside a transaction (open or
/// failed) or with replies still outstanding, the pool rolls it back before anyone else gets
/// it, and closes it if that fails. A statement deadline set on it is put back to the
/// pool's. What else is reset depends on [`ResetOnReturn`]: by default nothing (session
/// `SET`s, `LISTEN`, temporary tables and session advisory locks stay); with
/// [`ResetOnReturn::Session`] the session is reset.
pub struct PoolConnection {
    shared: Arc<Shared>,
    idx: usize,
    client: Option<Client>,
}

impl std::fmt::Debug for PoolConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolConnection")
            .field("slot", &self.idx)
            .field("client", &self.client)
            .finish()
    }
}

impl PoolConnection {
    pub(crate) fn new(shared: Arc<Shared>, idx: usize, client: Client) -> PoolConnection {
        PoolConnection {
            shared,
            idx,
            client: Some(client),
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("present until drop")
    }

    /// Closes the connection instead of returning it (e.g. after changing session state
    /// that cannot be reset); the pool opens a replacement.
    pub fn discard(mut self) {
        drop(self.client.take());
        self.shared.discard(self.idx);
    }

    fn timed<T>(&self, f: impl FnOnce(&Client) -> Result<T>) -> Result<T> {
        let start = Instant::now();
        let r = f(self.client());
        self.shared.metrics.observe(start.elapsed(), &r);
        r
    }
}

impl Deref for PoolConnection {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client()
    }
}

impl PoolConnection {
    fn client_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until drop")
    }

    /// Starts a transaction on this connection (see [`Client::transaction`]).
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.client_mut().transaction()
    }

    /// Starts building a transaction with options (see [`Client::build_transaction`]).
    pub fn build_transaction(&mut self) -> TransactionBuilder<'_> {
        self.client_mut().build_transaction()
    }

    /// `COPY ... FROM STDIN` (see [`Client::copy_in`]).
    pub fn copy_in(&mut self, sql: &str) -> Result<CopyIn<'_>> {
        self.client_mut().copy_in(sql)
    }

    /// `COPY ... TO STDOUT` (see [`Client::copy_out`]).
    pub fn copy_out(&mut self, sql: &str) -> Result<CopyOut<'_>> {
        self.client_mut().copy_out(sql)
    }
}

impl Drop for PoolConnection {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        give_back(&self.shared, self.idx, client);
    }
}

/// Returns a connection to the pool, cleaning it first when it needs it.
fn give_back(shared: &Arc<Shared>, idx: usize, client: Client) {
    if client.is_closed() {
        drop(client);
        shared.discard(idx);
        return;
    }
    // A deadline the guard set applies to the connection, not to the guard: restore the pool's.
    client.set_statement_timeout(shared.config.client.get_statement_timeout());
    let dirty = client.transaction_status() != TransactionStatus::Idle || client.has_pending();
    let reset = shared.config.reset == ResetOnReturn::Session;
    if !dirty && !reset {
        drop(client);
        shared.make_available(idx);
        return;
    }
    let mut sql = String::new();
    if dirty {
        sql.push_str("ROLLBACK");
    }
    if reset {
        if !sql.is_empty() {
            sql.push_str("; ");
        }
        sql.push_str(SESSION_RESET);
    }
    // The cleanup runs on its own coroutine so that the dropping caller (perhaps unwinding
    // from a panic) does not wait; the slot stays exclusive until it is done.
    let pool = shared.clone();
    let cleanup = move || {
        let ok = match client.with_timeout(CHECK_TIMEOUT).batch_execute(&sql) {
            Ok(()) => client.transaction_status() == TransactionStatus::Idle,
            Err(e) => {
                tracing::warn!(slot = idx, error = %e, "cleaning a returned connection failed; closing it");
                false
            }
        };
        drop(client);
        if ok {
            pool.make_available(idx);
        } else {
            pool.discard(idx);
        }
    };
    if spawn("lifeguard-pool-cleanup", cleanup).is_err() {
        shared.discard(idx);
    }
}

impl LifeExecutor for PoolConnection {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.timed(|c| c.query(sql, params))
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.timed(|c| c.execute(sql, params))
    }

    fn execute_unprepared(&self, sql: &str) -> Result<()> {
        self.timed(|c| c.batch_execute(sql))
    }

    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        exactly_one(self.query(sql, params)?)
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        at_most_one(self.query(sql, params)?)
    }
}

/// A transaction on a pooled connection, from
/// [`LifeguardPool::begin`](super::LifeguardPool::begin). Statements run through it (it
/// dereferences to [`Client`]). [`commit`](Self::commit) or [`rollback`](Self::rollback)
/// end it; dropping it without either rolls it back before the connection is reused.
pub struct PoolTransaction {
    conn: PoolConnection,
    done: bool,
}

impl std::fmt::Debug for PoolTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolTransaction")
            .field("conn", &self.conn)
            .field("done", &self.done)
            .finish()
    }
}

impl PoolTransaction {
    pub(crate) fn begin(conn: PoolConnection, begin_sql: &str) -> Result<PoolTransaction> {
        conn.timed(|c| c.batch_execute(begin_sql))?;
        Ok(PoolTransaction { conn, done: false })
    }

    /// Commits. A commit the server refuses (e.g. a deferred constraint) is an error and the
    /// transaction is rolled back.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.timed(|c| c.batch_execute("COMMIT"))
    }

    /// Rolls back.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.timed(|c| c.batch_execute("ROLLBACK"))
    }

    /// Opens a nested transaction as a savepoint named `name` (quoted as an identifier); it
    /// is released on `commit` and rolled back to on `rollback` or drop.
    pub fn savepoint(&mut self, name: &str) -> Result<Transaction<'_>> {
        Transaction::savepoint_on(self.conn.client_mut(), name, 1)
    }
}

impl Deref for PoolTransaction {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.conn
    }
}

impl Drop for PoolTransaction {
    fn drop(&mut self) {
        if !self.done {
            tracing::debug!("pooled transaction dropped without commit; it is rolled back");
        }
        // The connection comes back in status 'T' or 'E' and is rolled back by the pool.
    }
}

impl LifeExecutor for PoolTransaction {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.conn.query(sql, params)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        LifeExecutor::execute(&self.conn, sql, params)
    }

    fn execute_unprepared(&self, sql: &str) -> Result<()> {
        self.conn.execute_unprepared(sql)
    }

    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        LifeExecutor::query_one(&self.conn, sql, params)
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        LifeExecutor::query_opt(&self.conn, sql, params)
    }
}
