//! Coalesced reads: independent `SELECT`s from many callers on one connection, sent as
//! groups under a single Sync.
//!
//! A Sync per statement makes the server end a transaction and flush its output once per
//! statement; that, not the network, limits a shared connection. Here at most two reads are
//! on the wire per connection at a time, each a lone statement or a group. A caller that
//! finds fewer than two sends its statement itself, exactly as [`Client::query`] would, so a
//! lightly loaded connection pays for no other coroutine and no channel. Otherwise it queues
//! and parks. Whoever's read is answered takes everything queued meanwhile (up to
//! [`MAX_GROUP`]) as the next group and wakes its first member, the group's leader, which
//! sends the group as Bind/Execute pairs followed by one Sync, reads the reply, passes the
//! turn on and answers the other members. The statements of a group run in one implicit
//! transaction, so:
//!
//! - only statements whose last run reported a `SELECT` command tag are coalesced;
//! - a group's results are released only when its ReadyForQuery confirms it ended well;
//! - when a statement of a group fails, its caller gets the error, and every other statement
//!   of the group (whose effects, if any, were rolled back with it, or which never ran) is
//!   run again on its own by its caller. A failure the group itself may have caused
//!   (serialization failure, deadlock, a server-side statement timeout) is retried on its
//!   own too.
//!
//! So a caller sees exactly what it would see without coalescing, except that a group
//! answers when its slowest member is done, and that a deadline is measured for the group:
//! when it passes, the statement running then is cancelled and fails with
//! [`Error::Timeout`], and the rest of the group is run again on its own.
//!
//! The `std::sync::Mutex`es here guard memory only and are never held across I/O or a park.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use may::sync::Blocker;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::error::{Error, Result, SqlState};
use super::pipeline::{Msg, Reply, error_from_body, lock};
use super::query::{encode_bind_execute, is_select_tag, run_encoded, send};
use super::row::Row;
use super::{Client, Statement, ToSql};

/// Most statements under one Sync (pgbench's pipeline benchmark uses 64 too).
pub(crate) const MAX_GROUP: usize = 64;
/// Reads (lone statements or groups) on the wire per connection: one being answered while
/// the next is sent.
const IN_FLIGHT: usize = 2;

/// One connection's coalescing state.
#[derive(Default)]
pub(crate) struct Coalescer {
    state: Mutex<State>,
    /// Statements sent as members of a group (not alone), for tests and diagnostics.
    grouped: AtomicU64,
}

#[derive(Default)]
struct State {
    /// Reads on the wire whose turn has not ended. Whenever `queue` is not empty this is
    /// `IN_FLIGHT`, so the end of one of them sends the queue.
    in_flight: usize,
    queue: VecDeque<Arc<Waiter>>,
}

/// A queued read and the caller parked on it.
struct Waiter {
    stmt: Statement,
    /// Bind + Execute, without Sync.
    bind: BytesMut,
    blocker: Blocker,
    news: Mutex<Option<News>>,
}

enum News {
    /// Lead this group (the waiter itself first).
    Lead(Vec<Arc<Waiter>>),
    /// The statement's outcome.
    Rows(Result<Vec<Row>>),
    /// The group failed through no fault of this statement: run it again on its own.
    Retry,
}

impl Waiter {
    fn tell(&self, news: News) {
        *lock(&self.news) = Some(news);
        self.blocker.unpark();
    }

    fn wait(&self) -> News {
        loop {
            if let Some(n) = lock(&self.news).take() {
                return n;
            }
            let _ = self.blocker.park(None);
        }
    }
}

/// Ends a read's turn when dropped: the queue, if any, goes out as the next group.
struct Turn<'a>(&'a Client);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.next_group();
    }
}

/// Group members not answered yet (all but the leader, the first); any still here when the
/// leader lets go (it unwound) are failed rather than left parked.
struct Unanswered(Vec<Arc<Waiter>>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        for w in self.0.drain(..).skip(1) {
            w.tell(News::Rows(Err(Error::closed(
                "the read's coalesced group was abandoned",
            ))));
        }
    }
}

impl Client {
    /// Runs a statement that reported a `SELECT` tag before: alone when the connection has
    /// room, else coalesced with other callers' reads under one Sync. See the
    /// [module documentation](self).
    pub(crate) fn query_coalesced(
        &self,
        stmt: Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let mut bind = BytesMut::with_capacity(64);
        encode_bind_execute(&stmt, params, &mut bind)?;
        let co = &self.inner.coalescer;
        let mut st = lock(&co.state);
        if st.in_flight < IN_FLIGHT {
            st.in_flight += 1;
            drop(st);
            let _turn = Turn(self);
            return run_encoded(self, &stmt, bind);
        }
        let me = Arc::new(Waiter {
            stmt,
            bind,
            // Ignores cancellation: a leader must not vanish with its group.
            blocker: Blocker::new(true),
            news: Mutex::new(None),
        });
        st.queue.push_back(me.clone());
        drop(st);
        match me.wait() {
            News::Rows(r) => r,
            News::Retry => run_encoded(self, &me.stmt, me.bind.clone()),
            News::Lead(members) => self.lead(members),
        }
    }

    /// Statements this connection sent as members of coalesced groups (not alone).
    #[doc(hidden)]
    pub fn coalesced_statements(&self) -> u64 {
        self.inner.coalescer.grouped.load(Ordering::Relaxed)
    }

    /// A read's turn ended: hand the queued reads, if any, to a leader as the next group.
    fn next_group(&self) {
        let co = &self.inner.coalescer;
        let members: Vec<Arc<Waiter>> = {
            let mut st = lock(&co.state);
            if st.queue.is_empty() {
                st.in_flight -= 1;
                return;
            }
            let n = st.queue.len().min(MAX_GROUP);
            st.queue.drain(..n).collect()
        };
        let leader = members[0].clone();
        leader.tell(News::Lead(members));
    }

    /// Sends the group `members` (this caller's read first), waits for its reply, passes the
    /// turn on and answers the others, running statements again on their own where the
    /// group's failure may have undone or skipped them. Returns this caller's outcome.
    fn lead(&self, members: Vec<Arc<Waiter>>) -> Result<Vec<Row>> {
        let turn = Turn(self);
        if let [alone] = members.as_slice() {
            // A group of one is a lone read: no other statement could have caused its failure.
            return run_encoded(self, &alone.stmt, alone.bind.clone());
        }
        let mut unanswered = Unanswered(members);
        let members = &unanswered.0;
        self.inner
            .coalescer
            .grouped
            .fetch_add(members.len() as u64, Ordering::Relaxed);
        let outcome = Group::send(self, members)
            .map_err(GroupError::Connection)
            .and_then(|g| g.wait(members));
        drop(turn);
        let members = std::mem::take(&mut unanswered.0);
        let mine = &members[0];
        match outcome {
            Ok(results) => {
                let mut results = results.into_iter();
                let own = results.next().unwrap_or_default();
                for (w, rows) in members[1..].iter().zip(results) {
                    w.tell(News::Rows(Ok(rows)));
                }
                Ok(own)
            }
            Err(GroupError::Connection(e)) => {
                for w in &members[1..] {
                    w.tell(News::Rows(Err(e.clone())));
                }
                Err(e)
            }
            Err(GroupError::Statement { index, error }) => {
                let group_caused = matches!(
                    error.code(),
                    Some(SqlState::SERIALIZATION_FAILURE)
                        | Some(SqlState::DEADLOCK_DETECTED)
                        | Some(SqlState::QUERY_CANCELED)
                );
                let news = |i: usize| {
                    if i == index && !group_caused {
                        News::Rows(Err(error.clone()))
                    } else {
                        News::Retry
                    }
                };
                for (i, w) in members.iter().enumerate().skip(1) {
                    w.tell(news(i));
                }
                match news(0) {
                    News::Rows(r) => r,
                    _ => run_encoded(self, &mine.stmt, mine.bind.clone()),
                }
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
}

impl<'a> Group<'a> {
    fn send(client: &'a Client, members: &[Arc<Waiter>]) -> Result<Group<'a>> {
        let len = members.iter().map(|w| w.bind.len()).sum::<usize>() + 5;
        let mut msg = BytesMut::with_capacity(len);
        for w in members {
            msg.extend_from_slice(&w.bind);
        }
        frontend::sync(&mut msg);
        let reply = send(client, &msg, client.statement_timeout())?;
        Ok(Group { reply })
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

    fn wait(mut self, members: &[Arc<Waiter>]) -> std::result::Result<Vec<Vec<Row>>, GroupError> {
        let mut out: Vec<Vec<Row>> = Vec::with_capacity(members.len());
        let mut current = Vec::new();
        loop {
            let msg = match self.reply.next_msg() {
                Ok(Msg::DataRow(body)) => {
                    let cols = members.get(out.len()).ok_or_else(|| {
                        GroupError::Connection(Error::protocol("more results than statements"))
                    })?;
                    let cols = cols.stmt.columns_arc().clone();
                    current.push(Row::new(cols, body).map_err(GroupError::Connection)?);
                    continue;
                }
                Ok(Msg::Other(m)) => m,
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
                Message::CommandComplete(body) => {
                    if let Some(w) = members.get(out.len()) {
                        w.stmt.note_tag(is_select_tag(&body));
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
        if out.len() != members.len() {
            return Err(GroupError::Connection(Error::protocol(
                "a coalesced reply ended before every statement ran",
            )));
        }
        Ok(out)
    }
}
