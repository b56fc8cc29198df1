//! COPY FROM STDIN and COPY TO STDOUT, streaming in both directions.

use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::Client;
use super::error::{Error, Result};
use super::pipeline::{Reply, error_from_body};
use super::query::{command_rows, start_simple};

/// Data is sent in CopyData messages of about this size.
const COPY_CHUNK: usize = 64 * 1024;

/// A `COPY ... FROM STDIN` in progress: write the data (text, CSV or binary, as the
/// statement says) with [`std::io::Write`], then call [`CopyIn::finish`]. Dropping it
/// without `finish` aborts the COPY.
pub struct CopyIn<'a> {
    client: &'a Client,
    reply: Option<Reply<'a>>,
    buf: BytesMut,
}

/// A `COPY ... TO STDOUT` in progress: iterate the chunks, or read it with
/// [`std::io::Read`].
pub struct CopyOut<'a> {
    reply: Reply<'a>,
    current: Bytes,
    done: bool,
    rows: Option<u64>,
}

impl Client {
    /// Starts `COPY ... FROM STDIN`. Needs the connection alone (`&mut`).
    ///
    /// ```no_run
    /// # let mut client = lifeguard::client::connect("postgres://localhost/app")?;
    /// use std::io::Write;
    /// let mut copy = client.copy_in("COPY items (id, name) FROM STDIN")?;
    /// copy.write_all(b"1\tapple\n2\tpear\n").unwrap();
    /// assert_eq!(copy.finish()?, 2);
    /// # Ok::<(), lifeguard::client::Error>(())
    /// ```
    pub fn copy_in(&mut self, sql: &str) -> Result<CopyIn<'_>> {
        let mut reply = start_simple(self, sql)?;
        loop {
            match reply.next()? {
                Message::CopyInResponse(_) => break,
                Message::ErrorResponse(body) => {
                    let e = error_from_body(&body)?;
                    reply.finish().ok();
                    return Err(Error::db(e));
                }
                Message::CommandComplete(_) | Message::ReadyForQuery(_) => {
                    return Err(Error::Unsupported(
                        "copy_in needs a `COPY ... FROM STDIN` statement".into(),
                    ));
                }
                _ => {}
            }
        }
        Ok(CopyIn {
            client: self,
            reply: Some(reply),
            buf: BytesMut::with_capacity(COPY_CHUNK + 1024),
        })
    }

    /// Starts `COPY ... TO STDOUT`. Needs the connection alone (`&mut`).
    pub fn copy_out(&mut self, sql: &str) -> Result<CopyOut<'_>> {
        let mut reply = start_simple(self, sql)?;
        loop {
            match reply.next()? {
                Message::CopyOutResponse(_) => break,
                Message::ErrorResponse(body) => {
                    let e = error_from_body(&body)?;
                    reply.finish().ok();
                    return Err(Error::db(e));
                }
                Message::CommandComplete(_) | Message::ReadyForQuery(_) => {
                    return Err(Error::Unsupported(
                        "copy_out needs a `COPY ... TO STDOUT` statement".into(),
                    ));
                }
                _ => {}
            }
        }
        Ok(CopyOut {
            reply,
            current: Bytes::new(),
            done: false,
            rows: None,
        })
    }
}

impl CopyIn<'_> {
    fn send_buffered(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut msg = BytesMut::with_capacity(self.buf.len() + 5);
        msg.put_u8(b'd');
        msg.put_i32(self.buf.len() as i32 + 4);
        msg.extend_from_slice(&self.buf);
        self.buf.clear();
        self.client.inner().pipe.enqueue(&msg, true)
    }

    /// Sends the rest of the data and CopyDone; returns the number of rows copied.
    pub fn finish(mut self) -> Result<u64> {
        self.send_buffered()?;
        let mut msg = BytesMut::new();
        frontend::copy_done(&mut msg);
        self.client.inner().pipe.enqueue(&msg, true)?;
        let mut reply = self
            .reply
            .take()
            .ok_or_else(|| Error::protocol("COPY already finished"))?;
        let mut rows = 0;
        loop {
            match reply.next()? {
                Message::CommandComplete(body) => rows = command_rows(&body),
                Message::ErrorResponse(body) => {
                    let e = error_from_body(&body)?;
                    reply.finish().ok();
                    return Err(Error::db(e));
                }
                Message::ReadyForQuery(_) => return Ok(rows),
                _ => {}
            }
        }
    }
}

impl io::Write for CopyIn<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= COPY_CHUNK {
            self.send_buffered().map_err(io::Error::other)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffered().map_err(io::Error::other)
    }
}

impl Drop for CopyIn<'_> {
    fn drop(&mut self) {
        if let Some(reply) = self.reply.take() {
            let mut msg = BytesMut::new();
            if frontend::copy_fail("COPY abandoned by the client", &mut msg).is_ok() {
                let _ = self.client.inner().pipe.enqueue(&msg, true);
            }
            drop(reply);
        }
    }
}

impl CopyOut<'_> {
    /// Rows copied, known once all data has been read.
    pub fn rows(&self) -> Option<u64> {
        self.rows
    }

    /// The next chunk of data (usually one row in text/CSV formats).
    pub fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        while !self.done {
            match self.reply.next()? {
                Message::CopyData(body) => return Ok(Some(body.into_bytes())),
                Message::CopyDone => {}
                Message::CommandComplete(body) => self.rows = Some(command_rows(&body)),
                Message::ErrorResponse(body) => {
                    self.done = true;
                    return Err(Error::db(error_from_body(&body)?));
                }
                Message::ReadyForQuery(_) => self.done = true,
                _ => {}
            }
        }
        Ok(None)
    }
}

impl Iterator for CopyOut<'_> {
    type Item = Result<Bytes>;

    fn next(&mut self) -> Option<Result<Bytes>> {
        self.next_chunk().transpose()
    }
}

impl io::Read for CopyOut<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.next_chunk().map_err(io::Error::other)? {
                Some(b) => self.current = b,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}
