//! LISTEN/NOTIFY: notifications arrive on the connection's reader and wait in a queue that a
//! coroutine (or thread) can block on with a timeout.

use std::time::Duration;

use may::sync::mpsc::Receiver;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};

use super::error::{Error, Result};

/// A notification sent with `NOTIFY channel, 'payload'` (or `pg_notify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Process ID of the sending backend (compare with `Client::backend_pid` to skip your own).
    pub process_id: i32,
    /// The channel.
    pub channel: String,
    /// The payload (empty if none).
    pub payload: String,
}

/// The queue of notifications received on one connection. Holding it excludes other
/// receivers on the same connection.
pub struct Notifications<'a> {
    pub(crate) rx: may::sync::MutexGuard<'a, Receiver<Notification>>,
}

impl Notifications<'_> {
    /// Waits up to `timeout` for the next notification; `Ok(None)` if none came in time.
    /// Fails if the connection is closed.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        match self.rx.recv_timeout(timeout) {
            Ok(n) => Ok(Some(n)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(Error::closed(
                "the connection closed while waiting for notifications",
            )),
        }
    }

    /// Waits for the next notification without a time limit.
    pub fn recv(&mut self) -> Result<Notification> {
        self.rx
            .recv()
            .map_err(|_| Error::closed("the connection closed while waiting for notifications"))
    }

    /// The next notification if one is already queued.
    pub fn try_recv(&mut self) -> Result<Option<Notification>> {
        match self.rx.try_recv() {
            Ok(n) => Ok(Some(n)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(Error::closed(
                "the connection closed while waiting for notifications",
            )),
        }
    }
}
