//! The pipelined connection core.
//!
//! Any number of callers share one connection. A caller encodes its messages, then under one
//! short lock appends them to the write buffer *and* its response slot to the pending queue,
//! so the order of slots is the order of requests on the wire. Whoever finds nobody writing
//! becomes the writer and flushes everything queued so far in one `write` (requests that
//! arrive while a write is in progress leave together in the next one).
//!
//! Reading works the same way (leader/follower): a caller waiting for its reply that finds
//! nobody reading takes the read token, reads the socket and cuts the server's replies into
//! per-request chunks at each `ReadyForQuery`, handing each to the slot at the head of the
//! queue and waking its caller. When its own reply is complete it passes the token on by
//! waking the next caller still waiting. With one caller per connection no other coroutine
//! is involved at all. When the connection breaks, every pending slot fails at once.
//!
//! The `std::sync::Mutex`es here guard memory only and are never held across I/O or a park.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use may::sync::Blocker;
use postgres_protocol::message::backend::{ErrorResponseBody, Message};

use super::error::{DbError, Error, Result};
use super::notify::Notification;
use super::tls::{ReadHalf, WriteHalf};

/// Replies buffered for one slot before the reader waits for its consumer (streaming results).
const BACKPRESSURE_BYTES: usize = 1 << 20;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Transaction status from the last ReadyForQuery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    /// Not in a transaction block (`I`).
    Idle,
    /// In a transaction block (`T`).
    InTransaction,
    /// In a failed transaction block (`E`); only ROLLBACK will be accepted.
    Failed,
}

impl TransactionStatus {
    fn from_byte(b: u8) -> TransactionStatus {
        match b {
            b'T' => TransactionStatus::InTransaction,
            b'E' => TransactionStatus::Failed,
            _ => TransactionStatus::Idle,
        }
    }
}

struct WriteState {
    buf: BytesMut,
    pending: VecDeque<Arc<Slot>>,
    writing: bool,
    closed: Option<Error>,
}

/// The state one connection's callers and its reader share.
pub(crate) struct Pipe {
    state: Mutex<WriteState>,
    writer: may::sync::Mutex<WriterIo>,
    reader: may::sync::Mutex<ReaderIo>,
    tx_status: AtomicU8,
    /// Wakes the connection's helper reader, which reads while callers wait on a busy
    /// pipeline (see [`spawn_helper_reader`]).
    helper: Mutex<Option<Arc<Blocker>>>,
}

impl Drop for Pipe {
    fn drop(&mut self) {
        if let Some(b) = lock(&self.helper).take() {
            b.unpark();
        }
    }
}

/// Starts the connection's helper reader. It sleeps until a caller hands the read token on
/// while others still wait, then reads for as long as replies are outstanding. A lone
/// caller per connection never wakes it. It holds only a weak reference while asleep and
/// ends when the connection is dropped.
pub(crate) fn spawn_helper_reader(pipe: &Arc<Pipe>) -> Result<()> {
    let weak = Arc::downgrade(pipe);
    let (tx, rx) = may::sync::mpsc::channel();
    let body = move || {
        let me = Arc::new(Blocker::new(true));
        let _ = tx.send(me.clone());
        drop(tx);
        loop {
            let _ = me.park(None);
            let Some(pipe) = weak.upgrade() else {
                return;
            };
            while pipe.has_live_pending() {
                let Ok(mut io) = pipe.reader.try_lock() else {
                    break; // someone else reads; they hand off when done
                };
                if io.ended {
                    break;
                }
                pipe.read_step(&mut io, None);
            }
        }
    };
    // SAFETY: may requires `unsafe` to spawn; the closure owns its data and uses no
    // thread-local storage.
    unsafe {
        may::coroutine::Builder::new()
            .name("lifeguard-helper-reader".into())
            .stack_size(HELPER_STACK_WORDS)
            .spawn(body)
    }
    .map_err(|e| Error::closed(format!("could not start the helper reader: {e}")))?;
    let blocker = rx
        .recv()
        .map_err(|_| Error::closed("the helper reader did not start"))?;
    *lock(&pipe.helper) = Some(blocker);
    Ok(())
}

/// Stack (machine words) of the helper reader, which decrypts TLS records.
const HELPER_STACK_WORDS: usize = 0x4000;

/// The read token: whoever holds it reads the socket and routes replies.
struct ReaderIo {
    half: ReadHalf,
    buf: BytesMut,
    current: Option<Arc<Slot>>,
    fatal: Option<DbError>,
    sinks: AsyncSinks,
    read_timeout: Option<Duration>,
    ended: bool,
}

struct WriterIo {
    half: WriteHalf,
    spare: BytesMut,
}

impl Pipe {
    pub(crate) fn new(half: WriteHalf, read: ReadHalf, buf: BytesMut, sinks: AsyncSinks) -> Pipe {
        Pipe {
            reader: may::sync::Mutex::new(ReaderIo {
                half: read,
                buf,
                current: None,
                fatal: None,
                sinks,
                read_timeout: None,
                ended: false,
            }),
            state: Mutex::new(WriteState {
                buf: BytesMut::with_capacity(8 * 1024),
                pending: VecDeque::new(),
                writing: false,
                closed: None,
            }),
            writer: may::sync::Mutex::new(WriterIo {
                half,
                spare: BytesMut::with_capacity(8 * 1024),
            }),
            tx_status: AtomicU8::new(b'I'),
            helper: Mutex::new(None),
        }
    }

    pub(crate) fn transaction_status(&self) -> TransactionStatus {
        TransactionStatus::from_byte(self.tx_status.load(Ordering::Acquire))
    }

    /// The error the connection closed with, if it did.
    pub(crate) fn closed_error(&self) -> Option<Error> {
        lock(&self.state).closed.clone()
    }

    /// Whether the connection closed or broke.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.state).closed.is_some()
    }

    /// For an idle connection: whether the server sent something unasked (an error before
    /// closing, a notification) or closed it. `false` while someone is reading.
    pub(crate) fn unread_input(&self) -> bool {
        match self.reader.try_lock() {
            Ok(io) => !io.buf.is_empty() || io.half.input_pending(),
            Err(_) => false,
        }
    }

    /// Whether any request still waits for its reply.
    pub(crate) fn has_pending(&self) -> bool {
        !lock(&self.state).pending.is_empty()
    }

    /// Queues `msgs` (each `Sync` in them owning one of `slots`, in order) and sends them.
    pub(crate) fn submit(&self, msgs: &[u8], slots: &[Arc<Slot>]) -> Result<()> {
        let became_writer = {
            let mut st = lock(&self.state);
            if let Some(e) = &st.closed {
                return Err(e.clone());
            }
            st.buf.extend_from_slice(msgs);
            st.pending.extend(slots.iter().cloned());
            !std::mem::replace(&mut st.writing, true)
        };
        if became_writer {
            self.write_out()
        } else {
            Ok(())
        }
    }

    /// Appends messages that expect no reply of their own (Close, Terminate, CopyData)
    /// without forcing a write unless `flush`.
    pub(crate) fn enqueue(&self, msgs: &[u8], flush: bool) -> Result<()> {
        let became_writer = {
            let mut st = lock(&self.state);
            if let Some(e) = &st.closed {
                return Err(e.clone());
            }
            st.buf.extend_from_slice(msgs);
            flush && !std::mem::replace(&mut st.writing, true)
        };
        if became_writer {
            self.write_out()
        } else {
            Ok(())
        }
    }

    /// Wakes the writer so TLS records the reader produced get sent.
    fn kick(&self) {
        let became_writer = {
            let mut st = lock(&self.state);
            st.closed.is_none() && !std::mem::replace(&mut st.writing, true)
        };
        if became_writer {
            let _ = self.write_out();
        }
    }

    /// The writer loop: send whatever is queued until the buffer stays empty.
    fn write_out(&self) -> Result<()> {
        let mut io = match self.writer.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        loop {
            let mut data = {
                let mut st = lock(&self.state);
                if st.buf.is_empty() && !io.half.tls_wants_write() {
                    st.writing = false;
                    return Ok(());
                }
                let spare = std::mem::take(&mut io.spare);
                std::mem::replace(&mut st.buf, spare)
            };
            if let Err(e) = io.half.write_all(&data) {
                let err = Error::io("writing to the server failed", e);
                io.half.shutdown();
                let mut st = lock(&self.state);
                st.writing = false;
                st.buf.clear();
                if st.closed.is_none() {
                    st.closed = Some(err.clone());
                }
                return Err(err);
            }
            data.clear();
            io.spare = data;
        }
    }

    /// Whether `slot` is the request the server is working on (the head of the queue).
    pub(crate) fn is_head(&self, slot: &Arc<Slot>) -> bool {
        lock(&self.state)
            .pending
            .front()
            .is_some_and(|s| Arc::ptr_eq(s, slot))
    }

    /// Marks the connection broken, fails every pending request and shuts the socket.
    pub(crate) fn fail_all(&self, err: Error) {
        let pending = {
            let mut st = lock(&self.state);
            if st.closed.is_none() {
                st.closed = Some(err.clone());
            }
            std::mem::take(&mut st.pending)
        };
        let err = self.closed_error().unwrap_or(err);
        for slot in pending {
            slot.fail(err.clone());
        }
    }

    /// Shuts the socket down so that any reader stops (used when the client is dropped).
    pub(crate) fn shutdown(&self) {
        let io = match self.writer.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        io.half.shutdown();
    }

    fn head(&self) -> Option<Arc<Slot>> {
        lock(&self.state).pending.front().cloned()
    }

    fn pop_head(&self, done: &Arc<Slot>) -> Option<Arc<Slot>> {
        let mut st = lock(&self.state);
        if st.pending.front().is_some_and(|s| Arc::ptr_eq(s, done)) {
            st.pending.pop_front();
        }
        st.pending.front().cloned()
    }
}

struct SlotState {
    chunks: VecDeque<BytesMut>,
    buffered: usize,
    done: bool,
    error: Option<Error>,
    abandoned: bool,
    reader_waiting: Option<Arc<Blocker>>,
}

/// Where the reader puts one request's replies (everything up to its ReadyForQuery).
pub(crate) struct Slot {
    state: Mutex<SlotState>,
    waiter: Blocker,
}

impl Slot {
    /// A slot whose waiter is the calling coroutine (or thread).
    pub(crate) fn new() -> Arc<Slot> {
        Arc::new(Slot {
            state: Mutex::new(SlotState {
                chunks: VecDeque::new(),
                buffered: 0,
                done: false,
                error: None,
                abandoned: false,
                reader_waiting: None,
            }),
            waiter: Blocker::new(false),
        })
    }

    /// Delivers a chunk of whole messages; returns a blocker to park on if the consumer is
    /// too far behind.
    fn deliver(&self, chunk: BytesMut, done: bool) -> Option<Arc<Blocker>> {
        let mut st = lock(&self.state);
        st.done |= done;
        if st.abandoned {
            return None;
        }
        st.buffered += chunk.len();
        st.chunks.push_back(chunk);
        let wait = (!done && st.buffered > BACKPRESSURE_BYTES).then(|| {
            let b = Arc::new(Blocker::new(true));
            st.reader_waiting = Some(b.clone());
            b
        });
        drop(st);
        self.waiter.unpark();
        wait
    }

    /// Whether a caller may still be waiting on this slot.
    fn is_live(&self) -> bool {
        let st = lock(&self.state);
        !st.abandoned && !st.done
    }

    fn fail(&self, err: Error) {
        let mut st = lock(&self.state);
        if st.done {
            return;
        }
        st.error = Some(err);
        let reader = st.reader_waiting.take();
        drop(st);
        self.waiter.unpark();
        if let Some(r) = reader {
            r.unpark();
        }
    }

    /// The consumer gives up on the rest of the reply; the reader will discard it.
    pub(crate) fn abandon(&self) {
        let mut st = lock(&self.state);
        st.abandoned = true;
        st.chunks.clear();
        st.buffered = 0;
        let reader = st.reader_waiting.take();
        drop(st);
        if let Some(r) = reader {
            r.unpark();
        }
    }

    /// Whether the reply has something for its caller (data, an error or its end).
    fn has_news(&self) -> bool {
        let st = lock(&self.state);
        !st.chunks.is_empty() || st.error.is_some() || st.done || st.abandoned
    }

    /// The next chunk if one has arrived.
    fn take(&self) -> Result<Option<BytesMut>> {
        let mut st = lock(&self.state);
        if let Some(c) = st.chunks.pop_front() {
            st.buffered -= c.len();
            if st.buffered < BACKPRESSURE_BYTES / 2
                && let Some(r) = st.reader_waiting.take()
            {
                r.unpark();
            }
            return Ok(Some(c));
        }
        if let Some(e) = &st.error {
            return Err(e.clone());
        }
        if st.done {
            return Err(Error::protocol("read past the end of a reply"));
        }
        Ok(None)
    }
}

/// Time left before `deadline`: `None` once it has passed, `Some(None)` without a deadline.
/// Less than a millisecond counts as passed: `may` ignores I/O timeouts that round to zero
/// milliseconds, which would turn a nearly expired deadline into an unbounded read.
fn remaining(deadline: Option<Instant>) -> Option<Option<Duration>> {
    match deadline {
        None => Some(None),
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            (left >= Duration::from_millis(1)).then_some(Some(left))
        }
    }
}

impl Pipe {
    /// Waits for the next chunk of `slot`'s reply until `deadline` (`Ok(None)` on timeout),
    /// reading the socket itself whenever nobody else is.
    fn next_chunk(
        self: &Arc<Self>,
        slot: &Arc<Slot>,
        deadline: Option<Instant>,
    ) -> Result<Option<BytesMut>> {
        // `may` honours read timeouts only on coroutines: a plain thread with a deadline lets
        // a short-lived coroutine read for it and parks on its slot, which does time out.
        let reads_itself = deadline.is_none() || may::coroutine::is_coroutine();
        let mut was_reader = false;
        loop {
            let taken = slot.take();
            if !matches!(taken, Ok(None)) {
                if was_reader {
                    self.hand_off();
                }
                return taken;
            }
            let Some(timeout) = remaining(deadline) else {
                if was_reader {
                    self.hand_off();
                }
                return Ok(None);
            };
            if !reads_itself {
                was_reader = true;
                self.read_on_coroutine(slot, deadline);
                let _ = slot.waiter.park(timeout);
                continue;
            }
            match self.reader.try_lock() {
                Ok(mut io) => {
                    was_reader = true;
                    self.read_step(&mut io, timeout);
                }
                Err(_) => {
                    // Someone else is reading and will wake us when our reply arrives (or
                    // pass us the token).
                    let _ = slot.waiter.park(timeout);
                }
            }
        }
    }

    /// Reads on a new coroutine until `slot` has news or `deadline` passes, unless someone
    /// else is reading already (they will wake the slot's caller).
    fn read_on_coroutine(self: &Arc<Self>, slot: &Arc<Slot>, deadline: Option<Instant>) {
        let (pipe, slot) = (self.clone(), slot.clone());
        let body = move || {
            while let Ok(mut io) = pipe.reader.try_lock() {
                if slot.has_news() {
                    break;
                }
                let Some(timeout) = remaining(deadline) else {
                    break;
                };
                pipe.read_step(&mut io, timeout);
            }
            // Anyone who parked while this coroutine held the token must be told.
            pipe.hand_off();
        };
        // SAFETY: may requires `unsafe` to spawn; the closure owns its data and uses no
        // thread-local storage.
        let spawned = unsafe {
            may::coroutine::Builder::new()
                .name("lifeguard-read".into())
                .spawn(body)
        };
        if let Err(e) = spawned {
            self.fail_all(Error::closed(format!(
                "could not start a reader coroutine: {e}"
            )));
        }
    }

    /// Reads and routes whatever arrives within `timeout` if nobody else is reading; returns
    /// whether this caller did read. Used by notification receivers.
    pub(crate) fn pump(&self, timeout: Duration) -> bool {
        match self.reader.try_lock() {
            Ok(mut io) => {
                self.read_step(&mut io, Some(timeout));
                drop(io);
                self.hand_off();
                true
            }
            Err(_) => false,
        }
    }

    /// Called by a reader letting go of the read token: if callers still wait for replies,
    /// the helper reader takes over (or, without one, the first waiting caller).
    fn hand_off(&self) {
        let next = {
            let st = lock(&self.state);
            st.pending.iter().find(|s| s.is_live()).cloned()
        };
        let Some(next) = next else {
            return;
        };
        match lock(&self.helper).as_ref() {
            Some(helper) => helper.unpark(),
            None => next.waiter.unpark(),
        }
    }

    fn has_live_pending(&self) -> bool {
        lock(&self.state).pending.iter().any(|s| s.is_live())
    }

    /// One read from the socket, then routing of every complete message received.
    fn read_step(&self, io: &mut ReaderIo, timeout: Option<Duration>) {
        if io.ended {
            return;
        }
        self.route(io);
        if io.read_timeout != timeout {
            if io.half.set_read_timeout(timeout).is_err() {
                return;
            }
            io.read_timeout = timeout;
        }
        if io.buf.capacity() - io.buf.len() < 4096 {
            io.buf.reserve(32 * 1024);
        }
        let end = match io.half.read_into(&mut io.buf) {
            Ok((0, _)) => Some(match &io.fatal {
                Some(e) => Error::db(e.clone()),
                None => Error::closed("the server closed the connection"),
            }),
            Ok((_, tls_wants_write)) => {
                if tls_wants_write {
                    self.kick();
                }
                None
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                None
            }
            Err(e) => Some(match &io.fatal {
                Some(db) => Error::db(db.clone()),
                None => Error::io("reading from the server failed", e),
            }),
        };
        self.route(io);
        if let Some(end) = end {
            tracing::debug!(error = %end, "connection ended");
            io.ended = true;
            io.half.shutdown();
            if let Some(slot) = io.current.take() {
                slot.fail(end.clone());
            }
            self.fail_all(end);
        }
    }

    /// Routes every complete message in the buffer to its request.
    fn route(&self, io: &mut ReaderIo) {
        let mut run = 0usize;
        loop {
            let rest = &io.buf[run..];
            if rest.len() < 5 {
                break;
            }
            let tag = rest[0];
            let len = i32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]);
            let total = 1 + len.max(4) as usize;
            if rest.len() < total {
                let more = total - rest.len();
                io.buf.reserve(more);
                break;
            }
            match tag {
                b'A' | b'N' | b'S' => {
                    if run > 0 {
                        let chunk = io.buf.split_to(run);
                        self.deliver(io, chunk, false);
                        run = 0;
                    }
                    let msg = io.buf.split_to(total);
                    handle_async(msg, &io.sinks);
                }
                b'Z' => {
                    if let Some(&status) = rest.get(5) {
                        self.tx_status.store(status, Ordering::Release);
                    }
                    let chunk = io.buf.split_to(run + total);
                    run = 0;
                    self.deliver(io, chunk, true);
                }
                _ => run += total,
            }
        }
        if run > 0 {
            let chunk = io.buf.split_to(run);
            self.deliver(io, chunk, false);
        }
    }

    fn deliver(&self, io: &mut ReaderIo, chunk: BytesMut, done: bool) {
        if io.current.is_none() {
            io.current = self.head();
        }
        let Some(slot) = io.current.clone() else {
            unsolicited(chunk, &mut io.fatal);
            return;
        };
        if let Some(reader) = slot.deliver(chunk, done) {
            // The consumer is behind on a large result: wait until it catches up (or gives up).
            loop {
                let _ = reader.park(Some(Duration::from_millis(100)));
                let st = lock(&slot.state);
                if st.reader_waiting.is_none() || st.abandoned || st.error.is_some() {
                    break;
                }
            }
        }
        if done {
            io.current = self.pop_head(&slot);
        }
    }
}

/// A message of a reply: a DataRow's body (everything after its length), or any other
/// message parsed.
pub(crate) enum Msg {
    DataRow(Bytes),
    Other(Message),
}

/// What to do when a reply is late.
pub(crate) trait OnTimeout {
    /// Called once when the deadline passes while this slot is at the head of the queue;
    /// returns whether a cancel request was sent.
    fn cancel_running(&self) -> bool;
}

/// Reads one request's reply message by message.
pub(crate) struct Reply<'a> {
    slot: Arc<Slot>,
    pipe: &'a Arc<Pipe>,
    cur: BytesMut,
    started: Instant,
    deadline: Option<Instant>,
    cancel: Option<&'a dyn OnTimeout>,
    cancelled: bool,
    finished: bool,
}

/// How long to wait for the server to confirm a cancellation before declaring the
/// connection broken.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

impl<'a> Reply<'a> {
    pub(crate) fn new(
        pipe: &'a Arc<Pipe>,
        slot: Arc<Slot>,
        timeout: Option<Duration>,
        cancel: Option<&'a dyn OnTimeout>,
    ) -> Reply<'a> {
        let started = Instant::now();
        Reply {
            slot,
            pipe,
            cur: BytesMut::new(),
            started,
            deadline: timeout.map(|t| started + t),
            cancel,
            cancelled: false,
            finished: false,
        }
    }

    /// The next message of the reply. After `ReadyForQuery` the reply is finished.
    pub(crate) fn next(&mut self) -> Result<Message> {
        self.fill()?;
        self.parse_one()
    }

    /// Like [`Reply::next`], but a DataRow comes as its body alone (everything after its
    /// length), cut out of the received chunk without copying or parsing it.
    pub(crate) fn next_msg(&mut self) -> Result<Msg> {
        self.fill()?;
        if let [b'D', a, b, c, d, ..] = self.cur[..] {
            let total = 1 + i32::from_be_bytes([a, b, c, d]).max(4) as usize;
            if self.cur.len() < total {
                return Err(Error::protocol("a reply chunk ended mid-message"));
            }
            let mut body = self.cur.split_to(total);
            body.advance(5);
            return Ok(Msg::DataRow(body.freeze()));
        }
        self.parse_one().map(Msg::Other)
    }

    /// Waits until the current chunk holds at least one message.
    fn fill(&mut self) -> Result<()> {
        while self.cur.is_empty() {
            match self.pipe.next_chunk(&self.slot, self.deadline)? {
                Some(c) => self.cur = c,
                None => self.on_deadline()?,
            }
        }
        Ok(())
    }

    /// Parses the next message of the (non-empty) current chunk.
    fn parse_one(&mut self) -> Result<Message> {
        match Message::parse(&mut self.cur) {
            Ok(Some(m)) => {
                if let Message::ReadyForQuery(_) = m {
                    self.finished = true;
                }
                if self.cancelled
                    && let Message::ErrorResponse(body) = &m
                {
                    let e = error_from_body(body)?;
                    if e.code == super::error::SqlState::QUERY_CANCELED {
                        return Err(Error::Timeout {
                            elapsed: self.started.elapsed(),
                            cancelled: true,
                        });
                    }
                    return Err(Error::db(e));
                }
                Ok(m)
            }
            Ok(None) => Err(Error::protocol("a reply chunk ended mid-message")),
            Err(e) => Err(Error::protocol(format!("bad message from server: {e}"))),
        }
    }

    fn on_deadline(&mut self) -> Result<()> {
        let elapsed = self.started.elapsed();
        if self.cancelled {
            // The server did not answer the cancellation in time: the connection is stuck.
            self.pipe.fail_all(Error::closed(
                "the server did not answer after a statement was cancelled",
            ));
            return Err(Error::Timeout {
                elapsed,
                cancelled: true,
            });
        }
        let at_head = self.pipe.is_head(&self.slot);
        match self.cancel {
            Some(c) if at_head && c.cancel_running() => {
                self.cancelled = true;
                self.deadline = Some(Instant::now() + CANCEL_GRACE);
                Ok(())
            }
            _ => Err(Error::Timeout {
                elapsed,
                cancelled: false,
            }),
        }
    }

    /// Reads and discards the rest of the reply, returning the first server error in it.
    pub(crate) fn finish(&mut self) -> Result<()> {
        let mut first_err = None;
        while !self.finished {
            match self.next() {
                Ok(Message::ErrorResponse(body)) => {
                    if first_err.is_none() {
                        first_err = Some(Error::db(error_from_body(&body)?));
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(first_err.unwrap_or(e)),
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Whether ReadyForQuery has been read.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }
}

impl Drop for Reply<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.slot.abandon();
        }
    }
}

/// Parses an ErrorResponse into a [`DbError`].
pub(crate) fn error_from_body(body: &ErrorResponseBody) -> Result<DbError> {
    DbError::parse(&mut body.fields())
        .map_err(|e| Error::protocol(format!("malformed error response: {e}")))
}

/// What the reader does with messages that belong to no request.
pub(crate) struct AsyncSinks {
    pub(crate) notifications: may::sync::mpsc::Sender<Notification>,
    pub(crate) parameters: Arc<Mutex<Vec<(String, String)>>>,
}

/// Messages with no request waiting: CloseComplete of a piggybacked Close, or a FATAL error
/// the server sends before closing (e.g. `pg_terminate_backend`).
fn unsolicited(mut chunk: BytesMut, fatal: &mut Option<DbError>) {
    while let Ok(Some(msg)) = Message::parse(&mut chunk) {
        if let Message::ErrorResponse(body) = msg
            && let Ok(e) = error_from_body(&body)
        {
            tracing::warn!(code = %e.code, message = %e.message, "server error outside a request");
            *fatal = Some(e);
        }
    }
}

fn handle_async(mut msg: BytesMut, sinks: &AsyncSinks) {
    match Message::parse(&mut msg) {
        Ok(Some(Message::NotificationResponse(body))) => {
            let n = Notification {
                process_id: body.process_id(),
                channel: body.channel().unwrap_or_default().to_owned(),
                payload: body.message().unwrap_or_default().to_owned(),
            };
            let _ = sinks.notifications.send(n);
        }
        Ok(Some(Message::NoticeResponse(body))) => {
            if let Ok(notice) = DbError::parse(&mut body.fields()) {
                log_notice(&notice);
            }
        }
        Ok(Some(Message::ParameterStatus(body))) => {
            if let (Ok(name), Ok(value)) = (body.name(), body.value()) {
                let mut params = lock(&sinks.parameters);
                params.retain(|(n, _)| n != name);
                params.push((name.to_owned(), value.to_owned()));
            }
        }
        _ => {}
    }
}

/// Sends a server notice to `tracing` at a level matching its severity.
pub(crate) fn log_notice(n: &DbError) {
    match n.severity.as_str() {
        "WARNING" => tracing::warn!(code = %n.code, detail = ?n.detail, "{}", n.message),
        "DEBUG" | "LOG" => tracing::debug!(code = %n.code, "{}", n.message),
        _ => tracing::info!(code = %n.code, detail = ?n.detail, "{}", n.message),
    }
}

/// Reads a ReadyForQuery-free message stream from the start-up phase.
pub(crate) fn take_message(buf: &mut BytesMut) -> Result<Option<Message>> {
    Message::parse(buf).map_err(|e| Error::protocol(format!("bad message from server: {e}")))
}
