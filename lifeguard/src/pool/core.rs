//! The pool's shared state: one slot per connection, the FIFO queue of waiting callers, and
//! the rules that move a slot between shared use, exclusive use, retirement and repair.
//!
//! A slot's `state` is a set of flags. `0` means the connection is open and shared: single
//! statements pipeline on it. `EXCLUSIVE` means a guard (or the pool's own cleanup or health
//! check) holds it alone. `RETIRING` means it takes no new work and is closed once idle.
//! `DOWN` means it has no open connection and the maintenance coroutine is replacing it.
//!
//! Shared callers never lock anything: they bump the slot's `outstanding` count, then check
//! that the state is still `0` (both sequentially consistent), and back off otherwise.
//! Whoever sets a non-zero state checks `outstanding` afterwards, so it either sees the
//! caller or the caller sees the flag. Every transition out of or into `0` happens under
//! the queue lock, which is a plain mutex held for a few instructions and never across I/O.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use may::sync::Blocker;

use crate::client::{Client, Error, Result, TransactionStatus};

use super::maintenance::CHECK_TIMEOUT;

use super::config::PoolConfig;
use super::metrics::Metrics;

pub(crate) const EXCLUSIVE: u8 = 1;
pub(crate) const RETIRING: u8 = 2;
pub(crate) const DOWN: u8 = 4;

const NOT_GRANTED: usize = usize::MAX;

/// Idle time after which a connection is validated before an exclusive guard gets it.
const VALIDATE_AFTER_IDLE_MS: u64 = 500;
/// Shortest deadline given to a validation, however little of the caller's is left.
const MIN_VALIDATION_TIMEOUT: Duration = Duration::from_millis(250);

/// How a parked waiter's wait ended.
enum Wait {
    /// Handed slot `idx` (exclusive waiters) or woken because a slot became shared.
    Granted(usize),
    Closed,
    /// Gave up at the deadline, with this many callers still waiting.
    TimedOut(usize),
}

/// The outcome of validating a connection.
enum Check {
    Fine,
    /// Broken, or too slow to answer an empty query: it is replaced.
    Broken,
}

/// A slot taken for a guard that is not built yet: discarded if dropped armed.
struct Claim<'a> {
    shared: &'a Shared,
    idx: usize,
    armed: bool,
}

impl Claim<'_> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.discard(self.idx);
        }
    }
}

/// Ends a transaction a shared statement left open on `client` (a `BEGIN` sent through
/// the pool). A healthy one is committed, because statements of other callers that ran
/// inside it were told they succeeded. A failed one can only be rolled back: statements
/// that ran in it before the failure were told they succeeded and are undone, which is why
/// transactions belong in `pool.begin()`. `false` if the connection did not end up idle.
pub(crate) fn settle_transaction(client: &Client) -> bool {
    let sql = match client.transaction_status() {
        TransactionStatus::Idle => return true,
        TransactionStatus::InTransaction => "COMMIT",
        TransactionStatus::Failed => "ROLLBACK",
    };
    tracing::warn!(
        "a statement run through the pool left a transaction open; ending it with {sql} \
         (use pool.begin() or pool.transaction() for transactions)"
    );
    if let Err(e) = client.with_timeout(CHECK_TIMEOUT).batch_execute(sql) {
        tracing::warn!(error = %e, "ending the transaction failed");
    }
    !client.is_closed() && client.transaction_status() == TransactionStatus::Idle
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One connection's place in the pool.
pub(crate) struct Slot {
    pub(crate) state: AtomicU8,
    pub(crate) outstanding: AtomicUsize,
    pub(crate) conn: Mutex<Option<Client>>,
    pub(crate) expires_at: Mutex<Option<Instant>>,
    /// Milliseconds since the pool's epoch when the slot last finished work.
    pub(crate) last_used: AtomicU64,
    /// An exclusive taker waiting for shared requests in flight to finish.
    drain: Mutex<Option<Arc<Blocker>>>,
    pub(crate) connecting: AtomicBool,
    pub(crate) attempts: AtomicU32,
    pub(crate) next_attempt: Mutex<Instant>,
    pub(crate) ever_connected: AtomicBool,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            state: AtomicU8::new(DOWN),
            outstanding: AtomicUsize::new(0),
            conn: Mutex::new(None),
            expires_at: Mutex::new(None),
            last_used: AtomicU64::new(0),
            drain: Mutex::new(None),
            connecting: AtomicBool::new(false),
            attempts: AtomicU32::new(0),
            next_attempt: Mutex::new(Instant::now()),
            ever_connected: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.conn).as_ref().is_none_or(Client::is_closed)
    }

    pub(crate) fn handle(&self) -> Option<Client> {
        lock(&self.conn).as_ref().map(Client::handle)
    }
}

/// A caller parked in the queue.
struct Waiter {
    blocker: Blocker,
    /// The slot handed to an exclusive waiter, or `0` for a woken shared waiter.
    granted: AtomicUsize,
}

impl Waiter {
    fn new() -> Arc<Waiter> {
        Arc::new(Waiter {
            blocker: Blocker::new(true),
            granted: AtomicUsize::new(NOT_GRANTED),
        })
    }

    fn granted(&self) -> Option<usize> {
        match self.granted.load(Ordering::Acquire) {
            NOT_GRANTED => None,
            idx => Some(idx),
        }
    }

    fn grant(&self, idx: usize) {
        self.granted.store(idx, Ordering::Release);
        self.blocker.unpark();
    }
}

#[derive(Default)]
struct Queue {
    /// Exclusive acquirers, served strictly in arrival order.
    exclusive: VecDeque<Arc<Waiter>>,
    /// Single statements waiting because no connection is shared right now.
    shared: Vec<Arc<Waiter>>,
}

/// Counts read at scrape time.
pub(crate) struct Status {
    pub(crate) open: usize,
    pub(crate) active: usize,
    pub(crate) idle: usize,
    pub(crate) waiting: usize,
}

/// Everything the pool's handles, guards and background coroutines share.
pub(crate) struct Shared {
    pub(crate) config: PoolConfig,
    pub(crate) slots: Box<[Slot]>,
    queue: Mutex<Queue>,
    pub(crate) metrics: Metrics,
    pub(crate) closed: AtomicBool,
    pub(crate) last_error: Mutex<Option<Error>>,
    /// A connection error was seen: the maintenance coroutine checks idle connections now.
    pub(crate) suspect: AtomicBool,
    pub(crate) wake: Mutex<Option<may::sync::mpsc::Sender<()>>>,
    rr: AtomicUsize,
    epoch: Instant,
    rng: AtomicU64,
}

/// A shared connection lent for one statement.
pub(crate) struct Lease<'a> {
    shared: &'a Shared,
    pub(crate) idx: usize,
    pub(crate) client: Client,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.shared.done_with(self.idx);
    }
}

/// `now + d`, or a time so far ahead it never comes when `d` is too large to add.
pub(crate) fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// The time left until `deadline`; `None` once less than a millisecond is left (`may`'s
/// timers do not wait less than that).
pub(crate) fn remaining(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (left >= Duration::from_millis(1)).then_some(left)
}

impl Shared {
    pub(crate) fn new(config: PoolConfig, metrics: Metrics) -> Shared {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
            | 1;
        Shared {
            slots: (0..config.size).map(|_| Slot::new()).collect(),
            config,
            queue: Mutex::new(Queue::default()),
            metrics,
            closed: AtomicBool::new(false),
            last_error: Mutex::new(None),
            suspect: AtomicBool::new(false),
            wake: Mutex::new(None),
            rr: AtomicUsize::new(0),
            epoch: Instant::now(),
            rng: AtomicU64::new(seed),
        }
    }

    /// A pseudo-random number in `[0, 1)` for jitter (xorshift; not for secrets).
    pub(crate) fn random(&self) -> f64 {
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Asks the maintenance coroutine to run now; `suspect` also has it check idle connections.
    pub(crate) fn wake_maintenance(&self, suspect: bool) {
        if suspect {
            self.suspect.store(true, Ordering::SeqCst);
        }
        if let Some(tx) = lock(&self.wake).as_ref() {
            let _ = tx.send(());
        }
    }

    // ---- shared use -------------------------------------------------------------------

    /// A connection for one statement: the open shared connection with the fewest requests
    /// in flight. Waits (until `deadline`) only while no connection is shared.
    pub(crate) fn lease(&self, deadline: Instant) -> Result<Lease<'_>> {
        let start = Instant::now();
        loop {
            if let Some(lease) = self.try_lease() {
                self.metrics.wait.observe(start.elapsed().as_secs_f64());
                return Ok(lease);
            }
            let waiter = {
                let mut q = lock(&self.queue);
                if self.closed.load(Ordering::SeqCst) {
                    return Err(Error::PoolClosed);
                }
                if self
                    .slots
                    .iter()
                    .any(|s| s.state.load(Ordering::SeqCst) == 0)
                {
                    None // one became shared since we looked: try again
                } else {
                    let w = Waiter::new();
                    q.shared.push(w.clone());
                    Some(w)
                }
            };
            let Some(w) = waiter else { continue };
            match self.park_waiter(&w, false, deadline) {
                Wait::Granted(_) => {} // a connection became shared: try again
                Wait::Closed => return Err(Error::PoolClosed),
                Wait::TimedOut(pending) => return Err(self.timeout_error(start, pending)),
            }
        }
    }

    fn try_lease(&self) -> Option<Lease<'_>> {
        let n = self.slots.len();
        for _ in 0..n {
            let start = self.rr.fetch_add(1, Ordering::Relaxed);
            let mut best = None;
            let mut best_load = usize::MAX;
            for i in 0..n {
                let idx = (start + i) % n;
                let s = &self.slots[idx];
                if s.state.load(Ordering::Relaxed) != 0 {
                    continue;
                }
                let load = s.outstanding.load(Ordering::Relaxed);
                if load < best_load {
                    best = Some(idx);
                    best_load = load;
                    if load == 0 {
                        break;
                    }
                }
            }
            let idx = best?;
            let s = &self.slots[idx];
            s.outstanding.fetch_add(1, Ordering::SeqCst);
            if s.state.load(Ordering::SeqCst) != 0 {
                self.done_with(idx);
                continue;
            }
            match s.handle() {
                Some(client) if !client.is_closed() => {
                    return Some(Lease {
                        shared: self,
                        idx,
                        client,
                    });
                }
                _ => {
                    self.done_with(idx);
                    self.mark_down_if_closed(idx);
                }
            }
        }
        None
    }

    /// A shared request on slot `idx` finished (or backed off).
    fn done_with(&self, idx: usize) {
        let s = &self.slots[idx];
        s.last_used.store(self.now_ms(), Ordering::Relaxed);
        if s.outstanding.fetch_sub(1, Ordering::SeqCst) == 1
            && s.state.load(Ordering::SeqCst) & (EXCLUSIVE | RETIRING) != 0
        {
            if let Some(b) = lock(&s.drain).as_ref() {
                b.unpark();
            }
            if s.state.load(Ordering::SeqCst) & RETIRING != 0 {
                self.wake_maintenance(false);
            }
        }
    }

    /// A shared slot whose connection broke stops taking work; maintenance replaces it.
    pub(crate) fn mark_down_if_closed(&self, idx: usize) {
        let s = &self.slots[idx];
        let old = {
            let _q = lock(&self.queue);
            let st = s.state.load(Ordering::SeqCst);
            if st & (EXCLUSIVE | DOWN) != 0 || !s.is_closed() {
                return;
            }
            s.state.store(DOWN, Ordering::SeqCst);
            *lock(&s.next_attempt) = Instant::now();
            lock(&s.conn).take()
        };
        drop(old);
        tracing::warn!(slot = idx, "pooled connection is broken; replacing it");
        self.wake_maintenance(true);
    }

    // ---- exclusive use ----------------------------------------------------------------

    /// Takes a connection for exclusive use, waiting in FIFO order until `deadline`.
    pub(crate) fn acquire(self: &Arc<Self>, deadline: Instant) -> Result<(usize, Client)> {
        let start = Instant::now();
        loop {
            let idx = self.wait_for_slot(start, deadline)?;
            // Let shared requests already on the connection finish first.
            self.drain(idx, start, deadline)?;
            // From here until the guard exists, a panic or a cancelled coroutine must not
            // leave the slot claimed forever.
            let claim = Claim {
                shared: self,
                idx,
                armed: true,
            };
            let Some(client) = self.slots[idx].handle().filter(|c| !c.is_closed()) else {
                continue; // the claim's drop discards the slot
            };
            if client.transaction_status() != TransactionStatus::Idle {
                // Left in a transaction by a shared `BEGIN`: settled on the side, not here.
                claim.disarm();
                self.settle_held(idx);
                continue;
            }
            match self.validate(idx, &client, deadline) {
                Check::Fine => {
                    claim.disarm();
                    self.metrics.wait.observe(start.elapsed().as_secs_f64());
                    return Ok((idx, client));
                }
                Check::Broken => continue,
            }
        }
    }

    /// A connection idle for longer than [`VALIDATE_AFTER_IDLE_MS`], or on which the server
    /// sent something unasked (typically the error it sends before closing), is checked with
    /// an empty query before it is lent out, so a guard is not handed a connection the server
    /// closed while nobody was looking (HikariCP validates after 500 ms idle).
    fn validate(&self, idx: usize, client: &Client, deadline: Instant) -> Check {
        let idle_for = self
            .now_ms()
            .saturating_sub(self.slots[idx].last_used.load(Ordering::Relaxed));
        // Returned within the last millisecond: nothing to look at (and no syscall).
        if idle_for < 1 || (idle_for < VALIDATE_AFTER_IDLE_MS && !client.unread_input()) {
            return Check::Fine;
        }
        let limit = remaining(deadline)
            .unwrap_or_default()
            .clamp(MIN_VALIDATION_TIMEOUT, CHECK_TIMEOUT);
        match client.with_timeout(limit).batch_execute("") {
            Ok(()) => Check::Fine,
            Err(e) if e.is_connectivity() => {
                tracing::warn!(slot = idx, error = %e, "idle pooled connection is broken");
                self.wake_maintenance(true);
                Check::Broken
            }
            Err(e) => {
                tracing::warn!(slot = idx, error = %e, "idle pooled connection did not answer in time");
                Check::Broken
            }
        }
    }

    fn wait_for_slot(&self, start: Instant, deadline: Instant) -> Result<usize> {
        let w = {
            let mut q = lock(&self.queue);
            if self.closed.load(Ordering::SeqCst) {
                return Err(Error::PoolClosed);
            }
            if q.exclusive.is_empty()
                && let Some(idx) = self.claim_free()
            {
                return Ok(idx);
            }
            let w = Waiter::new();
            q.exclusive.push_back(w.clone());
            w
        };
        match self.park_waiter(&w, true, deadline) {
            Wait::Granted(idx) if self.closed.load(Ordering::SeqCst) => {
                self.make_available(idx);
                Err(Error::PoolClosed)
            }
            Wait::Granted(idx) => Ok(idx),
            Wait::Closed => Err(Error::PoolClosed),
            Wait::TimedOut(pending) => Err(self.timeout_error(start, pending)),
        }
    }

    /// Parks `w` until it is granted, the pool closes or `deadline` passes. A waiter that
    /// gives up leaves its queue under the lock, where grants happen, so none is lost.
    fn park_waiter(&self, w: &Arc<Waiter>, exclusive: bool, deadline: Instant) -> Wait {
        loop {
            if let Some(idx) = w.granted() {
                return Wait::Granted(idx);
            }
            let left = remaining(deadline);
            if let Some(left) = left
                && !self.closed.load(Ordering::SeqCst)
            {
                let _ = w.blocker.park(Some(left));
                continue;
            }
            let mut q = lock(&self.queue);
            if let Some(idx) = w.granted() {
                return Wait::Granted(idx);
            }
            if exclusive {
                q.exclusive.retain(|x| !Arc::ptr_eq(x, w));
            } else {
                q.shared.retain(|x| !Arc::ptr_eq(x, w));
            }
            if self.closed.load(Ordering::SeqCst) {
                return Wait::Closed;
            }
            return Wait::TimedOut(q.exclusive.len() + q.shared.len());
        }
    }

    /// Under the queue lock: marks the open shared slot with the least work exclusive.
    fn claim_free(&self) -> Option<usize> {
        let mut best = None;
        let mut best_load = usize::MAX;
        for (idx, s) in self.slots.iter().enumerate() {
            if s.state.load(Ordering::SeqCst) != 0 {
                continue;
            }
            let load = s.outstanding.load(Ordering::SeqCst);
            if load < best_load {
                best = Some(idx);
                best_load = load;
            }
        }
        let idx = best?;
        self.slots[idx].state.store(EXCLUSIVE, Ordering::SeqCst);
        Some(idx)
    }

    fn drain(&self, idx: usize, start: Instant, deadline: Instant) -> Result<()> {
        let s = &self.slots[idx];
        if s.outstanding.load(Ordering::SeqCst) == 0 {
            return Ok(());
        }
        let me = Arc::new(Blocker::new(true));
        *lock(&s.drain) = Some(me.clone());
        let result = loop {
            if s.outstanding.load(Ordering::SeqCst) == 0 {
                break Ok(());
            }
            match remaining(deadline) {
                Some(left) => {
                    let _ = me.park(Some(left));
                }
                None => break Err(()),
            }
        };
        *lock(&s.drain) = None;
        result.map_err(|()| {
            self.make_available(idx);
            let pending = {
                let q = lock(&self.queue);
                q.exclusive.len() + q.shared.len()
            };
            self.timeout_error(start, pending)
        })
    }

    /// Slot `idx`, held exclusively, is clean and open: hand it to the first exclusive waiter,
    /// or share it and wake the single statements waiting for one.
    pub(crate) fn make_available(&self, idx: usize) {
        let s = &self.slots[idx];
        let retire = lock(&s.expires_at).is_some_and(|t| Instant::now() >= t);
        // Before the hand-over, so the next holder sees how long the connection was idle.
        s.last_used.store(self.now_ms(), Ordering::Relaxed);
        let old = {
            let mut q = lock(&self.queue);
            if self.closed.load(Ordering::SeqCst) {
                s.state.store(DOWN, Ordering::SeqCst);
                lock(&s.conn).take()
            } else if retire {
                s.state.store(RETIRING, Ordering::SeqCst);
                None
            } else if let Some(w) = q.exclusive.pop_front() {
                s.state.store(EXCLUSIVE, Ordering::SeqCst);
                w.grant(idx);
                None
            } else {
                s.state.store(0, Ordering::SeqCst);
                for w in q.shared.drain(..) {
                    w.grant(0);
                }
                None
            }
        };
        drop(old);
        if retire {
            self.wake_maintenance(false);
        }
    }

    /// Slot `idx`, held exclusively, is unusable: close it and have it replaced.
    pub(crate) fn discard(&self, idx: usize) {
        let s = &self.slots[idx];
        let old = {
            let _q = lock(&self.queue);
            s.state.store(DOWN, Ordering::SeqCst);
            *lock(&s.next_attempt) = Instant::now();
            lock(&s.conn).take()
        };
        drop(old);
        self.wake_maintenance(false);
    }

    /// Under the queue lock, closes a retiring slot if nothing runs on it any more.
    pub(crate) fn close_if_retired(&self, idx: usize) -> bool {
        let s = &self.slots[idx];
        let old = {
            let _q = lock(&self.queue);
            if s.state.load(Ordering::SeqCst) != RETIRING
                || s.outstanding.load(Ordering::SeqCst) != 0
            {
                return false;
            }
            s.state.store(DOWN, Ordering::SeqCst);
            *lock(&s.next_attempt) = Instant::now();
            lock(&s.conn).take()
        };
        drop(old);
        true
    }

    /// Under the queue lock, marks an open shared slot as retiring (its lifetime is over).
    pub(crate) fn retire(&self, idx: usize) {
        let _q = lock(&self.queue);
        let s = &self.slots[idx];
        if s.state.load(Ordering::SeqCst) == 0 {
            s.state.store(RETIRING, Ordering::SeqCst);
        }
    }

    /// Under the queue lock, takes an idle shared slot for a health check; `None` if it is
    /// busy or someone is waiting for a connection.
    pub(crate) fn claim_idle(&self, idx: usize) -> Option<Client> {
        let q = lock(&self.queue);
        let s = &self.slots[idx];
        if !q.exclusive.is_empty()
            || s.state.load(Ordering::SeqCst) != 0
            || s.outstanding.load(Ordering::SeqCst) != 0
        {
            return None;
        }
        s.state.store(EXCLUSIVE, Ordering::SeqCst);
        drop(q);
        match s.handle() {
            Some(c) => Some(c),
            None => {
                self.discard(idx);
                None
            }
        }
    }

    /// Installs a freshly opened connection in a `DOWN` slot and makes it available. A slot
    /// that is not `DOWN` any more keeps its connection and the new one is closed.
    pub(crate) fn install(&self, idx: usize, client: Client) {
        let s = &self.slots[idx];
        let expires = self.config.max_lifetime.map(|l| {
            let jitter = l.mul_f64(0.1 * self.random());
            after(l - jitter)
        });
        let surplus = {
            let _q = lock(&self.queue);
            if s.state.load(Ordering::SeqCst) != DOWN {
                Some(client)
            } else {
                *lock(&s.expires_at) = expires;
                *lock(&s.conn) = Some(client);
                s.state.store(EXCLUSIVE, Ordering::SeqCst);
                None
            }
        };
        if surplus.is_some() {
            drop(surplus);
            return;
        }
        s.attempts.store(0, Ordering::Relaxed);
        *lock(&self.last_error) = None;
        self.make_available(idx);
    }

    /// A shared statement on slot `idx` left its connection inside a transaction: take the
    /// slot out of shared use and settle it (see [`Shared::settle_held`]).
    pub(crate) fn quarantine(self: &Arc<Self>, idx: usize) {
        {
            let _q = lock(&self.queue);
            if self.slots[idx].state.load(Ordering::SeqCst) != 0 {
                return; // an acquirer or maintenance has it, and settles it first
            }
            self.slots[idx].state.store(EXCLUSIVE, Ordering::SeqCst);
        }
        self.settle_held(idx);
    }

    /// A retiring slot inside a transaction is settled before it is closed (closing would
    /// roll back what other callers were told had succeeded).
    pub(crate) fn settle_retiring(self: &Arc<Self>, idx: usize) {
        {
            let _q = lock(&self.queue);
            if self.slots[idx].state.load(Ordering::SeqCst) != RETIRING {
                return;
            }
            self.slots[idx].state.store(EXCLUSIVE, Ordering::SeqCst);
        }
        self.settle_held(idx);
    }

    /// On a coroutine of its own: waits (without a deadline: nobody waits for this slot)
    /// until the statements already on exclusively held slot `idx` are done, ends the
    /// transaction left open on it, and makes it available, or closes it if that fails.
    fn settle_held(self: &Arc<Self>, idx: usize) {
        let pool = self.clone();
        let started = super::maintenance::spawn("lifeguard-pool-settle", move || {
            let start = Instant::now();
            if pool.drain(idx, start, after(Duration::MAX)).is_err() {
                return; // cannot happen without a deadline; drain gave the slot back
            }
            match pool.slots[idx].handle() {
                Some(c) if settle_transaction(&c) => {
                    drop(c);
                    pool.make_available(idx);
                }
                _ => pool.discard(idx),
            }
        });
        if let Err(e) = started {
            tracing::warn!(slot = idx, error = %e, "could not settle a connection; closing it");
            self.discard(idx);
        }
    }

    /// Stops the pool: waiters fail with [`Error::PoolClosed`], idle connections close now
    /// and held ones when they come back.
    pub(crate) fn close(&self) {
        let (old, waiters) = {
            let mut q = lock(&self.queue);
            self.closed.store(true, Ordering::SeqCst);
            let mut old = Vec::new();
            for s in self.slots.iter() {
                if s.state.load(Ordering::SeqCst) & EXCLUSIVE == 0 {
                    s.state.store(DOWN, Ordering::SeqCst);
                    old.extend(lock(&s.conn).take());
                }
            }
            let mut waiters: Vec<_> = q.exclusive.drain(..).collect();
            waiters.append(&mut q.shared);
            (old, waiters)
        };
        for w in waiters {
            w.blocker.unpark();
        }
        drop(old);
        lock(&self.wake).take();
    }

    fn open_count(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state.load(Ordering::SeqCst) & DOWN == 0)
            .count()
    }

    fn timeout_error(&self, start: Instant, pending: usize) -> Error {
        self.metrics.timeouts.inc();
        let waited = start.elapsed();
        if self.closed.load(Ordering::SeqCst) {
            return Error::PoolClosed;
        }
        if self.open_count() == 0
            && let Some(cause) = lock(&self.last_error).clone()
        {
            return Error::Unavailable {
                waited,
                cause: Box::new(cause),
            };
        }
        Error::PoolTimeout {
            waited,
            size: self.slots.len(),
            pending,
        }
    }

    pub(crate) fn status(&self) -> Status {
        let mut open = 0;
        let mut active = 0;
        for s in self.slots.iter() {
            let st = s.state.load(Ordering::Relaxed);
            if st & DOWN != 0 {
                continue;
            }
            open += 1;
            if st & EXCLUSIVE != 0 || s.outstanding.load(Ordering::Relaxed) > 0 {
                active += 1;
            }
        }
        let q = lock(&self.queue);
        Status {
            open,
            active,
            idle: open - active,
            waiting: q.exclusive.len() + q.shared.len(),
        }
    }
}
