//! Running migrations against a database: the lock, the tracking table, up and down.

use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::client::{Client, TransactionStatus};
use crate::client::{Result as DbResult, Transaction};
use crate::pool::{LifeguardPool, PoolConnection};

use super::error::MigrateError;
use super::source::{Migration, Migrations, cmp_versions};
use super::split::split_statements;

type Result<T, E = MigrateError> = std::result::Result<T, E>;

/// The default name of the tracking table.
const DEFAULT_TABLE: &str = "lifeguard_migrations";
/// How long the session clean-up (rollback, settings, unlock) may take per statement.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause between two attempts to take the lock.
const MAX_LOCK_PAUSE: Duration = Duration::from_millis(250);

mod private {
    pub trait Sealed {}
    impl Sealed for crate::Client {}
    impl Sealed for crate::pool::PoolConnection {}
}

/// A connection the runner may use alone: a [`Client`] or a pool guard
/// ([`PoolConnection`]). Pass it as `&mut`; the runner takes its session advisory lock and
/// opens transactions on it, and leaves the session as it found it.
pub trait MigrationConnection: private::Sealed {
    /// The connection.
    #[doc(hidden)]
    fn client(&self) -> &Client;
    /// Starts a transaction on it.
    #[doc(hidden)]
    fn begin(&mut self) -> DbResult<Transaction<'_>>;
}

impl MigrationConnection for Client {
    fn client(&self) -> &Client {
        self
    }

    fn begin(&mut self) -> DbResult<Transaction<'_>> {
        self.transaction()
    }
}

impl MigrationConnection for PoolConnection {
    fn client(&self) -> &Client {
        self
    }

    fn begin(&mut self) -> DbResult<Transaction<'_>> {
        self.transaction()
    }
}

/// A migration run (or reverted) by [`Migrator::run`], [`revert`](Migrator::revert) or
/// [`redo`](Migrator::redo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    /// Its version.
    pub version: String,
    /// Its name.
    pub name: String,
    /// How long its script took.
    pub elapsed: Duration,
    /// Whether the script ran outside a transaction.
    pub no_transaction: bool,
}

/// What [`Migrator::redo`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redone {
    /// The `down.sql` run.
    pub reverted: Executed,
    /// The `up.sql` run after it.
    pub applied: Executed,
}

/// A row of the tracking table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Its version.
    pub version: String,
    /// Its name when it was applied.
    pub name: String,
    /// The checksum of its `up.sql` when it was applied (or last repaired).
    pub checksum: String,
    /// When it was applied.
    pub applied_at: SystemTime,
    /// How long its script took.
    pub execution_time: Duration,
    /// False for a no-transaction migration that failed part-way.
    pub success: bool,
}

impl AppliedMigration {
    /// `<version>_<name>`.
    pub fn label(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }
}

/// An applied migration whose `up.sql` no longer has the checksum recorded when it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedMigration {
    /// Its version.
    pub version: String,
    /// Its name on disk.
    pub name: String,
    /// The checksum in the tracking table.
    pub applied_checksum: String,
    /// The checksum of the file now.
    pub file_checksum: String,
}

impl ChangedMigration {
    /// `<version>_<name>`.
    pub fn label(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }
}

/// The state of the database against the migrations, from [`Migrator::status`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// Every row of the tracking table, in version order (including those also listed as
    /// changed, missing or failed).
    pub applied: Vec<AppliedMigration>,
    /// Migrations not applied yet, in the order [`Migrator::run`] would apply them.
    pub pending: Vec<Migration>,
    /// Applied migrations whose `up.sql` changed since.
    pub changed: Vec<ChangedMigration>,
    /// Applied migrations not found among the migrations on disk.
    pub missing: Vec<AppliedMigration>,
    /// No-transaction migrations recorded as failed part-way.
    pub failed: Vec<AppliedMigration>,
}

impl Status {
    /// Nothing pending, changed, missing or failed.
    pub fn is_up_to_date(&self) -> bool {
        self.pending.is_empty() && self.is_consistent()
    }

    /// Nothing changed, missing or failed: [`Migrator::run`] would not refuse.
    pub fn is_consistent(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.failed.is_empty()
    }
}

/// What [`Migrator::repair`] changed, as `<version>_<name>` labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Repaired {
    /// Applied migrations whose recorded checksum (and name) were replaced by the file's.
    pub restamped: Vec<String>,
    /// Tracking rows removed because their migration is missing on disk.
    pub removed_missing: Vec<String>,
    /// Failure records removed: those migrations are pending again.
    pub cleared_failed: Vec<String>,
}

/// Applies, reverts and inspects [`Migrations`] on a database.
///
/// ```no_run
/// use std::time::Duration;
/// use lifeguard::migrate::{Migrations, Migrator};
///
/// let pool = lifeguard::LifeguardPool::builder("postgres://app@127.0.0.1/app")?.build()?;
/// let migrator = Migrator::new(Migrations::from_dir("migrations")?)
///     .lock_wait(Duration::from_secs(120))            // wait for another runner (60 s)
///     .lock_timeout(Some(Duration::from_secs(10)));   // SET lock_timeout for the DDL (5 s)
/// let applied = migrator.run_with_pool(&pool)?;
/// println!("{} migrations applied", applied.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Migrator {
    migrations: Migrations,
    table: String,
    schema: Option<String>,
    lock_wait: Duration,
    lock_timeout: Option<Duration>,
    lock_key: Option<i64>,
}

/// Where the tracking table is and which lock guards it, resolved on the connection.
struct Target {
    /// The schema-qualified, quoted table name.
    table: String,
    /// The advisory lock key.
    key: i64,
}

impl Migrator {
    /// A runner for `migrations` with the defaults: table `lifeguard_migrations` in the
    /// connection's current schema, a 60 s wait for the lock, `lock_timeout` 5 s.
    pub fn new(migrations: Migrations) -> Migrator {
        Migrator {
            migrations,
            table: DEFAULT_TABLE.to_owned(),
            schema: None,
            lock_wait: Duration::from_secs(60),
            lock_timeout: Some(Duration::from_secs(5)),
            lock_key: None,
        }
    }

    /// Shorthand for `Migrator::new(Migrations::from_dir(dir)?)`.
    pub fn from_dir(dir: impl AsRef<std::path::Path>) -> Result<Migrator> {
        Ok(Migrator::new(Migrations::from_dir(dir)?))
    }

    /// The tracking table's name (default `lifeguard_migrations`).
    pub fn table(mut self, name: impl Into<String>) -> Migrator {
        self.table = name.into();
        self
    }

    /// The tracking table's schema (default: the connection's current schema). It is
    /// created if it does not exist.
    pub fn schema(mut self, schema: impl Into<String>) -> Migrator {
        self.schema = Some(schema.into());
        self
    }

    /// How long to wait for another runner to release the migration lock before failing
    /// with [`MigrateError::LockTimeout`] (default 60 s).
    pub fn lock_wait(mut self, wait: Duration) -> Migrator {
        self.lock_wait = wait;
        self
    }

    /// The `lock_timeout` set while migrations run, so that DDL waiting for a busy table
    /// fails instead of queueing every other query behind it (default 5 s; `None` leaves
    /// the session's setting alone). The previous value is restored afterwards.
    pub fn lock_timeout(mut self, timeout: Option<Duration>) -> Migrator {
        self.lock_timeout = timeout;
        self
    }

    /// The advisory lock key (default: derived from the tracking table's qualified name).
    pub fn lock_key(mut self, key: i64) -> Migrator {
        self.lock_key = Some(key);
        self
    }

    /// The migrations this runner applies.
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// Applies every pending migration in version order, under the migration lock, and
    /// returns what it applied (nothing when the database is up to date). Refuses, applying
    /// nothing, when an applied migration changed on disk, is missing on disk or failed
    /// part-way earlier. A failing migration stops the run; those before it stay applied.
    pub fn run<C: MigrationConnection + ?Sized>(&self, conn: &mut C) -> Result<Vec<Executed>> {
        self.locked(conn, |conn, target| {
            let rows = load(conn.client(), &target.table)?;
            let status = self.classify(rows);
            refuse_inconsistent(&status)?;
            let latest = status.applied.last().map(|r| r.version.clone());
            let mut done = Vec::with_capacity(status.pending.len());
            for m in &status.pending {
                if let Some(latest) = &latest
                    && cmp_versions(m.version(), latest).is_lt()
                {
                    tracing::warn!(
                        migration = %m.label(),
                        latest_applied = %latest,
                        "applying a migration older than the latest applied one"
                    );
                }
                done.push(apply_up(conn, target, m)?);
            }
            Ok(done)
        })
    }

    /// [`run`](Self::run) on a connection acquired from `pool` for the duration.
    pub fn run_with_pool(&self, pool: &LifeguardPool) -> Result<Vec<Executed>> {
        let mut conn = pool.acquire()?;
        self.run(&mut conn)
    }

    /// Reverts the last `steps` applied migrations (by version), newest first: each
    /// `down.sql` runs in a transaction together with the deletion of its tracking row
    /// (outside a transaction when it starts with the no-transaction marker). Refuses,
    /// reverting nothing, when one of them is missing on disk or has no `down.sql`, or when
    /// a migration failed part-way earlier. Fewer applied migrations than `steps` reverts
    /// them all.
    pub fn revert<C: MigrationConnection + ?Sized>(
        &self,
        conn: &mut C,
        steps: usize,
    ) -> Result<Vec<Executed>> {
        self.locked(conn, |conn, target| {
            let to_revert = self.plan_revert(conn.client(), target, steps)?;
            let mut done = Vec::with_capacity(to_revert.len());
            for m in to_revert {
                done.push(apply_down(conn, target, m)?);
            }
            Ok(done)
        })
    }

    /// Reverts the last applied migration and applies it again from the file (handy while
    /// writing it: its checksum is recorded afresh). `None` when nothing is applied.
    pub fn redo<C: MigrationConnection + ?Sized>(&self, conn: &mut C) -> Result<Option<Redone>> {
        self.locked(conn, |conn, target| {
            let Some(m) = self.plan_revert(conn.client(), target, 1)?.pop() else {
                return Ok(None);
            };
            let reverted = apply_down(conn, target, m)?;
            let applied = apply_up(conn, target, m)?;
            Ok(Some(Redone { reverted, applied }))
        })
    }

    /// Compares the tracking table with the migrations: applied, pending, changed, missing
    /// on disk and failed. Reads only; takes no lock and creates nothing.
    pub fn status(&self, client: &Client) -> Result<Status> {
        let target = self.target(client)?;
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&target.table])?
            .get(0);
        let rows = if exists {
            load(client, &target.table)?
        } else {
            Vec::new()
        };
        Ok(self.classify(rows))
    }

    /// Brings the tracking table in line with the files, after a human has reviewed the
    /// differences (see [`status`](Self::status)): records the current checksum (and name)
    /// of every applied migration whose `up.sql` changed, **deletes the tracking rows of
    /// migrations missing on disk** (their effects stay in the database; only the record
    /// goes), and deletes the records of no-transaction migrations that failed part-way,
    /// which makes them pending again (clean up what they left first, or make their
    /// statements idempotent). Runs no migration.
    pub fn repair<C: MigrationConnection + ?Sized>(&self, conn: &mut C) -> Result<Repaired> {
        self.locked(conn, |conn, target| {
            let client = conn.client();
            let status = self.classify(load(client, &target.table)?);
            let mut repaired = Repaired::default();
            let delete = format!("DELETE FROM {} WHERE version = $1", target.table);
            for row in &status.missing {
                client.execute(&delete, &[&row.version])?;
                repaired.removed_missing.push(row.label());
            }
            for row in &status.failed {
                if self.migrations.get(&row.version).is_some() {
                    client.execute(&delete, &[&row.version])?;
                    repaired.cleared_failed.push(row.label());
                }
            }
            let restamp = format!(
                "UPDATE {} SET checksum = $2, name = $3 WHERE version = $1",
                target.table
            );
            for c in &status.changed {
                if status.failed.iter().any(|f| f.version == c.version) {
                    continue; // its record was cleared above
                }
                client.execute(&restamp, &[&c.version, &c.file_checksum, &c.name])?;
                repaired.restamped.push(c.label());
            }
            for r in repaired
                .removed_missing
                .iter()
                .chain(&repaired.cleared_failed)
                .chain(&repaired.restamped)
            {
                tracing::info!(migration = %r, "repaired tracking record");
            }
            Ok(repaired)
        })
    }

    /// The migrations to revert for the last `steps` applied, newest first, all checked.
    fn plan_revert(
        &self,
        client: &Client,
        target: &Target,
        steps: usize,
    ) -> Result<Vec<&Migration>> {
        let status = self.classify(load(client, &target.table)?);
        if !status.failed.is_empty() {
            return Err(MigrateError::PreviouslyFailed {
                failed: status.failed.iter().map(AppliedMigration::label).collect(),
            });
        }
        let rows: Vec<&AppliedMigration> = status.applied.iter().rev().take(steps).collect();
        let missing: Vec<String> = rows
            .iter()
            .filter(|r| self.migrations.get(&r.version).is_none())
            .map(|r| r.label())
            .collect();
        if !missing.is_empty() {
            return Err(MigrateError::MissingOnDisk { missing });
        }
        let plan: Vec<&Migration> = rows
            .iter()
            .filter_map(|r| self.migrations.get(&r.version))
            .collect();
        if let Some(m) = plan.iter().find(|m| m.down_sql().is_none()) {
            return Err(MigrateError::Irreversible {
                migration: m.label(),
            });
        }
        Ok(plan)
    }

    /// Sorts the tracking rows against the migrations.
    fn classify(&self, mut rows: Vec<AppliedMigration>) -> Status {
        rows.sort_by(|a, b| cmp_versions(&a.version, &b.version));
        let mut status = Status::default();
        for row in &rows {
            match self.migrations.get(&row.version) {
                None => status.missing.push(row.clone()),
                Some(m) if m.checksum() != row.checksum => status.changed.push(ChangedMigration {
                    version: row.version.clone(),
                    name: m.name().to_owned(),
                    applied_checksum: row.checksum.clone(),
                    file_checksum: m.checksum().to_owned(),
                }),
                Some(_) => {}
            }
            if !row.success {
                status.failed.push(row.clone());
            }
        }
        status.pending = self
            .migrations
            .iter()
            .filter(|m| {
                !rows
                    .iter()
                    .any(|r| cmp_versions(&r.version, m.version()).is_eq())
            })
            .cloned()
            .collect();
        status.applied = rows;
        status
    }

    /// Resolves the tracking table's schema and the lock key on this connection.
    fn target(&self, client: &Client) -> Result<Target> {
        let schema = match &self.schema {
            Some(s) => s.clone(),
            None => client
                .query_one("SELECT current_schema()", &[])?
                .get::<_, Option<String>>(0)
                .ok_or(MigrateError::NoCurrentSchema)?,
        };
        let key = self.lock_key.unwrap_or_else(|| {
            let digest = Sha256::digest(format!("lifeguard-migrate:{schema}.{}", self.table));
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&digest[..8]);
            i64::from_be_bytes(bytes)
        });
        Ok(Target {
            table: format!(
                "{}.{}",
                lifeguard_schema::quote_ident(&schema),
                lifeguard_schema::quote_ident(&self.table)
            ),
            key,
        })
    }

    /// Runs `f` holding the migration lock, with `lock_timeout` set and the tracking table
    /// created; the session is put back (rolled back if needed, setting restored, lock
    /// released) afterwards, also when `f` fails or panics.
    fn locked<C: MigrationConnection + ?Sized, T>(
        &self,
        conn: &mut C,
        f: impl FnOnce(&mut C, &Target) -> Result<T>,
    ) -> Result<T> {
        let client = conn.client();
        let target = self.target(client)?;
        self.acquire_lock(client, target.key)?;
        let mut session = Session {
            client: client.handle(),
            key: target.key,
            saved_lock_timeout: None,
        };
        if let Some(timeout) = self.lock_timeout {
            let previous: String = client
                .query_one("SELECT current_setting('lock_timeout')", &[])?
                .get(0);
            let ms = format!("{}ms", timeout.as_millis());
            client.execute("SELECT set_config('lock_timeout', $1, false)", &[&ms])?;
            session.saved_lock_timeout = Some(previous);
        }
        if let Some(schema) = &self.schema {
            client.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                lifeguard_schema::quote_ident(schema)
            ))?;
        }
        client.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} (
                version text PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                execution_time_ms bigint NOT NULL,
                success boolean NOT NULL
            )",
            target.table
        ))?;
        let result = f(conn, &target);
        drop(session);
        result
    }

    /// Takes the session advisory lock `key`, retrying (the coroutine sleeps, the worker
    /// thread does not) until `lock_wait` has passed.
    fn acquire_lock(&self, client: &Client, key: i64) -> Result<()> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let got: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
                .get(0);
            if got {
                return Ok(());
            }
            let waited = start.elapsed();
            if waited >= self.lock_wait {
                let holder = client
                    .query_opt(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
                         AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                         AND classid::int8 = $1 AND objid::int8 = $2 AND objsubid = 1 LIMIT 1",
                        &[&(key >> 32), &(key & 0xffff_ffff)],
                    )
                    .ok()
                    .flatten()
                    .map(|r| r.get::<_, i32>(0));
                return Err(MigrateError::LockTimeout {
                    waited,
                    key,
                    holder,
                });
            }
            may::coroutine::sleep(pause.min(self.lock_wait - waited));
            pause = (pause * 2).min(MAX_LOCK_PAUSE);
        }
    }
}

/// Puts the session back when dropped: rolls back an open transaction, restores
/// `lock_timeout`, releases the advisory lock.
struct Session {
    client: Client,
    key: i64,
    saved_lock_timeout: Option<String>,
}

impl Drop for Session {
    fn drop(&mut self) {
        let c = &self.client;
        if c.is_closed() {
            return; // the server released the lock with the session
        }
        let timed = c.with_timeout(CLEANUP_TIMEOUT);
        if c.transaction_status() != TransactionStatus::Idle
            && let Err(e) = timed.batch_execute("ROLLBACK")
        {
            tracing::warn!(error = %e, "migration runner: rollback failed");
        }
        if let Some(v) = &self.saved_lock_timeout
            && let Err(e) = timed.execute("SELECT set_config('lock_timeout', $1, false)", &[v])
        {
            tracing::warn!(error = %e, "migration runner: restoring lock_timeout failed");
        }
        if let Err(e) = timed.execute("SELECT pg_advisory_unlock($1)", &[&self.key]) {
            tracing::warn!(error = %e, key = self.key, "migration runner: releasing the migration lock failed");
        }
    }
}

/// Refuses to run when an applied migration failed, is missing or changed.
fn refuse_inconsistent(status: &Status) -> Result<()> {
    if !status.failed.is_empty() {
        return Err(MigrateError::PreviouslyFailed {
            failed: status.failed.iter().map(AppliedMigration::label).collect(),
        });
    }
    if !status.missing.is_empty() {
        return Err(MigrateError::MissingOnDisk {
            missing: status.missing.iter().map(AppliedMigration::label).collect(),
        });
    }
    if !status.changed.is_empty() {
        return Err(MigrateError::ChecksumMismatch {
            changed: status.changed.clone(),
        });
    }
    Ok(())
}

/// Every row of the tracking table.
fn load(client: &Client, table: &str) -> Result<Vec<AppliedMigration>> {
    let rows = client.query(
        &format!(
            "SELECT version, name, checksum, applied_at, execution_time_ms, success FROM {table}"
        ),
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| AppliedMigration {
            version: r.get(0),
            name: r.get(1),
            checksum: r.get(2),
            applied_at: r.get(3),
            execution_time: Duration::from_millis(r.get::<_, i64>(4).max(0) as u64),
            success: r.get(5),
        })
        .collect())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn insert_sql(table: &str) -> String {
    format!(
        "INSERT INTO {table} (version, name, checksum, applied_at, execution_time_ms, success) \
         VALUES ($1, $2, $3, clock_timestamp(), $4, $5)"
    )
}

/// Runs `up.sql` and records it.
fn apply_up<C: MigrationConnection + ?Sized>(
    conn: &mut C,
    target: &Target,
    m: &Migration,
) -> Result<Executed> {
    let label = m.label();
    let insert = insert_sql(&target.table);
    let start = Instant::now();
    let no_transaction = m.no_transaction();
    if no_transaction {
        let client = conn.client();
        if let Err((statement, source)) = run_statements(client, m.up_sql()) {
            let elapsed = millis(start.elapsed());
            let recorded = client.execute(
                &insert,
                &[&m.version(), &m.name(), &m.checksum(), &elapsed, &false],
            );
            if let Err(e) = recorded {
                tracing::warn!(migration = %label, error = %e, "could not record the failed migration");
            }
            return Err(MigrateError::MigrationFailed {
                migration: label,
                file: "up.sql",
                statement: Some(statement),
                partial: true,
                source: Box::new(source),
            });
        }
        let elapsed = start.elapsed();
        client.execute(
            &insert,
            &[
                &m.version(),
                &m.name(),
                &m.checksum(),
                &millis(elapsed),
                &true,
            ],
        )?;
        return Ok(finished(m, elapsed, true, "applied"));
    }
    let failed = |source| MigrateError::MigrationFailed {
        migration: m.label(),
        file: "up.sql",
        statement: None,
        partial: false,
        source: Box::new(source),
    };
    let tx = conn.begin()?;
    if let Err(e) = tx.batch_execute(m.up_sql()) {
        let _ = tx.rollback();
        return Err(failed(e));
    }
    let elapsed = start.elapsed();
    tx.execute(
        &insert,
        &[
            &m.version(),
            &m.name(),
            &m.checksum(),
            &millis(elapsed),
            &true,
        ],
    )?;
    tx.commit().map_err(failed)?;
    Ok(finished(m, elapsed, false, "applied"))
}

/// Runs `down.sql` and deletes the tracking row.
fn apply_down<C: MigrationConnection + ?Sized>(
    conn: &mut C,
    target: &Target,
    m: &Migration,
) -> Result<Executed> {
    let down = m.down_sql().unwrap_or_default();
    let delete = format!("DELETE FROM {} WHERE version = $1", target.table);
    let start = Instant::now();
    if m.down_no_transaction() {
        let client = conn.client();
        if let Err((statement, source)) = run_statements(client, down) {
            let mark = format!(
                "UPDATE {} SET success = false WHERE version = $1",
                target.table
            );
            if let Err(e) = client.execute(&mark, &[&m.version()]) {
                tracing::warn!(migration = %m.label(), error = %e, "could not record the failed revert");
            }
            return Err(MigrateError::MigrationFailed {
                migration: m.label(),
                file: "down.sql",
                statement: Some(statement),
                partial: true,
                source: Box::new(source),
            });
        }
        let elapsed = start.elapsed();
        client.execute(&delete, &[&m.version()])?;
        return Ok(finished(m, elapsed, true, "reverted"));
    }
    let failed = |source| MigrateError::MigrationFailed {
        migration: m.label(),
        file: "down.sql",
        statement: None,
        partial: false,
        source: Box::new(source),
    };
    let tx = conn.begin()?;
    if let Err(e) = tx.batch_execute(down) {
        let _ = tx.rollback();
        return Err(failed(e));
    }
    let elapsed = start.elapsed();
    tx.execute(&delete, &[&m.version()])?;
    tx.commit().map_err(failed)?;
    Ok(finished(m, elapsed, false, "reverted"))
}

/// Runs a script statement by statement (each in its own implicit transaction); on failure
/// the 1-based number of the failing statement, the count, and the error.
fn run_statements(
    client: &Client,
    sql: &str,
) -> std::result::Result<(), ((usize, usize), crate::Error)> {
    let statements = split_statements(sql);
    let n = statements.len();
    for (i, s) in statements.iter().enumerate() {
        client.batch_execute(s).map_err(|e| ((i + 1, n), e))?;
    }
    Ok(())
}

fn finished(m: &Migration, elapsed: Duration, no_transaction: bool, what: &str) -> Executed {
    tracing::info!(migration = %m.label(), ?elapsed, no_transaction, "migration {what}");
    Executed {
        version: m.version().to_owned(),
        name: m.name().to_owned(),
        elapsed,
        no_transaction,
    }
}
