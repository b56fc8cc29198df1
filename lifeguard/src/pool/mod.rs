//! `LifeguardPool`: persistent PostgreSQL connections shared by any number of coroutines.
//!
//! - **Single statements** ([`query`](LifeguardPool::query), [`execute`](LifeguardPool::execute),
//!   [`batch_execute`](LifeguardPool::batch_execute), [`query_stream`](LifeguardPool::query_stream)
//!   ...) need no checkout: they are pipelined on the open connection with the fewest requests
//!   in flight, so a few connections serve thousands of callers.
//! - **Exclusive guards** ([`acquire`](LifeguardPool::acquire), [`begin`](LifeguardPool::begin),
//!   [`transaction`](LifeguardPool::transaction)) take a connection alone, for transactions and
//!   session state. Waiters are served strictly first come, first served, and give up at the
//!   acquire deadline. A connection is taken from shared use once the statements already on
//!   it have finished.
//! - **Self-healing**: a background coroutine replaces broken connections (exponential
//!   backoff with jitter, at most 0.5 s apart), retires connections past their lifetime once
//!   idle, and checks idle connections. While the database is down every call fails by its
//!   deadline with [`Error::Unavailable`] (or [`Error::PoolTimeout`]); when it is back, service
//!   resumes by itself.
//! - **Metrics** in a Prometheus registry of the pool's own or one you pass
//!   ([`PoolBuilder::metrics_registry`]), and `tracing` spans `lifeguard.acquire` and
//!   `lifeguard.query`.
//!
//! The handle is cheap to clone, `Send + Sync`, and works from coroutines and plain threads.
//! Dropping the last handle stops the background coroutine and closes idle connections; those
//! held by guards close when the guards are dropped.
//!
//! ```no_run
//! use lifeguard::pool::LifeguardPool;
//! use lifeguard::LifeExecutor;
//!
//! let pool = LifeguardPool::connect("postgres://app@127.0.0.1/app")?;
//! let (n,): (i64,) = pool.query_one_as("SELECT count(*) FROM users", &[])?;
//! pool.transaction(|tx| {
//!     tx.execute("UPDATE accounts SET balance = balance - 10 WHERE id = $1", &[&1i64])?;
//!     tx.execute("UPDATE accounts SET balance = balance + 10 WHERE id = $1", &[&2i64])?;
//!     Ok::<_, lifeguard::Error>(())
//! })?;
//! println!("{n} users\n{}", pool.metrics_text());
//! # Ok::<(), lifeguard::Error>(())
//! ```

mod config;
mod core;
mod guard;
mod maintenance;
mod metrics;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::client::{
    Client, Config, Error, Result, Row, RowStream, ToSql, TransactionStatus, at_most_one,
    exactly_one,
};
use crate::executor::LifeExecutor;

pub use config::{PoolBuilder, PoolConfig, ResetOnReturn};
pub use guard::{PoolConnection, PoolTransaction};
pub use metrics::render as render_metrics;
/// The Prometheus registry type pools register their metrics in.
pub use prometheus::Registry;

use self::core::Shared;
use self::metrics::Metrics;

/// A pool of PostgreSQL connections. See the [module documentation](self).
#[derive(Clone)]
pub struct LifeguardPool {
    handle: Arc<Handle>,
}

/// Owned by the pool's handles: when the last one goes, the pool closes.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.close();
        self.shared.metrics.unregister();
    }
}

impl std::fmt::Debug for LifeguardPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LifeguardPool")
            .field("name", &self.shared().config.name)
            .field("status", &self.status())
            .finish()
    }
}

/// A snapshot of the pool's connections, from [`LifeguardPool::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections the pool keeps.
    pub size: usize,
    /// Connections open now.
    pub open: usize,
    /// Open connections held by a guard or running statements.
    pub active: usize,
    /// Open connections with nothing to do.
    pub idle: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

impl LifeguardPool {
    /// Opens a pool with default settings (see [`PoolBuilder`]) for a URL or conninfo string.
    pub fn connect(url: &str) -> Result<LifeguardPool> {
        LifeguardPool::builder(url)?.build()
    }

    /// Starts configuring a pool for a URL or conninfo string.
    pub fn builder(url: &str) -> Result<PoolBuilder> {
        Ok(PoolBuilder::new(url.parse()?))
    }

    /// Starts configuring a pool from connection settings.
    pub fn builder_from_config(config: Config) -> PoolBuilder {
        PoolBuilder::new(config)
    }

    pub(crate) fn open(config: PoolConfig, registry: Registry) -> Result<LifeguardPool> {
        let cell = Arc::new(OnceLock::new());
        let metrics = Metrics::register(registry, &config.name, cell.clone())?;
        let shared = Arc::new(Shared::new(config, metrics));
        let _ = cell.set(Arc::downgrade(&shared));
        let pool = LifeguardPool {
            handle: Arc::new(Handle {
                shared: shared.clone(),
            }),
        };
        if !shared.config.lazy {
            open_all(&shared)?;
        }
        maintenance::start(&shared)?;
        Ok(pool)
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    fn deadline(&self) -> Instant {
        self::core::after(self.shared().config.acquire_timeout)
    }

    /// Runs `f` on a shared connection, with the `lifeguard.query` span and metrics.
    fn run<T>(&self, sql: &str, f: impl FnOnce(&Client) -> Result<T>) -> Result<T> {
        let shared = self.shared();
        let span = tracing::debug_span!("lifeguard.query", sql);
        let _in = span.enter();
        let lease = {
            let _acq = tracing::debug_span!("lifeguard.acquire").entered();
            shared.lease(self.deadline())
        };
        let lease = match lease {
            Ok(l) => l,
            Err(e) => {
                shared.metrics.count_error(&e);
                return Err(e);
            }
        };
        let start = Instant::now();
        let r = f(&lease.client);
        if lease.client.transaction_status() != TransactionStatus::Idle {
            // `BEGIN` sent as a single statement: the connection must not stay shared so.
            shared.quarantine(lease.idx);
        }
        drop(lease);
        shared.metrics.observe(start.elapsed(), &r);
        if let Err(e) = &r
            && e.is_connectivity()
        {
            shared.wake_maintenance(true);
        }
        r
    }

    /// Runs a statement (prepared and cached per connection) and returns its rows. Reads may
    /// be coalesced with other callers' (see [`PoolBuilder::coalesce_reads`]).
    pub fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.run(sql, |c| self.read(c, sql, params))
    }

    /// Runs a statement that must return exactly one row.
    pub fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        self.run(sql, |c| exactly_one(self.read(c, sql, params)?))
    }

    /// Runs a statement that returns zero or one row; more than one is an error.
    pub fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        self.run(sql, |c| at_most_one(self.read(c, sql, params)?))
    }

    fn read(&self, c: &Client, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        if !self.shared().config.coalesce_reads {
            return c.query(sql, params);
        }
        let stmt = c.cached_statement(sql)?;
        if stmt.reported_select() {
            c.query_coalesced(stmt, params)
        } else {
            c.query(&stmt, params)
        }
    }

    /// Runs a statement and returns the number of rows it affected.
    pub fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.run(sql, |c| c.execute(sql, params))
    }

    /// Runs `;`-separated statements with the simple protocol (no parameters, no rows).
    /// They run as one implicit transaction; to keep session state (`SET`), use a guard.
    pub fn batch_execute(&self, sql: &str) -> Result<()> {
        self.run(sql, |c| c.batch_execute(sql))
    }

    /// Runs a statement and hands its rows to `f` as a stream: memory stays bounded however
    /// many rows come back. The connection stays shared meanwhile (other callers' statements
    /// queue behind this one), so consume the stream promptly.
    ///
    /// ```no_run
    /// # let pool = lifeguard::pool::LifeguardPool::connect("postgres://localhost/app")?;
    /// let total = pool.query_stream("SELECT amount FROM payments", &[], |rows| {
    ///     let mut total = 0i64;
    ///     for row in rows {
    ///         total += row?.try_get::<_, i64>(0)?;
    ///     }
    ///     Ok(total)
    /// })?;
    /// # Ok::<(), lifeguard::Error>(())
    /// ```
    pub fn query_stream<R>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        f: impl FnOnce(RowStream<'_>) -> Result<R>,
    ) -> Result<R> {
        self.run(sql, |c| f(c.query_raw(sql, params)?))
    }

    /// Takes a connection for exclusive use, waiting (first come, first served) up to the
    /// acquire timeout. See [`PoolConnection`] for what is reset when it comes back.
    pub fn acquire(&self) -> Result<PoolConnection> {
        self.acquire_within(self.shared().config.acquire_timeout)
    }

    /// [`acquire`](Self::acquire) with a deadline of its own.
    pub fn acquire_within(&self, timeout: Duration) -> Result<PoolConnection> {
        let shared = self.shared();
        let _acq = tracing::debug_span!("lifeguard.acquire", exclusive = true).entered();
        match shared.acquire(self::core::after(timeout)) {
            Ok((idx, client)) => Ok(PoolConnection::new(shared.clone(), idx, client)),
            Err(e) => {
                shared.metrics.count_error(&e);
                Err(e)
            }
        }
    }

    /// Takes a connection and opens a transaction on it.
    pub fn begin(&self) -> Result<PoolTransaction> {
        PoolTransaction::begin(self.acquire()?, "BEGIN")
    }

    /// Runs `f` in a transaction: committed if `f` returns `Ok`, rolled back if it returns
    /// `Err` or panics. A failed commit is returned as the error.
    ///
    /// ```no_run
    /// # let pool = lifeguard::pool::LifeguardPool::connect("postgres://localhost/app")?;
    /// let id: i64 = pool.transaction(|tx| {
    ///     let row = tx.query_one("INSERT INTO orders (total) VALUES ($1) RETURNING id", &[&10i64])?;
    ///     tx.execute("UPDATE stock SET n = n - 1 WHERE item = $1", &[&7i64])?;
    ///     Ok::<_, lifeguard::Error>(row.get(0))
    /// })?;
    /// # Ok::<(), lifeguard::Error>(())
    /// ```
    pub fn transaction<T, E>(
        &self,
        f: impl FnOnce(&mut PoolTransaction) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<Error>,
    {
        let mut tx = self.begin()?;
        match f(&mut tx) {
            Ok(v) => {
                tx.commit()?;
                Ok(v)
            }
            Err(e) => {
                if let Err(re) = tx.rollback() {
                    tracing::warn!(error = %re, "rolling back a failed transaction failed");
                }
                Err(e)
            }
        }
    }

    /// Closes the pool for every handle: waiting and later calls fail with
    /// [`Error::PoolClosed`], idle connections close now and held ones when their guards are
    /// dropped. Dropping the last handle does the same.
    pub fn close(&self) {
        self.shared().close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.shared()
            .closed
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A snapshot of the pool's connections.
    pub fn status(&self) -> PoolStatus {
        let s = self.shared().status();
        PoolStatus {
            size: self.shared().slots.len(),
            open: s.open,
            active: s.active,
            idle: s.idle,
            waiting: s.waiting,
        }
    }

    /// The pool's settings.
    pub fn config(&self) -> &PoolConfig {
        &self.shared().config
    }

    /// The registry the pool's metrics are in.
    pub fn registry(&self) -> &Registry {
        self.shared().metrics.registry()
    }

    /// Every metric in the pool's registry, in the Prometheus text exposition format.
    pub fn metrics_text(&self) -> String {
        render_metrics(self.registry())
    }
}

/// Opens every connection at once; the first failure closes the pool and is returned.
fn open_all(shared: &Arc<Shared>) -> Result<()> {
    let (tx, rx) = may::sync::mpsc::channel();
    for idx in 0..shared.slots.len() {
        let tx = tx.clone();
        let config = shared.config.client.clone();
        maintenance::spawn("lifeguard-pool-connect", move || {
            let _ = tx.send((idx, Client::connect(&config)));
        })?;
    }
    drop(tx);
    let mut first_error = None;
    for (idx, result) in rx.iter() {
        match result {
            Ok(client) => {
                shared.slots[idx]
                    .ever_connected
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                shared.install(idx, client);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        None => Ok(()),
        Some(e) => {
            shared.close();
            Err(e)
        }
    }
}

impl LifeExecutor for LifeguardPool {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        LifeguardPool::query(self, sql, params)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        LifeguardPool::execute(self, sql, params)
    }

    fn execute_unprepared(&self, sql: &str) -> Result<()> {
        self.batch_execute(sql)
    }

    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        LifeguardPool::query_one(self, sql, params)
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        LifeguardPool::query_opt(self, sql, params)
    }
}
