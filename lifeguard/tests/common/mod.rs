//! Shared helpers for the integration tests: a fresh database per test.
#![allow(dead_code)]

use std::time::Duration;

use lifeguard::client::Client;
use lifeguard::testkit::TestDatabase;

/// A fresh database and a connection to it.
pub fn db() -> (TestDatabase, Client) {
    let db = TestDatabase::create().expect("create a test database");
    let client = db.connect().expect("connect to the test database");
    (db, client)
}

/// Runs `f` on a coroutine and waits for it, failing the test if it takes longer than
/// `limit` (a guard against hangs, not a performance assertion).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = may::sync::mpsc::channel();
    may::go!(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("operation did not finish within {limit:?}: it hangs"))
}
