//! Coalesced reads: independent `SELECT`s from many callers on one connection, sent as
//! groups under a single Sync.
//!
//! A Sync per statement makes the server end a transaction and flush its output once per
//! statement; that, not the network, limits a shared connection. Here a per-connection
//! dispatcher coroutine takes every read queued while the previous group was in flight (up
//! to [`MAX_GROUP`]) and sends them as Bind/Execute pairs followed by one Sync, keeping at
//! most two groups in flight. The statements of a group run in one implicit transaction, so:
//!
//! - only statements whose last run reported a `SELECT` command tag are coalesced;
//! - a group's results are released only when its ReadyForQuery confirms it ended well;
//! - when a statement of a group fails, its caller gets the error, and every other statement
//!   of the group (whose effects, if any, were rolled back with it, or which never ran) is
//!   run again on its own. A failure the group itself may have caused (serialization failure,
//!   deadlock, a server-side statement timeout) is retried on its own too.
//!
//! So a caller sees exactly what it would see without coalescing, except that a group
//! answers when its slowest member is done, and that a deadline is measured for the group:
//! when it passes, the statement running then is cancelled and fails with
//! [`Error::Timeout`], and the rest of the group is run again on its own.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};

use bytes::BytesMut;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::error::{Error, Result, SqlState};
use super::pipeline::{Reply, error_from_body};
use super::query::{encode_bind_execute, is_select_tag, send};
use super::row::Row;
use super::{Client, Inner, Statement, ToSql};

/// Most statements under one Sync (pgbench's pipeline benchmark uses 64 too).
pub(crate) const MAX_GROUP: usize = 64;
/// Groups in flight per connection: one being answered while the next is sent.
const IN_FLIGHT: usize = 2;
/// Stack (machine words) of the dispatcher coroutine.
const STACK_WORDS: usize = 0x4000;

/// One queued read.
pub(crate) struct Request {
    stmt: Statement,
    bind: BytesMut,
    reply: may::sync::mpsc::Sender<Result<Vec<Row>>>,
}

/// The sending side of a connection's dispatcher.
pub(crate) struct Coalescer {
    tx: may::sync::mpsc::Sender<Request>,
}

impl Coalescer {
    /// Starts the dispatcher for the connection behind `inner`.
    pub(crate) fn start(inner: &Arc<Inner>) -> Result<Coalescer> {
        let (tx, rx) = may::sync::mpsc::channel();
        let weak = Arc::downgrade(inner);
        // SAFETY: may requires `unsafe` to spawn; the closure owns its data and uses no
        // thread-local storage.
        unsafe {
            may::coroutine::Builder::new()
                .name("lifeguard-coalescer".into())
                .stack_size(STACK_WORDS)
                .spawn(move || dispatch(weak, rx))
        }
        .map_err(|e| Error::closed(format!("could not start the read coalescer: {e}")))?;
        Ok(Coalescer { tx })
    }
}

impl Client {
    /// The connection's dispatcher, started on first use.
    fn coalescer(&self) -> Result<&Coalescer> {
        if let Some(c) = self.inner.coalescer.get() {
            return Ok(c);
        }
        // Two first callers may both start one; the loser's dispatcher ends at once.
        let c = Coalescer::start(&self.inner)?;
        Ok(self.inner.coalescer.get_or_init(|| c))
    }

    /// Runs a statement that reported a `SELECT` tag before, coalesced with other callers'
    /// reads under one Sync. See the [module documentation](self).
    pub(crate) fn query_coalesced(
        &self,
        stmt: Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let mut bind = BytesMut::with_capacity(64);
        encode_bind_execute(&stmt, params, &mut bind)?;
        let coalescer = self.coalescer()?;
        let (tx, rx) = may::sync::mpsc::channel();
        coalescer
            .tx
            .send(Request {
                stmt,
                bind,
                reply: tx,
            })
            .map_err(|_| Error::closed("the connection's read coalescer stopped"))?;
        rx.recv()
            .map_err(|_| Error::closed("the connection's read coalescer stopped"))?
    }
}

fn dispatch(weak: Weak<Inner>, rx: may::sync::mpsc::Receiver<Request>) {
    let mut queue: VecDeque<Request> = VecDeque::new();
    loop {
        if queue.is_empty() {
            match rx.recv() {
                Ok(r) => queue.push_back(r),
                Err(_) => return, // the connection is gone
            }
        }
        while let Ok(r) = rx.try_recv() {
            queue.push_back(r);
        }
        let Some(inner) = weak.upgrade() else {
            for r in queue.drain(..) {
                let _ = r
                    .reply
                    .send(Err(Error::closed("the connection was closed")));
            }
            return;
        };
        let client = Client { inner };
        let mut in_flight: VecDeque<(Group<'_>, Vec<Request>)> = VecDeque::new();
        loop {
            while in_flight.len() < IN_FLIGHT && !queue.is_empty() {
                let n = queue.len().min(MAX_GROUP);
                let reqs: Vec<Request> = queue.drain(..n).collect();
                match Group::send(&client, &reqs) {
                    Ok(g) => in_flight.push_back((g, reqs)),
                    Err(e) => answer_all(reqs, &e),
                }
                while let Ok(r) = rx.try_recv() {
                    queue.push_back(r);
                }
            }
            let Some((group, reqs)) = in_flight.pop_front() else {
                break;
            };
            settle(&client, group, reqs);
            while let Ok(r) = rx.try_recv() {
                queue.push_back(r);
            }
        }
    }
}

fn answer_all(reqs: Vec<Request>, e: &Error) {
    for r in reqs {
        let _ = r.reply.send(Err(e.clone()));
    }
}

/// Waits for a group's reply and answers its callers, running statements again on their
/// own where the group's failure may have undone or skipped them.
fn settle(client: &Client, group: Group<'_>, reqs: Vec<Request>) {
    match group.wait() {
        Ok(results) => {
            for (r, rows) in reqs.into_iter().zip(results) {
                let _ = r.reply.send(Ok(rows));
            }
        }
        Err(GroupError::Connection(e)) => answer_all(reqs, &e),
        Err(GroupError::Statement { index, error }) => {
            let group_caused = matches!(
                error.code(),
                Some(SqlState::SERIALIZATION_FAILURE)
                    | Some(SqlState::DEADLOCK_DETECTED)
                    | Some(SqlState::QUERY_CANCELED)
            );
            let mut again = Vec::with_capacity(reqs.len());
            for (i, r) in reqs.into_iter().enumerate() {
                if i == index && !group_caused {
                    let _ = r.reply.send(Err(error.clone()));
                } else {
                    again.push(r);
                }
            }
            // Each on its own, pipelined: one Sync per statement.
            let sent: Vec<_> = again
                .into_iter()
                .map(|r| (Group::send(client, std::slice::from_ref(&r)), r))
                .collect();
            for (g, r) in sent {
                let result = g.map_err(GroupError::Connection).and_then(Group::wait);
                let _ = r.reply.send(match result {
                    Ok(mut rows) => Ok(rows.pop().unwrap_or_default()),
                    Err(GroupError::Connection(e))
                    | Err(GroupError::Statement { error: e, .. }) => Err(e),
                });
            }
        }
    }
}

enum GroupError {
    /// The connection broke or the deadline passed: nobody's outcome is known.
    Connection(Error),
    /// Statement `index` failed; the group was rolled back.
    Statement { index: usize, error: Error },
}

/// A group sent and not yet answered.
struct Group<'a> {
    reply: Reply<'a>,
    columns: Vec<Arc<[super::Column]>>,
    stmts: Vec<Statement>,
}

impl<'a> Group<'a> {
    fn send(client: &'a Client, reqs: &[Request]) -> Result<Group<'a>> {
        let mut msg = BytesMut::with_capacity(reqs.iter().map(|r| r.bind.len()).sum::<usize>() + 5);
        for r in reqs {
            msg.extend_from_slice(&r.bind);
        }
        frontend::sync(&mut msg);
        let reply = send(client, &msg, client.statement_timeout())?;
        Ok(Group {
            reply,
            columns: reqs.iter().map(|r| r.stmt.columns_arc().clone()).collect(),
            stmts: reqs.iter().map(|r| r.stmt.clone()).collect(),
        })
    }

    /// Statement `index` failed: read through ReadyForQuery (so the connection is ready for
    /// the next group) and say whose failure it was, or that the connection broke meanwhile.
    fn failed_at(&mut self, index: usize, error: Error) -> GroupError {
        self.reply.finish().ok();
        if self.reply.is_finished() {
            GroupError::Statement { index, error }
        } else {
            GroupError::Connection(error)
        }
    }

    fn wait(mut self) -> std::result::Result<Vec<Vec<Row>>, GroupError> {
        let mut out: Vec<Vec<Row>> = Vec::with_capacity(self.columns.len());
        let mut current = Vec::new();
        loop {
            let msg = match self.reply.next() {
                Ok(m) => m,
                // The running statement passed the deadline and was cancelled: it is the
                // one that failed; the others are run again.
                Err(
                    error @ Error::Timeout {
                        cancelled: true, ..
                    },
                ) => return Err(self.failed_at(out.len(), error)),
                // After a cancel, the reply reports a statement's own error this way.
                Err(error @ Error::Db(_)) => return Err(self.failed_at(out.len(), error)),
                Err(e) => return Err(GroupError::Connection(e)),
            };
            match msg {
                Message::BindComplete | Message::CloseComplete | Message::NoData => {}
                Message::DataRow(body) => {
                    let cols = self.columns.get(out.len()).ok_or_else(|| {
                        GroupError::Connection(Error::protocol("more results than statements"))
                    })?;
                    current.push(Row::new(cols.clone(), body).map_err(GroupError::Connection)?);
                }
                Message::CommandComplete(body) => {
                    if let Some(s) = self.stmts.get(out.len()) {
                        s.note_tag(is_select_tag(&body));
                    }
                    out.push(std::mem::take(&mut current));
                }
                Message::EmptyQueryResponse | Message::PortalSuspended => {
                    out.push(std::mem::take(&mut current));
                }
                Message::ErrorResponse(body) => {
                    let error = Error::db(error_from_body(&body).map_err(GroupError::Connection)?);
                    return Err(self.failed_at(out.len(), error));
                }
                Message::ReadyForQuery(_) => break,
                _ => {
                    return Err(GroupError::Connection(Error::protocol(
                        "unexpected message in a coalesced reply",
                    )));
                }
            }
        }
        if out.len() != self.columns.len() {
            return Err(GroupError::Connection(Error::protocol(
                "a coalesced reply ended before every statement ran",
            )));
        }
        Ok(out)
    }
}
