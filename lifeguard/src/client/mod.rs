//! Lifeguard's PostgreSQL client: the wire protocol over `may` coroutine sockets.
//!
//! One [`Client`] is one connection. Share it (`&Client`, `Arc<Client>`) between any number of
//! coroutines: their statements are pipelined on the connection and each caller gets exactly
//! its own reply. Operations that need the connection alone — transactions, COPY — take
//! `&mut Client`, so the compiler proves nobody else is using it.
//!
//! ```no_run
//! # fn main() -> lifeguard::client::Result<()> {
//! let client = lifeguard::client::connect("postgres://postgres@127.0.0.1:5432/app")?;
//! let row = client.query_one("SELECT $1::int4 + 1", &[&41i32])?;
//! assert_eq!(row.get::<_, i32>(0), 42);
//! # Ok(()) }
//! ```

mod cancel;
mod coalesce;
mod config;
mod connect;
mod copy;
mod error;
mod notify;
mod pipeline;
mod query;
mod row;
mod socket;
mod statement;
mod tls;
mod transaction;
mod types;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use postgres_protocol::message::frontend;

pub use cancel::CancelToken;
pub use config::{Config, Host, SslMode};
pub use copy::{CopyIn, CopyOut};
pub use error::{DbError, Error, ErrorPosition, Result, SqlState};
pub use lifeguard_schema::values::{Numeric, ParseNumericError};
pub use notify::{Notification, Notifications};
pub use pipeline::TransactionStatus;
pub use postgres_types::{FromSql, IsNull, Kind, ToSql, Type, accepts, to_sql_checked};
pub use query::{Batch, Outcome, RowStream, Timed, ToStatement};
pub(crate) use query::{one as exactly_one, opt as at_most_one};
pub use row::{Row, RowIndex};
pub use statement::{Column, Statement};
pub use transaction::{IsolationLevel, Transaction, TransactionBuilder};

use pipeline::{Pipe, lock};
use statement::StatementCache;

/// Connects to the database named by a URL or conninfo string.
///
/// ```no_run
/// let client = lifeguard::client::connect("host=/var/run/postgresql dbname=app")?;
/// # Ok::<(), lifeguard::client::Error>(())
/// ```
pub fn connect(url: &str) -> Result<Client> {
    Client::connect(&url.parse()?)
}

pub(crate) struct Inner {
    pub(crate) pipe: Arc<Pipe>,
    cache: Mutex<StatementCache>,
    types: Mutex<std::collections::HashMap<u32, Type>>,
    next_statement: AtomicU64,
    parameters: Arc<Mutex<Vec<(String, String)>>>,
    notifications: may::sync::Mutex<may::sync::mpsc::Receiver<Notification>>,
    cancel: CancelToken,
    timeout_ns: AtomicU64,
    coalescer: coalesce::Coalescer,
}

/// One connection to PostgreSQL. See the [module documentation](self).
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("backend_pid", &self.inner.cancel.process_id)
            .field("endpoint", &self.inner.cancel.endpoint)
            .field("transaction_status", &self.transaction_status())
            .finish()
    }
}

impl Client {
    /// Opens a connection with `config`, within its connect timeout.
    pub fn connect(config: &Config) -> Result<Client> {
        let est = connect::establish(config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                pipe: est.pipe,
                cache: Mutex::new(StatementCache::new(config.statement_cache_capacity)),
                types: Mutex::new(Default::default()),
                next_statement: AtomicU64::new(0),
                parameters: est.parameters,
                notifications: may::sync::Mutex::new(est.notifications),
                cancel: CancelToken {
                    endpoint: est.endpoint,
                    process_id: est.process_id,
                    secret_key: est.secret_key,
                },
                timeout_ns: AtomicU64::new(
                    config
                        .statement_timeout
                        .map_or(0, |t| t.as_nanos().min(u64::MAX as u128) as u64),
                ),
                coalescer: coalesce::Coalescer::default(),
            }),
        })
    }

    /// Prepares a statement, inferring parameter types. Statements are also prepared (and
    /// cached per connection) implicitly when SQL text is passed to `query`/`execute`.
    pub fn prepare(&self, sql: &str) -> Result<Statement> {
        self.prepare_typed(sql, &[])
    }

    /// Prepares a statement with explicit types for (some of) its parameters.
    pub fn prepare_typed(&self, sql: &str, types: &[Type]) -> Result<Statement> {
        let id = self.inner.next_statement.fetch_add(1, Ordering::Relaxed);
        let name = format!("lg{id}");
        query::prepare(self, name, sql, types)
    }

    /// The statement for `sql` from this connection's cache, preparing it on a miss.
    pub(crate) fn cached_statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = lock(&self.inner.cache).get(sql) {
            return Ok(s);
        }
        let stmt = self.prepare(sql)?;
        Ok(lock(&self.inner.cache).insert(sql, stmt))
    }

    /// Drops every cached prepared statement (e.g. after `DISCARD ALL` or a schema change).
    pub fn clear_statement_cache(&self) {
        lock(&self.inner.cache).clear();
    }

    /// The transaction status reported by the server's last ReadyForQuery.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.inner.pipe.transaction_status()
    }

    /// Whether the connection is closed or broken; a closed client fails every call at once.
    pub fn is_closed(&self) -> bool {
        self.inner.pipe.is_closed()
    }

    /// The process ID of the server backend serving this connection.
    pub fn backend_pid(&self) -> i32 {
        self.inner.cancel.process_id
    }

    /// A server parameter reported at start-up or since (`server_version`, `TimeZone`, ...).
    pub fn parameter(&self, name: &str) -> Option<String> {
        lock(&self.inner.parameters)
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// A token that cancels whatever this connection is running, usable from anywhere.
    pub fn cancel_token(&self) -> CancelToken {
        self.inner.cancel.clone()
    }

    /// Sets the deadline applied to every statement on this connection (`None`: no limit).
    /// A statement past its deadline is cancelled on the server and fails with
    /// [`Error::Timeout`].
    pub fn set_statement_timeout(&self, timeout: Option<Duration>) {
        let ns = timeout.map_or(0, |t| t.as_nanos().clamp(1, u64::MAX as u128) as u64);
        self.inner.timeout_ns.store(ns, Ordering::Relaxed);
    }

    /// The deadline applied to every statement, if any.
    pub fn statement_timeout(&self) -> Option<Duration> {
        match self.inner.timeout_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    /// Runs statements with a specific deadline: `client.with_timeout(d).query(...)`.
    pub fn with_timeout(&self, timeout: Duration) -> Timed<'_> {
        Timed {
            client: self,
            timeout,
        }
    }

    /// Subscribes this connection to `channel` (`LISTEN`, the name quoted as an identifier).
    pub fn listen(&self, channel: &str) -> Result<()> {
        self.batch_execute(&format!(
            "LISTEN {}",
            lifeguard_schema::quote_ident(channel)
        ))
    }

    /// Unsubscribes from `channel`.
    pub fn unlisten(&self, channel: &str) -> Result<()> {
        self.batch_execute(&format!(
            "UNLISTEN {}",
            lifeguard_schema::quote_ident(channel)
        ))
    }

    /// Sends a notification (`pg_notify`); delivered to listeners when the transaction commits.
    pub fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        self.execute("SELECT pg_catalog.pg_notify($1, $2)", &[&channel, &payload])
            .map(|_| ())
    }

    /// The queue of notifications received on this connection.
    pub fn notifications(&self) -> Notifications<'_> {
        let rx = match self.inner.notifications.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        Notifications {
            rx,
            pipe: &self.inner.pipe,
        }
    }

    /// Closes the connection politely (Terminate) and waits for nothing.
    pub fn close(self) {}

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Another handle to the same connection. The pool uses it to lend a connection it
    /// keeps; the connection closes when the last handle is dropped. Exclusive use (what
    /// `&mut Client` promises) is then up to the lender.
    pub(crate) fn handle(&self) -> Client {
        Client {
            inner: self.inner.clone(),
        }
    }

    /// Whether the server sent something (or closed the connection) that nobody has read.
    pub(crate) fn unread_input(&self) -> bool {
        self.inner.pipe.unread_input()
    }

    /// Whether requests are still waiting for replies on this connection.
    pub(crate) fn has_pending(&self) -> bool {
        self.inner.pipe.has_pending()
    }
}

impl Inner {
    pub(crate) fn types_cache(&self) -> &Mutex<std::collections::HashMap<u32, Type>> {
        &self.types
    }
}

impl Drop for Inner {
    /// The last handle to the connection is gone: say goodbye (Terminate) and shut the socket.
    fn drop(&mut self) {
        let mut msg = BytesMut::new();
        frontend::terminate(&mut msg);
        let _ = self.pipe.enqueue(&msg, true);
        self.pipe.shutdown();
    }
}

impl pipeline::OnTimeout for Inner {
    fn cancel_running(&self) -> bool {
        match self.cancel.cancel() {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not send a cancel request");
                false
            }
        }
    }
}
