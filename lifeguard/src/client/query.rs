//! Running statements: the extended protocol (Parse/Describe once, then Bind/Execute/Sync
//! in one flight, binary formats), streaming results, explicit batches, and the simple
//! query protocol.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::{CommandCompleteBody, Message};
use postgres_protocol::message::frontend;
use postgres_types::{ToSql, Type};

use super::Client;
use super::error::{Error, Result};
use super::pipeline::{Msg, OnTimeout, Reply, Slot, error_from_body};
use super::row::Row;
use super::statement::{Column, Statement};

/// Something that can be executed: SQL text (prepared and cached per connection) or a
/// [`Statement`] prepared on the same connection.
pub trait ToStatement {
    /// Resolves to a statement prepared on `client`.
    fn to_statement(&self, client: &Client) -> Result<Statement>;
}

impl ToStatement for str {
    fn to_statement(&self, client: &Client) -> Result<Statement> {
        client.cached_statement(self)
    }
}

impl ToStatement for String {
    fn to_statement(&self, client: &Client) -> Result<Statement> {
        client.cached_statement(self)
    }
}

impl ToStatement for Statement {
    fn to_statement(&self, client: &Client) -> Result<Statement> {
        if self.belongs_to(&client.inner().pipe) {
            Ok(self.clone())
        } else {
            Err(Error::Unsupported(
                "this statement was prepared on another connection; pass the SQL text instead"
                    .into(),
            ))
        }
    }
}

/// Parses and describes `sql` as the named statement `name`, resolving any custom types.
pub(crate) fn prepare(
    client: &Client,
    name: String,
    sql: &str,
    types: &[Type],
) -> Result<Statement> {
    let mut msg = BytesMut::with_capacity(sql.len() + 64);
    frontend::parse(&name, sql, types.iter().map(Type::oid), &mut msg)
        .map_err(|e| Error::Unsupported(format!("cannot send this statement: {e}")))?;
    frontend::describe(b'S', &name, &mut msg).map_err(|e| Error::protocol(e.to_string()))?;
    frontend::sync(&mut msg);
    let mut reply = send(client, &msg, None)?;
    let mut param_oids = Vec::new();
    let mut raw_columns = Vec::new();
    loop {
        match reply.next()? {
            Message::ParseComplete | Message::NoData | Message::CloseComplete => {}
            Message::ParameterDescription(body) => {
                param_oids = body
                    .parameters()
                    .collect()
                    .map_err(|e| Error::protocol(e.to_string()))?;
            }
            Message::RowDescription(body) => {
                let mut fields = body.fields();
                while let Some(f) = fields.next().map_err(|e| Error::protocol(e.to_string()))? {
                    raw_columns.push((
                        f.name().to_owned(),
                        f.type_oid(),
                        f.table_oid(),
                        f.column_id(),
                    ));
                }
            }
            Message::ErrorResponse(body) => {
                let e = error_from_body(&body)?;
                reply.finish().ok();
                return Err(Error::db(e));
            }
            Message::ReadyForQuery(_) => break,
            _ => return Err(Error::protocol("unexpected message while preparing")),
        }
    }
    drop(reply);
    let mut params = Vec::with_capacity(param_oids.len());
    for oid in param_oids {
        params.push(super::types::resolve(client, oid)?);
    }
    let mut columns = Vec::with_capacity(raw_columns.len());
    for (name, oid, table, id) in raw_columns {
        columns.push(Column {
            name,
            type_: super::types::resolve(client, oid)?,
            table_oid: (table != 0).then_some(table),
            column_id: (id != 0).then_some(id),
        });
    }
    Ok(Statement::new(
        name,
        params,
        columns,
        Arc::downgrade(&client.inner().pipe),
    ))
}

/// Submits `msg` (ending in one Sync) and returns the reader for its reply.
pub(crate) fn send<'a>(
    client: &'a Client,
    msg: &[u8],
    timeout: Option<Duration>,
) -> Result<Reply<'a>> {
    let slot = Slot::new();
    let inner = client.inner();
    inner.pipe.submit(msg, std::slice::from_ref(&slot))?;
    Ok(Reply::new(
        &inner.pipe,
        slot,
        timeout,
        Some(inner as &dyn OnTimeout),
    ))
}

/// Encodes Bind (all binary) + Execute + Sync for `stmt`.
fn encode_execute(
    stmt: &Statement,
    params: &[&(dyn ToSql + Sync)],
    buf: &mut BytesMut,
) -> Result<()> {
    encode_bind_execute(stmt, params, buf)?;
    frontend::sync(buf);
    Ok(())
}

/// Encodes Bind (all binary) + Execute for `stmt`, without Sync.
pub(crate) fn encode_bind_execute(
    stmt: &Statement,
    params: &[&(dyn ToSql + Sync)],
    buf: &mut BytesMut,
) -> Result<()> {
    let types = stmt.params();
    if params.len() != types.len() {
        return Err(Error::ParameterCount {
            expected: types.len(),
            given: params.len(),
        });
    }
    let mut failed = 0usize;
    let formats = params
        .iter()
        .zip(types)
        .map(|(p, t)| p.encode_format(t) as i16);
    let r = frontend::bind(
        "",
        stmt.name(),
        formats,
        params.iter().zip(types).enumerate(),
        |(i, (p, t)), out| {
            failed = i;
            let encoded = match p.to_sql_checked(t, out) {
                // A domain binds as its base type unless the Rust type accepts the domain.
                Err(_) if !std::ptr::eq(super::types::domain_base(t), t) => {
                    p.to_sql_checked(super::types::domain_base(t), out)
                }
                other => other,
            };
            match encoded {
                Ok(postgres_types::IsNull::No) => Ok(postgres_protocol::IsNull::No),
                Ok(postgres_types::IsNull::Yes) => Ok(postgres_protocol::IsNull::Yes),
                Err(e) => Err(e),
            }
        },
        Some(1),
        buf,
    );
    match r {
        Ok(()) => {}
        Err(frontend::BindError::Conversion(source)) => {
            return Err(Error::ToSql {
                index: failed + 1,
                sql_type: types[failed].to_string(),
                source,
            });
        }
        Err(frontend::BindError::Serialization(e)) => return Err(Error::protocol(e.to_string())),
    }
    frontend::execute("", 0, buf).map_err(|e| Error::protocol(e.to_string()))?;
    Ok(())
}

pub(crate) fn rows_affected(body: &CommandCompleteBody) -> u64 {
    body.tag()
        .ok()
        .and_then(|t| t.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Whether a CommandComplete tag is `SELECT n`.
pub(crate) fn is_select_tag(body: &CommandCompleteBody) -> bool {
    body.tag().is_ok_and(|t| t.starts_with("SELECT "))
}

/// The result of one statement of a [`Batch`].
#[derive(Debug, Default)]
pub struct Outcome {
    /// Rows returned (empty for statements that return none).
    pub rows: Vec<Row>,
    /// Rows affected, from the command tag (INSERT/UPDATE/DELETE/SELECT/COPY...).
    pub rows_affected: u64,
    /// Whether the command tag was `SELECT n`.
    pub(crate) select: bool,
}

/// Reads a Bind/Execute reply to the end of its rows.
fn collect(reply: &mut Reply<'_>, columns: &Arc<[Column]>) -> Result<Outcome> {
    let mut out = Outcome::default();
    loop {
        let msg = match reply.next_msg()? {
            Msg::DataRow(body) => {
                out.rows.push(Row::new(columns.clone(), body)?);
                continue;
            }
            Msg::Other(m) => m,
        };
        match msg {
            Message::BindComplete | Message::CloseComplete | Message::NoData => {}
            Message::CommandComplete(body) => {
                out.rows_affected = rows_affected(&body);
                out.select = is_select_tag(&body);
            }
            Message::EmptyQueryResponse | Message::PortalSuspended => {}
            Message::ErrorResponse(body) => {
                // Read through ReadyForQuery so the transaction status is current on return.
                let e = Error::db(error_from_body(&body)?);
                return Err(reply.finish().err().unwrap_or(e));
            }
            Message::ReadyForQuery(_) => return Ok(out),
            _ => return Err(Error::protocol("unexpected message in a query reply")),
        }
    }
}

fn run(
    client: &Client,
    stmt: &(impl ToStatement + ?Sized),
    params: &[&(dyn ToSql + Sync)],
    timeout: Option<Duration>,
) -> Result<Outcome> {
    let stmt = stmt.to_statement(client)?;
    let mut msg = BytesMut::with_capacity(64);
    encode_execute(&stmt, params, &mut msg)?;
    let mut reply = send(client, &msg, timeout)?;
    let out = collect(&mut reply, stmt.columns_arc())?;
    stmt.note_tag(out.select);
    Ok(out)
}

/// Runs `bind` (Bind + Execute of `stmt` from [`encode_bind_execute`], no Sync) on its own
/// under one Sync: what [`Client::query`] does once the parameters are encoded.
pub(crate) fn run_encoded(
    client: &Client,
    stmt: &Statement,
    mut bind: BytesMut,
) -> Result<Vec<Row>> {
    frontend::sync(&mut bind);
    let mut reply = send(client, &bind, client.statement_timeout())?;
    let out = collect(&mut reply, stmt.columns_arc())?;
    stmt.note_tag(out.select);
    Ok(out.rows)
}

/// The only row of `rows`; an error for zero or several.
pub(crate) fn one<T>(rows: Vec<T>) -> Result<T> {
    let n = rows.len();
    let mut it = rows.into_iter();
    match (it.next(), n) {
        (Some(r), 1) => Ok(r),
        _ => Err(Error::RowCount {
            expected: "exactly one row",
            actual: n,
        }),
    }
}

/// The row of `rows` if there is one; an error for several.
pub(crate) fn opt<T>(rows: Vec<T>) -> Result<Option<T>> {
    let n = rows.len();
    match n {
        0 => Ok(None),
        1 => Ok(rows.into_iter().next()),
        _ => Err(Error::RowCount {
            expected: "at most one row",
            actual: n,
        }),
    }
}

impl Client {
    /// Runs a statement and returns all its rows.
    ///
    /// ```no_run
    /// # let client = lifeguard::client::connect("postgres://localhost/app")?;
    /// for row in client.query("SELECT id, name FROM users WHERE id > $1", &[&10i64])? {
    ///     let (id, name): (i64, String) = (row.get(0), row.get("name"));
    ///     println!("{id} {name}");
    /// }
    /// # Ok::<(), lifeguard::client::Error>(())
    /// ```
    pub fn query(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        run(self, stmt, params, self.statement_timeout()).map(|o| o.rows)
    }

    /// Runs a statement that must return exactly one row.
    pub fn query_one(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row> {
        one(self.query(stmt, params)?)
    }

    /// Runs a statement that returns zero or one row; more than one is an error.
    pub fn query_opt(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>> {
        opt(self.query(stmt, params)?)
    }

    /// Runs a statement and returns the number of rows it affected.
    pub fn execute(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64> {
        run(self, stmt, params, self.statement_timeout()).map(|o| o.rows_affected)
    }

    /// Runs a statement and streams its rows: memory stays bounded however many rows come
    /// back, because the connection stops reading while the consumer is behind.
    pub fn query_raw(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<RowStream<'_>> {
        let stmt = stmt.to_statement(self)?;
        let mut msg = BytesMut::with_capacity(64);
        encode_execute(&stmt, params, &mut msg)?;
        let reply = send(self, &msg, self.statement_timeout())?;
        Ok(RowStream {
            reply,
            columns: stmt.columns_arc().clone(),
            rows_affected: None,
        })
    }

    /// Runs one or more `;`-separated statements with the simple query protocol (no
    /// parameters, no rows returned). Stops at the first error.
    pub fn batch_execute(&self, sql: &str) -> Result<()> {
        let mut msg = BytesMut::with_capacity(sql.len() + 8);
        frontend::query(sql, &mut msg).map_err(|e| Error::Unsupported(e.to_string()))?;
        let mut reply = send(self, &msg, self.statement_timeout())?;
        reply.finish()
    }

    /// Starts an explicit batch: statements added to it are sent in one flight and their
    /// results returned in order.
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            client: self,
            items: Vec::new(),
        }
    }
}

/// Rows of a streaming query; see [`Client::query_raw`].
pub struct RowStream<'a> {
    reply: Reply<'a>,
    columns: Arc<[Column]>,
    rows_affected: Option<u64>,
}

impl RowStream<'_> {
    /// Rows affected, known once the stream is exhausted.
    pub fn rows_affected(&self) -> Option<u64> {
        self.rows_affected
    }

    /// The result's columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
}

impl Iterator for RowStream<'_> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        if self.reply.is_finished() {
            return None;
        }
        loop {
            let msg = match self.reply.next_msg() {
                Ok(Msg::DataRow(body)) => return Some(Row::new(self.columns.clone(), body)),
                Ok(Msg::Other(m)) => m,
                Err(e) => {
                    // Stop here; the rest of the reply (if any) is discarded.
                    self.rows_affected.get_or_insert(0);
                    return Some(Err(e));
                }
            };
            match msg {
                Message::CommandComplete(body) => self.rows_affected = Some(rows_affected(&body)),
                Message::ReadyForQuery(_) => return None,
                Message::ErrorResponse(body) => {
                    let e = error_from_body(&body).map(Error::db).unwrap_or_else(|e| e);
                    return Some(Err(e));
                }
                _ => {}
            }
        }
    }
}

/// Statements sent together in one flight; see [`Client::batch`].
pub struct Batch<'a> {
    client: &'a Client,
    items: Vec<Result<(Statement, BytesMut)>>,
}

impl<'a> Batch<'a> {
    /// Adds a statement with its parameters. Encoding errors are reported for this item
    /// when the batch runs.
    pub fn add(
        &mut self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> &mut Self {
        let item = stmt.to_statement(self.client).and_then(|s| {
            let mut msg = BytesMut::with_capacity(64);
            encode_bind_execute(&s, params, &mut msg)?;
            Ok((s, msg))
        });
        self.items.push(item);
        self
    }

    /// Number of statements added.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sends every statement at once (each with its own Sync, so one failing does not stop
    /// the others) and returns their outcomes in order.
    pub fn run(self) -> Result<Vec<Result<Outcome>>> {
        let mut msg = BytesMut::new();
        let mut slots = Vec::new();
        let mut plan = Vec::with_capacity(self.items.len());
        for item in self.items {
            match item {
                Ok((stmt, bytes)) => {
                    msg.extend_from_slice(&bytes);
                    frontend::sync(&mut msg);
                    let slot = Slot::new();
                    slots.push(slot.clone());
                    plan.push(Ok((stmt, slot)));
                }
                Err(e) => plan.push(Err(e)),
            }
        }
        let inner = self.client.inner();
        if !slots.is_empty() {
            inner.pipe.submit(&msg, &slots)?;
        }
        let timeout = self.client.statement_timeout();
        Ok(plan
            .into_iter()
            .map(|p| {
                let (stmt, slot) = p?;
                let mut reply =
                    Reply::new(&inner.pipe, slot, timeout, Some(inner as &dyn OnTimeout));
                collect(&mut reply, stmt.columns_arc())
            })
            .collect())
    }
}

impl Batch<'_> {
    /// Sends every statement with a single Sync, so they run as one implicit transaction
    /// (as in libpq's pipeline mode with one sync point): all of them commit, or none. Returns
    /// every outcome if all succeeded, else the first error. Inside an explicit transaction
    /// block the statements simply join it.
    ///
    /// ```no_run
    /// # let client = lifeguard::client::connect("postgres://localhost/app")?;
    /// let mut batch = client.batch();
    /// batch
    ///     .add("UPDATE acct SET bal = bal - 10 WHERE id = $1", &[&1i32])
    ///     .add("UPDATE acct SET bal = bal + 10 WHERE id = $1", &[&2i32]);
    /// let outcomes = batch.run_atomic()?;
    /// assert_eq!(outcomes.len(), 2);
    /// # Ok::<(), lifeguard::client::Error>(())
    /// ```
    pub fn run_atomic(self) -> Result<Vec<Outcome>> {
        let mut msg = BytesMut::new();
        let mut columns = Vec::with_capacity(self.items.len());
        for item in self.items {
            let (stmt, bytes) = item?;
            msg.extend_from_slice(&bytes);
            columns.push(stmt.columns_arc().clone());
        }
        if columns.is_empty() {
            return Ok(Vec::new());
        }
        frontend::sync(&mut msg);
        let mut reply = send(self.client, &msg, self.client.statement_timeout())?;
        let mut outcomes = Vec::with_capacity(columns.len());
        let mut current = Outcome::default();
        loop {
            let msg = match reply.next_msg()? {
                Msg::DataRow(body) => {
                    let cols = columns
                        .get(outcomes.len())
                        .ok_or_else(|| Error::protocol("more results than statements"))?;
                    current.rows.push(Row::new(cols.clone(), body)?);
                    continue;
                }
                Msg::Other(m) => m,
            };
            match msg {
                Message::BindComplete | Message::CloseComplete | Message::NoData => {}
                Message::CommandComplete(body) => {
                    current.rows_affected = rows_affected(&body);
                    outcomes.push(std::mem::take(&mut current));
                }
                Message::EmptyQueryResponse => outcomes.push(std::mem::take(&mut current)),
                Message::ErrorResponse(body) => {
                    let e = Error::db(error_from_body(&body)?);
                    return Err(reply.finish().err().unwrap_or(e));
                }
                Message::ReadyForQuery(_) => break,
                _ => return Err(Error::protocol("unexpected message in a batch reply")),
            }
        }
        if outcomes.len() != columns.len() {
            return Err(Error::protocol(
                "a batch reply ended before every statement ran",
            ));
        }
        Ok(outcomes)
    }
}

/// A client with a per-call deadline; see [`Client::with_timeout`].
pub struct Timed<'a> {
    pub(crate) client: &'a Client,
    pub(crate) timeout: Duration,
}

impl Timed<'_> {
    /// [`Client::query`] with this deadline.
    pub fn query(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        run(self.client, stmt, params, Some(self.timeout)).map(|o| o.rows)
    }

    /// [`Client::query_one`] with this deadline.
    pub fn query_one(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row> {
        one(self.query(stmt, params)?)
    }

    /// [`Client::query_opt`] with this deadline.
    pub fn query_opt(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>> {
        opt(self.query(stmt, params)?)
    }

    /// [`Client::execute`] with this deadline.
    pub fn execute(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64> {
        run(self.client, stmt, params, Some(self.timeout)).map(|o| o.rows_affected)
    }

    /// [`Client::batch_execute`] with this deadline.
    pub fn batch_execute(&self, sql: &str) -> Result<()> {
        let mut msg = BytesMut::with_capacity(sql.len() + 8);
        frontend::query(sql, &mut msg).map_err(|e| Error::Unsupported(e.to_string()))?;
        let mut reply = send(self.client, &msg, Some(self.timeout))?;
        reply.finish()
    }
}

/// Starts a simple-protocol statement and returns its reply (used by COPY).
pub(crate) fn start_simple<'a>(client: &'a Client, sql: &str) -> Result<Reply<'a>> {
    let mut msg = BytesMut::with_capacity(sql.len() + 8);
    frontend::query(sql, &mut msg).map_err(|e| Error::Unsupported(e.to_string()))?;
    send(client, &msg, None)
}

pub(crate) use rows_affected as command_rows;
