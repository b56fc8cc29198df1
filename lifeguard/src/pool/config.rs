//! Pool settings and the builder that validates them.

use std::time::Duration;

use prometheus::Registry;

use crate::client::{Config, Error, Result};

use super::LifeguardPool;

/// What is reset on a connection when an exclusive guard gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResetOnReturn {
    /// Roll back an open or failed transaction (and wait for requests still in flight);
    /// nothing else. Session settings (`SET`), `LISTEN`, temporary tables and session
    /// advisory locks stay and are seen by later users of the connection. Free when the
    /// guard comes back idle: no round trip.
    #[default]
    Transaction,
    /// Also reset the session, with one round trip: `SET SESSION AUTHORIZATION DEFAULT;
    /// RESET ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); CLOSE ALL; DISCARD TEMP;
    /// DISCARD SEQUENCES` (what `DISCARD ALL` does, except that prepared statements are
    /// kept so the statement cache stays valid).
    Session,
}

/// Everything a pool is configured with; built by [`PoolBuilder`].
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub(crate) client: Config,
    pub(crate) size: usize,
    pub(crate) acquire_timeout: Duration,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) health_check_interval: Option<Duration>,
    pub(crate) lazy: bool,
    pub(crate) reset: ResetOnReturn,
    pub(crate) name: String,
    pub(crate) coalesce_reads: bool,
}

impl PoolConfig {
    /// Connections the pool opens and keeps.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The longest a caller waits for a connection.
    pub fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// The connection settings every pooled connection is opened with.
    pub fn client_config(&self) -> &Config {
        &self.client
    }
}

/// Builds a [`LifeguardPool`].
///
/// ```no_run
/// use std::time::Duration;
/// use lifeguard::pool::LifeguardPool;
///
/// let pool = LifeguardPool::builder("postgres://app@127.0.0.1/app")?
///     .size(16)
///     .acquire_timeout(Duration::from_secs(2))
///     .application_name("billing")
///     .build()?;
/// # Ok::<(), lifeguard::Error>(())
/// ```
#[must_use = "call `build()` to open the pool"]
pub struct PoolBuilder {
    config: PoolConfig,
    registry: Option<Registry>,
}

/// Default pool size: two connections per core (HikariCP's formula without disks).
pub(crate) fn default_size() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(4)
}

impl PoolBuilder {
    pub(crate) fn new(mut client: Config) -> PoolBuilder {
        if client.get_connect_timeout().is_none() {
            client.connect_timeout(Some(Duration::from_secs(5)));
        }
        if client.get_application_name().is_none() {
            client.application_name("lifeguard");
        }
        PoolBuilder {
            config: PoolConfig {
                client,
                size: default_size(),
                acquire_timeout: Duration::from_secs(5),
                max_lifetime: Some(Duration::from_secs(30 * 60)),
                health_check_interval: Some(Duration::from_secs(30)),
                lazy: false,
                reset: ResetOnReturn::default(),
                name: "default".to_owned(),
                coalesce_reads: true,
            },
            registry: None,
        }
    }

    /// Connections opened at start and kept open (default: two per CPU core).
    pub fn size(mut self, size: usize) -> Self {
        self.config.size = size;
        self
    }

    /// How long `acquire`, `begin` and single statements wait for a connection before failing
    /// with [`Error::PoolTimeout`] or [`Error::Unavailable`] (default 5 s).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.config.acquire_timeout = timeout;
        self
    }

    /// Deadline for opening one connection: TCP, TLS and authentication (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.client.connect_timeout(Some(timeout));
        self
    }

    /// Connections are replaced after this long (default 30 min, `None`: never). Each gets up
    /// to 10% less so they do not all expire together. Work in flight is never cut: an
    /// expired connection stops taking new work and is closed once it is idle.
    pub fn max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.config.max_lifetime = lifetime;
        self
    }

    /// A connection unused for this long is checked with an empty query (default 30 s,
    /// `None`: never). Independently, any connection error makes the pool check all its idle
    /// connections at once, so a server restart is noticed without waiting for this.
    pub fn health_check_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.health_check_interval = interval;
        self
    }

    /// Prepared statements cached per connection (default 256).
    pub fn statement_cache_capacity(mut self, capacity: usize) -> Self {
        self.config.client.statement_cache_capacity(capacity);
        self
    }

    /// Deadline for every statement run through the pool (default: none). A statement past it
    /// is cancelled on the server and fails with [`Error::Timeout`].
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.client.statement_timeout(timeout);
        self
    }

    /// `application_name` shown in `pg_stat_activity` (default `lifeguard`).
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.config.client.application_name(name);
        self
    }

    /// Open connections in the background instead of at `build()`: `build()` then succeeds
    /// even if the database is unreachable, and calls wait (within their deadline) until a
    /// connection is open.
    pub fn lazy(mut self, lazy: bool) -> Self {
        self.config.lazy = lazy;
        self
    }

    /// What is reset when an exclusive guard returns its connection (default:
    /// [`ResetOnReturn::Transaction`]).
    pub fn reset_on_return(mut self, reset: ResetOnReturn) -> Self {
        self.config.reset = reset;
        self
    }

    /// Coalesce reads (default on): `query`, `query_one` and `query_opt` calls on the pool
    /// whose statement reported a `SELECT` tag before are sent in groups under one Sync per
    /// connection when two reads are already on the wire there, which lets the server answer
    /// several times more of them; on a lightly loaded connection a read goes out alone at
    /// once, as without coalescing. Callers see the
    /// same results and errors as without (a failed group is re-run statement by statement),
    /// but a group answers when its slowest statement is done. Turn it off if single slow
    /// `SELECT`s must not delay others sharing their connection.
    pub fn coalesce_reads(mut self, on: bool) -> Self {
        self.config.coalesce_reads = on;
        self
    }

    /// The pool's name, the `pool` label on its metrics (default `default`). Pools sharing a
    /// registry need different names.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Registers the pool's metrics in `registry` instead of a registry of its own.
    pub fn metrics_registry(mut self, registry: &Registry) -> Self {
        self.registry = Some(registry.clone());
        self
    }

    /// Validates the settings and opens the pool. Unless [`lazy`](Self::lazy), every
    /// connection is opened now and the first failure is returned (unreachable server,
    /// wrong password, missing database).
    pub fn build(self) -> Result<LifeguardPool> {
        let c = &self.config;
        if c.size == 0 {
            return Err(Error::Config("pool size must be at least 1".into()));
        }
        if c.acquire_timeout.is_zero() {
            return Err(Error::Config(
                "acquire timeout must be greater than zero".into(),
            ));
        }
        if c.max_lifetime.is_some_and(|l| l < Duration::from_secs(1)) {
            return Err(Error::Config(
                "max lifetime must be at least 1 s (or None)".into(),
            ));
        }
        if c.health_check_interval.is_some_and(|i| i.is_zero()) {
            return Err(Error::Config(
                "health-check interval must be greater than zero (or None)".into(),
            ));
        }
        let registry = self.registry.unwrap_or_default();
        LifeguardPool::open(self.config, registry)
    }
}
