//! Transactions: an exclusive guard over the connection that rolls back when dropped,
//! with isolation level, read-only and deferrable options, and nested savepoints.

use std::ops::Deref;

use super::Client;
use super::copy::{CopyIn, CopyOut};
use super::error::Result;

/// How long dropping an open transaction waits for its rollback.
const DROP_ROLLBACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Transaction isolation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED` (behaves as READ COMMITTED in PostgreSQL).
    ReadUncommitted,
    /// `READ COMMITTED`, the server default.
    ReadCommitted,
    /// `REPEATABLE READ`.
    RepeatableRead,
    /// `SERIALIZABLE`.
    Serializable,
}

impl IsolationLevel {
    fn sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

/// Options for a new transaction; see [`Client::build_transaction`].
pub struct TransactionBuilder<'a> {
    client: &'a mut Client,
    isolation: Option<IsolationLevel>,
    read_only: Option<bool>,
    deferrable: Option<bool>,
}

impl<'a> TransactionBuilder<'a> {
    /// Sets the isolation level.
    pub fn isolation_level(mut self, level: IsolationLevel) -> Self {
        self.isolation = Some(level);
        self
    }

    /// Makes the transaction `READ ONLY` (or explicitly `READ WRITE`).
    pub fn read_only(mut self, on: bool) -> Self {
        self.read_only = Some(on);
        self
    }

    /// Makes the transaction `DEFERRABLE` (meaningful for serializable read-only ones).
    pub fn deferrable(mut self, on: bool) -> Self {
        self.deferrable = Some(on);
        self
    }

    /// The `BEGIN` statement these options produce.
    pub fn begin_sql(&self) -> String {
        let mut sql = String::from("BEGIN");
        if let Some(level) = self.isolation {
            sql.push_str(" ISOLATION LEVEL ");
            sql.push_str(level.sql());
        }
        match self.read_only {
            Some(true) => sql.push_str(" READ ONLY"),
            Some(false) => sql.push_str(" READ WRITE"),
            None => {}
        }
        match self.deferrable {
            Some(true) => sql.push_str(" DEFERRABLE"),
            Some(false) => sql.push_str(" NOT DEFERRABLE"),
            None => {}
        }
        sql
    }

    /// Sends `BEGIN` and returns the guard.
    pub fn start(self) -> Result<Transaction<'a>> {
        let sql = self.begin_sql();
        self.client.batch_execute(&sql)?;
        Ok(Transaction {
            client: self.client,
            savepoint: None,
            depth: 0,
            done: false,
        })
    }
}

/// An open transaction (or savepoint). Statements run through it via `Deref` to [`Client`].
/// Dropping it without [`commit`](Transaction::commit) rolls it back.
pub struct Transaction<'a> {
    client: &'a mut Client,
    savepoint: Option<String>,
    depth: u32,
    done: bool,
}

impl Client {
    /// Starts a transaction with default options.
    ///
    /// ```no_run
    /// # let mut client = lifeguard::client::connect("postgres://localhost/app")?;
    /// let tx = client.transaction()?;
    /// tx.execute("UPDATE accounts SET balance = balance - 10 WHERE id = $1", &[&1i64])?;
    /// tx.execute("UPDATE accounts SET balance = balance + 10 WHERE id = $1", &[&2i64])?;
    /// tx.commit()?;
    /// # Ok::<(), lifeguard::client::Error>(())
    /// ```
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.build_transaction().start()
    }

    /// Starts building a transaction with options.
    pub fn build_transaction(&mut self) -> TransactionBuilder<'_> {
        TransactionBuilder {
            client: self,
            isolation: None,
            read_only: None,
            deferrable: None,
        }
    }
}

impl Transaction<'_> {
    /// Commits (or releases the savepoint).
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        match &self.savepoint {
            None => self.client.batch_execute("COMMIT"),
            Some(sp) => self
                .client
                .batch_execute(&format!("RELEASE SAVEPOINT {sp}")),
        }
    }

    /// Rolls back (or rolls back to the savepoint and releases it).
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        let sql = self.rollback_sql();
        self.client.batch_execute(&sql)
    }

    fn rollback_sql(&self) -> String {
        match &self.savepoint {
            None => "ROLLBACK".to_owned(),
            Some(sp) => format!("ROLLBACK TO SAVEPOINT {sp}; RELEASE SAVEPOINT {sp}"),
        }
    }

    /// Opens a nested transaction as a savepoint named `name` (quoted as an identifier).
    pub fn savepoint(&mut self, name: &str) -> Result<Transaction<'_>> {
        Transaction::savepoint_on(self.client, name, self.depth + 1)
    }

    /// Opens savepoint `name` on `client`, which is inside a transaction `depth - 1` levels
    /// deep (used by the pool's transactions).
    pub(crate) fn savepoint_on<'c>(
        client: &'c mut Client,
        name: &str,
        depth: u32,
    ) -> Result<Transaction<'c>> {
        let quoted = lifeguard_schema::quote_ident(name);
        client.batch_execute(&format!("SAVEPOINT {quoted}"))?;
        Ok(Transaction {
            client,
            savepoint: Some(quoted),
            depth,
            done: false,
        })
    }

    /// Opens a nested transaction with a generated savepoint name.
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        let name = format!("lifeguard_sp_{}", self.depth + 1);
        self.savepoint(&name)
    }

    /// `COPY ... FROM STDIN` inside this transaction.
    pub fn copy_in(&mut self, sql: &str) -> Result<CopyIn<'_>> {
        self.client.copy_in(sql)
    }

    /// `COPY ... TO STDOUT` inside this transaction.
    pub fn copy_out(&mut self, sql: &str) -> Result<CopyOut<'_>> {
        self.client.copy_out(sql)
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        self.client
    }
}

impl Deref for Transaction<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Wait (bounded) for the rollback, so that the connection is idle and
            // `transaction_status()` says so when the owner gets it back. If the connection
            // is broken this fails at once; the error has nowhere to go from a drop.
            let sql = self.rollback_sql();
            if let Err(e) = self
                .client
                .with_timeout(DROP_ROLLBACK_TIMEOUT)
                .batch_execute(&sql)
            {
                tracing::warn!(error = %e, "rolling back a dropped transaction failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation_keywords() {
        assert_eq!(IsolationLevel::Serializable.sql(), "SERIALIZABLE");
        assert_eq!(IsolationLevel::RepeatableRead.sql(), "REPEATABLE READ");
    }
}
