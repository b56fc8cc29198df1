//! The pool's background coroutine: replaces broken connections (exponential backoff with
//! jitter), retires connections past their lifetime once they are idle, and checks idle
//! connections. It runs every [`TICK`] and at once when woken, and ends when the pool's last
//! handle is dropped.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::client::{Client, Error, Result};

use super::core::{DOWN, EXCLUSIVE, RETIRING, Shared, lock, settle_transaction};
use crate::client::TransactionStatus;

/// How often the maintenance coroutine looks at the slots when nothing wakes it.
const TICK: Duration = Duration::from_millis(100);
/// First reconnect delay; doubled per failure up to [`MAX_BACKOFF`], each drawn in
/// `[delay / 2, delay]`.
const FIRST_BACKOFF: Duration = Duration::from_millis(25);
/// Longest reconnect delay: keeps recovery within a second of the server coming back.
const MAX_BACKOFF: Duration = Duration::from_millis(500);
/// Deadline for a health check or the cleanup of a returned connection.
pub(crate) const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Stack (machine words) for the pool's coroutines; they format errors and log.
const STACK_WORDS: usize = 0x4000;

/// Starts `f` on a coroutine of its own.
pub(crate) fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<()> {
    // SAFETY: may requires `unsafe` to spawn; the closure owns its data and uses no
    // thread-local storage.
    unsafe {
        may::coroutine::Builder::new()
            .name(name.to_owned())
            .stack_size(STACK_WORDS)
            .spawn(f)
    }
    .map(drop)
    .map_err(|e| Error::Config(format!("could not start a pool coroutine: {e}")))
}

/// Starts the maintenance coroutine for `shared`.
pub(crate) fn start(shared: &Arc<Shared>) -> Result<()> {
    let (tx, rx) = may::sync::mpsc::channel::<()>();
    *lock(&shared.wake) = Some(tx);
    let weak = Arc::downgrade(shared);
    spawn("lifeguard-pool-maintenance", move || run(weak, rx))
}

fn run(weak: Weak<Shared>, rx: may::sync::mpsc::Receiver<()>) {
    loop {
        match rx.recv_timeout(TICK) {
            Ok(()) => while rx.try_recv().is_ok() {},
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
        let Some(shared) = weak.upgrade() else {
            return;
        };
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
        maintain(&shared);
    }
}

fn maintain(shared: &Arc<Shared>) {
    let suspect = shared.suspect.swap(false, Ordering::SeqCst);
    let now = Instant::now();
    let idle_limit = shared
        .config
        .health_check_interval
        .map(|i| i.as_millis() as u64);
    for (idx, s) in shared.slots.iter().enumerate() {
        let st = s.state.load(Ordering::SeqCst);
        if st & EXCLUSIVE != 0 {
            continue; // a guard or a check holds it; it comes back through the queue
        }
        if st & DOWN == 0 && s.is_closed() {
            shared.mark_down_if_closed(idx);
        }
        let st = s.state.load(Ordering::SeqCst);
        if st & DOWN != 0 {
            if !s.connecting.load(Ordering::SeqCst) && now >= *lock(&s.next_attempt) {
                reconnect(shared, idx);
            }
            continue;
        }
        if st & RETIRING != 0 {
            // Closing aborts a transaction a shared `BEGIN` left open: end it first.
            if s.handle()
                .is_some_and(|c| c.transaction_status() != TransactionStatus::Idle)
            {
                shared.settle_retiring(idx);
                continue;
            }
            if shared.close_if_retired(idx) {
                tracing::debug!(slot = idx, "retired a connection past its lifetime");
                reconnect(shared, idx);
            }
            continue;
        }
        if lock(&s.expires_at).is_some_and(|t| now >= t) {
            shared.retire(idx);
            if shared.close_if_retired(idx) {
                reconnect(shared, idx);
            }
            continue;
        }
        let idle_for = shared
            .now_ms()
            .saturating_sub(s.last_used.load(Ordering::Relaxed));
        if suspect || idle_limit.is_some_and(|l| idle_for >= l) {
            check(shared, idx);
        }
    }
}

/// Opens a replacement connection for `DOWN` slot `idx` on a coroutine of its own.
fn reconnect(shared: &Arc<Shared>, idx: usize) {
    let s = &shared.slots[idx];
    if s.connecting.swap(true, Ordering::SeqCst) {
        return;
    }
    let pool = shared.clone();
    let started = spawn("lifeguard-pool-connect", move || {
        let s = &pool.slots[idx];
        match Client::connect(&pool.config.client) {
            Ok(client) => {
                if s.ever_connected.swap(true, Ordering::SeqCst) {
                    pool.metrics.reconnects.inc();
                }
                tracing::debug!(slot = idx, "pooled connection opened");
                pool.install(idx, client);
                s.connecting.store(false, Ordering::SeqCst);
            }
            Err(e) => {
                let attempts = s.attempts.fetch_add(1, Ordering::SeqCst);
                let delay = FIRST_BACKOFF
                    .saturating_mul(1 << attempts.min(8))
                    .min(MAX_BACKOFF);
                let delay = delay.mul_f64(0.5 + 0.5 * pool.random());
                tracing::warn!(slot = idx, error = %e, retry_in = ?delay, "could not open a pooled connection");
                *lock(&s.next_attempt) = Instant::now() + delay;
                *lock(&pool.last_error) = Some(e);
                s.connecting.store(false, Ordering::SeqCst);
            }
        }
    });
    if started.is_err() {
        s.connecting.store(false, Ordering::SeqCst);
    }
}

/// Checks idle slot `idx` with an empty query, on a coroutine of its own.
fn check(shared: &Arc<Shared>, idx: usize) {
    let Some(client) = shared.claim_idle(idx) else {
        return;
    };
    let pool = shared.clone();
    let started = spawn("lifeguard-pool-check", move || {
        match client.with_timeout(CHECK_TIMEOUT).batch_execute("") {
            Ok(()) if settle_transaction(&client) => pool.make_available(idx),
            Ok(()) => {
                drop(client);
                pool.discard(idx);
            }
            Err(e) => {
                tracing::warn!(slot = idx, error = %e, "pooled connection failed its health check");
                drop(client);
                pool.discard(idx);
            }
        }
    });
    if started.is_err() {
        shared.make_available(idx);
    }
}
