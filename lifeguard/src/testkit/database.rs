//! A fresh database per test, on the process's throwaway server or on the server named by
//! `LIFEGUARD_TEST_DATABASE_URL`, so tests run in parallel without sharing tables.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::client::{self, Client, Config};

use super::{PgServer, TestkitError};

/// The environment variable naming an existing server to use instead of a throwaway one.
/// Its URL must name a database the user can connect to and create databases from.
pub const DATABASE_URL_ENV: &str = "LIFEGUARD_TEST_DATABASE_URL";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database created for one test and dropped (with `FORCE`) when this value is dropped.
///
/// ```no_run
/// let db = lifeguard::testkit::TestDatabase::create()?;
/// let client = db.connect()?;
/// client.batch_execute("CREATE TABLE t (id int)")?;
/// # Ok::<(), lifeguard::testkit::TestkitError>(())
/// ```
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish()
    }
}

impl TestDatabase {
    /// Creates a new, empty database.
    pub fn create() -> Result<TestDatabase, TestkitError> {
        let admin_url = admin_url()?;
        let name = format!(
            "lg_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = connect(&admin_url)?;
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {}",
                lifeguard_schema::quote_ident(&name)
            ))
            .map_err(TestkitError::Database)?;
        let url = with_dbname(&admin_url, &name);
        Ok(TestDatabase {
            name,
            url,
            admin_url,
        })
    }

    /// The database's connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's connection configuration.
    pub fn config(&self) -> client::Result<Config> {
        self.url.parse()
    }

    /// Opens a connection to the database.
    pub fn connect(&self) -> client::Result<Client> {
        client::connect(&self.url)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(admin) = client::connect(&self.admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                lifeguard_schema::quote_ident(&self.name)
            ));
        }
    }
}

/// The URL tests connect to for administration: `LIFEGUARD_TEST_DATABASE_URL`, or the
/// `postgres` database of this process's throwaway server (started on first use).
pub fn admin_url() -> Result<String, TestkitError> {
    match std::env::var(DATABASE_URL_ENV) {
        Ok(u) if !u.trim().is_empty() => Ok(u),
        _ => Ok(PgServer::shared()?.url("postgres")),
    }
}

fn connect(url: &str) -> Result<Client, TestkitError> {
    client::connect(url).map_err(TestkitError::Database)
}

/// The environment variable naming an existing Redis to use instead of a throwaway one.
pub const REDIS_URL_ENV: &str = "LIFEGUARD_TEST_REDIS_URL";

/// The Redis URL tests use: `LIFEGUARD_TEST_REDIS_URL`, or this process's throwaway
/// `redis-server` (started on first use).
pub fn redis_url() -> Result<String, TestkitError> {
    match std::env::var(REDIS_URL_ENV) {
        Ok(u) if !u.trim().is_empty() => Ok(u),
        _ => Ok(super::RedisServer::shared()?.url()),
    }
}

/// Replaces the database name in a URL or conninfo string.
pub(crate) fn with_dbname(url: &str, dbname: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return format!("{url} dbname={dbname}");
    };
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = scheme_end + 3;
    let path_start = base[authority_start..]
        .find('/')
        .map(|i| authority_start + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], dbname);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_dbname;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_dbname("postgres://u@h:1/postgres", "x"),
            "postgres://u@h:1/x"
        );
        assert_eq!(with_dbname("postgres://u@h:1", "x"), "postgres://u@h:1/x");
        assert_eq!(
            with_dbname("postgres://u@/db?host=%2Ftmp&port=5", "x"),
            "postgres://u@/x?host=%2Ftmp&port=5"
        );
        assert_eq!(
            with_dbname("host=h dbname=a", "x"),
            "host=h dbname=a dbname=x"
        );
    }
}
