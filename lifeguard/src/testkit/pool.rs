//! Pools for users' own tests: [`test_pool!`](crate::test_pool) gives a test a
//! [`LifeguardPool`] on a fresh database; [`test_transaction!`](crate::test_transaction) also
//! wraps the test in a transaction that is rolled back at the end. Both can load SQL fixture
//! files first.

use std::ops::Deref;
use std::path::Path;

use crate::client::{Result as DbResult, Row, ToSql};
use crate::executor::LifeExecutor;
use crate::pool::{LifeguardPool, PoolBuilder, PoolTransaction};

use super::{TestDatabase, TestkitError};

/// A pool on a database of its own, dropped (database included) at the end of the test.
///
/// ```no_run
/// #[test]
/// fn counts_users() {
///     let pool = lifeguard::test_pool!("tests/fixtures/users.sql");
///     let (n,): (i64,) = lifeguard::LifeExecutor::query_one_as(
///         &*pool, "SELECT count(*) FROM users", &[]).unwrap();
///     assert_eq!(n, 3);
/// }
/// ```
pub struct TestPool {
    // Declared first so it is dropped (connections closed) before the database.
    pool: LifeguardPool,
    db: TestDatabase,
}

impl std::fmt::Debug for TestPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPool").field("db", &self.db).finish()
    }
}

impl TestPool {
    /// A pool of 4 connections on a new empty database.
    pub fn new() -> Result<TestPool, TestkitError> {
        TestPool::with(|b| b)
    }

    /// A pool on a new empty database, configured by `configure` (size 4 to begin with).
    pub fn with(
        configure: impl FnOnce(PoolBuilder) -> PoolBuilder,
    ) -> Result<TestPool, TestkitError> {
        let db = TestDatabase::create()?;
        let builder = LifeguardPool::builder(db.url())
            .map_err(TestkitError::Database)?
            .size(4)
            .application_name("lifeguard-test");
        let pool = configure(builder).build().map_err(TestkitError::Database)?;
        Ok(TestPool { pool, db })
    }

    /// Runs each SQL file (several `;`-separated statements each) in order, each in one
    /// implicit transaction; a failing file names itself in the error.
    pub fn load_fixtures<P: AsRef<Path>>(&self, files: &[P]) -> Result<(), TestkitError> {
        for file in files {
            let path = file.as_ref();
            let sql = std::fs::read_to_string(path).map_err(|source| TestkitError::Io {
                context: format!("reading fixture {}", path.display()),
                source,
            })?;
            self.pool
                .batch_execute(&sql)
                .map_err(|e| TestkitError::Fixture {
                    file: path.display().to_string(),
                    source: e,
                })?;
        }
        Ok(())
    }

    /// The pool.
    pub fn pool(&self) -> &LifeguardPool {
        &self.pool
    }

    /// The test's database.
    pub fn database(&self) -> &TestDatabase {
        &self.db
    }

    /// Opens the transaction a [`TestTransaction`] wraps the test in.
    pub fn into_rollback(self) -> Result<TestTransaction, TestkitError> {
        let tx = self.pool.begin().map_err(TestkitError::Database)?;
        Ok(TestTransaction { tx, _pool: self })
    }
}

impl Deref for TestPool {
    type Target = LifeguardPool;

    fn deref(&self) -> &LifeguardPool {
        &self.pool
    }
}

/// A transaction that is never committed: everything the test writes through it is rolled
/// back when it is dropped. Pass `&*tx` (a [`PoolTransaction`]) to code generic over
/// [`LifeExecutor`].
pub struct TestTransaction {
    // Dropped first: the rollback happens before the pool closes.
    tx: PoolTransaction,
    _pool: TestPool,
}

impl std::fmt::Debug for TestTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestTransaction")
            .field("pool", &self._pool)
            .finish()
    }
}

impl Deref for TestTransaction {
    type Target = PoolTransaction;

    fn deref(&self) -> &PoolTransaction {
        &self.tx
    }
}

impl LifeExecutor for TestTransaction {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> DbResult<Vec<Row>> {
        self.tx.query(sql, params)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> DbResult<u64> {
        LifeExecutor::execute(&self.tx, sql, params)
    }

    fn execute_unprepared(&self, sql: &str) -> DbResult<()> {
        self.tx.execute_unprepared(sql)
    }
}

/// A [`TestPool`] for the calling test: a pool on a fresh database of the throwaway server (or
/// of `LIFEGUARD_TEST_DATABASE_URL`), with the SQL fixture files given (paths relative to the
/// calling crate's root) loaded in order. Panics with the reason if any of that fails.
///
/// ```no_run
/// let pool = lifeguard::test_pool!();
/// let seeded = lifeguard::test_pool!("tests/fixtures/schema.sql", "tests/fixtures/users.sql");
/// ```
#[macro_export]
macro_rules! test_pool {
    ($($fixture:expr),* $(,)?) => {{
        let pool = $crate::testkit::TestPool::new()
            .unwrap_or_else(|e| panic!("test_pool!: could not set up the test database: {e}"));
        let files: &[&str] = &[$(concat!(env!("CARGO_MANIFEST_DIR"), "/", $fixture)),*];
        pool.load_fixtures(files)
            .unwrap_or_else(|e| panic!("test_pool!: {e}"));
        pool
    }};
}

/// Like [`test_pool!`], then opens a transaction that is rolled back when the returned
/// [`TestTransaction`] is dropped: the test sees its fixtures and its own writes, and nothing
/// it does outlives it.
///
/// ```no_run
/// use lifeguard::LifeExecutor;
/// let tx = lifeguard::test_transaction!("tests/fixtures/users.sql");
/// tx.execute("DELETE FROM users", &[]).unwrap(); // gone at the end of the test
/// ```
#[macro_export]
macro_rules! test_transaction {
    ($($fixture:expr),* $(,)?) => {{
        $crate::test_pool!($($fixture),*)
            .into_rollback()
            .unwrap_or_else(|e| panic!("test_transaction!: {e}"))
    }};
}
