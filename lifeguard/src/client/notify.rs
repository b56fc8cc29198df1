//! LISTEN/NOTIFY: notifications arrive on the connection's reader and wait in a queue that a
//! coroutine (or thread) can block on with a timeout.

use std::time::{Duration, Instant};

use may::sync::mpsc::Receiver;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};

use super::error::{Error, Result};
use super::pipeline::Pipe;

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
    pub(crate) pipe: &'a Pipe,
}

/// How long a receiver waits on the queue before checking whether it should read the socket
/// itself (when no statement is running, nobody else does).
const PUMP_INTERVAL: Duration = Duration::from_millis(20);

impl Notifications<'_> {
    /// Waits up to `timeout` for the next notification; `Ok(None)` if none came in time.
    /// Fails if the connection is closed.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(n) = self.try_recv()? {
                return Ok(Some(n));
            }
            if let Some(e) = self.pipe.closed_error() {
                return Err(Error::closed(format!(
                    "the connection closed while waiting for notifications: {e}"
                )));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            // Read the socket if nobody else is; otherwise wait for the reader to queue one.
            if !self.pipe.pump(left) {
                match self.rx.recv_timeout(left.min(PUMP_INTERVAL)) {
                    Ok(n) => return Ok(Some(n)),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(Error::closed(
                            "the connection closed while waiting for notifications",
                        ));
                    }
                }
            }
        }
    }

    /// Waits for the next notification without a time limit.
    pub fn recv(&mut self) -> Result<Notification> {
        loop {
            if let Some(n) = self.recv_timeout(Duration::from_secs(3600))? {
                return Ok(n);
            }
        }
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
